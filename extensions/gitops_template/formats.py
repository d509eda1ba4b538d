"""Writers for answers that end up in generated files: YAML scalars and blocks that Go and
Python read alike, Markdown that renders as the text given, shell words.
"""

from __future__ import annotations

import re
import shlex

# Characters a YAML double-quoted scalar may carry as they are: printable, and not read as a
# line break (NEL, LINE/PARAGRAPH SEPARATOR fold in YAML 1.1) or a byte order mark.
_YAML_LITERAL = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def yaml_string(value: object) -> str:
    """`value` as a YAML double-quoted scalar that Go's go-yaml (Helm, Argo CD, Flux) and
    PyYAML both read back as exactly the same string.

    Plain scalars are not: `on`, `y`, `12`, `1e3`, `null` read as booleans, numbers or null,
    and not all alike in YAML 1.1, 1.2 and Go. `tojson` is not either: it escapes characters
    outside the Basic Multilingual Plane as surrogate pairs, which Go rejects. Here anything
    not safe as is becomes a \\u or \\U escape of its whole code point, which both accept.
    """
    text = str(value)
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif _YAML_LITERAL.fullmatch(char):
            out.append(char)
        elif "\ud800" <= char <= "\udfff":
            raise ValueError(f"{text!r}: a lone surrogate has no form in YAML")
        elif char <= "\uffff":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'
# Characters that start emphasis, code, links, HTML, entities or table cells anywhere in Markdown.
_MARKDOWN_ACTIVE = re.compile(r"[\\`*_\[\]<>|~&]")
# An ordered list marker (1. or 1)) at the start of a line.
_MARKDOWN_LIST_NUMBER = re.compile(r"[0-9]{1,9}(?=[.)])")


def markdown_text(value: object) -> str:
    """`value` as Markdown (CommonMark, GitHub) that renders as exactly that text, in a paragraph
    or a table cell: a backslash before anything that would start markup."""
    text = _MARKDOWN_ACTIVE.sub(lambda match: "\\" + match[0], str(value))
    if number := _MARKDOWN_LIST_NUMBER.match(text):
        return f"{number[0]}\\{text[number.end():]}"
    # Headings, lists and setext underlines.
    return "\\" + text if text.startswith(("#", "+", "-", "=")) else text


def shell_word(value: object) -> str:
    """`value` as one shell word, quoted only if it needs to be, for commands a README gives."""
    return shlex.quote(str(value))


def markdown_code(value: object) -> str:
    """`value` as a Markdown code span, fenced by more backticks than it holds in a row."""
    text = str(value)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# Keys YAML 1.1 (PyYAML, Go) reads as booleans or null.
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _yaml_key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS else yaml_string(key)


def yaml_block(value: object, indent: int) -> str:
    """`value` (dicts, lists, strings, numbers, booleans) as block YAML indented by `indent`
    spaces, every string double-quoted (yaml_string), for values written into manifests."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}"
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_yaml_key(key)}:\n{yaml_block(item, indent + 2)}")
            else:
                lines.append(f"{pad}{_yaml_key(key)}: {yaml_block(item, 0)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]"
        return "\n".join(f"{pad}- {yaml_block(item, indent + 2).lstrip()}" for item in value)
    if isinstance(value, bool):
        return pad + ("true" if value else "false")
    if isinstance(value, int):
        return pad + str(value)
    if value is None:
        return pad + "null"
    return pad + yaml_string(value)
