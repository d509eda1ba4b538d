"""extensions/naming.py on its own: every derivation and every refusal, without Copier."""

from __future__ import annotations

import html
import re
import string
import subprocess

import cmarkgfm
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import naming
from support.goyaml import go_read

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
        "kv_store": "shop-kv",
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


SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("revision", "field", "pinned"), [
    ("main", "branch", False), ("release/1.x", "branch", False), ("feature+x", "branch", False),
    ("v1.2.0", "tag", True), ("v1.2.0+build.5", "tag", True), (SHA, "commit", True),
    ("refs/heads/main", "name", False), ("refs/tags/v1", "name", True), ("refs/pull/42/head", "name", False),
])
def test_flux_git_ref_follows_what_the_revision_is(revision, field, pinned):
    assert naming.git_revision_error(revision) == ""
    assert naming.flux_git_ref(revision) == field
    assert naming.revision_is_pinned(revision) is pinned


# Names on both sides of each git check-ref-format rule, and what our own rules add.
REF_NAMES = ["main", "feature/x", "a+b", "v1.2.0+build", "ünïcode", "a@b", "a#b", "a`b", "refs/heads/main",
             "a..b", "a.", ".a", "a/.b", "a.lock", "a/b.lock/c", "a//b", "/a", "a/", "a b", "a~1", "a^",
             "a:b", "a?", "a*", "a[b", "a\\b", "a@{1}", "@", "a\x7fb", "a\tb"]


@pytest.mark.parametrize("name", REF_NAMES)
def test_git_ref_rules_agree_with_git(name):
    result = subprocess.run(["git", "check-ref-format", "--allow-onelevel", name], capture_output=True)
    assert naming.git_ref_name_is_valid(name) is (result.returncode == 0)


@settings(max_examples=150, deadline=None)
@given(name=st.text("ab/.-@{}~^:?*[\\ +#`ü\x7f\t", min_size=1, max_size=8).filter(lambda name: name[0] != "-"))
def test_git_ref_rules_agree_with_git_on_any_name(name):
    # (A leading '-' would read as an option; git's branch rule refuses it, and so do we.)
    result = subprocess.run(["git", "check-ref-format", "--allow-onelevel", name], capture_output=True)
    assert naming.git_ref_name_is_valid(name) is (result.returncode == 0)


@pytest.mark.parametrize(("revision", "rule"), [
    ("HEAD", "check-ref-format"), ("-x", "check-ref-format"), ("a..b", "check-ref-format"),
    (SHA.upper(), "commit SHA in lowercase"), ("main ", "start or end with spaces"),
])
def test_git_revision_refused(revision, rule):
    error = naming.git_revision_error(revision)
    assert error.startswith("git_revision: ") and rule in error
    assert naming.git_revision_error(revision, "default_branch").startswith("default_branch: ")


@pytest.mark.parametrize(
    ("validator", "value", "rule"),
    [
        (naming.namespace_error, "Shop", "namespace: must be a DNS-1123 label"),
        (naming.namespace_error, "a" * 64, "namespace: must be a DNS-1123 label"),
        (naming.namespace_error, "", "namespace: a value is required"),
        (naming.image_repository_error, "ghcr.io/acme/shop:1.0", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "GHCR.io/acme/shop", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "ghcr.io/acme/-shop", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "ghcr.io/acme/shop_-x", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "ghcr.io/acme/shop___x", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "ghcr.io:99999/acme/shop", "image_repository: must be a lowercase"),
        (naming.image_repository_error, "ghcr.io/" + "a" * 248, "image_repository: at most 255 characters"),
        (naming.container_port_error, 80, "container_port: must be a number from 1024 to 65535"),
        (naming.container_port_error, 70000, "container_port: must be a number from 1024 to 65535"),
        (naming.container_port_error, "http", "container_port: must be a number from 1024 to 65535"),
        (naming.container_port_error, "8080.0", "container_port: must be a number from 1024 to 65535"),
        (naming.container_port_error, True, "container_port: must be a number from 1024 to 65535"),
        (naming.container_port_error, "\u0668080", "container_port: must be a number from 1024 to 65535"),
        (naming.description_error, "two\nlines", "description: must be a single line"),
        (naming.description_error, "two\u2028lines", "description: must be a single line"),
        (naming.description_error, "tab\there", "description: must not contain control characters"),
        (naming.description_error, "lone \ud83d surrogate", "description: must not contain control characters"),
        (naming.description_error, " padded", "description: must not start or end with spaces"),
        (naming.description_error, "{{ evil }}", "description: must not contain template syntax"),
        (naming.domain_error, "a" * 64 + ".example.com", "domain: must be a lowercase DNS name"),
        (naming.domain_error, "a." * 104 + "com", f"domain: at most {naming.DOMAIN_MAX} characters"),
        (naming.vault_server_error, "", "vault_server: a value is required"),
        (naming.vault_server_error, "vault.example.com:8200", "vault_server: must be an http:// or https:// URL"),
        (naming.vault_server_error, "https://user:pw@vault.example.com", "vault_server: must be an http://"),
        (naming.vault_server_error, "https://vault.example.com/v1/secret", "vault_server: must be an http://"),
        (naming.vault_server_error, "https://vault.example.com:99999", "vault_server: must be an http://"),
        (naming.vault_server_error, "https://Vault_1.example.com", "vault_server: must be an http://"),
    ],
)
def test_other_answers_refused(validator, value, rule):
    assert validator(value).startswith(rule)


@pytest.mark.parametrize(("image", "registry"), [
    ("ghcr.io/acme/shop", "ghcr.io"), ("team/app", "docker.io"), ("app", "docker.io"),
    ("localhost/app", "localhost"), ("localhost:5000/a/b", "localhost:5000"), ("registry:5000/app", "registry:5000"),
    ("ghcr.io/acme/my--app", "ghcr.io"), ("ghcr.io/acme/my__app.v2", "ghcr.io"),
])
def test_image_repository_follows_the_oci_grammar_and_dockers_registry_rule(image, registry):
    assert naming.image_repository_error(image) == ""
    assert naming.split_image_repository(image)[0] == registry


def test_every_app_name_has_a_valid_default_image():
    # The OCI grammar allows every separator a DNS-1035 label has ('--' included).
    assert naming.image_repository_error(naming.default_image_repository(
        naming.default_repo_url("github.com", "acme", "my--app"), "ghcr.io")) == ""


@pytest.mark.parametrize("port", ["8080", 8080, "65535", "1024"])
def test_container_port_accepted(port):
    assert naming.container_port_error(port) == ""


@pytest.mark.parametrize(
    ("question", "value", "allow_port", "rule"),
    [("git_host", "Git Hub", True, "must be a lowercase DNS name"),
     ("image_registry", "ghcr.io:abc", True, "the port must be a number from 1 to 65535"),
     ("image_registry", "ghcr.io:0", True, "the port must be a number from 1 to 65535"),
     ("image_registry", "ghcr.io:65536", True, "the port must be a number from 1 to 65535"),
     ("domain", "-x.example.com", False, "must be a lowercase DNS name"),
     ("domain", "example.com:8443", False, "must be a lowercase DNS name"),
     ("domain", "a" * 64 + ".com", False, "must be a lowercase DNS name")],
)
def test_hostname_refused(question, value, allow_port, rule):
    assert naming.hostname_error(question, value, allow_port).startswith(f"{question}: {rule}")


def test_hostname_port_only_where_allowed():
    assert naming.hostname_error("image_registry", "registry.example.com:5000", allow_port=True) == ""
    assert naming.hostname_error("domain", "example.com") == ""


def test_the_longest_domain_leaves_room_for_the_longest_app():
    domain = ("a" * 63 + ".") * 3 + "a" * (naming.DOMAIN_MAX - 3 * 64)
    assert len(domain) == naming.DOMAIN_MAX and naming.domain_error(domain) == ""
    assert len(f"{LONGEST_APP_NAME}.{domain}") == naming.DNS_NAME_MAX


@pytest.mark.parametrize("url", ["ssh://git@git.example.com:99999/acme/shop.git", "ssh://git@git.example.com:0/a/b.git",
                                 "https://git.example.com:abc/acme/shop.git", "https://git.example.com:/acme/shop.git"])
def test_repo_url_port_must_be_a_port(url):
    assert naming.repo_url_error(url) == "repo_url: the port must be a number from 1 to 65535"


@pytest.mark.parametrize(("host", "github"), [("github.com", True), ("acme.ghe.com", True),
                                              ("github.example.com", False), ("notgithub.com", False)])
def test_only_github_gets_a_github_workflow(host, github):
    assert naming.repo_is_github(host) is github


def test_destination_must_be_empty_unless_overwrite():
    assert naming.destination_error("/x", [], False) == ""
    assert naming.destination_error("/x", [".git"], False) == ""
    assert naming.destination_error("/x", ["README.md"], True) == ""
    error = naming.destination_error("/x", ["README.md", ".gitignore", "a", "b"], False)
    assert error.startswith("destination: not empty (README.md, .gitignore, a, ...)")
    assert "--overwrite" in error


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


ORG_APP = {"app_name": "shop", "git_host": "github.com", "git_owner": "acme", "image_registry": "ghcr.io",
           "default_branch": "main", "gitops_controller": "both", "repo_url": "https://github.com/acme/shop.git",
           "image_repository": "ghcr.io/acme/shop", "git_revision": "main", "git_secret_name": ""}


def test_rederive_follows_new_org_defaults_where_the_app_kept_the_derived_ones():
    moved = naming.rederive(ORG_APP, {"git_owner": "globex", "image_registry": "reg.example", "default_branch": "trunk"})
    assert moved["repo_url"] == "https://github.com/globex/shop.git"
    assert moved["image_repository"] == "reg.example/globex/shop"
    assert moved["git_revision"] == "trunk"


def test_rederive_keeps_what_the_team_chose():
    chosen = {**ORG_APP, "image_repository": "quay.io/team/shop", "git_revision": "v1.2.0"}
    moved = naming.rederive(chosen, {"git_owner": "globex", "image_registry": "reg.example"})
    assert moved["repo_url"] == "https://github.com/globex/shop.git"
    assert (moved["image_repository"], moved["git_revision"]) == ("quay.io/team/shop", "v1.2.0")


def test_rederive_an_ssh_url_brings_flux_its_git_secret():
    moved = naming.rederive(ORG_APP, {"repo_url": "git@github.com:acme/shop.git"})
    assert moved["git_secret_name"] == "shop-git"
    assert moved["image_repository"] == "ghcr.io/acme/shop"


# --- Answers written into files: read back exactly, by PyYAML, Go and GitHub's Markdown ----------

NO_SURROGATES = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
TRICKY = ["on", "y", "1e3", "0x1f", "null", "~", "", " ", "🚀", "\\ud83d\\ude80", '"', "\\", "\\n", "\n", "\t",
          "\x00", "\x7f", "\x85", "\xa0", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\U0010ffff", "a: b",
          "- x", "#", "'", "%x", "@", "`", "{{ x }}", "\U000e0001"]


@settings(max_examples=300, deadline=None)
@given(text=NO_SURROGATES)
def test_yaml_string_reads_back_in_python(text):
    assert yaml.safe_load(f"k: {naming.yaml_string(text)}\n") == {"k": text}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(NO_SURROGATES, min_size=30, max_size=30))
def test_yaml_string_reads_back_in_go(texts, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("go")
    texts = TRICKY + texts
    paths = []
    for i, text in enumerate(texts):
        paths.append(scratch / f"{i}.yaml")
        paths[-1].write_text(f"k: {naming.yaml_string(text)}\n", encoding="utf-8")
    assert go_read(paths, scratch) == [{"k": text} for text in texts]


def test_yaml_string_refuses_what_yaml_cannot_hold():
    with pytest.raises(ValueError, match="lone surrogate"):
        naming.yaml_string("\ud800")


ONE_LINE = st.text(min_size=1, max_size=40).filter(lambda text: not naming.description_error(text))


def rendered_text(markdown_html: str, tag: str) -> str:
    inner = markdown_html.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
    return html.unescape(re.sub(r"</?a[^>]*>", "", inner))  # GitHub links bare URLs; the text stays


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.sampled_from(TRICKY + ["1. x", "2024) y", "+ z", "=", "***", "<div>", "&amp;", "[a]: b",
                                                "![i](x)", "~~s~~", "a | b", "`c`", "**b**", "_e_", "\\*"]),
                      ONE_LINE).filter(lambda text: not naming.description_error(text)))
def test_markdown_text_renders_as_typed_on_github(text):
    markup = naming.markdown_text(text)
    assert rendered_text(cmarkgfm.github_flavored_markdown_to_html(f"# Title\n\n{markup}\n"), "p") == text
    table = f"| a | b |\n| --- | --- |\n| x | {markup} |\n"
    cells = re.findall(r"<td>(.*?)</td>", cmarkgfm.github_flavored_markdown_to_html(table), re.S)
    assert [html.unescape(re.sub(r"</?a[^>]*>", "", c)) for c in cells] == ["x", text]


@settings(max_examples=200, deadline=None)
@given(text=st.text(string.ascii_letters + "`-/+.@ ü", min_size=1, max_size=12).filter(
    lambda text: text.strip() == text))
def test_markdown_code_renders_as_typed_on_github(text):
    markup = cmarkgfm.github_flavored_markdown_to_html(f"at {naming.markdown_code(text)} here\n")
    assert html.unescape(markup.split("<code>", 1)[1].split("</code>", 1)[0]) == text
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


@pytest.mark.parametrize(("repo_url", "image"), [
    ("https://github.com/acme/my_app_.git", "ghcr.io/acme/my-app"),
    ("ssh://git@y:1/0/0_", "ghcr.io/0/0"),
    ("https://github.com/Acme/a..b.git", "ghcr.io/acme/a-b"),
    ("https://github.com/acme/my--app.git", "ghcr.io/acme/my--app"),
])
def test_default_image_is_a_valid_oci_name_whatever_git_allows(repo_url, image):
    """Found by the property tests: git allows repository names that registries refuse."""
    assert naming.default_image_repository(repo_url, "ghcr.io") == image
    assert naming.image_repository_error(image) == ""




# --- The orchestration repository ----------------------------------------------------------

ORCHESTRATION = {
    "orchestration_name": "fleet", "orchestration_repo_url": "https://github.com/acme/fleet.git",
    "orchestration_branch": "main", "environments": "staging,production", "cluster_controller": "argocd",
    "argocd_applicationset": False, "git_host": "github.com", "git_owner": "acme", "default_branch": "main",
    "argocd_namespace": "argocd", "flux_namespace": "flux-system", "cluster_server": "https://kubernetes.default.svc",
}


def settings_for(**changes) -> dict:
    return naming.orchestration_settings({**ORCHESTRATION, **changes})


def entry(app: str, namespace: str | None = None, **fields) -> dict:
    return {"app_name": app, "repo_url": f"https://github.com/acme/{app}.git", "git_revision": "main",
            "namespace": namespace or app, **fields}


def registry(*entries: dict) -> dict[str, dict]:
    return {f"{e['app_name']}.yaml": e for e in entries}


def test_every_orchestration_name_fits_its_kubernetes_limit():
    longest = "o" * naming.ORCHESTRATION_NAME_MAX
    assert naming.orchestration_name_error(longest) == ""
    assert naming.orchestration_name_error(longest + "o").startswith("orchestration_name: at most 48 characters")
    for suffix, limit in naming.ORCHESTRATION_SUFFIXES.items():
        assert len(longest + suffix) <= limit
    assert all(name.startswith(longest) for name in naming.orchestration_names(longest).values())
    assert len(naming.registered_name("a" * naming.APP_NAME_MAX)) <= naming.LABEL_MAX


@pytest.mark.parametrize(("value", "rule"), [
    ("main", ""), ("release/2026", ""), ("v1.2.0", "must be a branch, such as main"),
    ("refs/heads/main", "must be a branch, such as main"), ("0123456789abcdef0123456789abcdef01234567", "must be a branch"),
    ("a..b", "must be a branch, tag, full ref"),
])
def test_branch_error(value, rule):
    error = naming.branch_error(value, "orchestration_branch")
    assert (error == "") if not rule else error.startswith(f"orchestration_branch: {rule}")


def test_reserved_app_names_are_the_orchestrations_own():
    # fleet-infrastructure: its AppProject would be the infrastructure's.
    assert naming.reserved_app_names(settings_for()) == ["fleet", "fleet-apps", "fleet-infrastructure"]
    assert naming.reserved_app_names(settings_for(cluster_controller="fluxcd")) == ["flux-system"]
    # An orchestration named like an app's Application: the app it would clash with is reserved.
    assert "shop" in naming.reserved_app_names(settings_for(orchestration_name="shop-base"))


def test_a_valid_registry_has_no_errors():
    assert naming.registry_errors(settings_for(), registry(entry("shop"), entry("billing", "finance"))) == []
    assert naming.registry_errors(settings_for(cluster_controller="fluxcd"), registry(
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
    ("fluxcd", registry(entry("flux-system")), "GitRepository flux-system/flux-system would be created by both"),
    ("fluxcd", registry(entry("shop"), entry("shop-gitops")), "GitRepository flux-system/shop-gitops would be created"),
    ("argocd", registry(entry("shop"), entry("shop-db", "shop")), "shop-db.yaml: namespace shop already holds app shop"),
])
def test_registry_errors_name_the_file_field_and_rule(controller, entries, error):
    errors = naming.registry_errors(settings_for(cluster_controller=controller), entries)
    assert any(error in e for e in errors), errors


def test_an_app_named_another_apps_gitops_is_fine_under_argocd():
    # Argo CD names the registered app's Application <app>-gitops; no app makes an Application so.
    assert naming.registry_errors(settings_for(), registry(entry("shop"), entry("shop-gitops"))) == []


@given(st.dictionaries(st.sampled_from(naming.REGISTRY_FIELDS), st.text(min_size=1).filter(
    lambda s: not any("\ud800" <= c <= "\udfff" for c in s)), min_size=1))
def test_registry_entry_reads_back_as_written(fields):
    fields.setdefault("app_name", "shop")
    text = naming.registry_entry_text(fields)
    assert naming.parse_registry_entry(text) == {k: v for k, v in fields.items() if v}
    assert yaml.safe_load(text) == {k: v for k, v in fields.items() if v}


@pytest.mark.parametrize("text", [
    "app_name: shop\n", "app_name: 'shop'\n", 'app_name: "shop" # mine\n', 'app_name: "shop"\napp_name: "x"\n',
    'labels:\n  team: "a"\n', 'app_name: "a\\x41"\n', '  app_name: "shop"\n',
])
def test_parse_registry_entry_refuses_anything_but_double_quoted_lines(text):
    with pytest.raises(ValueError, match="line [12]: "):
        naming.parse_registry_entry(text)


def test_registry_diagram_draws_each_environment_root_layers_and_apps():
    settings = settings_for(argocd_applicationset=True)
    diagram = naming.registry_diagram(settings, {"staging": [entry("shop"), entry("b-2", git_revision='say "hi"')]})
    assert diagram.startswith("flowchart LR\n")
    assert '  staging_applicationset["ApplicationSet fleet-apps<br>registry/environments/staging/apps/#42;.yaml"]' in diagram
    assert "  staging_app_b_2[" in diagram and "staging_applicationset --> staging_app_b_2" in diagram
    assert "say #34;hi#34;" in diagram and 'say "hi"' not in diagram
    assert '  production_none["no app registered yet"]' in diagram
    assert diagram.count("  subgraph ") == diagram.count("  end\n") == 2
    flux = naming.registry_diagram(settings_for(cluster_controller="fluxcd"), {})
    assert 'staging_root["Kustomization flux-system<br>clusters/staging/"]' in flux
    assert 'production_none["no app registered yet"]' in flux and "applicationset" not in flux


def test_versions_table_says_which_revision_runs_where():
    table = naming.versions_table(settings_for(), {"staging": [entry("shop"), entry("b-2", git_revision="v2")],
                                                   "production": [entry("shop", git_revision="v1")]})
    assert table.splitlines() == ["| app | staging | production |", "| --- | --- | --- |",
                                  "| b-2 | `v2` | - |", "| shop | `main` | `v1` |"]


@pytest.mark.parametrize(("value", "error"), [
    ("staging,production", ""), ("production", ""), (" dev , prod ", ""),
    ("", "environments: required"), ("Prod", "environments: must be a DNS-1123 label"),
    ("a,,b", "environments: no empty name between commas"), ("a,b,a", "environments: each environment is named once; a is"),
    (3, "environments: required"),
])
def test_environments_error(value, error):
    assert naming.environments_error(value).startswith(error) and bool(naming.environments_error(value)) == bool(error)


@pytest.mark.parametrize(("names", "argocd_applicationset", "errors"), [
    (["shop-base.yaml", "shop-platform.yaml"], False, []),
    (["shop-db.yaml"], False, ["shop-db.yaml: overrides no chart"]),
    (["orders-base.yaml"], False, ["orders-base.yaml: overrides no chart"]),
    (["shop-base.yaml"], True, ["shop-base.yaml: value overrides need the App-of-Apps"]),
])
def test_override_errors(names, argocd_applicationset, errors):
    found = naming.override_errors(settings_for(argocd_applicationset=argocd_applicationset), names, ["shop"])
    assert [error[:len(prefix)] for error, prefix in zip(found, errors)] == errors and len(found) == len(errors)


@pytest.mark.parametrize(("revision", "given", "error"), [
    ("v1.2.0", False, ""), ("0123456789abcdef0123456789abcdef01234567", False, ""), ("main", True, ""),
    ("main", False, "git_revision: staging follows the branch main, which moves"),
    ("refs/heads/main", False, "git_revision: staging follows the branch refs/heads/main"),
    ("a..b", True, "git_revision: must be"),
])
def test_promotion_error(revision, given, error):
    assert naming.promotion_error(revision, "staging", given).startswith(error)
    assert bool(naming.promotion_error(revision, "staging", given)) == bool(error)


def test_with_diagram_replaces_only_the_marked_block():
    readme = f"# x\n{naming.DIAGRAM_START}\nold\n{naming.DIAGRAM_END}\nrest\n"
    assert naming.with_diagram(readme, "new\n") == f"# x\n{naming.DIAGRAM_START}\nnew\n{naming.DIAGRAM_END}\nrest\n"
    with pytest.raises(ValueError, match="no registry diagram"):
        naming.with_diagram("# x\n", "new\n")


def test_derive_an_orchestration():
    assert naming.derive({"project_kind": "orchestration"}) == {}
    partial = naming.derive({"project_kind": "orchestration", "orchestration_name": "fleet"})
    assert partial["apps_layer"] == "fleet-apps" and "orchestration" not in partial
    derived = naming.derive({"project_kind": "orchestration", **ORCHESTRATION,
                             "orchestration_repo_url": "git@github.com:acme/fleet.git"})
    assert derived["flux_orchestration_url"] == "ssh://git@github.com/acme/fleet.git"
    assert derived["flux_sync_ref"] == "refs/heads/main" and derived["environment_list"] == ["staging", "production"]
    assert derived["orchestration"]["paths"]["environments"]["production"] == {
        "cluster": "clusters/production", "apps": "registry/environments/production/apps",
        "values": "registry/environments/production/values"}
    assert (derived["use_argocd"], derived["use_fluxcd"], derived["use_applicationset"]) == (True, False, False)
    assert derived["orchestration"]["names"]["infrastructure_layer"] == "fleet-infrastructure"
    # The infrastructure once its questions and org defaults are answered.
    assert "infrastructure" not in derived
    org = {key: "x" for key in naming.INFRASTRUCTURE_ORG_DEFAULTS}
    org.update(prometheus_labels="release=kps", grafana_dashboard_labels="grafana_dashboard=1",
               secret_store_kind="ClusterSecretStore", gateway_proxy_namespace="")
    derived = naming.derive({"project_kind": "orchestration", **ORCHESTRATION, **org, "infrastructure_profile": "homelab",
                             "secret_store_provider": "kubernetes"})
    assert derived["infrastructure"]["configs_values"]["secretStore"]["provider"] == "kubernetes"


@pytest.mark.parametrize(("value", "word"), [("main", "main"), ("a b", "'a b'"), ("it's", "'it'\"'\"'s'")])
def test_shell_word(value, word):
    assert naming.shell_word(value) == word


@pytest.mark.parametrize("url", ["http://vault.vault.svc:8200", "https://vault.example.com", "https://vault.example.com/"])
def test_vault_server_accepted(url):
    assert naming.vault_server_error(url) == ""


def test_yaml_block_reads_back_as_the_value():
    value = {"on": {"y": "1", "list": [{"a": True, "b": [1, 2]}, "x: y"], "empty": {}, "none": []},
             "release": "kube-prometheus-stack", "dotted.key/name": "null"}
    assert yaml.safe_load("top:\n" + naming.yaml_block(value, 2)) == {"top": value}
