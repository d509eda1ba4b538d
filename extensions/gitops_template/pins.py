"""Version pins in generated files, which the template and a repository's own Renovate both bump.

When both changed one pin, `copier update` leaves a conflict whose two sides differ only in
version numbers. Such a conflict has one right answer: the newer pin of each pair (the team's
Renovate ran ahead of the template, or the template's release is newer). Any other conflict is a
person's to resolve, and stays as Copier left it.
"""

from __future__ import annotations

import re

# Copier's inline conflicts (`git merge-file -L "before updating" -L "last update" -L "after updating"`).
_CONFLICT = re.compile(r"^<<<<<<< before updating\n(?P<ours>(?:.*\n)*?)=======\n(?P<theirs>(?:.*\n)*?)"
                       r">>>>>>> after updating\n", re.MULTILINE)
# A version as pins write it: v1.21.1, 0.29.0, 20.2.4, 2.8.x, 3.13.7-slim-bookworm (its numeric part).
_VERSION = re.compile(r"(?<![\w.])v?(?P<numbers>[0-9]+(?:\.(?:[0-9]+|x))+)")


def _key(numbers: str) -> tuple[int, ...]:
    # A wildcard (2.8.x) takes any patch, so it sorts above every patch of its minor.
    return tuple(1 << 30 if part == "x" else int(part) for part in numbers.split("."))


def newer_line(ours: str, theirs: str) -> str | None:
    """The line whose pins are newer, when the two lines differ in pins only; else None."""
    if _VERSION.sub("V", ours) != _VERSION.sub("V", theirs) or ours == theirs:
        return None
    pairs = list(zip(_VERSION.finditer(ours), _VERSION.finditer(theirs)))
    order = {(_key(a["numbers"]) > _key(b["numbers"])) - (_key(a["numbers"]) < _key(b["numbers"]))
             for a, b in pairs if a["numbers"] != b["numbers"]}
    if len(order) != 1:  # one pin newer on each side, or the same numbers with other text
        return None
    return ours if order == {1} else theirs


def resolve_pin_conflicts(text: str) -> tuple[str, int]:
    """`text` with every conflict made of pin changes alone resolved to the newer pins, and how many."""
    resolved = 0

    def resolve(conflict: re.Match) -> str:
        nonlocal resolved
        ours, theirs = conflict["ours"].splitlines(keepends=True), conflict["theirs"].splitlines(keepends=True)
        if len(ours) != len(theirs):
            return conflict[0]
        lines = [line if line == other else newer_line(line, other) for line, other in zip(ours, theirs)]
        if None in lines:
            return conflict[0]
        resolved += 1
        return "".join(lines)

    return _CONFLICT.sub(resolve, text), resolved
