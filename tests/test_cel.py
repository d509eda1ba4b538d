"""The CEL rule walker (support/cel.py): each rule at its node, as the API server applies it on create,
and a census of the mirror's rules: how many are evaluated, how many skipped and why."""

from __future__ import annotations

import json
from collections import Counter

import cel as evaluator
import pytest
from cel import stdlib

from support.cel import MISSING_FUNCTIONS, escape, rule_errors, rules, skip_reason


def rule(expression: str, message: str = "", **extra) -> dict:
    return {"rule": expression, **({"message": message} if message else {}), **extra}


def node(*rules_: dict, **schema) -> dict:
    return {"x-kubernetes-validations": list(rules_), **schema}


ROUTE = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "paths": {
                    "type": "array",
                    "items": node(rule("self.startsWith('/')", "must start with /"), type="string"),
                    **node(rule("self.size() <= 2", "at most two paths")),
                },
                "weights": {
                    "type": "object",
                    "additionalProperties": node(rule("self > 0", "weights are positive"), type="integer"),
                },
                "min": {"type": "integer"},
                "max": {"type": "integer"},
            },
            **node(rule("!has(self.min) || !has(self.max) || self.min <= self.max", "min exceeds max")),
        },
    },
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"spec": {"paths": ["/a", "/b"], "weights": {"a": 1}, "min": 1, "max": 2}}, [], id="valid"),
        pytest.param({"spec": {"min": 3, "max": 2}}, [(("spec",), "min exceeds max")], id="object"),
        pytest.param({"spec": {"paths": ["/a", "b"]}}, [(("spec", "paths", "1"), "must start with /")],
                     id="each-item"),
        pytest.param({"spec": {"paths": ["/a", "/b", "/c"]}}, [(("spec", "paths"), "at most two paths")],
                     id="the-array"),
        pytest.param({"spec": {"weights": {"a": 1, "b": 0}}}, [(("spec", "weights", "b"), "weights are positive")],
                     id="each-map-value"),
        pytest.param({"spec": {"paths": None}}, [], id="null-is-not-checked"),
        pytest.param({}, [], id="absent-is-not-checked"),
    ],
)
def test_each_rule_applies_at_its_node(value, expected):
    assert rule_errors(value, ROUTE) == expected


def test_escaped_property_names():
    schema = node(rule("self.__namespace__ == 'a' && self.max__dash__surge == 1 && self.a__underscores__b == 2"),
                  properties={"namespace": {}, "max-surge": {}, "a__b": {}})
    assert rule_errors({"namespace": "a", "max-surge": 1, "a__b": 2}, schema) == []
    assert escape("a.b/c") == "a__dot__b__slash__c"
    # A map's keys are data, not property names: never escaped.
    labels = node(rule("'app-name' in self"), additionalProperties={"type": "string"})
    assert rule_errors({"app-name": "x"}, labels) == []


def test_messages_as_the_api_server_words_them():
    schema = {"properties": {
        "a": node(rule("self > 1", messageExpression="'a is ' + string(self)", message="unused")),
        "b": node(rule("self > 1", messageExpression="self.nope", message="b too small")),
        "c": node(rule("self > 1")),
        "d": node(rule("!has(self.x)", "no x", fieldPath=".x")),
        "e": node(rule("self.x == 1", "unused")),
    }}
    errors = rule_errors({"a": 1, "b": 1, "c": 1, "d": {"x": 1}, "e": {}}, schema)
    assert errors == [
        (("a",), "a is 1"),  # messageExpression first
        (("b",), "b too small"),  # then message, when the expression fails
        (("c",), "failed rule: self > 1"),
        (("d", "x"), "no x"),  # fieldPath below the node
        (("e",), "'x' evaluating rule: unused"),  # a rule that cannot be evaluated fails
    ]


def test_the_resource_root_sees_only_name_and_generate_name_of_metadata():
    schema = node(rule("!has(self.metadata.labels) && self.metadata.name == 'a'"))
    assert rule_errors({"metadata": {"name": "a", "labels": {"x": "y"}}}, schema) == []


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("self == oldSelf", "transition rule (oldSelf)"),
        ("self.all(h, !isIP(h))", "calls isIP"),
        ("self.?a.orValue(1) == 1", "common-expression-language cannot parse it"),
        ("self.message == 'oldSelf'", None),  # a word in a string is not a call or a variable
        ("self.size() > 0", None),
    ],
)
def test_skip_reasons(expression, reason):
    found = skip_reason(expression)
    assert (found is None) if reason is None else found.startswith(reason)
    if reason:  # never evaluated, so never an error (each would be one here)
        assert rule_errors(["10.0.0.1"], node(rule(expression))) == []


# One call of each function the evaluator lacks, as a rule would make it.
CALLS = {
    "url": "url('https://a.example/x')", "isURL": "isURL('https://a.example')", "quantity": "quantity('1Gi')",
    "isQuantity": "isQuantity('1Gi')", "ip": "ip('10.0.0.1')", "isIP": "isIP('10.0.0.1')",
    "cidr": "cidr('10.0.0.0/8')", "isCIDR": "isCIDR('10.0.0.0/8')", "semver": "semver('1.0.0')",
    "isSemver": "isSemver('1.0.0')", "isSorted": "[1, 2].isSorted()", "find": "'abc'.find('b')",
    "findAll": "'abc'.findAll('b')", "format": "'%s'.format(['a'])",
}


@pytest.mark.parametrize("function", sorted(MISSING_FUNCTIONS))
def test_the_evaluator_still_lacks_each_skipped_function(function):
    """Once common-expression-language implements one, its rules are to be evaluated: drop it from the list."""
    context = evaluator.Context()
    stdlib.add_stdlib_to_context(context)
    with pytest.raises(RuntimeError, match=f"Undefined variable or function: '{function}'"):
        evaluator.evaluate(CALLS[function], context)


def test_census_of_the_mirror(crd_schemas, record_property):
    """How many of the mirror's rules the suite evaluates, and why it skips the others."""
    census = Counter()
    for schema_file in sorted(crd_schemas.glob("*/*.json")):
        for _, found in rules(json.loads(schema_file.read_text())):
            census[(skip_reason(found["rule"]) or "evaluated").split(":")[0]] += 1
    for reason, count in census.items():
        record_property(reason, count)
    print(f"\nCEL rules in {crd_schemas}: {sum(census.values())}; {dict(census)}")
    assert census["evaluated"] > 0.9 * sum(census.values())
    # Every rule skipped for a reason other than oldSelf hides a check the API server makes: keep them few.
    assert sum(count for reason, count in census.items() if reason not in ("evaluated", "transition rule (oldSelf)")) <= 2
