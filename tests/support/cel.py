"""The CEL rules of CRD schemas (`x-kubernetes-validations`), evaluated as the API server does on create.

JSON-schema validation ignores these rules, so without them the suite would pass objects the API
server refuses. Each fact modelled here is the API server's, read in kubernetes/kubernetes
(commit 9d2a8fb7c431f0cf55f9671ca9502e5b1fc151ff),
staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go:
- a rule applies at its schema node, `self` bound to each value present there and not null: the
  object, each item of an array (`items`), each value of a map (`additionalProperties`);
- a rule that is not true fails with its `messageExpression`'s value, else its `message`, else
  "failed rule: <rule>", at its node's path followed by its `fieldPath`; one that cannot be
  evaluated fails with "<error> evaluating rule: <message, else rule>";
- a rule reading `oldSelf` (a transition rule) runs on update only: on create, which is what the
  suite validates, it is skipped;
- at the resource root, `metadata` holds only `name` and `generateName`.
The evaluator is common-expression-language (cel-go's standard library and string extensions);
rules calling one of Kubernetes's own CEL functions it lacks (MISSING_FUNCTIONS), or using syntax
it cannot parse, are skipped and counted by `skip_reason`.
Not modelled: the API server hands a string of `format: duration`, `date-time` or `byte` to CEL as
a duration, timestamp or bytes; here it stays a string, which no rule of the mirror notices (those
fields' rules only ask `has()`). Nor the API server's cost budget per rule and per object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import cel
from cel import stdlib

# Kubernetes's CEL libraries (staging/src/k8s.io/apiserver/pkg/cel/library: urls.go, quantity.go,
# ip.go, cidr.go, semverlib.go, lists.go, regex.go; format from cel-go's ext/strings.go) that
# common-expression-language does not implement: a rule calling one cannot be evaluated here.
MISSING_FUNCTIONS = frozenset({
    "url", "isURL", "quantity", "isQuantity", "ip", "isIP", "cidr", "isCIDR",
    "semver", "isSemver", "isSorted", "find", "findAll", "format",
})

# A property is reached under an escaped name (staging/src/k8s.io/apiserver/pkg/cel/escaping.go):
# CEL's reserved words as `__<word>__`, and `__`, `.`, `-`, `/` spelled out.
RESERVED = frozenset({
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function",
    "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
})
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_ESCAPED = re.compile(r"__|[-./]")
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")

# What common-expression-language raises for a rule it cannot evaluate (a missing key, an index out
# of range, a type mismatch, a bad regex, an overflow...): the API server's "error evaluating rule".
EVALUATION_ERRORS = (LookupError, ArithmeticError, TypeError, ValueError, RuntimeError)

_CONTEXT = cel.Context()
stdlib.add_stdlib_to_context(_CONTEXT)


def escape(name: str) -> str:
    if name in RESERVED:
        return f"__{name}__"
    return _ESCAPED.sub(lambda match: _ESCAPES[match.group()], name)


def rules(schema: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every rule of `schema`, with the schema path of the node it applies at."""
    for rule in schema.get("x-kubernetes-validations") or []:
        yield path, rule
    children = list((schema.get("properties") or {}).items())
    children += [(key, schema.get(key)) for key in ("items", "additionalProperties")]
    for name, sub in children:
        if isinstance(sub, dict):  # a few schemas hold `false` where a schema belongs
            yield from rules(sub, (*path, name))


@lru_cache(maxsize=None)
def _compiled(expression: str):
    return cel.compile(expression)


@lru_cache(maxsize=None)
def skip_reason(expression: str) -> str | None:
    """Why a rule cannot be evaluated on create here; None when it can."""
    code = _STRING_LITERAL.sub("''", expression)
    if re.search(r"\boldSelf\b", code):
        return "transition rule (oldSelf): the API server runs it on update only"
    missing = sorted(set(_CALL.findall(code)) & MISSING_FUNCTIONS)
    if missing:
        return f"calls {', '.join(missing)}: Kubernetes CEL functions common-expression-language lacks"
    try:
        _compiled(expression)
    except ValueError as exc:
        return f"common-expression-language cannot parse it: {str(exc).splitlines()[0]}"
    return None


def _evaluate(expression: str, value):
    _CONTEXT.add_variable("self", value)
    return _compiled(expression).execute(_CONTEXT)


def _as_cel(value, schema: dict):
    """`value` as the rules see it: declared properties under their escaped names."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        if properties:
            return {escape(key): _as_cel(item, properties.get(key, {})) for key, item in value.items()}
        values = schema.get("additionalProperties")
        return {key: _as_cel(item, values if isinstance(values, dict) else {}) for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [_as_cel(item, items if isinstance(items, dict) else {}) for item in value]
    return value


def _message(rule: dict, value) -> str:
    if "messageExpression" in rule:
        try:
            detail = _evaluate(rule["messageExpression"], value)
        except EVALUATION_ERRORS:  # the API server falls back to `message`
            detail = None
        if isinstance(detail, str) and detail.strip():
            return detail.strip()
    return rule.get("message", "").strip() or f"failed rule: {rule['rule'].strip()}"


def _node_errors(value, schema: dict, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    errors = []
    checked = [rule for rule in schema.get("x-kubernetes-validations") or [] if skip_reason(rule["rule"]) is None]
    if checked:
        self = _as_cel(value, schema)
        for rule in checked:
            try:
                passed = _evaluate(rule["rule"], self) is True
            except EVALUATION_ERRORS as exc:
                errors.append((path, f"{exc} evaluating rule: {rule.get('message') or rule['rule']}"))
                continue
            if not passed:
                # fieldPath as `.a.b`, the mirror's one form (JSONPath's ['a'] is not read).
                field = tuple(rule.get("fieldPath", "").split(".")[1:])
                errors.append(((*path, *field), _message(rule, self)))
    return errors


def rule_errors(value, schema: dict, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every (path, message) where a rule of `schema` fails on `value`, the stored object."""
    if value is None:
        return []
    if not path and isinstance(value, dict) and "metadata" in value:
        metadata = {key: value["metadata"][key] for key in ("name", "generateName") if key in value["metadata"]}
        value = {**value, "metadata": metadata}
    errors = _node_errors(value, schema, path)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        values = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) if properties else values
            if isinstance(sub, dict):
                errors += rule_errors(item, sub, (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += rule_errors(item, schema["items"], (*path, str(index)))
    return errors
