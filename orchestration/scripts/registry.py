#!/usr/bin/env python3
"""The registry of apps this cluster runs: register and remove apps, check the registry, and
keep README.md's picture of the graph current.

    python3 scripts/registry.py register APP [--repo-url URL] [--git-revision REV]
                                             [--namespace NS] [--git-secret-name NAME]
    python3 scripts/registry.py remove APP
    python3 scripts/registry.py check        every entry deployable, the picture current
    python3 scripts/registry.py diagram      redraw the picture

Each registered app is one file, registry/apps/<app>.yaml; the defaults are the app template's
(the org's git host and owner, its default branch, a namespace named after the app). The rules
are the template's own: naming.py beside this script, which `copier update` keeps current.
Python 3.9 or later, nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import naming

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = json.loads((ROOT / "registry/orchestration.json").read_text(encoding="utf-8"))
APPS = ROOT / SETTINGS["paths"]["registry_apps"]
README = ROOT / "README.md"


def registry() -> dict[str, dict]:
    """Every entry, by file name; an unreadable one stops here, naming its file."""
    entries = {}
    for path in sorted(APPS.glob("*.yaml")):
        try:
            entries[path.name] = naming.parse_registry_entry(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            sys.exit(f"{path.relative_to(ROOT)}: {exc}")
    return entries


def refuse(errors: list[str]) -> None:
    if errors:
        sys.exit("\n".join(f"{SETTINGS['paths']['registry_apps']}/{error}" for error in errors))


def diagram(entries: dict[str, dict]) -> str:
    return naming.registry_diagram(SETTINGS, list(entries.values()))


def draw(entries: dict[str, dict]) -> None:
    README.write_text(naming.with_diagram(README.read_text(encoding="utf-8"), diagram(entries)), encoding="utf-8")


def register(args: argparse.Namespace) -> None:
    app, entries = args.app, registry()
    if error := naming.app_name_error(app):
        sys.exit(error)
    filename = f"{app}.yaml"
    if filename in entries:
        sys.exit(f"{SETTINGS['paths']['registry_apps']}/{filename}: {app} is registered already: "
                 "edit that file, or remove the app first")
    repo_url = args.repo_url or naming.default_repo_url(SETTINGS["git_host"], SETTINGS["git_owner"], app)
    entry = {"app_name": app, "repo_url": repo_url, "git_revision": args.git_revision or SETTINGS["default_branch"],
             "namespace": args.namespace or app}
    secret = args.git_secret_name
    if secret is None:
        secret = naming.default_git_secret_name(repo_url, app, SETTINGS["cluster_controller"])
    if secret:
        entry["git_secret_name"] = secret
    entries[filename] = entry
    refuse(naming.registry_errors(SETTINGS, entries))
    (APPS / filename).write_text(naming.registry_entry_text(entry), encoding="utf-8")
    draw(entries)
    print(f"{app} registered in {SETTINGS['paths']['registry_apps']}/{filename}: commit it, with README.md, to deploy it")


def remove(args: argparse.Namespace) -> None:
    app = args.app
    path = APPS / f"{app}.yaml"
    if naming.app_name_error(app) or not path.is_file():
        sys.exit(f"{SETTINGS['paths']['registry_apps']}/{app}.yaml: no such registered app")
    path.unlink()
    draw(registry())
    print(f"{app} removed: once committed, its base is pruned; its platform (database, bucket) stays "
          "until a person deletes it (README.md, \"Remove an app\")")


def check(_: argparse.Namespace) -> None:
    entries = registry()
    refuse(naming.registry_errors(SETTINGS, entries))
    readme = README.read_text(encoding="utf-8")
    if naming.with_diagram(readme, diagram(entries)) != readme:
        sys.exit("README.md: the registry diagram is out of date: run `make diagram` and commit it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("register", help="register an app: write registry/apps/<app>.yaml")
    add.add_argument("app", help="the app's app_name")
    add.add_argument("--repo-url", help="its repository (default: https://<git_host>/<git_owner>/<app>.git)")
    add.add_argument("--git-revision", help="branch, tag, full ref or commit (default: the org's default branch)")
    add.add_argument("--namespace", help="the app's namespace answer (default: the app's name)")
    add.add_argument("--git-secret-name", help="Flux's git credentials Secret (default: <app>-git over ssh)")
    add.set_defaults(run=register)
    drop = commands.add_parser("remove", help="remove an app: delete registry/apps/<app>.yaml")
    drop.add_argument("app")
    drop.set_defaults(run=remove)
    commands.add_parser("check", help="refuse an entry that cannot deploy, or a stale picture").set_defaults(run=check)
    commands.add_parser("diagram", help="redraw README.md's picture of the graph").set_defaults(
        run=lambda _: draw(registry()))
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
