"""extensions/gitops_template: version pins (pins.py), on its own, without Copier."""

from __future__ import annotations

import pytest

from gitops_template.pins import newer_line, resolve_pin_conflicts


def conflict(ours: str, theirs: str) -> str:
    return f"<<<<<<< before updating\n{ours}=======\n{theirs}>>>>>>> after updating\n"


@pytest.mark.parametrize(("ours", "theirs", "newer"), [
    ('    version: "v1.21.2"', '    version: "v1.22.0"', "theirs"),
    ("    targetRevision: 0.30.0", "    targetRevision: 0.29.1", "ours"),
    ("FROM python:3.13.8-slim-bookworm AS build", "FROM python:3.13.7-slim-bookworm AS build", "ours"),
    ('    version: "2.8.x"', '    version: "2.8.3"', "ours"),
    ("  - https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/install.yaml",
     "  - https://raw.githubusercontent.com/argoproj/argo-cd/v3.10.0/manifests/install.yaml", "theirs"),
])
def test_the_newer_pin_wins(ours, theirs, newer):
    assert newer_line(ours, theirs) == (ours if newer == "ours" else theirs)


@pytest.mark.parametrize(("ours", "theirs"), [
    ('    version: "v1.21.2"', '    version: "v1.21.2"'),  # no difference: not a pin conflict
    ('    chart: cert-manager\n', '    chart: certificates\n'),
    ("  image: redis:7.2.1 # ours", "  image: redis:7.2.2 # theirs"),
    # Newer on one pin, older on the other: a person decides.
    ("a: 1.2.0 b: 2.0.0", "a: 1.3.0 b: 1.9.0"),
])
def test_anything_but_pins_is_no_pin_change(ours, theirs):
    assert newer_line(ours, theirs) is None


def test_pin_conflicts_resolve_and_others_stay():
    pins = conflict('    version: "v1.21.2"\n', '    version: "v1.22.0"\n')
    other = conflict("replicas: 2\n", "replicas: 3\n")
    text = f"a: 1\n{pins}b: 2\n{other}"
    resolved, count = resolve_pin_conflicts(text)
    assert count == 1
    assert resolved == f'a: 1\n    version: "v1.22.0"\nb: 2\n{other}'


def test_a_conflict_of_unequal_length_stays():
    text = conflict("version: 1.0.0\n", "version: 1.1.0\nextra: true\n")
    assert resolve_pin_conflicts(text) == (text, 0)
