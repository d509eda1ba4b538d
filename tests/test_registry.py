"""extensions/gitops_template: the fleet's registry of apps (registry.py), on its own, without Copier."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gitops_template.registry import (
    REGISTRY_FIELDS,
    infrastructure_revision,
    override_errors,
    parse_registry_entry,
    promotion_error,
    registry_entry_text,
    registry_errors,
    reserved_app_names,
    with_infrastructure_revision,
)
from support.fleet_answers import entry, registry, settings_for


def test_reserved_app_names_are_the_orchestrations_own():
    # fleet-infrastructure: its AppProject would be the infrastructure's.
    assert reserved_app_names(settings_for()) == ["fleet", "fleet-apps", "fleet-infrastructure"]
    # Flux: fleet-infrastructure's own GitRepository would be the infrastructure's.
    assert reserved_app_names(settings_for(cluster_controller="fluxcd")) == ["fleet-infrastructure", "flux-system"]
    # An orchestration named like an app's Application: the app it would clash with is reserved.
    assert "shop" in reserved_app_names(settings_for(orchestration_name="shop-base"))


def test_a_valid_registry_has_no_errors():
    assert registry_errors(settings_for(), registry(entry("shop"), entry("billing", "finance"))) == []
    assert registry_errors(settings_for(cluster_controller="fluxcd"), registry(
        entry("ledger", repo_url="git@github.com:acme/ledger.git", git_secret_name="ledger-git"))) == []


@pytest.mark.parametrize(("controller", "entries", "error"), [
    ("argocd", {"shop.yaml": {**entry("shop"), "owner": "me"}}, "shop.yaml: unknown field owner"),
    ("argocd", {"shop.yaml": {"app_name": "shop"}}, "shop.yaml: repo_url: required"),
    ("argocd", {"shop.yaml": entry("shop", git_revision="a b")}, "shop.yaml: git_revision: must be"),
    ("argocd", {"shop.yaml": entry("shop", namespace="Shop")}, "shop.yaml: namespace: must be a DNS-1123 label"),
    ("argocd", {"store.yaml": entry("shop")}, "store.yaml: app_name: the file must be named after it, shop.yaml"),
    ("fluxcd", registry(entry("ledger", repo_url="git@github.com:acme/ledger.git")),
     "ledger.yaml: git_secret_name: required for an ssh repo_url"),
    ("argocd", registry(entry("fleet")), "fleet.yaml: AppProject argocd/fleet would be created by both the orchestration"),
    ("fluxcd", registry(entry("flux-system", "shop")), "flux-system.yaml: app_name: flux-system is Flux's own"),
    ("argocd", registry(entry("default", "shop")), "default.yaml: app_name: default is Argo CD's built-in AppProject"),
    ("argocd", registry(entry("shop", "kube-system")), "shop.yaml: namespace: kube-system is Kubernetes' own"),
    ("argocd", registry(entry("shop", "argocd")), "shop.yaml: namespace: argocd is Argo CD's"),
    ("fluxcd", registry(entry("shop", "flux-system")), "shop.yaml: namespace: flux-system is Flux's"),
    ("fluxcd", registry(entry("cart", "shop"), entry("shop")), "shop.yaml: namespace shop already holds app cart: "
                                                               "under Flux each app acts with every right in its namespace"),
    ("fluxcd", registry(entry("shop"), entry("shop-gitops")), "GitRepository flux-system/shop-gitops would be created"),
    ("argocd", registry(entry("shop"), entry("shop-db", "shop")), "shop-db.yaml: namespace shop already holds app shop"),
])
def test_registry_errors_name_the_file_field_and_rule(controller, entries, error):
    errors = registry_errors(settings_for(cluster_controller=controller), entries)
    assert any(error in e for e in errors), errors


def test_an_app_named_another_apps_gitops_is_fine_under_argocd():
    # Argo CD names the registered app's Application <app>-gitops; no app makes an Application so.
    assert registry_errors(settings_for(), registry(entry("shop"), entry("shop-gitops"))) == []


@given(st.dictionaries(st.sampled_from(REGISTRY_FIELDS), st.text(min_size=1).filter(
    lambda s: not any("\ud800" <= c <= "\udfff" for c in s)), min_size=1))
def test_registry_entry_reads_back_as_written(fields):
    fields.setdefault("app_name", "shop")
    text = registry_entry_text(fields)
    assert parse_registry_entry(text) == {k: v for k, v in fields.items() if v}
    assert yaml.safe_load(text) == {k: v for k, v in fields.items() if v}


@pytest.mark.parametrize("text", [
    "app_name: shop\n", "app_name: 'shop'\n", 'app_name: "shop" # mine\n', 'app_name: "shop"\napp_name: "x"\n',
    'labels:\n  team: "a"\n', 'app_name: "a\\x41"\n', '  app_name: "shop"\n',
])
def test_parse_registry_entry_refuses_anything_but_double_quoted_lines(text):
    with pytest.raises(ValueError, match="line [12]: "):
        parse_registry_entry(text)


@pytest.mark.parametrize(("text", "message"), [
    ('app_name: "shop" # mine\n', "line 1: a comment goes on a line of its own"),
    ('\ufeffapp_name: "shop"\n', "line 1: starts with a byte order mark"),
])
def test_parse_registry_entry_says_what_to_do(text, message):
    with pytest.raises(ValueError, match=message):
        parse_registry_entry(text)


@pytest.mark.parametrize(("names", "argocd_applicationset", "errors"), [
    (["shop-base.yaml", "shop-platform.yaml"], False, []),
    (["shop-db.yaml"], False, ["shop-db.yaml: overrides no chart"]),
    (["orders-base.yaml"], False, ["orders-base.yaml: overrides no chart"]),
    (["shop-base.yaml"], True, ["shop-base.yaml: value overrides need the App-of-Apps"]),
])
def test_override_errors(names, argocd_applicationset, errors):
    found = override_errors(settings_for(argocd_applicationset=argocd_applicationset), names, ["shop"])
    assert [error[:len(prefix)] for error, prefix in zip(found, errors)] == errors and len(found) == len(errors)


@pytest.mark.parametrize(("revision", "given", "error"), [
    ("v1.2.0", False, ""), ("0123456789abcdef0123456789abcdef01234567", False, ""), ("main", True, ""),
    ("main", False, "git_revision: staging follows the branch main, which moves"),
    ("refs/heads/main", False, "git_revision: staging follows the branch refs/heads/main"),
    ("a..b", True, "git_revision: must be"),
])
def test_promotion_error(revision, given, error):
    assert promotion_error(revision, "staging", given).startswith(error)
    assert bool(promotion_error(revision, "staging", given)) == bool(error)


def test_apps_share_a_namespace_only_under_argocd():
    shared = registry(entry("shop"), entry("cart", "shop"))
    assert registry_errors(settings_for(cluster_controller="argocd"), shared) == []
    assert registry_errors(settings_for(cluster_controller="fluxcd"), shared) != []


ARGOCD_INFRASTRUCTURE = """\
    targetRevision: "main" # infrastructure revision
          patch: |-
            - op: replace
              value: "main" # infrastructure revision
"""
FLUX_INFRASTRUCTURE = """\
  ref:
    branch: "main" # infrastructure revision
"""


def test_an_environment_s_infrastructure_revision_is_promoted_on_its_lines():
    sha = "0123456789abcdef0123456789abcdef01234567"
    promoted = with_infrastructure_revision(ARGOCD_INFRASTRUCTURE, sha)
    assert promoted == ARGOCD_INFRASTRUCTURE.replace('"main"', f'"{sha}"')
    assert infrastructure_revision(promoted) == sha
    # Flux: the field of spec.ref that fetches it.
    assert with_infrastructure_revision(FLUX_INFRASTRUCTURE, sha) == f'  ref:\n    commit: "{sha}" # infrastructure revision\n'
    assert "    tag: \"v1.2.0\" # infrastructure revision" in with_infrastructure_revision(FLUX_INFRASTRUCTURE, "v1.2.0")


@pytest.mark.parametrize("text", ["targetRevision: \"main\"\n", ARGOCD_INFRASTRUCTURE.replace('value: "main"', 'value: "v1"')])
def test_an_infrastructure_file_names_one_revision(text):
    with pytest.raises(ValueError):
        infrastructure_revision(text)
