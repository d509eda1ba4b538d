"""This repository's own GitHub Actions workflows (.github/workflows/): zizmor finds nothing in
them, even as a pedant, and it would find what matters."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ZIZMOR = Path(sys.executable).parent / "zizmor"


def zizmor(path: Path) -> subprocess.CompletedProcess:
    # Offline: the suite runs without the network, and the online audits need a GitHub token.
    return subprocess.run([ZIZMOR, "--offline", "--pedantic", "--no-config", "--strict-collection", path],
                          capture_output=True, text=True)


def test_zizmor_finds_nothing():
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["ci.yaml", "release.yaml"]
    result = zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("original", "flawed", "audit"),
    [
        # An attacker-controlled value expanded into a shell.
        ('"$GITHUB_REF_NAME" >', '"${{ github.event.head_commit.message }}" >', "template-injection"),
        # An action by tag, which its owner can move: every action is pinned to a commit.
        ("@3d3c42e5aac5ba805825da76410c181273ba90b1", "@v7", "unpinned-uses"),
        # The checkout's token left in .git (persist-credentials defaults to true), where later steps read it.
        ("persist-credentials: false", "fetch-depth: 1", "artipacked"),
    ],
)
def test_zizmor_would_catch_a_flaw(tmp_path, original, flawed, audit):
    release = (WORKFLOWS / "release.yaml").read_text()
    assert original in release
    (tmp_path / "release.yaml").write_text(release.replace(original, flawed))
    result = zizmor(tmp_path / "release.yaml")
    assert result.returncode != 0 and audit in result.stdout, result.stdout + result.stderr


def test_ci_runs_the_suite_as_ci_run_does():
    """On pull requests and pushes to main, with the history the update tests read, the Python
    the project requires, and the command .ci/run runs."""
    ci = yaml.safe_load((WORKFLOWS / "ci.yaml").read_text())
    assert ci["on"] == {"pull_request": None, "push": {"branches": ["main"]}}
    [job] = ci["jobs"].values()
    [checkout] = [step for step in job["steps"] if step.get("with", {}).get("path") == "repository"]
    assert checkout["with"]["fetch-depth"] == 0
    [python] = [step["with"]["python-version"] for step in job["steps"] if "setup-python" in step.get("uses", "")]
    assert f">={python}" == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert job["steps"][-1]["run"] == "make test"
    assert (ROOT / ".ci" / "run").read_text().splitlines()[-1] == "make test"
