#!/usr/bin/env python3
"""Time the orchestration graph as registered apps grow: 10 apps, then 200.

Run it from the repository root (`make benchmark-orchestration` does):

    .venv/bin/python scripts/benchmark_orchestration.py [--apps 10 200] [--controllers argocd fluxcd]

For each count, it copies that many apps from this checkout (each its own git repository, the
same answers but its name), an orchestration repository per controller, and registers every app
with the orchestration's own script. Then it times, as the test suite does them
(tests/support/orchestration.py):
- render: walking the graph from the root as the controller would, through every repository,
  the registry chart, each app's gitops/ folder and both of its charts (Helm);
- validate: no object applied twice, every dependency and AppProject admitting what it deploys,
  and every object strictly against its schema (kubernetes-validate; CRDs from the mirror at
  ../shared/crd-schemas, or CRD_SCHEMAS).
It prints each time, its ratio to the smallest count's (linear growth is the count's ratio), and
the files each registration added to the orchestration repository. It never fails on a slow result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

GITCONFIG = "[user]\n\tname = Benchmark\n\temail = benchmark@example.invalid\n[commit]\n\tgpgsign = false\n"
APP_ANSWERS = {"postgres": True, "object_storage": True}


def isolate(sandbox: Path) -> None:
    """Keep the machine's git and Copier settings out, and the provisioned tools first on PATH."""
    (sandbox / "gitconfig").write_text(GITCONFIG)
    (sandbox / "copier-settings.yml").write_text("{}\n")
    os.environ.update(GIT_CONFIG_GLOBAL=str(sandbox / "gitconfig"), GIT_CONFIG_NOSYSTEM="1",
                      COPIER_SETTINGS_PATH=str(sandbox / "copier-settings.yml"),
                      PATH=f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--controllers", nargs="+", default=["argocd", "fluxcd"], choices=["argocd", "fluxcd"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestration-benchmark-") as tmp:
        sandbox = Path(tmp)
        isolate(sandbox)
        # Imported after isolate(): Copier's git (plumbum) copies the environment on import.
        from conftest import CRD_SCHEMAS, bootstrap, commit_all, copy_app, copy_template, git, registry_script
        from gitops_template.fleet import platform_review_tag
        from gitops_template.vcs import flux_repo_url
        from support.kube import validation_errors
        from support.orchestration import GitServer, Walker, project_violations, unresolved_dependencies
        from copier import run_copy

        template = copy_template(sandbox / "template")
        schemas = CRD_SCHEMAS if CRD_SCHEMAS.is_dir() else None
        print(f"CRD schemas: {schemas or 'none found: custom resources are reported, not validated'}")
        servers: dict[str, tuple[Path, str]] = {}

        def app_repos(count: int) -> None:
            """The first `count` app repositories, copied once for every controller and count."""
            for i in range(len(servers), count):
                name = f"app-{i:04}"
                repo = copy_app(template, sandbox / "apps" / name, {"app_name": name, **APP_ANSWERS})
                git(repo, "init", "--quiet", "--initial-branch", "main")
                commit_all(repo, "generated")
                # A person reviewed the platform for the first environment, which follows main: Flux
                # deploys it from that environment's tag.
                git(repo, "tag", platform_review_tag("staging"))
                servers[name] = (repo, f"https://github.com/acme/{name}.git")

        results = {}
        for controller in args.controllers:
            for count in args.apps:
                start = time.perf_counter()
                app_repos(count)
                work = sandbox / f"{controller}-{count}"
                fleet = work / "fleet"
                run_copy(str(template), fleet, data={"project_kind": "orchestration", "cluster_controller": controller},
                         defaults=True, unsafe=True, quiet=True)
                git(fleet, "init", "--quiet", "--initial-branch", "main")
                commit_all(fleet, "generated")
                before = len(git(fleet, "ls-files").splitlines())
                server = GitServer(work)
                for name, (repo, url) in list(servers.items())[:count]:
                    server.serve(repo, url)
                    registered = registry_script(fleet, "register", name)
                    if registered.returncode:
                        sys.exit(registered.stderr)
                commit_all(fleet, "registered")
                added = len(git(fleet, "ls-files").splitlines()) - before
                settings = json.loads((fleet / "registry/orchestration.json").read_text())
                server.serve(fleet, settings["orchestration_repo_url"], flux_repo_url(settings["orchestration_repo_url"]))
                roots = bootstrap(fleet, controller, settings["environments"][0])
                setup = time.perf_counter() - start

                start = time.perf_counter()
                graph = Walker(server, work).walk(roots)
                render = time.perf_counter() - start
                start = time.perf_counter()
                problems = (graph.duplicates + unresolved_dependencies(graph) + project_violations(graph)
                            + validation_errors(list(graph.objects.values()), schemas))
                validate = time.perf_counter() - start
                results[(controller, count)] = (render, validate)
                print(f"{controller:>7} {count:>4} apps: {len(graph.objects):>5} objects, {len(graph.releases):>4} Helm "
                      f"releases; render {render:6.1f}s, validate {validate:6.1f}s (setup {setup:.0f}s); "
                      f"{added} files added by {count} registrations; {len(problems)} problems")
                for problem in problems[:5]:
                    print(f"        {problem}")
        base = min(args.apps)
        print(f"\nratios to {base} apps (linear growth: the ratio of app counts)")
        for (controller, count), (render, validate) in results.items():
            base_render, base_validate = results[(controller, base)]
            print(f"{controller:>7} {count:>4} apps ({count / base:.0f}x): render {render / base_render:5.1f}x, "
                  f"validate {validate / base_validate:5.1f}x, per app {1000 * (render + validate) / count:.0f} ms")


if __name__ == "__main__":
    main()
