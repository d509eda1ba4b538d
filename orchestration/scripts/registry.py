#!/usr/bin/env python3
"""The registry of apps each environment runs: register, remove and promote apps, check the
registry, and keep README.md's picture of the graph, and of which version runs where, current.

    python3 scripts/registry.py register APP [--environment ENV] [--repo-url URL] [--git-revision REV]
                                             [--namespace NS] [--git-secret-name NAME]
    python3 scripts/registry.py remove APP [--environment ENV]
    python3 scripts/registry.py promote APP --to ENV [--from ENV] [--git-revision REV]
                                            [--allow-data-loss] [--allow-untested]
    python3 scripts/registry.py promote-infrastructure --to ENV [--git-revision REV]
    python3 scripts/registry.py versions [--templates]   which revision of each app each environment
                                             runs (and, with git, its template version)
    python3 scripts/registry.py templates    every app at a template version the fleet deploys (git)
    python3 scripts/registry.py check        every entry deployable, the picture current
    python3 scripts/registry.py diagram      redraw the picture

Each app an environment runs is one file, registry/environments/<env>/apps/<app>.yaml, and
optionally its value overrides, registry/environments/<env>/values/<app>-{base,platform}.yaml.
The defaults are the app template's (the org's git host and owner, its default branch, a
namespace named after the app); --environment defaults to the first environment. The rules are
the template's own: the gitops_template package beside this script, which `copier update`
keeps current.
Python 3.9 or later, nothing else; `promote` runs git and helm too.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gitops_template import answers, diagram, fleet, names, promotion, registry, template_versions

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


# Reads a YAML stream (Helm's output) into JSON, by Helm itself: sigs.k8s.io/yaml, as the cluster
# reads the manifests, and no YAML parser in this script.
_OBJECTS_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: objects\nversion: 0.0.0\n",
    "templates/objects.yaml": """{{- $objects := list }}
{{- range regexSplit "(?m)^---[ \\t]*$" .Values.manifests -1 }}
{{- $object := fromYaml . }}
{{- if hasKey $object "Error" }}{{ fail (printf "not YAML: %s" $object.Error) }}{{ end }}
{{- if $object }}{{ $objects = append $objects $object }}{{ end }}
{{- end }}
{{ toJson (dict "objects" $objects) }}
""",
}


def run(*command: str, cwd: Path | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


def commit_of(clone: Path, revision: str, url: str) -> str:
    result = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd=clone,
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{url}: no revision {revision}")
    return result.stdout.strip()


def operator_apis(makefile: str) -> list[str]:
    """The operators' APIs the app's Makefile renders its charts with (OPERATOR_APIS)."""
    joined = makefile.replace("\\\n", " ")
    return next((line.split(":=", 1)[1].split() for line in joined.splitlines()
                 if line.startswith("OPERATOR_APIS :=")), [])


def platform_objects(clone: Path, commit: str, entry: dict, environment: str, scratch: Path) -> list[dict]:
    """The app's platform chart at `commit`, rendered as the environment's controller renders it:
    the app's platform values, then the environment's override, with every operator's API."""
    tree = scratch / commit
    if not tree.is_dir():
        run("git", "worktree", "add", "--quiet", "--detach", str(tree), commit, cwd=clone)
    app = entry["app_name"]
    values = [tree / "gitops/values-platform.yaml", ROOT / fleet.override_file(environment, app, "platform")]
    command = ["helm", "template", names.derived_names(app)["platform_release"], str(tree / "helm/platform"),
               "--namespace", entry["namespace"]]
    command += [arg for path in values if path.is_file() for arg in ("--values", str(path))]
    makefile = tree / "Makefile"
    apis = operator_apis(makefile.read_text(encoding="utf-8")) if makefile.is_file() else []
    command += [arg for api in apis for arg in ("--api-versions", api)]
    rendered = scratch / f"{commit}.yaml"
    rendered.write_text(run(*command), encoding="utf-8")
    chart = scratch / "objects"
    for name, text in _OBJECTS_CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text, encoding="utf-8")
    output = run("helm", "template", "objects", str(chart), "--set-file", f"manifests={rendered}")
    return json.loads(output[output.index("{"):])["objects"]


def promotion_refusal(args: argparse.Namespace, source: str, target: str, promoted: dict, current: dict | None,
                      revision: str) -> str:
    """Why the promotion must not be written, "" if it may: a revision the source environment does
    not run, or a platform change that could lose data (each unless allowed)."""
    url = promoted["repo_url"]
    if args.allow_untested and (current is None or args.allow_data_loss):
        return ""  # nothing left to check: no need of the app's repository
    with tempfile.TemporaryDirectory(prefix="promote-") as tmp:
        scratch = Path(tmp)
        clone = scratch / "repository"
        run("git", "clone", "--quiet", "--bare", url, str(clone))
        commit = commit_of(clone, revision, url)
        tested = commit_of(clone, promoted["git_revision"], url)
        if commit != tested and not args.allow_untested:
            return (f"{revision} is commit {commit[:12]}, which {source} does not run: it runs "
                    f"{promoted['git_revision']}, commit {tested[:12]}. Promote what {source} runs, or give "
                    "--allow-untested (ALLOW_UNTESTED=1) to promote this revision untested")
        if current is None or args.allow_data_loss:
            return ""
        before = platform_objects(clone, commit_of(clone, current["git_revision"], url), current, target, scratch)
        after = platform_objects(clone, commit, {**current, "git_revision": revision}, target, scratch)
        losses = promotion.data_loss(before, after)
    if losses:
        return "\n".join([f"{promoted['app_name']} at {revision} could lose data in {target} (its platform, "
                          f"rendered at {current['git_revision']} and at {revision}):"]
                         + [f"  {loss}" for loss in losses]
                         + ["Plan each (a backup, a migration), then give --allow-data-loss (ALLOW_DATA_LOSS=1)"])
    return ""


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
    if refusal := promotion_refusal(args, source, target, promoted, entries.get(f"{app}.yaml"), revision):
        sys.exit(refusal)
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


def read_template_versions() -> dict[tuple[str, str], tuple[str, str]]:
    """(app, environment) -> (revision, template version), the version read from the app's
    .copier-answers.yml at the environment's revision, in a clone of its repository."""
    versions = {}
    with tempfile.TemporaryDirectory(prefix="templates-") as tmp:
        clones: dict[str, Path] = {}
        for environment, entries in read_registries().items():
            for entry in entries:
                url = entry["repo_url"]
                if url not in clones:
                    clones[url] = Path(tmp) / str(len(clones))
                    run("git", "clone", "--quiet", "--bare", url, str(clones[url]))
                commit = commit_of(clones[url], entry["git_revision"], url)
                shown = subprocess.run(["git", "show", f"{commit}:.copier-answers.yml"], cwd=clones[url],
                                       capture_output=True, text=True)
                version = template_versions.recorded_template_version(shown.stdout) if shown.returncode == 0 else ""
                versions[entry["app_name"], environment] = (entry["git_revision"], version)
    return versions


def versions(args: argparse.Namespace) -> None:
    if args.templates:
        print(template_versions.template_versions_table(ENVIRONMENTS, read_template_versions()), end="")
    else:
        print(diagram.versions_table(SETTINGS, read_registries()), end="")


def templates(_: argparse.Namespace) -> None:
    errors = [template_versions.template_version_error(SETTINGS["cluster_controller"], app, environment, revision,
                                                       version)
              for (app, environment), (revision, version) in sorted(read_template_versions().items())]
    if any(errors):
        sys.exit("\n".join(error for error in errors if error))


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
    move.add_argument("--allow-data-loss", action="store_true",
                      help="promote although the platform loses a database, bucket, store, volume space or backups")
    move.add_argument("--allow-untested", action="store_true", help="promote a revision --from does not run")
    move.set_defaults(run=promote)
    infrastructure = commands.add_parser("promote-infrastructure",
                                         help="give an environment's infrastructure the revision the one before runs")
    infrastructure.add_argument("--to", required=True, help=f"the environment promoted to, one of {', '.join(ENVIRONMENTS)}")
    infrastructure.add_argument("--git-revision", help="the tag or commit of this repository to promote "
                                                       "(default: the one the environment before runs)")
    infrastructure.set_defaults(run=promote_infrastructure)
    shown = commands.add_parser("versions", help="which revision of each app each environment runs")
    shown.add_argument("--templates", action="store_true", help="and its template version (clones each app: git)")
    shown.set_defaults(run=versions)
    commands.add_parser("templates", help="refuse an app below the template version the fleet needs (git)"
                        ).set_defaults(run=templates)
    commands.add_parser("check", help="refuse an entry that cannot deploy, or a stale picture").set_defaults(run=check)
    commands.add_parser("diagram", help="redraw README.md's picture of the graph").set_defaults(run=lambda _: draw())
    args = parser.parse_args()
    if args.command in ("register", "remove", "promote", "diagram"):
        one_at_a_time()
        readme()
    args.run(args)


if __name__ == "__main__":
    main()
