"""scripts/release_notes.py, the notes of each GitHub release, and the version pyproject.toml declares."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "release_notes.py"
spec = importlib.util.spec_from_file_location("release_notes", SCRIPT)
release_notes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(release_notes)

CHANGELOG = """# Changelog

Intro, not a release.

## [Unreleased]

### Added
- Not released yet.

## [1.10.0] - 2026-12-01

### Added
- Ten.

## [1.2.0] - 2026-11-01

### Fixed
- Two.
"""


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("v1.10.0", "### Added\n- Ten."),
        ("v1.2.0", "### Fixed\n- Two."),  # the last section runs to the end
        ("v1.10.0+acme.1", "### Added\n- Ten."),  # a fork's release carries upstream's notes
    ],
)
def test_notes_are_the_tag_s_section(tag, expected):
    assert release_notes.notes(CHANGELOG, tag) == expected


def test_a_tag_without_a_section_fails_naming_it():
    with pytest.raises(SystemExit, match=r"no section `## \[1.3.0\]` for the tag v1.3.0"):
        release_notes.notes(CHANGELOG, "v1.3.0")


def test_the_script_prints_this_changelog_s_section():
    printed = subprocess.run([sys.executable, str(SCRIPT), "v1.0.0"], capture_output=True, text=True, check=True)
    text = (ROOT / "CHANGELOG.md").read_text()
    assert printed.stdout.strip() == text[text.index("## [1.0.0]"):].split("\n", 1)[1].strip()


def test_pyproject_version_is_the_newest_release():
    """README.md, "Release the template": a release bumps CHANGELOG.md and pyproject.toml together."""
    newest = next(iter(release_notes.releases((ROOT / "CHANGELOG.md").read_text())))
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == newest
