#!/usr/bin/env python3
"""Render every named answer set (tests/answers/) with a committed version of the template and
with the working tree, and compare the results byte for byte: the proof that a refactor changed
no generated file.

    python scripts/compare_renders.py [REV]        REV defaults to HEAD

Prints one line per answer set, and the files that differ; exits 1 if any does.
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import yaml
from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ANSWERS_DIR, TEMPLATE_PARTS, copy_template  # noqa: E402

ANSWERS_FILE = ".copier-answers.yml"


def export(rev: str, dst: Path) -> Path:
    """The template's parts at `rev`, as plain files (a symlink in the tree is followed, as Copier does)."""
    archive = subprocess.run(["git", "archive", rev, *TEMPLATE_PARTS], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dst, filter="tar")
    return dst


def same_answers(left: Path, right: Path) -> bool:
    """Answers files name the template's path (_src_path), which is not the same folder here."""
    def answers(path: Path) -> list[str]:
        return [line for line in path.read_text().splitlines() if not line.startswith("_src_path:")]
    return answers(left) == answers(right)


def differences(left: Path, right: Path, below: str = "") -> list[str]:
    compared = filecmp.dircmp(left, right, ignore=[".git"])
    found = [f"{below}{name}: only in {rev}" for names, rev in ((compared.left_only, "before"),
                                                                 (compared.right_only, "after")) for name in names]
    found += [f"{below}{name}: differs" for name in compared.diff_files + compared.funny_files
              if not (name == ANSWERS_FILE and same_answers(left / name, right / name))]
    for name in compared.common_dirs:
        found += differences(left / name, right / name, f"{below}{name}/")
    return found


def main() -> int:
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    answer_sets = sorted(ANSWERS_DIR.rglob("*.yml"))
    failed = False
    with tempfile.TemporaryDirectory(prefix="compare-renders-") as tmp:
        scratch = Path(tmp)
        templates = {"before": export(rev, scratch / "before"), "after": copy_template(scratch / "after")}
        for path in answer_sets:
            name = str(path.relative_to(ANSWERS_DIR).with_suffix(""))
            data = yaml.safe_load(path.read_text())
            for side, template in templates.items():
                run_copy(str(template), str(scratch / f"{side}-out" / name), data=data, defaults=True, unsafe=True,
                         quiet=True)
            found = differences(scratch / "before-out" / name, scratch / "after-out" / name)
            failed |= bool(found)
            print(f"{name}: {'identical' if not found else f'{len(found)} difference(s)'}")
            for line in found:
                print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
