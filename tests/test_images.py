"""extensions/gitops_template: container image names (images.py), on its own, without Copier."""

from __future__ import annotations

import pytest

from gitops_template.answers import default_repo_url
from gitops_template.images import (
    default_image_repository,
    image_registry_error,
    image_repository_error,
    split_image_repository,
)


def test_default_image_repository_is_lowercase_registry_owner_name():
    assert default_image_repository("git@github.com:Acme/Shop.git", "ghcr.io") == "ghcr.io/acme/shop"
    assert (
        default_image_repository("https://gitlab.example.com/a/b/shop.git", "registry.example.com:5000")
        == "registry.example.com:5000/a/b/shop"
    )


def test_no_default_image_repository_from_an_invalid_url():
    assert default_image_repository("https://user:pw@github.com/acme/shop.git", "ghcr.io") == ""


@pytest.mark.parametrize(("image", "registry"), [
    ("ghcr.io/acme/shop", "ghcr.io"), ("team/app", "docker.io"), ("app", "docker.io"),
    ("localhost/app", "localhost"), ("localhost:5000/a/b", "localhost:5000"), ("registry:5000/app", "registry:5000"),
    ("ghcr.io/acme/my--app", "ghcr.io"), ("ghcr.io/acme/my__app.v2", "ghcr.io"),
])
def test_image_repository_follows_the_oci_grammar_and_dockers_registry_rule(image, registry):
    assert image_repository_error(image) == ""
    assert split_image_repository(image)[0] == registry


def test_every_app_name_has_a_valid_default_image():
    # The OCI grammar allows every separator a DNS-1035 label has ('--' included).
    assert image_repository_error(default_image_repository(
        default_repo_url("github.com", "acme", "my--app"), "ghcr.io")) == ""


@pytest.mark.parametrize(("repo_url", "image"), [
    ("https://github.com/acme/my_app_.git", "ghcr.io/acme/my-app"),
    ("ssh://git@y:1/0/0_", "ghcr.io/0/0"),
    ("https://github.com/Acme/a..b.git", "ghcr.io/acme/a-b"),
    ("https://github.com/acme/my--app.git", "ghcr.io/acme/my--app"),
])
def test_default_image_is_a_valid_oci_name_whatever_git_allows(repo_url, image):
    """Found by the property tests: git allows repository names that registries refuse."""
    assert default_image_repository(repo_url, "ghcr.io") == image
    assert image_repository_error(image) == ""


@pytest.mark.parametrize("value", ["ghcr.io", "registry.example.com:5000", "localhost:5000", "localhost", "docker.io",
                                   "registry:5000"])
def test_image_registry_accepted(value):
    assert image_registry_error(value) == ""


@pytest.mark.parametrize(("value", "rule"), [("registry", "registry is read as a path on Docker Hub"),
                                             ("Registry", "must be a lowercase DNS name")])
def test_image_registry_refused(value, rule):
    assert image_registry_error(value).startswith(f"image_registry: {rule}")
