#!/usr/bin/env python3
"""Print a release's section of CHANGELOG.md: the notes of its GitHub release.

    python scripts/release_notes.py v1.1.0

A fork's tag v1.1.0+acme.1 (README.md, "Fork for your organisation") prints 1.1.0's section.
Fails, naming the version, when CHANGELOG.md has no `## [X.Y.Z]` heading for it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
# A release heading, `## [1.1.0] - 2026-11-26` (Keep a Changelog).
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\].*$", re.MULTILINE)


def releases(changelog: str) -> dict[str, str]:
    """Each release's notes, by version, newest first as CHANGELOG.md lists them."""
    headings = list(RELEASE.finditer(changelog))
    ends = [heading.start() for heading in headings[1:]] + [len(changelog)]
    return {heading[1]: changelog[heading.end():end].strip() for heading, end in zip(headings, ends)}


def notes(changelog: str, tag: str) -> str:
    version = tag.removeprefix("v").partition("+")[0]
    found = releases(changelog)
    if version not in found:
        raise SystemExit(f"CHANGELOG.md has no section `## [{version}]` for the tag {tag}")
    return found[version]


if __name__ == "__main__":
    print(notes(CHANGELOG.read_text(), sys.argv[1]))
