"""Fixtures shared by the suite: an isolated environment, the template, generated apps.

Every test runs with its own git identity and Copier settings, never the machine's, and
with the project's provisioned tools (scripts/get_tools.py) first on PATH.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from copier import run_copy
from plumbum import local

ROOT = Path(__file__).resolve().parent.parent
ANSWERS_DIR = Path(__file__).parent / "answers"
# Where the offline mirror of CRD schemas lives; CRD_SCHEMAS overrides it.
CRD_SCHEMAS = Path(os.environ.get("CRD_SCHEMAS", ROOT.parent / "shared" / "crd-schemas"))
# What a template is made of; everything else in the repo is for developing it.
TEMPLATE_PARTS = ("copier.yml", "extensions", "migrations", "template", "orchestration")


def scratch_in_memory(shm: Path = Path("/dev/shm"), room: int = 4 * 2**30) -> None:
    """Temporary files (pytest's, Copier's clones, the tools') in memory when the machine has the
    room, unless TMPDIR says where: a run writes and deletes about 600 MB of small files, which
    cost a quarter of its time on a disk (most on one that discards online)."""
    if "TMPDIR" in os.environ or not shm.is_dir() or not os.access(shm, os.W_OK):
        return
    stats = os.statvfs(shm)
    if stats.f_bavail * stats.f_frsize >= room:
        os.environ["TMPDIR"] = str(shm)
        tempfile.tempdir = None


# Before pytest picks its base folder, and inherited by its workers and every process a test starts.
scratch_in_memory()


# The template's logic (extensions/gitops_template), the single source of every derived name, for
# tests to compare against: `from gitops_template.<module> import ...`.
sys.path.insert(0, str(ROOT / "extensions"))
# The fleet's graph code (orchestration/scripts/fleet_graph), which the tests walk fleets with.
sys.path.append(str(ROOT / "orchestration" / "scripts"))
from gitops_template.derive import derive  # noqa: E402
from gitops_template.fleet import environment_names, platform_review_tag  # noqa: E402
from gitops_template.names import PLATFORM_FEATURES, PLATFORM_REVIEW_TAG  # noqa: E402
from gitops_template.vcs import flux_repo_url, revision_is_tag  # noqa: E402
from fleet_graph import render  # noqa: E402
from prove import bootstrap_path  # noqa: E402


def load_answers(name: str) -> dict:
    return yaml.safe_load((ANSWERS_DIR / f"{name}.yml").read_text())


ANSWER_SETS = sorted(p.stem for p in ANSWERS_DIR.glob("*.yml"))
# The environments the fleets of the tests have, whose platform reviews the app repositories tag.
REVIEWED_ENVIRONMENTS = ("staging", "production")
# Every controller choice with the platform all off and all on, for the gitops checks.
COMBINATIONS = {
    f"{controller}-platform-{'on' if on else 'off'}": {
        "app_name": "combo",
        "gitops_controller": controller,
        **{feature: on for feature in PLATFORM_FEATURES},
    }
    for controller in ("both", "argocd", "fluxcd")
    for on in (False, True)
}


def recorded_answers(app: Path) -> dict:
    """The answers an app recorded, without Copier's own (_commit, _src_path)."""
    answers = yaml.safe_load((app / ".copier-answers.yml").read_text())
    return {key: value for key, value in answers.items() if not key.startswith("_")}


def answers_for(name: str) -> dict:
    return COMBINATIONS[name] if name in COMBINATIONS else load_answers(name)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    """pytest-copier's template (the `copier` fixture) is this template's parts, tagged 99.99.99."""
    return list(TEMPLATE_PARTS)


@pytest.fixture(scope="session")
def set_default_gitconfig() -> dict[str, str]:
    # pytest-gitconfig isolates the global git config; a signing setup there would prompt.
    return {"commit.gpgsign": "false", "tag.gpgsign": "false"}


@pytest.fixture(scope="session", autouse=True)
def isolated_env(tmp_path_factory, default_gitconfig):
    home = tmp_path_factory.mktemp("home")
    settings = home / "copier-settings.yml"
    settings.write_text("defaults: {}\n")
    isolated = {
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(default_gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "COPIER_SETTINGS_PATH": str(settings),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PATH": f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    # Copier runs git through plumbum, whose environment is a copy taken at import time.
    with pytest.MonkeyPatch.context() as mp, local.env(**isolated):
        for name, value in isolated.items():
            mp.setenv(name, value)
        missing = [tool for tool in ("helm", "kubectl", "git") if not shutil.which(tool)]
        if missing:
            pytest.exit(f"missing {', '.join(missing)}: run `python scripts/get_tools.py` first", 2)
        yield


def copy_template(dst: Path) -> Path:
    """The template as it is in the working tree, uncommitted changes included (over any
    older copy of a part already at dst)."""
    dst.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        src = ROOT / part
        if (dst / part).is_dir():
            shutil.rmtree(dst / part)
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst / part)
    return dst


def shared_folder(tmp_path_factory, name: str) -> Path:
    """A folder of this test run that every worker sees (pytest-xdist's workers share their base
    folder's parent)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    (shared / name).mkdir(exist_ok=True)
    return shared / name


def made_once(tmp_path_factory, name: str, make) -> Path:
    """The folder `name` of this test run, made by make(path) for the first worker that asks; the
    others wait for it."""
    shared = shared_folder(tmp_path_factory, "made-once")
    path = shared / name
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            partial = shared / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            make(partial)
            partial.rename(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def shared_renders(tmp_path_factory):
    """Helm's and kustomize's renders, made once for every worker of the run (fleet_graph/render.py)."""
    render.CACHE = shared_folder(tmp_path_factory, "renders")
    yield
    render.CACHE = None


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """A plain (non-git) copy of the template: copies from it skip Copier's git clone."""
    return made_once(tmp_path_factory, "template", copy_template)


def copier_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Copier's own CLI in a process of its own, as people and Renovate run it (Copier renders
    the old and the new template version in one process: version leaks show only there)."""
    return subprocess.run([sys.executable, "-m", "copier", *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def refusal(template: Path, dst: Path, answers: dict) -> str:
    """Copier's refusal of these answers, its message, with nothing written at `dst`."""
    with pytest.raises(ValueError) as refused:
        run_copy(str(template), dst, data=answers, defaults=True, unsafe=True, quiet=True)
    assert not dst.exists()
    return str(refused.value)


def copy_app(template: Path, dst: Path, answers: dict) -> Path:
    run_copy(str(template), dst, data=answers, defaults=True, unsafe=True, quiet=True)
    return dst


@pytest.fixture(scope="session")
def rendered(template_dir, tmp_path_factory):
    """rendered(answers) -> what Copier writes for these answers, copied once per test run, for
    tests to read; rendered(answers, dst) -> dst, a copy of that of its own, byte for byte what
    another Copier run of the same answers writes there."""
    apps: dict[str, Path] = {}

    def _rendered(answers: dict, dst: Path | None = None) -> Path:
        key = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()[:16]
        if key not in apps:
            apps[key] = made_once(tmp_path_factory, f"rendered-{key}",
                                  lambda path: copy_app(template_dir, path, answers))
        return apps[key] if dst is None else shutil.copytree(apps[key], dst, symlinks=True)

    return _rendered


@pytest.fixture
def generate(rendered, tmp_path):
    """generate(**answers) -> Path of an app of its own, generated from these answers (app_name
    defaults to demo)."""
    count = 0

    def _generate(**answers) -> Path:
        nonlocal count
        count += 1
        return rendered({"app_name": "demo", **answers}, tmp_path / f"app{count}")

    return _generate


@pytest.fixture(scope="session")
def app(rendered):
    """app(name) -> the app generated from tests/answers/<name>.yml (or a COMBINATIONS entry),
    made once per session; read only."""
    return lambda name: rendered(answers_for(name))


@pytest.fixture(scope="session")
def crd_schemas() -> Path:
    if not CRD_SCHEMAS.is_dir():
        pytest.skip(f"no CRD schema mirror at {CRD_SCHEMAS} (set CRD_SCHEMAS): custom resources unchecked")
    return CRD_SCHEMAS


@pytest.fixture
def template_repo(tmp_path) -> Path:
    """A throwaway git copy of the template, tagged v1, for `copier update` tests."""
    repo = copy_template(tmp_path / "template-repo")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "template v1")
    git(repo, "tag", "v1")
    return repo


# --- The orchestration repository -------------------------------------------------------------

# Each orchestration answer set (tests/answers/orchestration/) with the apps it registers, as
# answer sets: each app with the controller's gitops/ folder, different platforms and namespaces.
FLEETS = {
    "argocd": ["canonical", "argocd-platform", "orchestration/inventory"],
    "applicationset": ["canonical", "argocd-platform", "orchestration/inventory"],
    "fluxcd": ["canonical", "fluxcd-private", "orchestration/inventory"],
}
# The same fleets on the production profile, for the convergence simulation only.
PRODUCTION_FLEETS = {"argocd-production": FLEETS["argocd"], "fluxcd-production": FLEETS["fluxcd"]}


@dataclass
class Fleet:
    """An orchestration repository with its apps registered, each a local git repository
    served under the URLs the manifests give."""

    name: str
    root: Path
    answers: dict
    settings: dict
    apps: dict[str, Path]
    server: "GitServer"
    scratch: Path

    @property
    def controller(self) -> str:
        return self.settings["cluster_controller"]

    @property
    def environment(self) -> str:
        """The first environment, which the single-environment tests walk."""
        return self.settings["environments"][0]

    def entry_path(self, app: str, environment: str | None = None) -> Path:
        return self.root / self.settings["paths"]["environments"][environment or self.environment]["apps"] / f"{app}.yaml"

    def bootstrap(self, environment: str | None = None) -> list[dict]:
        """What a person applies by hand on an environment's cluster: the root of its graph."""
        return bootstrap(self.root, self.controller, environment or self.environment)

    def walk(self, environment: str | None = None) -> "Graph":
        from support.orchestration import Walker

        scratch = self.scratch / f"walk-{len(list(self.scratch.glob('walk-*')))}"
        scratch.mkdir()
        return Walker(self.server, scratch).walk(self.bootstrap(environment))


def bootstrap(root: Path, controller: str, environment: str) -> list[dict]:
    """An environment's bootstrap objects, as a person applies them on its cluster."""
    path = bootstrap_path(controller, environment)
    return [doc for doc in yaml.safe_load_all((root / path).read_text()) if doc]


def registry_script(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The orchestration's own scripts/registry.py, run without site-packages: it needs Python alone
    (and git and helm, to promote); `env` adds to its environment."""
    return subprocess.run([sys.executable, "-S", "scripts/registry.py", *args], cwd=root, capture_output=True,
                          text=True, env={**os.environ, **(env or {})})


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--message", message)
    return git(repo, "rev-parse", "HEAD").strip()


def serve_orchestration(server, root: Path, answers: dict) -> None:
    url = answers["orchestration_repo_url"]
    server.serve(root, url, flux_repo_url(url))


def publish_orchestration(server, root: Path) -> list[dict]:
    """A generated orchestration repository committed and served: its first environment's
    bootstrap objects, the roots of that environment's graph."""
    recorded = recorded_answers(root)
    git(root, "init", "--quiet", "--initial-branch", recorded["orchestration_branch"])
    commit_all(root, "generated")
    serve_orchestration(server, root, recorded)
    return bootstrap(root, recorded["cluster_controller"], environment_names(recorded["environments"])[0])


@pytest.fixture(scope="session")
def app_repo(rendered, tmp_path_factory):
    """app_repo(answer set) -> (a git repository of that app, its commit), made once per session;
    a version-like git_revision is tagged, and so is a reviewed platform."""
    repos: dict[str, tuple[Path, str]] = {}

    def _app_repo(name: str) -> tuple[Path, str]:
        if name not in repos:
            repo = rendered(answers_for(name), tmp_path_factory.mktemp("app-repo") / "app")
            git(repo, "init", "--quiet", "--initial-branch", "main")
            commit = commit_all(repo, "generated")
            answers = recorded_answers(repo)
            if revision_is_tag(answers["git_revision"]):
                git(repo, "tag", answers["git_revision"])
            if derive(answers)["platform_needs_review"]:
                # A person reviewed the platform: Flux deploys it from this tag (the app README's step),
                # or, in a fleet, from the environment's (where the environment follows a branch).
                for tag in [PLATFORM_REVIEW_TAG] + [platform_review_tag(e) for e in REVIEWED_ENVIRONMENTS]:
                    git(repo, "tag", tag)
            repos[name] = (repo, commit)
        return repos[name]

    return _app_repo


@pytest.fixture(scope="session")
def fleet(app_repo, rendered, tmp_path_factory):
    """fleet(name) -> the Fleet of FLEETS[name], made once per session; `.walk()` walks it."""
    from support.orchestration import GitServer

    fleets: dict[str, Fleet] = {}

    def _fleet(name: str) -> Fleet:
        if name in fleets:
            return fleets[name]
        base = tmp_path_factory.mktemp(f"fleet-{name}")
        server = GitServer(base)
        root = rendered(load_answers(f"orchestration/{name}"), base / "orchestration")
        answers = recorded_answers(root)
        apps = {}
        for app_answers in {**FLEETS, **PRODUCTION_FLEETS}[name]:
            repo, commit = app_repo(app_answers)
            recorded = recorded_answers(repo)
            app_name, repo_url = recorded["app_name"], recorded["repo_url"]
            server.serve(repo, repo_url, flux_repo_url(repo_url))
            # Flux registers the inventory at its commit: the registry takes every revision form.
            revision = commit if name == "fluxcd" and app_name == "inventory" else recorded["git_revision"]
            options = ["--repo-url", repo_url, "--git-revision", revision, "--namespace", recorded["namespace"]]
            if recorded.get("git_secret_name"):
                options += ["--git-secret-name", recorded["git_secret_name"]]
            result = registry_script(root, "register", app_name, *options)
            assert result.returncode == 0, result.stderr
            apps[app_name] = repo
        git(root, "init", "--quiet", "--initial-branch", answers["orchestration_branch"])
        commit = commit_all(root, "the orchestration, its apps registered")
        settings = json.loads((root / "registry/orchestration.json").read_text())
        # Each later environment's infrastructure runs that commit, as README.md's bootstrap says.
        for environment in settings["environments"][1:]:
            result = registry_script(root, "promote-infrastructure", "--to", environment, "--git-revision", commit)
            assert result.returncode == 0, result.stderr
        commit_all(root, "the infrastructure promoted")
        serve_orchestration(server, root, answers)
        fleets[name] = Fleet(name, root, answers, settings, apps, server, base)
        return fleets[name]

    return _fleet


@pytest.fixture(scope="session")
def graph(fleet):
    """graph(fleet name) -> its graph (support/orchestration.py), walked once per session."""
    graphs = {}

    def _graph(name: str):
        if name not in graphs:
            graphs[name] = fleet(name).walk()
        return graphs[name]

    return _graph
