"""extensions/gitops_template: copier.yml's other validators and derived defaults (answers.py), on its own, without Copier."""

from __future__ import annotations

import pytest

from gitops_template.answers import (
    argocd_notify_error,
    cluster_server_error,
    container_port_error,
    default_git_secret_name,
    description_error,
    destination_error,
    git_secret_name_error,
    rederive,
)
from gitops_template.images import image_repository_error
from gitops_template.infrastructure import vault_server_error
from gitops_template.names import DOMAIN_MAX, domain_error, namespace_error


@pytest.mark.parametrize(
    ("validator", "value", "rule"),
    [
        (namespace_error, "Shop", "namespace: must be a DNS-1123 label"),
        (namespace_error, "a" * 64, "namespace: must be a DNS-1123 label"),
        (namespace_error, "", "namespace: a value is required"),
        (image_repository_error, "ghcr.io/acme/shop:1.0", "image_repository: must be a lowercase"),
        (image_repository_error, "GHCR.io/acme/shop", "image_repository: must be a lowercase"),
        (image_repository_error, "ghcr.io/acme/-shop", "image_repository: must be a lowercase"),
        (image_repository_error, "ghcr.io/acme/shop_-x", "image_repository: must be a lowercase"),
        (image_repository_error, "ghcr.io/acme/shop___x", "image_repository: must be a lowercase"),
        (image_repository_error, "ghcr.io:99999/acme/shop", "image_repository: must be a lowercase"),
        (image_repository_error, "ghcr.io/" + "a" * 248, "image_repository: at most 255 characters"),
        (container_port_error, 80, "container_port: must be a number from 1024 to 65535"),
        (container_port_error, 70000, "container_port: must be a number from 1024 to 65535"),
        (container_port_error, "http", "container_port: must be a number from 1024 to 65535"),
        (container_port_error, "8080.0", "container_port: must be a number from 1024 to 65535"),
        (container_port_error, True, "container_port: must be a number from 1024 to 65535"),
        (container_port_error, "\u0668080", "container_port: must be a number from 1024 to 65535"),
        (description_error, "two\nlines", "description: must be a single line"),
        (description_error, "two\u2028lines", "description: must be a single line"),
        (description_error, "tab\there", "description: must not contain control characters"),
        (description_error, "lone \ud83d surrogate", "description: must not contain control characters"),
        (description_error, " padded", "description: must not start or end with spaces"),
        (description_error, "{{ evil }}", "description: must not contain template syntax"),
        (domain_error, "a" * 64 + ".example.com", "domain: must be a lowercase DNS name"),
        (domain_error, "a." * 104 + "com", f"domain: at most {DOMAIN_MAX} characters"),
        (vault_server_error, "", "vault_server: a value is required"),
        (vault_server_error, "vault.example.com:8200", "vault_server: must be an http:// or https:// URL"),
        (vault_server_error, "https://user:pw@vault.example.com", "vault_server: must be an http://"),
        (vault_server_error, "https://vault.example.com/v1/secret", "vault_server: must be an http://"),
        (vault_server_error, "https://vault.example.com:99999", "vault_server: must be an http://"),
        (vault_server_error, "https://Vault_1.example.com", "vault_server: must be an http://"),
    ],
)
def test_other_answers_refused(validator, value, rule):
    assert validator(value).startswith(rule)


@pytest.mark.parametrize("port", ["8080", 8080, "65535", "1024"])
def test_container_port_accepted(port):
    assert container_port_error(port) == ""


def test_destination_must_be_empty_unless_overwrite():
    assert destination_error("/x", [".copier-answers.yml", "README.md"], False).startswith(
        "destination: already generated from a template (.copier-answers.yml): `copier update --trust`")
    assert destination_error("/x", [".copier-answers.yml"], True) == ""
    assert destination_error("/x", [], False) == ""
    assert destination_error("/x", [".git"], False) == ""
    assert destination_error("/x", ["README.md"], True) == ""
    error = destination_error("/x", ["README.md", ".gitignore", "a", "b"], False)
    assert error.startswith("destination: not empty (README.md, .gitignore, a, ...)")
    assert "--overwrite" in error


@pytest.mark.parametrize(
    ("url", "controller", "default", "empty_error"),
    [
        ("git@github.com:acme/shop.git", "fluxcd", "shop-git", "required for an ssh repo_url"),
        ("ssh://git@github.com/acme/shop.git", "both", "shop-git", "required for an ssh repo_url"),
        ("git@github.com:acme/shop.git", "argocd", "", ""),
        ("https://github.com/acme/shop.git", "both", "", ""),
    ],
)
def test_git_secret_name_follows_the_url_and_controller(url, controller, default, empty_error):
    assert default_git_secret_name(url, "shop", controller) == default
    error = git_secret_name_error("", url, controller)
    if empty_error:
        assert error.startswith("git_secret_name: ") and empty_error in error
    else:
        assert error == ""
    assert git_secret_name_error("Bad Name", url, controller).startswith("git_secret_name: must be")


@pytest.mark.parametrize("url", ["https://kubernetes.default.svc", "https://10.0.0.1:6443",
                                 "https://api.cluster.example.com:443/"])
def test_cluster_server_accepted(url):
    assert cluster_server_error(url) == ""


@pytest.mark.parametrize("url", ["http://kubernetes.default.svc", "https://x'y", "https://admin:pw@k8s.example.com",
                                 "https://k8s.example.com:port", "https://k8s.example.com/api", "kubernetes.default.svc"])
def test_cluster_server_refused(url):
    assert cluster_server_error(url).startswith("cluster_server: must be an https:// URL")


ORG_APP = {"app_name": "shop", "git_host": "github.com", "git_owner": "acme", "image_registry": "ghcr.io",
           "default_branch": "main", "gitops_controller": "both", "repo_url": "https://github.com/acme/shop.git",
           "image_repository": "ghcr.io/acme/shop", "git_revision": "main", "git_secret_name": ""}


def test_rederive_follows_new_org_defaults_where_the_app_kept_the_derived_ones():
    moved = rederive(ORG_APP, {"git_owner": "globex", "image_registry": "reg.example", "default_branch": "trunk"})
    assert moved["repo_url"] == "https://github.com/globex/shop.git"
    assert moved["image_repository"] == "reg.example/globex/shop"
    assert moved["git_revision"] == "trunk"


def test_rederive_keeps_what_the_team_chose():
    chosen = {**ORG_APP, "image_repository": "quay.io/team/shop", "git_revision": "v1.2.0"}
    moved = rederive(chosen, {"git_owner": "globex", "image_registry": "reg.example"})
    assert moved["repo_url"] == "https://github.com/globex/shop.git"
    assert (moved["image_repository"], moved["git_revision"]) == ("quay.io/team/shop", "v1.2.0")


def test_rederive_an_ssh_url_brings_flux_its_git_secret():
    moved = rederive(ORG_APP, {"repo_url": "git@github.com:acme/shop.git"})
    assert moved["git_secret_name"] == "shop-git"
    assert moved["image_repository"] == "ghcr.io/acme/shop"


@pytest.mark.parametrize("value", ["", "slack:platform-alerts", "s" * 34 + ":ops"])
def test_argocd_notify_accepted(value):
    assert argocd_notify_error(value) == ""


@pytest.mark.parametrize("value", ["slack-:ops", "s" * 35 + ":ops", "slack"])
def test_argocd_notify_refused(value):
    assert argocd_notify_error(value).startswith("argocd_notify: ")
