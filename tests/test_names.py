"""extensions/gitops_template: the naming contract (names.py), on its own, without Copier."""

from __future__ import annotations

import pytest

from gitops_template.grammar import DNS_NAME_MAX, LABEL_MAX, RELEASE_MAX
from gitops_template.names import (
    APP_NAME_MAX,
    DERIVED_SUFFIXES,
    DOMAIN_MAX,
    ORCHESTRATION_NAME_MAX,
    ORCHESTRATION_SUFFIXES,
    app_name_error,
    derived_names,
    domain_error,
    namespace_error,
    orchestration_name_error,
    orchestration_names,
    platform_namespaces,
    registered_name,
)

LONGEST_APP_NAME = "a" * APP_NAME_MAX


def test_every_derived_name_fits_its_kubernetes_limit():
    names = derived_names(LONGEST_APP_NAME)
    for suffix, limit in DERIVED_SUFFIXES.items():
        assert len(LONGEST_APP_NAME + suffix) <= limit
    assert all(len(name) <= LABEL_MAX for name in names.values())
    assert len(names["platform_release"]) <= RELEASE_MAX


def test_every_derived_name_has_a_declared_suffix():
    for name in derived_names("x").values():
        assert name.removeprefix("x") in DERIVED_SUFFIXES


def test_naming_contract():
    assert derived_names("shop") == {
        "base_release": "shop",
        "platform_release": "shop-platform",
        "base_chart": "shop",
        "platform_chart": "shop-platform",
        "argocd_project": "shop",
        "argocd_base_app": "shop-base",
        "argocd_platform_app": "shop-platform",
        "flux_source": "shop",
        "flux_base": "shop-base",
        "flux_platform": "shop-platform",
        "flux_platform_source": "shop-platform",
        "database_cluster": "shop-db",
        "database_secret": "shop-db-app",
        "database_backup": "shop-db-backup",
        "bucket_claim": "shop-bucket",
        "kv_store": "shop-kv",
        "app_secret": "shop-secrets",
        "generated_secret": "shop-generated",
    }


@pytest.mark.parametrize("name", ["a", "shop", "my-app-2", LONGEST_APP_NAME])
def test_app_name_accepted(name):
    assert app_name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        pytest.param("", "a value is required", id="empty"),
        pytest.param("   ", "a value is required", id="blank"),
        pytest.param(None, "a value is required", id="none"),
        pytest.param("MyApp", "DNS-1035", id="uppercase"),
        pytest.param(LONGEST_APP_NAME + "a", f"at most {APP_NAME_MAX}", id="too-long"),
        pytest.param("-app", "DNS-1035", id="leading-dash"),
        pytest.param("app-", "DNS-1035", id="trailing-dash"),
        pytest.param("1app", "starting with a letter", id="leading-digit"),
        pytest.param("my app", "DNS-1035", id="space"),
        pytest.param("my/app", "DNS-1035", id="slash"),
        pytest.param("..", "DNS-1035", id="dots"),
        pytest.param("my_app", "DNS-1035", id="underscore"),
        pytest.param("{{ app }}", "template syntax", id="jinja"),
        pytest.param("{% x %}", "template syntax", id="jinja-block"),
        pytest.param("${APP}", "template syntax", id="shell-var"),
        pytest.param("app\nname", "single line", id="newline"),
    ],
)
def test_app_name_refused(name, rule):
    error = app_name_error(name)
    assert error.startswith("app_name: ")
    assert rule in error


def test_the_longest_domain_leaves_room_for_the_longest_app():
    domain = ("a" * 63 + ".") * 3 + "a" * (DOMAIN_MAX - 3 * 64)
    assert len(domain) == DOMAIN_MAX and domain_error(domain) == ""
    assert len(f"{LONGEST_APP_NAME}.{domain}") == DNS_NAME_MAX


def test_every_orchestration_name_fits_its_kubernetes_limit():
    longest = "o" * ORCHESTRATION_NAME_MAX
    assert orchestration_name_error(longest) == ""
    assert orchestration_name_error(longest + "o").startswith("orchestration_name: at most 48 characters")
    for suffix, limit in ORCHESTRATION_SUFFIXES.items():
        assert len(longest + suffix) <= limit
    assert all(name.startswith(longest) for name in orchestration_names(longest).values())
    assert len(registered_name("a" * APP_NAME_MAX)) <= LABEL_MAX


def test_no_app_takes_a_name_the_platform_owns():
    assert app_name_error("default").startswith("app_name: default is Argo CD's built-in AppProject")
    assert app_name_error("gitops", "gitops").startswith("app_name: gitops is Flux's own GitRepository")
    assert app_name_error("flux-system") == ""  # not Flux's namespace in this cluster
    assert orchestration_name_error("default").startswith("orchestration_name: default is Argo CD's")
    assert orchestration_name_error("rook-ceph").startswith("orchestration_name: rook-ceph is an infrastructure release")


ORG = {"argocd_namespace": "gitops", "flux_namespace": "flux", "prometheus_namespace": "metrics",
       "gateway_namespace": "edge", "gateway_proxy_namespace": ""}


@pytest.mark.parametrize(("namespace", "owner"), [
    ("kube-system", "Kubernetes' own"), ("kube-x", "Kubernetes' own"), ("default", "Kubernetes' own"),
    ("gitops", "Argo CD's"), ("flux", "Flux's"), ("metrics", "the infrastructure's (Prometheus)"),
    ("edge", "the infrastructure's (the Gateway)"),
    # No proxy namespace of its own: Envoy Gateway's, where its controller runs.
    ("envoy-gateway-system", "the infrastructure's (the Gateway's proxies)"),
    ("cnpg-system", "the infrastructure's (cloudnative-pg)"), ("secrets", "the infrastructure's (the secret store)"),
])
def test_no_app_runs_in_a_namespace_the_platform_owns(namespace, owner):
    assert namespace_error(namespace, platform_namespaces(ORG)) == (
        f"namespace: {namespace} is {owner}: give the app a namespace of its own")


def test_an_app_may_take_a_namespace_another_org_leaves_free():
    assert namespace_error("argocd", platform_namespaces(ORG)) == ""
    assert namespace_error("shop", platform_namespaces(ORG)) == ""
