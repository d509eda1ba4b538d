"""values.yaml documented key by key: a `# -- ` line above each key, continued by `#   ` lines
(helm-docs' form), which the chart READMEs' tables must repeat."""

from __future__ import annotations

import re

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_-]+):")
DOC_LINE = re.compile(r"^ *# -- (?P<text>.+)$")
# A description too long for one line goes on, indented, on the comment lines below it.
MORE_LINE = re.compile(r"^ *#   (?P<text>\S.*)$")


def documented_keys(values_yaml: str) -> list[tuple[str, str]]:
    """(dotted key, its description) for every key of values.yaml, '' where it has none."""
    keys: list[tuple[str, str]] = []
    path: list[str] = []
    doc = ""
    for line in values_yaml.splitlines():
        if match := DOC_LINE.match(line):
            doc = match["text"]
            continue
        if doc and (match := MORE_LINE.match(line)):
            doc = f"{doc} {match['text']}"
            continue
        if match := KEY_LINE.match(line):
            path[len(match["indent"]) // 2:] = [match["key"]]
            keys.append((".".join(path), doc))
        doc = ""
    return keys
