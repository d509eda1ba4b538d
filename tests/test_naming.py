"""extensions/naming.py on its own: every derivation and every refusal, without Copier."""

from __future__ import annotations

import pytest

from conftest import naming

LONGEST_APP_NAME = "a" * naming.APP_NAME_MAX


def test_every_derived_name_fits_its_kubernetes_limit():
    names = naming.derived_names(LONGEST_APP_NAME)
    for suffix, limit in naming.DERIVED_SUFFIXES.items():
        assert len(LONGEST_APP_NAME + suffix) <= limit
    assert all(len(name) <= naming.LABEL_MAX for name in names.values())
    assert len(names["platform_release"]) <= naming.RELEASE_MAX


def test_every_derived_name_has_a_declared_suffix():
    for name in naming.derived_names("x").values():
        assert name.removeprefix("x") in naming.DERIVED_SUFFIXES


def test_naming_contract():
    assert naming.derived_names("shop") == {
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
        "app_secret": "shop-secrets",
    }


@pytest.mark.parametrize("name", ["a", "shop", "my-app-2", LONGEST_APP_NAME])
def test_app_name_accepted(name):
    assert naming.app_name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        pytest.param("", "a value is required", id="empty"),
        pytest.param("   ", "a value is required", id="blank"),
        pytest.param(None, "a value is required", id="none"),
        pytest.param("MyApp", "DNS-1035", id="uppercase"),
        pytest.param(LONGEST_APP_NAME + "a", f"at most {naming.APP_NAME_MAX}", id="too-long"),
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
    error = naming.app_name_error(name)
    assert error.startswith("app_name: ")
    assert rule in error


@pytest.mark.parametrize(
    ("url", "host", "owner", "name"),
    [
        ("https://github.com/acme/shop.git", "github.com", "acme", "shop"),
        ("https://github.com/acme/shop", "github.com", "acme", "shop"),
        ("https://gitlab.example.com/a/b/shop.git", "gitlab.example.com", "a/b", "shop"),
        ("git@github.com:acme/shop.git", "github.com", "acme", "shop"),
        ("ssh://git@github.com/acme/shop.git", "github.com", "acme", "shop"),
        ("ssh://git@git.example.com:2222/acme/shop.git", "git.example.com", "acme", "shop"),
    ],
)
def test_parse_repo_url(url, host, owner, name):
    assert naming.repo_url_error(url) == ""
    assert naming.parse_repo_url(url) == (host, owner, name)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        pytest.param("", "a value is required", id="empty"),
        pytest.param("https://user:token@github.com/acme/shop.git", "credentials", id="user-password"),
        pytest.param("https://ghp_token@github.com/acme/shop.git", "credentials", id="token"),
        pytest.param("ssh://git:secret@github.com/acme/shop.git", "credentials", id="ssh-password"),
        pytest.param("http://github.com/acme/shop.git", "https:// or ssh", id="http"),
        pytest.param("file:///srv/git/shop.git", "https:// or ssh", id="file"),
        pytest.param("github.com/acme/shop", "https:// or ssh", id="no-scheme"),
        pytest.param("https://github.com/shop.git", "owner and a repository", id="no-owner"),
        pytest.param("https://github.com/acme/../shop.git", "owner and a repository", id="dot-dot"),
        pytest.param("https://github.com/acme/shop.git?ref=x", "query", id="query"),
        pytest.param("https://github.com/acme/my shop.git", "spaces", id="space"),
        pytest.param("https://github.com/acme/{{x}}.git", "template syntax", id="jinja"),
        pytest.param("https://github.com/acme/shop.git\nx", "single line", id="newline"),
    ],
)
def test_repo_url_refused(url, rule):
    error = naming.repo_url_error(url)
    assert error.startswith("repo_url: ")
    assert rule in error


def test_default_image_repository_is_lowercase_registry_owner_name():
    assert naming.default_image_repository("git@github.com:Acme/Shop.git", "ghcr.io") == "ghcr.io/acme/shop"
    assert (
        naming.default_image_repository("https://gitlab.example.com/a/b/shop.git", "registry.example.com:5000")
        == "registry.example.com:5000/a/b/shop"
    )


def test_no_default_image_repository_from_an_invalid_url():
    assert naming.default_image_repository("https://user:pw@github.com/acme/shop.git", "ghcr.io") == ""


def test_flux_repo_url_turns_scp_form_into_ssh_url():
    assert naming.flux_repo_url("git@github.com:acme/shop.git") == "ssh://git@github.com/acme/shop.git"
    assert naming.flux_repo_url("https://github.com/acme/shop.git") == "https://github.com/acme/shop.git"


@pytest.mark.parametrize(("revision", "is_tag"), [("v1.2.3", True), ("1.0", True), ("v2.0.0-rc.1", True),
                                                  ("v1", True), ("main", False), ("release/1.x", False),
                                                  ("2024", False), ("version-2", False)])
def test_revision_is_tag(revision, is_tag):
    assert naming.revision_is_tag(revision) is is_tag


@pytest.mark.parametrize(
    ("validator", "value", "rule"),
    [
        (naming.namespace_error, "Shop", "namespace: must be a DNS-1123 label"),
        (naming.namespace_error, "a" * 64, "namespace: must be a DNS-1123 label"),
        (naming.namespace_error, "", "namespace: a value is required"),
        (naming.git_revision_error, "feature..x", "git_revision: must be a git branch or tag"),
        (naming.git_revision_error, "-x", "git_revision: must be a git branch or tag"),
        (naming.git_revision_error, "main.lock", "git_revision: must be a git branch or tag"),
        (naming.git_revision_error, "HEAD", "git_revision: must be a git branch or tag"),
        (naming.image_repository_error, "ghcr.io/acme/shop:1.0", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "GHCR.io/acme/shop", "image_repository: must be a lowercase"),
        (naming.container_port_error, 80, "container_port: must be between 1024 and 65535"),
        (naming.container_port_error, 70000, "container_port: must be between 1024 and 65535"),
        (naming.container_port_error, "http", "container_port: must be a whole number"),
        (naming.description_error, "two\nlines", "description: must be a single line"),
        (naming.description_error, "{{ evil }}", "description: must not contain template syntax"),
    ],
)
def test_other_answers_refused(validator, value, rule):
    assert validator(value).startswith(rule)


@pytest.mark.parametrize(
    ("question", "value", "allow_port"),
    [("git_host", "Git Hub", True), ("image_registry", "ghcr.io:abc", True), ("domain", "-x.example.com", False),
     ("domain", "example.com:8443", False)],
)
def test_hostname_refused(question, value, allow_port):
    assert naming.hostname_error(question, value, allow_port).startswith(f"{question}: must be a lowercase DNS name")


def test_hostname_port_only_where_allowed():
    assert naming.hostname_error("image_registry", "registry.example.com:5000", allow_port=True) == ""
    assert naming.hostname_error("domain", "example.com") == ""


def test_derive_tolerates_a_context_without_answers():
    # Copier renders migrations and tasks before any answer exists.
    assert naming.derive({}) == {}
    assert naming.derive({"app_name": "Not Valid"}) == {}


def test_derive_sets_names_paths_repo_parts_and_controllers():
    derived = naming.derive(
        {"app_name": "shop", "repo_url": "git@github.com:acme/shop.git", "gitops_controller": "fluxcd",
         "git_revision": "main"}
    )
    assert derived["argocd_base_app"] == "shop-base"
    assert derived["base_chart_path"] == "helm/base"
    assert derived["repo_host"] == "github.com"
    assert derived["base_values_from_chart"] == "../../gitops/values-base.yaml"
    assert derived["flux_repo_url"] == "ssh://git@github.com/acme/shop.git"
    assert derived["flux_git_ref"] == "branch"
    assert (derived["use_argocd"], derived["use_fluxcd"]) == (False, True)


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
    assert naming.default_git_secret_name(url, "shop", controller) == default
    error = naming.git_secret_name_error("", url, controller)
    if empty_error:
        assert error.startswith("git_secret_name: ") and empty_error in error
    else:
        assert error == ""
    assert naming.git_secret_name_error("Bad Name", url, controller).startswith("git_secret_name: must be")


@pytest.mark.parametrize("url", ["https://kubernetes.default.svc", "https://10.0.0.1:6443",
                                 "https://api.cluster.example.com:443/"])
def test_cluster_server_accepted(url):
    assert naming.cluster_server_error(url) == ""


@pytest.mark.parametrize("url", ["http://kubernetes.default.svc", "https://x'y", "https://admin:pw@k8s.example.com",
                                 "https://k8s.example.com:port", "https://k8s.example.com/api", "kubernetes.default.svc"])
def test_cluster_server_refused(url):
    assert naming.cluster_server_error(url).startswith("cluster_server: must be an https:// URL")


@pytest.mark.parametrize(("value", "blocks"), [("", []), ("169.254.20.10/32", ["169.254.20.10/32"]),
                                               ("169.254.20.10/32, fd00::10/128", ["169.254.20.10/32", "fd00::10/128"])])
def test_cidr_list_accepted(value, blocks):
    assert naming.cidr_list_error("dns_ip_blocks", value) == ""
    assert naming.cidr_list(value) == blocks


@pytest.mark.parametrize("value", ["169.254.20.10/33", "dns", "10.0.0.1/32;10.0.0.2/32", None, ["10.0.0.1/32"]])
def test_cidr_list_refused(value):
    assert naming.cidr_list_error("dns_ip_blocks", value).startswith("dns_ip_blocks: ")


@pytest.mark.parametrize(("value", "labels"), [("", {}), ("release=kps", {"release": "kps"}),
                                               ("a=1, example.com/team=", {"a": "1", "example.com/team": ""})])
def test_label_map_accepted(value, labels):
    assert naming.label_map_error("prometheus_labels", value) == ""
    assert naming.label_map(value) == labels


@pytest.mark.parametrize("value", ["release", "release=kube prometheus", "-x=1", "Example.com/x=1", "x=" + "a" * 64, None])
def test_label_map_refused(value):
    assert naming.label_map_error("prometheus_labels", value).startswith("prometheus_labels: ")


@pytest.mark.parametrize("value", ["", "slack:platform-alerts", "email:ops@example.com", "teams:#ops"])
def test_notification_target_accepted(value):
    assert naming.notification_target_error("argocd_notify", value) == ""


@pytest.mark.parametrize("value", ["slack", "slack:", ":ops", "Slack:ops", "slack:two words", None])
def test_notification_target_refused(value):
    assert naming.notification_target_error("argocd_notify", value).startswith("argocd_notify: must be service:recipient")
