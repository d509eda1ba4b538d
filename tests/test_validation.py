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


def changed(obj: dict, path: tuple, value) -> dict:
    obj = copy.deepcopy(obj)
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def test_valid_objects_pass(crd_schemas):
    assert validation_errors([DEPLOYMENT, APPLICATION], crd_schemas) == []


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
    ],
)
def test_each_kind_of_mistake_is_caught(crd_schemas, obj, expected):
    errors = validation_errors([obj], crd_schemas)
    assert errors
    assert any(expected in error for error in errors), errors


def test_custom_resource_without_the_mirror_is_an_error():
    assert validation_errors([APPLICATION], None) != []
