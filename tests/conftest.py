"""Fixtures shared by the suite: an isolated environment, the template, generated apps.

Every test runs with its own git identity and Copier settings, never the machine's, and
with the project's provisioned tools (scripts/get_tools.py) first on PATH.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
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
TEMPLATE_PARTS = ("copier.yml", "extensions", "migrations", "template")


def _load_naming():
    spec = importlib.util.spec_from_file_location("naming", ROOT / "extensions" / "naming.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# extensions/naming.py, the single source of every derived name, for tests to compare against.
naming = _load_naming()


def load_answers(name: str) -> dict:
    return yaml.safe_load((ANSWERS_DIR / f"{name}.yml").read_text())


ANSWER_SETS = sorted(p.stem for p in ANSWERS_DIR.glob("*.yml"))
# Every controller choice with the platform all off and all on, for the gitops checks.
COMBINATIONS = {
    f"{controller}-platform-{'on' if on else 'off'}": {
        "app_name": "combo",
        "gitops_controller": controller,
        **{feature: on for feature in naming.PLATFORM_FEATURES},
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
    """The template as it is in the working tree, uncommitted changes included."""
    dst.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst / part)
    return dst


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """A plain (non-git) copy of the template: copies from it skip Copier's git clone."""
    return copy_template(tmp_path_factory.mktemp("template"))


def copy_app(template: Path, dst: Path, answers: dict) -> Path:
    run_copy(str(template), dst, data=answers, defaults=True, unsafe=True, quiet=True)
    return dst


@pytest.fixture
def generate(template_dir, tmp_path):
    """generate(**answers) -> Path of a freshly generated app (app_name defaults to demo)."""
    count = 0

    def _generate(**answers) -> Path:
        nonlocal count
        count += 1
        return copy_app(template_dir, tmp_path / f"app{count}", {"app_name": "demo", **answers})

    return _generate


@pytest.fixture(scope="session")
def app(template_dir, tmp_path_factory):
    """app(name) -> the app generated from tests/answers/<name>.yml (or a COMBINATIONS entry),
    made once per session."""
    apps: dict[str, Path] = {}

    def _app(name: str) -> Path:
        if name not in apps:
            apps[name] = copy_app(template_dir, tmp_path_factory.mktemp(name) / "app", answers_for(name))
        return apps[name]

    return _app


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
