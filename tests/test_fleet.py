"""extensions/gitops_template: the orchestration's environments and settings (fleet.py), on its own, without Copier."""

from __future__ import annotations

import pytest

from gitops_template.fleet import environments_error


@pytest.mark.parametrize(("value", "error"), [
    ("staging,production", ""), ("production", ""), (" dev , prod ", ""),
    ("", "environments: required"), ("Prod", "environments: must be a DNS-1123 label"),
    ("a,,b", "environments: no empty name between commas"), ("a,b,a", "environments: each environment is named once; a is"),
    (3, "environments: required"),
])
def test_environments_error(value, error):
    assert environments_error(value).startswith(error) and bool(environments_error(value)) == bool(error)
