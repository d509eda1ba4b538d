"""Container image names: the OCI reference grammar, and the default image of an app repository.
"""

from __future__ import annotations

import re

from .vcs import parse_repo_url, repo_url_error
from .grammar import hostname_error, is_dns_name, port_is_valid, text_error

# The OCI distribution reference grammar (distribution/reference), without tag or digest:
# [registry[:port]/]path, each path component alphanumerics joined by '.', '_', '__' or '-'s.
_IMAGE_PATH = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
_IMAGE_COMPONENT = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*")
IMAGE_NAME_MAX = 255
# Docker's rule: a first component without '.' or ':' (other than localhost) is a path on Docker Hub.
DOCKER_HUB = "docker.io"


def image_registry_error(value: object) -> str:
    """`image_registry`: a registry host Docker reads as one, not as the first part of a Docker Hub path."""
    if error := hostname_error("image_registry", value, allow_port=True):
        return error
    if split_image_repository(f"{value}/image")[0] != value:
        return (f"image_registry: {value} is read as a path on Docker Hub (a registry host has a '.' or a "
                f":port, or is localhost), such as ghcr.io or {DOCKER_HUB}")
    return ""


def image_repository_error(value: object) -> str:
    """`image_repository`: an OCI image name, registry optional, without a tag or digest."""
    if error := text_error("image_repository", value):
        return error
    registry, path = split_image_repository(value)
    host, colon, port = registry.partition(":")
    if (not _IMAGE_PATH.fullmatch(path) or (colon and not port_is_valid(port))
            or (registry != DOCKER_HUB and host != "localhost" and not is_dns_name(host))):
        return (
            "image_repository: must be a lowercase image name without tag or digest, such as "
            "ghcr.io/acme/my-app (OCI reference grammar; its default comes from repo_url)"
        )
    if len(value) > IMAGE_NAME_MAX:
        return f"image_repository: at most {IMAGE_NAME_MAX} characters (got {len(value)})"
    return ""


def split_image_repository(image: str) -> tuple[str, str]:
    """(registry, path) as Docker reads an image name: without a registry, Docker Hub's."""
    first, slash, rest = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DOCKER_HUB, image


def default_image_repository(repo_url: str, image_registry: str) -> str:
    """`<registry>/<owner>/<name>` from the repo URL, lowercased as registries require;
    "" while the URL is not valid (its validator says why)."""
    if repo_url_error(repo_url):
        return ""
    _, owner, name = parse_repo_url(repo_url)
    components = [_image_component(c) for c in f"{owner}/{name}".lower().split("/")]
    return f"{image_registry}/{'/'.join(components)}" if all(components) else ""


def _image_component(component: str) -> str:
    """A repository path segment as an OCI path component: git allows `my_app_` or `a..b`,
    registries do not, so a segment outside the grammar has its separators made single dashes."""
    if _IMAGE_COMPONENT.fullmatch(component):
        return component
    return "-".join(re.findall(r"[a-z0-9]+", component))
