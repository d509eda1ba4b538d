"""Renovate keeps the template's pins current, and a repository whose own Renovate ran ahead of the
template still updates without a conflict.

Renovate runs for real, offline (support/renovate.py): what it extracts is what it would bump.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from copier import run_copy, run_update

from conftest import ROOT, git, load_answers
from support.renovate import extract

CATALOGUE = ROOT / "extensions/gitops_template/catalogue.json"
# The forms a pin takes in the template's files; each such pin must be one Renovate extracts.
PIN_FORMS = {
    # An action pinned by commit names its version in a comment, which Renovate reads as its version.
    "workflow actions": (r"\.github.*/workflows/", re.compile(r"uses: (?P<name>[^@\s]+)@(?:[0-9a-f]{40}\s+#\s*)?"
                                                              r"(?P<version>\S+)")),
    "base images": (r"Dockerfile", re.compile(r"^FROM (?P<name>[^:\s]+):(?P<version>\S+)", re.MULTILINE)),
    "literal images": (r"\.ya?ml(\.jinja)?$", re.compile(r"(?:image: |--image=)(?P<name>[a-z0-9][-a-z0-9./]*[a-z0-9])"
                                                        r":(?P<version>[A-Za-z0-9][-A-Za-z0-9._]*)")),
    "release downloads": (r"", re.compile(r"https://github\.com/(?P<name>[^/\s]+/[^/\s]+)/releases/download/"
                                          r"(?P<version>v[^/\s]+)/")),
    "raw manifests": (r"", re.compile(r"https://raw\.githubusercontent\.com/(?P<name>[^/\s]+/[^/\s]+)/"
                                      r"(?P<version>v[0-9][^/\s]*)/")),
    "Helm in CI": (r"workflows/", re.compile(r"azure/setup-helm@\S+\s+with:\s+version: (?P<version>\S+)")),
    "kubectl in CI": (r"workflows/", re.compile(r"azure/setup-kubectl@[^\n]*\n\s+with:\s+"
                                                r"version: (?P<version>\S+)")),
    "Python in CI": (r"workflows/", re.compile(r"actions/setup-python@[^\n]*\n\s+with:\s+"
                                               r"python-version: \"?(?P<version>[^\"\s]+)")),
    "Flux distribution": (r"flux", re.compile(r"distribution:\s+version: \"(?P<version>[^\"]+)\"")),
    "Python packages": (r"^(pyproject\.toml|constraints\.txt)$", re.compile(r"(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s\"]+)")),
}
NAMES = {"Helm in CI": "helm", "kubectl in CI": "kubectl", "Python in CI": "python",
         "Flux distribution": "fluxcd/flux2"}
# Where the template's pins are: what it generates, its logic, its own CI and Python packages.
TEMPLATE_FILES = ("template/", "orchestration/", "extensions/", ".github/", "pyproject.toml", "constraints.txt")


def tracked_copy(dst: Path) -> Path:
    """This repository's files as git sees them (uncommitted changes included), committed in a new repository."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name, follow_symlinks=False)
    git(dst, "init", "--quiet")
    git(dst, "add", "--all")
    git(dst, "commit", "--quiet", "--message", "the template")
    return dst


def written_pins(repo: Path) -> set[tuple[str, str, str]]:
    """(file, name, version) of every pin the template writes, found by its form."""
    catalogue = str(CATALOGUE.relative_to(ROOT))
    pins = set()
    for component in json.loads(CATALOGUE.read_text())["components"]:
        pins.add((catalogue, component["repo"].removeprefix("oci://") if component["repo"].startswith("oci://")
                  else component["chart"], component["version"]))
        if "ceph_image" in component:
            pins.add((catalogue, *component["ceph_image"].split(":")))
    for pin in json.loads(CATALOGUE.read_text())["bootstrap"].values():
        pins.add((catalogue, pin.get("release") or pin["chart"].removeprefix("oci://"), pin["version"]))
    for path in repo.rglob("*"):
        relative = str(path.relative_to(repo))
        if not relative.startswith(TEMPLATE_FILES) or not path.is_file() or path.is_symlink():
            continue
        pins |= {(relative, name, version) for name, version in pins_in(relative, path.read_text(errors="ignore"))}
    return pins


def pins_in(relative: str, text: str) -> set[tuple[str, str]]:
    """(name, version) of each pin of a known form in the file at `relative` holding `text`."""
    return {(match.groupdict().get("name") or NAMES[form], match["version"])
            for form, (where, pattern) in PIN_FORMS.items() if re.search(where, relative)
            for match in pattern.finditer(text)}


def test_renovate_extracts_every_pin_the_template_writes(tmp_path):
    repo = tracked_copy(tmp_path / "template")
    # Each pin in the file that writes it: the same pin elsewhere does not stand in for it.
    extracted = {(dep.package_file, dep.name.lower(), dep.version.removeprefix("==")) for dep in extract(repo, tmp_path)}
    pins = {(path, name.lower(), version) for path, name, version in written_pins(repo)}
    assert len(pins) >= 40
    assert pins - extracted == set()


def fleet_from(template: Path, dst: Path) -> Path:
    run_copy(str(template), dst, data=load_answers("orchestration/fluxcd"), vcs_ref="v1", defaults=True,
             unsafe=True, quiet=True)
    git(dst, "init", "--quiet")
    git(dst, "add", "--all")
    git(dst, "commit", "--quiet", "--message", "generated")
    return dst


def bump_catalogue(template: Path, chart: str, version: str) -> None:
    catalogue = template / "extensions/gitops_template/catalogue.json"
    data = json.loads(catalogue.read_text())
    [component] = [c for c in data["components"] if c["chart"] == chart]
    catalogue.write_text(catalogue.read_text().replace(f'"version": "{component["version"]}"',
                                                       f'"version": "{version}"', 1))


@pytest.fixture(scope="session")
def fleet_dependencies(fleet, tmp_path_factory):
    """fleet_dependencies(name) -> what Renovate extracts from that test fleet, run once per session."""
    extracted = {}

    def _extracted(name: str) -> list:
        if name not in extracted:
            extracted[name] = extract(fleet(name).root, tmp_path_factory.mktemp(f"renovate-{name}"))
        return extracted[name]

    return _extracted


@pytest.mark.parametrize(("fleet_version", "template_version"), [
    pytest.param("v1.21.2", "v1.21.2", id="same-bump"),
    pytest.param("v1.21.2", "v1.22.0", id="template-newer"),
    pytest.param("v1.22.0", "v1.21.2", id="fleet-newer"),
])
def test_a_fleet_whose_renovate_bumped_a_pin_updates_without_conflict(template_repo, fleet_dependencies, tmp_path,
                                                                       fleet_version, template_version):
    fleet = fleet_from(template_repo, tmp_path / "fleet")
    components = fleet / "infrastructure/components.yaml"
    # A Flux fleet's Renovate reads cert-manager's pin there, and bumps it in place.
    [pin] = [dep for dep in fleet_dependencies("fluxcd") if dep.name == "cert-manager"]
    assert (pin.package_file, pin.version) == ("infrastructure/components.yaml", "v1.21.1")
    components.write_text(components.read_text().replace('"v1.21.1"', f'"{fleet_version}"'))
    git(fleet, "commit", "--quiet", "--all", "--message", "chore(deps): update cert-manager")
    bump_catalogue(template_repo, "cert-manager", template_version)
    git(template_repo, "commit", "--quiet", "--all", "--message", "template v2")
    git(template_repo, "tag", "v2")

    run_update(fleet, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="v2")

    text = components.read_text()
    assert "<<<<<<<" not in text and ">>>>>>>" not in text
    newer = max(fleet_version, template_version, key=lambda v: tuple(map(int, v[1:].split("."))))
    assert f'"{newer}"' in text and '"v1.21.1"' not in text
    assert git(fleet, "diff", "--name-only", "--diff-filter=U") == ""


@pytest.mark.parametrize("name", ["argocd", "fluxcd"])
def test_renovate_extracts_every_pin_a_fleet_holds(fleet, fleet_dependencies, name):
    """Every chart of the infrastructure, what the bootstrap installs, the Ceph image, the Python
    packages `make prove` installs and what its CI sets up: what the fleet's own Renovate bumps
    between template releases."""
    root = fleet(name).root
    extracted = {(dep.name, dep.version) for dep in fleet_dependencies(name)}
    catalogue = json.loads(CATALOGUE.read_text())
    expected = {(c["chart"] if not c["repo"].startswith("oci://") else c["repo"].removeprefix("oci://"), c["version"])
                for c in catalogue["components"]}
    expected.add(tuple(next(c["ceph_image"] for c in catalogue["components"] if "ceph_image" in c).split(":")))
    bootstrap = catalogue["bootstrap"]
    if name == "argocd":
        expected.add((bootstrap["argo-cd"]["release"], bootstrap["argo-cd"]["version"]))
    else:
        expected |= {(bootstrap["flux"]["release"], bootstrap["flux"]["version"]),
                     (bootstrap["flux-operator"]["chart"].removeprefix("oci://"), bootstrap["flux-operator"]["version"])}
    # Renovate gives a Python package's version as the requirement says it, ==X.Y.Z.
    expected |= {(line.partition("==")[0], line[line.index("=="):])
                 for line in (root / "scripts/requirements.txt").read_text().splitlines()
                 if line and not line.startswith("#")}
    workflows = sorted((root / ".github/workflows").glob("*.yaml"))
    assert workflows
    for workflow in workflows:
        expected |= pins_in(str(workflow.relative_to(root)), workflow.read_text())
    assert expected - extracted == set()
