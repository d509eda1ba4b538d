#!/usr/bin/env python3
"""Generate the example orchestration repository with three example apps registered in it.

Run it from the repository root (`make example` does):

    .venv/bin/python scripts/example_orchestration.py [DESTINATION]

DESTINATION (default example-fleet) gets apps/<app>: three apps copied from this checkout
(uncommitted changes included) with different answers, and fleet/: the orchestration repository
of Argo CD clusters, staging and production, each app registered in staging with the fleet's own
`make register` command, and shop promoted to production at its first release.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = {"vcs_ref": "HEAD", "defaults": True, "unsafe": True, "quiet": True}
# Three apps a platform might run: every default; a database, secrets and monitoring synced
# automatically, in a shared namespace; a database and a bucket, reviewed by a person.
APPS = {
    "shop": {},
    "billing": {"namespace": "finance", "postgres": True, "external_secrets": True, "monitoring": True,
                "platform_sync": "automated"},
    "inventory": {"namespace": "stock", "postgres": True, "object_storage": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", nargs="?", type=Path, default=ROOT / "example-fleet")
    destination = parser.parse_args().destination.resolve()
    shutil.rmtree(destination, ignore_errors=True)
    fleet = destination / "fleet"
    # An absolute source, so `copier update` finds the template again.
    run_copy(str(ROOT), fleet, data={"project_kind": "orchestration"}, **OPTIONS)
    for app, answers in APPS.items():
        run_copy(str(ROOT), destination / "apps" / app, data={"app_name": app, **answers}, **OPTIONS)
        registered = subprocess.run([sys.executable, "scripts/registry.py", "register", app,
                                     "--namespace", answers.get("namespace", app)], cwd=fleet)
        if registered.returncode:
            sys.exit(registered.returncode)
    # The apps' repositories are not pushed anywhere, so the gate cannot read what staging runs: the
    # first promotion, with no platform in production yet to lose, is made untested on purpose.
    promoted = subprocess.run([sys.executable, "scripts/registry.py", "promote", "shop", "--to", "production",
                               "--git-revision", "v1.0.0", "--allow-untested"], cwd=fleet)
    if promoted.returncode:
        sys.exit(promoted.returncode)
    print(f"\n{fleet}: the orchestration repository, with {', '.join(APPS)} registered in staging and shop "
          "promoted to production (README.md, \"The graph\")")


if __name__ == "__main__":
    main()
