"""yamllint, run as a generated repository's own CI runs it: with that repository's config."""

from __future__ import annotations

from pathlib import Path

from yamllint import linter
from yamllint.config import YamlLintConfig


def yamllint(root: Path) -> tuple[list[str], int]:
    """(every problem in the repository's YAML files, how many files were checked)."""
    config = YamlLintConfig(file=str(root / ".yamllint.yaml"))
    problems, checked = [], 0
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.suffix not in (".yaml", ".yml") or config.is_file_ignored(relative):
            continue
        problems += [f"{relative}:{p.line}:{p.column} {p.message} ({p.rule})"
                     for p in linter.run(path.read_text(), config, relative)]
        checked += 1
    return problems, checked
