"""The validators themselves: each way an object can be wrong is caught, so a green suite
means valid objects, not a validator that never looks."""

from __future__ import annotations

import copy

import pytest

from support.kube import validation_errors

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "shop", "namespace": "shop"},
    "spec": {
        "selector": {"matchLabels": {"app": "shop"}},
        "template": {
            "metadata": {"labels": {"app": "shop"}},
            "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/shop:1.0"}]},
        },
    },
}
APPLICATION = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "shop-base", "namespace": "argocd"},
    "spec": {
        "project": "shop",
        "source": {"repoURL": "https://github.com/acme/shop.git", "path": "helm/base", "targetRevision": "main"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
    },
}

# As the base chart renders it (templates/httproute.yaml).
HTTPROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "shop", "namespace": "shop"},
    "spec": {
        "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public",
                        "namespace": "gateway-system"}],
        "hostnames": ["shop.apps.example.com"],
        "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                   "backendRefs": [{"group": "", "kind": "Service", "name": "shop", "port": 80, "weight": 1}]}],
    },
}
# As the platform chart renders it (templates/postgres-cluster.yaml).
CLUSTER = {
    "apiVersion": "postgresql.cnpg.io/v1",
    "kind": "Cluster",
    "metadata": {"name": "shop-db", "namespace": "shop"},
    "spec": {"instances": 1, "storage": {"size": "1Gi"},
             "bootstrap": {"initdb": {"database": "shop", "owner": "shop"}}},
}


def changed(obj: dict, path: tuple, value) -> dict:
    obj = copy.deepcopy(obj)
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def test_valid_objects_pass(crd_schemas):
    assert validation_errors([DEPLOYMENT, APPLICATION, HTTPROUTE, CLUSTER], crd_schemas) == []


def test_cel_rules_read_escaped_property_names(crd_schemas):
    """Gateway API's parentRefs rules read `namespace` as `__namespace__`: two Gateways of one name in
    two namespaces are two parents, which need no sectionName or port to tell them apart."""
    [parent] = HTTPROUTE["spec"]["parentRefs"]
    route = changed(HTTPROUTE, ("spec", "parentRefs"), [parent, {**parent, "namespace": "internal"}])
    assert validation_errors([route], crd_schemas) == []


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(changed(DEPLOYMENT, ("spec", "replica"), 2), "'replica' was unexpected", id="builtin-typo"),
        pytest.param(changed(DEPLOYMENT, ("spec", "template", "spec", "containers", 0, "image"), 5),
                     "is not of type 'string'", id="builtin-type"),
        pytest.param(changed(DEPLOYMENT, ("apiVersion",), "apps/v1beta2"),
                     "does not serve this kind", id="builtin-removed-api"),
        pytest.param(changed(APPLICATION, ("spec", "source", "pth"), "x"), "'pth' was unexpected", id="crd-typo"),
        pytest.param(changed(APPLICATION, ("spce",), {}), "unknown field spce", id="crd-top-level-typo"),
        pytest.param(changed(APPLICATION, ("metadata", "label"), {}), "unknown field metadata.label",
                     id="crd-metadata-typo"),
        pytest.param(changed(APPLICATION, ("kind",), "Applikation"), "no schema", id="crd-unknown-kind"),
        pytest.param(changed(APPLICATION, ("apiVersion",), "example.com/v1"), "no schema", id="crd-unknown-group"),
        # The CRDs' CEL rules (x-kubernetes-validations), which JSON schema does not read: a path prefix
        # the base chart's values schema admits (it asks for a leading / only), and a locale CloudNativePG
        # refuses without its provider.
        pytest.param(changed(HTTPROUTE, ("spec", "rules", 0, "matches", 0, "path", "value"), "/shop//api"),
                     "spec/rules/0/matches/0/path: must not contain '//'", id="crd-cel-rule-httproute"),
        pytest.param(changed(CLUSTER, ("spec", "bootstrap", "initdb"), {"localeProvider": "libc", "icuLocale": "en-US"}),
                     "spec/bootstrap/initdb: icuLocale is only available when localeProvider is set to `icu`",
                     id="crd-cel-rule-cnpg"),
        pytest.param(changed(HTTPROUTE, ("spec", "parentRefs"), HTTPROUTE["spec"]["parentRefs"] * 2),
                     "spec/parentRefs: sectionName or port must be unique", id="crd-cel-rule-list"),
    ],
)
def test_each_kind_of_mistake_is_caught(crd_schemas, obj, expected):
    errors = validation_errors([obj], crd_schemas)
    assert errors
    assert any(expected in error for error in errors), errors


def test_custom_resource_without_the_mirror_is_an_error():
    assert validation_errors([APPLICATION], None) != []
