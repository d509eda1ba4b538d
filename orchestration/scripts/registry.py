#!/usr/bin/env python3
"""The registry of apps each environment runs: register, remove and promote apps, check the
registry, and keep README.md's picture of the graph, and of which version runs where, current.

    python3 scripts/registry.py register APP [--environment ENV] [--repo-url URL] [--git-revision REV]
                                             [--namespace NS] [--git-secret-name NAME]
    python3 scripts/registry.py remove APP [--environment ENV]
    python3 scripts/registry.py promote APP --to ENV [--from ENV] [--git-revision REV]
    python3 scripts/registry.py promote-infrastructure --to ENV [--git-revision REV]
    python3 scripts/registry.py versions     which revision of each app each environment runs
    python3 scripts/registry.py check        every entry deployable, the picture current
    python3 scripts/registry.py diagram      redraw the picture

Each app an environment runs is one file, registry/environments/<env>/apps/<app>.yaml, and
optionally its value overrides, registry/environments/<env>/values/<app>-{base,platform}.yaml.
The defaults are the app template's (the org's git host and owner, its default branch, a
namespace named after the app); --environment defaults to the first environment. The rules are
the template's own: the gitops_template package beside this script, which `copier update`
keeps current.
Python 3.9 or later, nothing else.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from pathlib import Path

from gitops_template import answers, diagram, fleet, names, registry

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = json.loads((ROOT / "registry/orchestration.json").read_text(encoding="utf-8"))
ENVIRONMENTS = SETTINGS["environments"]
README = ROOT / "README.md"


def folder(environment: str, kind: str) -> Path:
    return ROOT / SETTINGS["paths"]["environments"][environment][kind]


def read_registry(environment: str) -> dict[str, dict]:
    """An environment's entries, by file name; an unreadable one stops here, naming its file."""
    entries = {}
    apps = folder(environment, "apps")
    if stray := sorted(path for path in apps.glob("*") if path.suffix != ".yaml" and path.name != ".gitkeep"):
        sys.exit(f"{stray[0].relative_to(ROOT)}: not an entry, which nothing reads: each app an environment "
                 "runs is one <app>.yaml file there")
    for path in sorted(apps.glob("*.yaml")):
        try:
            entries[path.name] = registry.parse_registry_entry(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            sys.exit(f"{path.relative_to(ROOT)}: {exc}")
    return entries


def read_registries() -> dict[str, list[dict]]:
    return {environment: list(read_registry(environment).values()) for environment in ENVIRONMENTS}


def refuse(environment: str, errors: list[str]) -> None:
    if errors:
        apps = SETTINGS["paths"]["environments"][environment]["apps"]
        sys.exit("\n".join(f"{apps}/{error}" for error in errors))


def readme() -> str:
    """README.md, which every change redraws: checked before anything is written."""
    text = README.read_text(encoding="utf-8")
    try:
        diagram.with_diagram(text, "")
    except ValueError as exc:
        sys.exit(str(exc))
    return text


def draw() -> None:
    picture = diagram.registry_picture(SETTINGS, read_registries())
    README.write_text(diagram.with_diagram(readme(), picture), encoding="utf-8")


def one_at_a_time() -> None:
    """Holds the registry until this process exits: two `make register` at once would each check the
    registry without the other's entry. A lock on the folder itself leaves no file behind."""
    lock = os.open(ROOT / SETTINGS["paths"]["registry"], os.O_RDONLY)
    fcntl.flock(lock, fcntl.LOCK_EX)


def write(environment: str, entries: dict[str, dict], entry: dict) -> Path:
    """Writes one entry once the whole environment's registry, with it, passes every rule."""
    filename = f"{entry['app_name']}.yaml"
    refuse(environment, registry.registry_errors(SETTINGS, {**entries, filename: entry}))
    path = folder(environment, "apps") / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(registry.registry_entry_text(entry), encoding="utf-8")
    draw()
    return path.relative_to(ROOT)


def environment_of(args: argparse.Namespace, option: str = "environment") -> str:
    if getattr(args, option) == "":
        sys.exit(f"--{option}: name an environment, one of {', '.join(ENVIRONMENTS)} "
                 f"(make promote APP=<app> TO=<env>)")
    environment = getattr(args, option) or ENVIRONMENTS[0]
    if environment not in ENVIRONMENTS:
        sys.exit(f"--{option.replace('_', '-')}: no environment {environment} (the environments are "
                 f"{', '.join(ENVIRONMENTS)}: the `environments` answer)")
    return environment


def register(args: argparse.Namespace) -> None:
    app, environment = args.app, environment_of(args)
    if error := names.app_name_error(app):
        sys.exit(error)
    entries = read_registry(environment)
    if f"{app}.yaml" in entries:
        sys.exit(f"{app} is registered in {environment} already: edit its file, or remove the app first")
    repo_url = args.repo_url or answers.default_repo_url(SETTINGS["git_host"], SETTINGS["git_owner"], app)
    entry = {"app_name": app, "repo_url": repo_url, "git_revision": args.git_revision or SETTINGS["default_branch"],
             "namespace": args.namespace or app}
    secret = args.git_secret_name
    if secret is None:
        secret = answers.default_git_secret_name(repo_url, app, SETTINGS["cluster_controller"])
    if secret:
        entry["git_secret_name"] = secret
    path = write(environment, entries, entry)
    print(f"{app} registered in {environment}, {path}: commit it, with README.md, to deploy it")


def remove(args: argparse.Namespace) -> None:
    app, environment = args.app, environment_of(args)
    path = folder(environment, "apps") / f"{app}.yaml"
    if names.app_name_error(app) or not path.is_file():
        sys.exit(f"{path.relative_to(ROOT)}: no such registered app in {environment}")
    path.unlink()
    for chart in SETTINGS["app_charts"]:
        (ROOT / fleet.override_file(environment, app, chart)).unlink(missing_ok=True)
    draw()
    print(f"{app} removed from {environment}: once committed, its base is pruned; its platform (database, bucket) "
          "stays until a person deletes it (README.md, \"Remove an app\")")


def promote(args: argparse.Namespace) -> None:
    """The revision an environment runs, given to the next: one line of one file changes."""
    app, target = args.app, environment_of(args, "to")
    if getattr(args, "from"):
        source = environment_of(args, "from")
    elif ENVIRONMENTS.index(target) == 0:
        sys.exit(f"--to {target}: the first environment has none before it to promote from: give --from")
    else:
        source = ENVIRONMENTS[ENVIRONMENTS.index(target) - 1]
    promoted = read_registry(source).get(f"{app}.yaml")
    if promoted is None:
        sys.exit(f"{app} is not registered in {source}: nothing to promote")
    revision = args.git_revision or promoted["git_revision"]
    if error := registry.promotion_error(revision, source, bool(args.git_revision)):
        sys.exit(error)
    entries = read_registry(target)
    entry = entries.get(f"{app}.yaml", promoted)
    path = write(target, entries, {**entry, "git_revision": revision})
    print(f"{app} at {revision} promoted from {source} to {target}, {path}: commit it, with README.md")


def infrastructure_file(environment: str) -> Path:
    return ROOT / SETTINGS["paths"]["environments"][environment]["cluster"] / "infrastructure.yaml"


def promote_infrastructure(args: argparse.Namespace) -> None:
    """The revision of this repository one environment's infrastructure runs, given to the next:
    the revision lines of its clusters/<env>/infrastructure.yaml change."""
    target = environment_of(args, "to")
    index = ENVIRONMENTS.index(target)
    if index == 0 and not args.git_revision:
        sys.exit(f"--to {target}: the first environment has none before it to promote from: give --git-revision")
    source = ENVIRONMENTS[index - 1] if index else target
    revision = args.git_revision or registry.infrastructure_revision(
        infrastructure_file(source).read_text(encoding="utf-8"))
    if error := registry.promotion_error(revision, source, bool(args.git_revision)):
        sys.exit(error)
    path = infrastructure_file(target)
    path.write_text(registry.with_infrastructure_revision(path.read_text(encoding="utf-8"), revision), encoding="utf-8")
    print(f"the infrastructure at {revision} promoted to {target}, {path.relative_to(ROOT)}: commit it")


def versions(_: argparse.Namespace) -> None:
    print(diagram.versions_table(SETTINGS, read_registries()), end="")


def check(_: argparse.Namespace) -> None:
    for environment in ENVIRONMENTS:
        entries = read_registry(environment)
        refuse(environment, registry.registry_errors(SETTINGS, entries))
        values = folder(environment, "values")
        files = sorted(path.name for path in values.iterdir()) if values.is_dir() else []
        errors = registry.override_errors(SETTINGS, files, [entry["app_name"] for entry in entries.values()])
        if errors:
            sys.exit("\n".join(f"{SETTINGS['paths']['environments'][environment]['values']}/{e}" for e in errors))
    stray = sorted(path.name for path in (ROOT / SETTINGS["paths"]["registry"] / "environments").glob("*")
                   if path.is_dir() and path.name not in ENVIRONMENTS)
    if stray:
        sys.exit(f"registry/environments/: {', '.join(stray)} is not an environment (the environments are "
                 f"{', '.join(ENVIRONMENTS)}): move its apps, or add it to the `environments` answer")
    readme = README.read_text(encoding="utf-8")
    if diagram.with_diagram(readme, diagram.registry_picture(SETTINGS, read_registries())) != readme:
        sys.exit("README.md: the registry diagram is out of date: run `make diagram` and commit it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    environment_help = f"one of {', '.join(ENVIRONMENTS)} (default: {ENVIRONMENTS[0]})"
    add = commands.add_parser("register", help="register an app: write registry/environments/<env>/apps/<app>.yaml")
    add.add_argument("app", help="the app's app_name")
    add.add_argument("--environment", help=environment_help)
    add.add_argument("--repo-url", help="its repository (default: https://<git_host>/<git_owner>/<app>.git)")
    add.add_argument("--git-revision", help="branch, tag, full ref or commit (default: the org's default branch)")
    add.add_argument("--namespace", help="the app's namespace answer (default: the app's name)")
    add.add_argument("--git-secret-name", help="Flux's git credentials Secret (default: <app>-git over ssh)")
    add.set_defaults(run=register)
    drop = commands.add_parser("remove", help="remove an app from an environment, and its overrides there")
    drop.add_argument("app")
    drop.add_argument("--environment", help=environment_help)
    drop.set_defaults(run=remove)
    move = commands.add_parser("promote", help="give an environment the revision another runs")
    move.add_argument("app")
    move.add_argument("--to", required=True, help=f"the environment promoted to, one of {', '.join(ENVIRONMENTS)}")
    move.add_argument("--from", help="the environment promoted from (default: the one before --to)")
    move.add_argument("--git-revision", help="the tag or commit to promote (default: the one --from runs)")
    move.set_defaults(run=promote)
    infrastructure = commands.add_parser("promote-infrastructure",
                                         help="give an environment's infrastructure the revision the one before runs")
    infrastructure.add_argument("--to", required=True, help=f"the environment promoted to, one of {', '.join(ENVIRONMENTS)}")
    infrastructure.add_argument("--git-revision", help="the tag or commit of this repository to promote "
                                                       "(default: the one the environment before runs)")
    infrastructure.set_defaults(run=promote_infrastructure)
    commands.add_parser("versions", help="which revision of each app each environment runs").set_defaults(run=versions)
    commands.add_parser("check", help="refuse an entry that cannot deploy, or a stale picture").set_defaults(run=check)
    commands.add_parser("diagram", help="redraw README.md's picture of the graph").set_defaults(run=lambda _: draw())
    args = parser.parse_args()
    if args.command in ("register", "remove", "promote", "diagram"):
        one_at_a_time()
        readme()
    args.run(args)


if __name__ == "__main__":
    main()
