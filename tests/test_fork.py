"""An organisation's fork: it changes only the org-defaults block, its releases never collide with
upstream's, upstream releases merge in, and its apps update cleanly; an existing app re-points
at the fork (or at new org defaults) with every answer derived from them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pytest_copier.plugin import CopierProject

from conftest import ROOT, commit_all, copier_cli, copy_app, copy_template, git, recorded_answers
from gitops_template.answers import DERIVED_ANSWERS, derived_defaults

FORK_DEFAULTS = {"git_owner": "globex", "image_registry": "registry.globex.example"}


def set_org_default(copier_yml: Path, key: str, value: str) -> None:
    text, count = re.subn(rf"(?m)(^{key}:\n(?:  .*\n)*?  default: ).*$", rf"\g<1>{value}", copier_yml.read_text())
    assert count == 1
    copier_yml.write_text(text)


def cli(*args: str, cwd: Path) -> None:
    result = copier_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr


def answers(app: Path) -> dict:
    return yaml.safe_load((app / ".copier-answers.yml").read_text())


def new_app(template: Path, dst: Path, **data: str) -> Path:
    """An app copied from the template's newest tag, committed."""
    copy_app(template, dst, {"app_name": "shop", **data})
    git(dst, "init", "--quiet")
    commit_all(dst, "generated")
    return dst


@pytest.fixture
def upstream_and_fork(tmp_path) -> tuple[Path, Path]:
    """Upstream at v1.0.0 and v1.1.0; the fork at v1.0.0+globex.1 and, merged, v1.1.0+globex.1."""
    upstream = copy_template(tmp_path / "upstream")
    git(upstream, "init", "--quiet")
    commit_all(upstream, "upstream 1.0.0")
    git(upstream, "tag", "v1.0.0")
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "--quiet", str(upstream), str(fork))
    for key, value in FORK_DEFAULTS.items():
        set_org_default(fork / "copier.yml", key, value)
    commit_all(fork, "Globex org defaults")
    git(fork, "tag", "v1.0.0+globex.1")
    return upstream, fork


def release_upstream_and_merge(upstream: Path, fork: Path) -> None:
    (upstream / "template/NOTICE").write_text("upstream 1.1.0\n")
    commit_all(upstream, "upstream 1.1.0")
    git(upstream, "tag", "v1.1.0")
    git(fork, "pull", "--quiet", "--no-rebase", "--no-edit", "--tags", "origin", "main")
    git(fork, "tag", "v1.1.0+globex.1")


def test_a_fork_changes_only_the_org_defaults_block(upstream_and_fork):
    _, fork = upstream_and_fork
    changed = git(fork, "diff", "--name-only", "v1.0.0", "v1.0.0+globex.1").split()
    assert changed == ["copier.yml"]
    text = (fork / "copier.yml").read_text()
    org_block = range(text[:text.index("# --- Org defaults ---")].count("\n"),
                      text[:text.index("# --- App ---")].count("\n"))
    hunks = re.findall(r"^@@ -\d+(?:,\d+)? \+(\d+)", git(fork, "diff", "-U0", "v1.0.0", "v1.0.0+globex.1"), re.M)
    assert hunks and all(int(line) in org_block for line in hunks)


def test_fork_releases_sort_above_upstream_and_its_apps_update_cleanly(upstream_and_fork, copier, tmp_path):
    upstream, fork = upstream_and_fork
    app = new_app(fork, tmp_path / "app")
    assert answers(app)["_commit"] == "v1.0.0+globex.1"  # Copier's newest tag: local versions sort above
    assert answers(app)["image_repository"] == "registry.globex.example/globex/shop"

    release_upstream_and_merge(upstream, fork)
    cli("update", "--trust", "--skip-answered", "--defaults", cwd=app)

    assert answers(app)["_commit"] == "v1.1.0+globex.1"
    assert (app / "NOTICE").read_text() == "upstream 1.1.0\n"
    fresh = new_app(fork, tmp_path / "fresh")
    CopierProject(app, copier).assert_equal(fresh)
    assert recorded_answers(app) == recorded_answers(fresh)


@pytest.mark.parametrize("image_repository", [None, "quay.io/acme/shop"], ids=["derived", "chosen"])
def test_an_upstream_app_repoints_at_the_fork(upstream_and_fork, copier, image_repository, tmp_path):
    upstream, fork = upstream_and_fork
    release_upstream_and_merge(upstream, fork)
    chosen = {"image_repository": image_repository} if image_repository else {}
    app = new_app(upstream, tmp_path / "app", **chosen)
    assert answers(app)["git_owner"] == "acme"

    result = subprocess.run([sys.executable, str(ROOT / "migrations/repoint.py"), "--template", str(fork)], cwd=app,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)

    assert result.returncode == 0, result.stderr
    recorded = answers(app)
    assert (recorded["_src_path"], recorded["_commit"]) == (str(fork), "v1.1.0+globex.1")
    assert recorded["git_owner"] == "globex" and recorded["repo_url"] == "https://github.com/globex/shop.git"
    if image_repository:
        assert recorded["image_repository"] == image_repository  # the team's choice stays
    else:
        fresh = new_app(fork, tmp_path / "fresh")
        CopierProject(app, copier).assert_equal(fresh)
        assert recorded_answers(app) == recorded_answers(fresh)


def test_derived_defaults_are_what_copier_derives(generate):
    """derived_defaults (what repoint re-derives) agrees with copier.yml's defaults."""
    for data in ({}, {"git_host": "git.example:2222", "git_owner": "team", "image_registry": "reg.example",
                      "default_branch": "trunk"},
                 {"repo_url": "git@github.com:Acme/Shop.git", "gitops_controller": "fluxcd"}):
        recorded = yaml.safe_load((generate(**data) / ".copier-answers.yml").read_text())
        derived = [key for key in DERIVED_ANSWERS if key not in data]
        assert {key: recorded[key] for key in derived} == {key: derived_defaults(recorded)[key] for key in derived}


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--template", "/no/such/template"], "repoint: cannot read the template at /no/such/template",
                 id="no-template"),
    pytest.param(["--data", "image_registry"], "repoint: --data image_registry: give an answer as KEY=VALUE",
                 id="data-without-value"),
    pytest.param(["--data", "image_registry=Not A Registry"], "repoint: copier update failed (above); the "
                 "repository is as it was", id="update-refused"),
])
def test_repoint_fails_clearly_and_leaves_the_app_as_it_was(upstream_and_fork, tmp_path, args, message):
    upstream, fork = upstream_and_fork
    release_upstream_and_merge(upstream, fork)
    app = new_app(upstream, tmp_path / "app")
    head = git(app, "rev-parse", "HEAD")
    result = subprocess.run([sys.executable, str(ROOT / "migrations/repoint.py"), "--template", str(fork), *args],
                            cwd=app, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert result.stderr.rstrip().splitlines()[-1].startswith(message)
    if "copier update failed" not in message:  # there, Copier's own traceback stands above ours
        assert "Traceback" not in result.stderr
    assert git(app, "rev-parse", "HEAD") == head and git(app, "status", "--porcelain") == ""
