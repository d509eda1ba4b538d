#!/usr/bin/env python3
"""Proves this fleet deploys: for each environment, the graph its controller follows, from the root
a person applies (bootstrap/) through this repository, every registered app's repository at the
environment's revision and their charts, walked as the controller walks it (fleet_graph/).

    python3 scripts/prove.py check [--environment ENV]...   fail, one line per finding
    python3 scripts/prove.py diff --base REF [--environment ENV]...   what the working tree
                                                            changes against REF, as Markdown

A finding names the object and what applied it: a reference that does not resolve (repository,
revision, path, chart, source, dependency), an object applied twice or two sharing a kind and
name, a custom kind no infrastructure component installs, what the controller refuses (Argo
CD: an AppProject's denial; Flux: what an app's account may not apply) or would read for an app
with its own rights (Flux: another app's source, a Secret of the Flux namespace), and a secret an
ExternalSecret asks for that the store's account may not read (an in-cluster store: Vault keeps
its rights to itself).

This repository is proven as its working tree stands (or at REF): it is served to the walk under
its own URLs from a clone of it. The apps are cloned by their URLs, as git's configuration says
(the network, a token's insteadOf in CI, or local clones through `url.<path>.insteadOf`).
Needs PyYAML (scripts/requirements.txt, which `make prove` installs), git, helm and kubectl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fleet_graph.checks import proof
from fleet_graph.diff import environment_diff
from fleet_graph.objects import load_all
from fleet_graph.sources import GitServer
from fleet_graph.walk import Graph, Walker
from gitops_template.catalogue import BOOTSTRAP, INFRASTRUCTURE_CATALOGUE
from gitops_template.vcs import flux_repo_url

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = {"components": INFRASTRUCTURE_CATALOGUE, "bootstrap": BOOTSTRAP}


def read_settings(root: Path) -> dict:
    return json.loads((root / "registry/orchestration.json").read_text(encoding="utf-8"))


def git(*args: str, env: dict | None = None) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True, env={**os.environ, **(env or {})})
    if result.returncode:
        sys.exit(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def serve(root: Path, settings: dict, revision: str | None, scratch: Path) -> tuple[GitServer, Path]:
    """A server of this repository whose branch holds `revision`, or the working tree when None
    (committed in the clone only), and that commit's files."""
    clone = scratch / "orchestration.git"
    # Every ref: a later environment's infrastructure runs a commit of this repository's history.
    git("clone", "--quiet", "--mirror", str(root), str(clone))
    if revision is None:
        index = {"GIT_INDEX_FILE": str(scratch / "index")}
        git("--git-dir", str(clone), "--work-tree", str(root), "add", "--all", env=index)
        tree = git("--git-dir", str(clone), "write-tree", env=index)
        identity = {"GIT_AUTHOR_NAME": "prove", "GIT_AUTHOR_EMAIL": "prove@localhost",
                    "GIT_COMMITTER_NAME": "prove", "GIT_COMMITTER_EMAIL": "prove@localhost"}
        # On the checked-out commit, so that the history the environments pin stays reachable.
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD"],
                              capture_output=True, text=True).stdout.split()
        commit = git("--git-dir", str(clone), "commit-tree", tree, *(["-p", *head] if head else []), "-m",
                     "the working tree", env=identity)
    else:
        found = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                               capture_output=True, text=True)
        if found.returncode:
            sys.exit(f"--base {revision}: no such branch, tag or commit in this repository (fetch it first)")
        commit = found.stdout.strip()
    git("--git-dir", str(clone), "update-ref", f"refs/heads/{settings['orchestration_branch']}", commit)
    server = GitServer(scratch)
    url = settings["orchestration_repo_url"]
    server.serve(clone, url, flux_repo_url(url))
    return server, server.tree(url, commit)


def bootstrap_path(controller: str, environment: str) -> str:
    """The file a person applies on the environment's cluster (README.md, "Bootstrap")."""
    return (f"bootstrap/argocd/root-{environment}.yaml" if controller == "argocd"
            else f"bootstrap/flux/flux-instance-{environment}.yaml")


def roots(tree: Path, settings: dict, environment: str) -> list[dict]:
    """What a person applies on the environment's cluster; none where the environment is new."""
    path = tree / bootstrap_path(settings["cluster_controller"], environment)
    if not path.is_file():
        return []
    return load_all(path.read_text(encoding="utf-8"))


def walk(server: GitServer, tree: Path, settings: dict, environment: str, scratch: Path) -> Graph:
    scratch.mkdir()
    return Walker(server, scratch).walk(roots(tree, settings, environment), strict=False)


def environments(settings: dict, chosen: list[str] | None) -> list[str]:
    for environment in chosen or []:
        if environment not in settings["environments"]:
            sys.exit(f"--environment: no environment {environment} (the environments are "
                     f"{', '.join(settings['environments'])})")
    return chosen or settings["environments"]


def findings(root: Path, chosen: list[str] | None = None) -> list[str]:
    """Every finding of every environment, each line starting with the environment."""
    settings = read_settings(root)
    with tempfile.TemporaryDirectory(prefix="prove-") as tmp:
        server, tree = serve(root, settings, None, Path(tmp))
        return [f"{environment}: {finding}" for environment in environments(settings, chosen)
                for finding in proof(walk(server, tree, settings, environment, Path(tmp) / environment), settings,
                                     CATALOGUE)]


def diff(root: Path, base: str, chosen: list[str] | None = None) -> str:
    """Each environment's rendered diff, from `base` to the working tree, as Markdown."""
    settings = read_settings(root)
    sections = [f"## What this change deploys (rendered against {base})", ""]
    with tempfile.TemporaryDirectory(prefix="diff-") as tmp:
        (Path(tmp) / "before").mkdir()
        (Path(tmp) / "after").mkdir()
        before, before_tree = serve(root, settings, base, Path(tmp) / "before")
        after, after_tree = serve(root, settings, None, Path(tmp) / "after")
        for environment in environments(settings, chosen):
            graphs = [walk(server, tree, settings, environment, Path(tmp) / name / environment)
                      for name, server, tree in (("before", before, before_tree), ("after", after, after_tree))]
            sections.append(environment_diff(environment, *graphs))
    return "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="walk each environment; fail, one line per finding")
    changes = commands.add_parser("diff", help="what the working tree changes in each environment, as Markdown")
    changes.add_argument("--base", required=True, help="the revision compared with (a branch, tag or commit)")
    for command in (check, changes):
        command.add_argument("--environment", action="append", help="only this environment (repeatable)")
    args = parser.parse_args()
    if args.command == "diff":
        print(diff(ROOT, args.base, args.environment), end="")
    elif found := findings(ROOT, args.environment):
        sys.exit("\n".join(found))
    else:
        print(f"proven: {', '.join(environments(read_settings(ROOT), args.environment))}")


if __name__ == "__main__":
    main()
