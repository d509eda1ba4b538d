"""`copier update` from this template's real history, as app teams run it.

A throwaway clone of this repository gets the working tree as its newest release. Apps are
copied at every release with every answer set, and at a spread of earlier commits with one answer
set each, and committed; Copier's CLI then updates each in a process of its own, as Renovate and
people do (Copier renders the old and the new version in one process: where version leaks hide).
Each result must equal a fresh copy of the newest version, with nothing left to resolve.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_copy
from pytest_copier.plugin import CopierProject

from conftest import COMBINATIONS, ROOT, TEMPLATE_PARTS, copier_cli, copy_template, git, load_answers, recorded_answers

# Each release's commit on main, tagged in the throwaway clone when the checkout lacks the tag.
RELEASES = {"v1.0.0": "d1f8106", "v1.1.0": "4eef43d"}
# How many earlier commits that changed the template to sample, besides the releases.
SAMPLED_COMMITS = 8
# The first commit whose template generates an app at all (the skeleton before it has no gitops).
FIRST_APP_COMMIT = "e5dd28b"
ANSWER_SETS = {
    "defaults": load_answers("canonical"),
    "platform-manual": COMBINATIONS["both-platform-on"],
    "argocd-automated": load_answers("argocd-platform"),
    "fluxcd-ssh": load_answers("fluxcd-private"),
}
CONFLICT_MARKERS = r"^(<<<<<<<|>>>>>>>)( |$)"


def _history() -> list[tuple[str, str]]:
    """(ref, answer set): every release with every answer set, and a spread of the template-changing
    commits between them, each with one answer set in turn (a commit is what few apps were made
    from; more commits, each once, cover more of the history for the same time)."""
    if git(ROOT, "rev-parse", "--is-shallow-repository").strip() == "true":
        return []
    releases = sorted({*git(ROOT, "tag", "--list", "v*").split(), *RELEASES})
    commits = [commit for commit in git(ROOT, "rev-list", "--reverse", "--abbrev-commit", f"{FIRST_APP_COMMIT}^..HEAD",
                                        "--", "copier.yml", "extensions", "migrations", "template").split()
               if commit not in RELEASES.values()]
    step = max(1, (len(commits) - 1) / max(1, SAMPLED_COMMITS - 1))
    sampled = sorted({commits[round(i * step)] for i in range(SAMPLED_COMMITS) if round(i * step) < len(commits)},
                     key=commits.index)
    answers = list(ANSWER_SETS)
    return ([(release, name) for release in releases for name in answers]
            + [(commit, answers[i % len(answers)]) for i, commit in enumerate(sampled)])


HISTORY = _history()


def newest_version() -> str:
    """The top release of CHANGELOG.md: what the working tree is released as."""
    return re.search(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)[1]


@pytest.fixture(scope="session")
def history_repo(tmp_path_factory) -> tuple[Path, str]:
    """A clone of this repository with the working tree committed and tagged as the newest release."""
    repo = tmp_path_factory.mktemp("history") / "template"
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(repo)], check=True)
    for part in TEMPLATE_PARTS:
        subprocess.run(["rm", "-rf", str(repo / part)], check=True)
    copy_template(repo)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--message", "working tree")
    for release, commit in RELEASES.items():
        if release not in git(repo, "tag", "--list").split():
            git(repo, "tag", release, commit)  # a clone without the release tags
    tag = f"v{newest_version()}"
    if tag in git(repo, "tag", "--list").split():
        # The release is older than the working tree, which is tested as a post-release above
        # every commit since (Copier numbers those 1.1.0.postN.dev0 and refuses a downgrade).
        tag += f".post{git(repo, 'rev-list', '--count', f'{tag}..HEAD').strip()}"
    git(repo, "tag", tag)
    return repo, tag


@pytest.fixture(scope="session")
def fresh_newest(history_repo, tmp_path_factory):
    """fresh_newest(answer set) -> a fresh copy of the newest version, made once."""
    repo, tag = history_repo
    copies: dict[str, Path] = {}

    def _fresh(name: str) -> Path:
        if name not in copies:
            copies[name] = tmp_path_factory.mktemp(f"fresh-{name}") / "app"
            copy_at(repo, tag, ANSWER_SETS[name], copies[name])
        return copies[name]

    return _fresh


def copy_at(repo: Path, ref: str, answers: dict, dst: Path) -> None:
    """The app a team generated at `ref`, copied in this process (one version: nothing to leak
    into). A module an old version registers in sys.modules (e5dd28b's naming module) is dropped
    after, so no later copy here runs it; the updates, where leaks matter, run in processes of
    their own."""
    modules = set(sys.modules)
    try:
        run_copy(str(repo), dst, data=answers, vcs_ref=ref, defaults=True, unsafe=True, quiet=True)
    finally:
        for name in set(sys.modules) - modules:
            # Loaded from the template's clone, which Copier removes when the copy ends.
            if (path := getattr(sys.modules[name], "__file__", None)) and not Path(path).exists():
                del sys.modules[name]


def update_to(app: Path, tag: str, answers: dict) -> subprocess.CompletedProcess:
    """As Renovate's copier manager runs it; answers the old version never asked are given, as a
    person answers new questions."""
    recorded = yaml.safe_load((app / ".copier-answers.yml").read_text())
    new = {key: value for key, value in answers.items() if key not in recorded}
    data = app.parent / "new-answers.yml"
    data.write_text(yaml.safe_dump(new))
    return copier_cli("update", "--trust", "--skip-answered", "--defaults", "--vcs-ref", tag, "--data-file", str(data),
                      cwd=app)


@pytest.mark.skipif(not HISTORY, reason="a shallow clone has no history to update from: clone with full history")
@pytest.mark.parametrize(("ref", "answers"), HISTORY, ids=[f"{ref}-{answers}" for ref, answers in HISTORY])
def test_update_from_history_equals_a_fresh_copy(history_repo, fresh_newest, copier, ref, answers, tmp_path):
    repo, tag = history_repo
    app = tmp_path / "app"
    copy_at(repo, ref, ANSWER_SETS[answers], app)
    git(app, "init", "--quiet")
    git(app, "add", "--all")
    git(app, "commit", "--quiet", "--message", f"generated from {ref}")

    updated = update_to(app, tag, ANSWER_SETS[answers])

    assert updated.returncode == 0, updated.stderr
    assert "CONFLICTS" not in updated.stderr
    fresh = fresh_newest(answers)
    project = CopierProject(app, copier)
    project.assert_equal(fresh)
    assert recorded_answers(app) == recorded_answers(fresh)
    markers = subprocess.run(["git", "grep", "--untracked", "-l", "-E", CONFLICT_MARKERS], cwd=app,
                             capture_output=True, text=True)
    assert markers.stdout == ""


# The last commit whose Flux HelmReleases lived in gitops/fluxcd/{base,platform}/.
BEFORE_FLUX_RELEASES_MOVED = "db415d3"
TEAM_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-extra\n"


@pytest.mark.skipif(not HISTORY, reason="a shallow clone has no history to update from: clone with full history")
def test_team_edits_survive_and_follow_moved_files(history_repo, fresh_newest, tmp_path):
    repo, tag = history_repo
    answers = ANSWER_SETS["platform-manual"]
    app = tmp_path / "app"
    copy_at(repo, BEFORE_FLUX_RELEASES_MOVED, answers, app)
    git(app, "init", "--quiet")
    git(app, "add", "--all")
    git(app, "commit", "--quiet", "--message", "generated")
    values = app / "gitops/values-base.yaml"
    values.write_text(values.read_text().replace("httpRoute:\n", "replicaCount: 3\n\nhttpRoute:\n", 1))
    (app / "helm/base/templates/team-configmap.yaml").write_text(TEAM_CONFIGMAP)
    readme = app / "README.md"
    readme.write_text(readme.read_text().replace("\n", "\n\nOwned by the payments team.\n", 1))
    (app / "Dockerfile").write_text("FROM golang:1.25\n")
    old_release = app / "gitops/fluxcd/base/helm-release.yaml"
    old_release.write_text(old_release.read_text().replace(
        "  install:\n    createNamespace: true\n    remediation:\n      retries: 3\n",
        "  install:\n    createNamespace: true\n    remediation:\n      retries: 5\n") + "  timeout: 15m\n")
    (app / "gitops/fluxcd/base/team-configmap.yaml").write_text(TEAM_CONFIGMAP)
    with (app / "gitops/fluxcd/base/kustomization.yaml").open("a") as kustomization:
        kustomization.write("  - team-configmap.yaml\n")
    git(app, "add", "--all")
    git(app, "commit", "--quiet", "--message", "the team's edits")

    updated = update_to(app, tag, answers)

    assert updated.returncode == 0, updated.stderr
    assert "CONFLICTS" not in updated.stderr
    assert yaml.safe_load(values.read_text())["replicaCount"] == 3
    assert (app / "helm/base/templates/team-configmap.yaml").read_text() == TEAM_CONFIGMAP
    assert "\n\nOwned by the payments team.\n" in readme.read_text()
    assert (app / "Dockerfile").read_text() == "FROM golang:1.25\n"
    # The moved HelmRelease is the newest version's plus the team's two edits, and nothing stays behind.
    assert not (app / "gitops/fluxcd/base").exists() and not (app / "gitops/fluxcd/platform").exists()
    releases = app / "gitops/fluxcd-releases/base"
    fresh_release = yaml.safe_load((fresh_newest("platform-manual") / "gitops/fluxcd-releases/base/helm-release.yaml")
                                   .read_text())
    fresh_release["spec"]["install"]["remediation"]["retries"] = 5
    fresh_release["spec"]["timeout"] = "15m"
    assert yaml.safe_load((releases / "helm-release.yaml").read_text()) == fresh_release
    assert (releases / "team-configmap.yaml").read_text() == TEAM_CONFIGMAP
    built = subprocess.run(["kubectl", "kustomize", str(releases)], capture_output=True, text=True, check=True)
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(built.stdout) if doc)
    assert kinds == ["ConfigMap", "HelmRelease"]
    for line in ("team-configmap.yaml -> gitops/fluxcd-releases/base/team-configmap.yaml: moved",
                 "helm-release.yaml -> gitops/fluxcd-releases/base/helm-release.yaml: your edits merged"):
        assert line in updated.stderr


@pytest.mark.skipif(not HISTORY, reason="a shallow clone has no history to update from: clone with full history")
def test_an_orchestration_of_one_cluster_keeps_its_apps_as_that_environment(history_repo, tmp_path):
    """1.0.0 assembled one cluster (`cluster_name`, registry/apps/); it becomes the one environment."""
    repo, tag = history_repo
    old = tmp_path / "old"
    copy_at(repo, "v1.0.0", {"project_kind": "orchestration", "cluster_name": "prod-eu"}, old)
    git(old, "init", "--quiet")
    entries = {}
    for app, *options in (["shop"], ["ledger", "--git-revision", "v2.1.0", "--namespace", "finance"]):
        registered = subprocess.run(["python3", "scripts/registry.py", "register", app, *options], cwd=old,
                                    capture_output=True, text=True)
        assert registered.returncode == 0, registered.stderr
        entries[app] = (old / f"registry/apps/{app}.yaml").read_text()
    git(old, "add", "--all")
    git(old, "commit", "--quiet", "--message", "one cluster, two apps")

    updated = update_to(old, tag, {})

    assert updated.returncode == 0, updated.stderr
    assert "CONFLICTS" not in updated.stderr
    answers = recorded_answers(old)
    assert answers["environments"] == "prod-eu" and "cluster_name" not in answers
    assert not (old / "registry/apps").exists()
    for app, text in entries.items():
        assert (old / f"registry/environments/prod-eu/apps/{app}.yaml").read_text() == text
    checked = subprocess.run(["python3", "scripts/registry.py", "check"], cwd=old, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    # The same repository as a fresh copy of the newest version with those apps registered.
    fresh = tmp_path / "fresh"
    copy_at(repo, tag, {"project_kind": "orchestration", "environments": "prod-eu"}, fresh)
    for app, *options in (["shop"], ["ledger", "--git-revision", "v2.1.0", "--namespace", "finance"]):
        subprocess.run(["python3", "scripts/registry.py", "register", app, *options], cwd=fresh, check=True,
                       capture_output=True)
    files = {str(p.relative_to(old)) for p in old.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert files == {str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file()}
    assert all((old / f).read_text() == (fresh / f).read_text() for f in files), [
        f for f in files if (old / f).read_text() != (fresh / f).read_text()]
