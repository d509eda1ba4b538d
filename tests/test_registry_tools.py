"""The fleet's registry tools as a person runs them (`make register`, `remove`, `promote`, `registry`,
`lint`): what they cannot deploy is refused before anything is written, with a message naming the
input, never a traceback; two runs at once both land."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git

APPS = "registry/environments/staging/apps"
VALUES = "registry/environments/staging/values"


def make(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=root, env=env, capture_output=True, text=True)


@pytest.fixture
def clone(fleet, tmp_path):
    """A throwaway copy of the Flux fleet (shop, inventory and ledger registered), committed."""
    root = tmp_path / "fleet"
    shutil.copytree(fleet("fluxcd").root, root)
    return root


def write(root: Path, relative: str, content: str) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(content, encoding="utf-8")


@pytest.mark.parametrize(("target", "path", "content", "message"), [
    pytest.param("registry", f"{APPS}/cart.yml", 'app_name: "cart"\n',
                 f"{APPS}/cart.yml: not an entry, which nothing reads", id="entry-saved-as-yml"),
    pytest.param("registry", f"{APPS}/cart.yaml", '\ufeffapp_name: "cart"\n',
                 f"{APPS}/cart.yaml: line 1: starts with a byte order mark", id="byte-order-mark"),
    pytest.param("registry", f"{APPS}/cart.yaml", 'app_name: "cart" # the shop\'s cart\n',
                 f"{APPS}/cart.yaml: line 1: a comment goes on a line of its own", id="comment-after-a-value"),
    pytest.param("lint", f"{VALUES}/shop-base.yaml", 'replicaCount: "2\n',
                 f"{VALUES}/shop-base.yaml: not a map of values", id="override-not-yaml"),
    pytest.param("lint", f"{VALUES}/shop-base.yaml", "- 2\n",
                 f"{VALUES}/shop-base.yaml: not a map of values", id="override-not-a-map"),
])
def test_checks_refuse_what_cannot_deploy_naming_the_file(clone, target, path, content, message):
    write(clone, path, content)
    result = make(clone, target)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["register", "APP=-x"], "app_name: must be a DNS-1035 label", id="app-starting-with-dash"),
    pytest.param(["register", "APP=cart", "REPO_URL=-x"], "repo_url: must be an https:// or ssh URL",
                 id="value-starting-with-dash"),
    pytest.param(["register", "APP=cart", "NAMESPACE=flux-system"], "namespace: flux-system is Flux's",
                 id="platform-namespace"),
    pytest.param(["promote", "APP=shop"], "--to: name an environment, one of staging, production", id="no-to"),
    pytest.param(["promote", "APP=shop", "TO=qa"], "--to: no environment qa", id="unknown-to"),
    pytest.param(["remove", "APP=cart"], "no such registered app in staging", id="remove-unknown"),
])
def test_commands_refuse_naming_the_input_and_write_nothing(clone, args, message):
    result = make(clone, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert git(clone, "status", "--porcelain") == ""


def test_a_readme_without_its_diagram_markers_writes_nothing(clone):
    readme = clone / "README.md"
    readme.write_text("# our fleet\n")
    git(clone, "commit", "--quiet", "--all", "--message", "a README of our own")
    result = make(clone, "register", "APP=cart")
    assert result.returncode != 0
    assert "README.md has no registry diagram" in result.stderr and "Traceback" not in result.stderr
    assert git(clone, "status", "--porcelain") == ""


def test_two_registrations_at_once_both_land(clone):
    runs = [subprocess.Popen([sys.executable, "-S", "scripts/registry.py", "register", app], cwd=clone,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for app in ("cart", "orders")]
    for run in runs:
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
    assert {p.name for p in (clone / APPS).iterdir()} >= {"cart.yaml", "orders.yaml"}
    assert make(clone, "registry").returncode == 0  # the README pictures both
