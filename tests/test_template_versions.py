"""extensions/gitops_template/template_versions.py: which template version an app is at, and
whether its fleet deploys it."""

from __future__ import annotations

import pytest

from gitops_template.template_versions import recorded_template_version, template_version_error, template_versions_table


@pytest.mark.parametrize(("text", "version"), [
    ("# Changes here will be overwritten by Copier\n_commit: v1.1.0\n_src_path: gh:acme/template\napp_name: shop\n",
     "v1.1.0"),
    ("_commit: 'v1.0.0-3-g1a2b3c4'\n", "v1.0.0-3-g1a2b3c4"),
    ("_src_path: /templates/gitops\napp_name: shop\n", ""),
])
def test_the_recorded_version_is_copiers_commit(text, version):
    assert recorded_template_version(text) == version


@pytest.mark.parametrize("version", ["v1.1.0", "1.1.0", "v1.1.0-3-g1a2b3c4", "v1.2.0", "v2.0.0"])
def test_an_argocd_fleet_deploys_apps_from_1_1_0(version):
    assert template_version_error("argocd", "shop", "staging", "main", version) == ""


@pytest.mark.parametrize("version", ["v1.0.0", "v1.0.9-4-gabcdef0", "0.9.0", "1a2b3c4", ""])
def test_an_argocd_fleet_refuses_an_older_or_unknown_version_and_says_how_to_update(version):
    error = template_version_error("argocd", "shop", "staging", "main", version)
    assert error.startswith("shop in staging: main has ")
    assert "an argocd fleet needs v1.1.0 or later" in error
    assert "copier update --trust --defaults --vcs-ref v1.1.0" in error


def test_a_flux_fleet_needs_no_version():
    assert template_version_error("fluxcd", "shop", "staging", "main", "v1.0.0") == ""


def test_the_table_shows_revision_and_template_per_environment():
    table = template_versions_table(["staging", "production"], {("shop", "staging"): ("main", "v1.1.0"),
                                                                ("shop", "production"): ("v1.0.0", ""),
                                                                ("ledger", "staging"): ("main", "v1.0.0")})
    assert table.splitlines() == [
        "| app | staging | production |",
        "| --- | --- | --- |",
        "| ledger | `main` (template `v1.0.0`) | - |",
        "| shop | `main` (template `v1.1.0`) | `v1.0.0` (template unknown) |",
    ]
