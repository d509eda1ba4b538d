"""extensions/gitops_template: git URLs and revisions (vcs.py), on its own, without Copier."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_template.vcs import (
    branch_error,
    flux_git_ref,
    flux_repo_url,
    git_ref_name_is_valid,
    git_revision_error,
    parse_repo_url,
    repo_is_github,
    repo_url_error,
    revision_is_pinned,
    revision_is_tag,
)


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
    assert repo_url_error(url) == ""
    assert parse_repo_url(url) == (host, owner, name)


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
    error = repo_url_error(url)
    assert error.startswith("repo_url: ")
    assert rule in error


def test_flux_repo_url_turns_scp_form_into_ssh_url():
    assert flux_repo_url("git@github.com:acme/shop.git") == "ssh://git@github.com/acme/shop.git"
    assert flux_repo_url("https://github.com/acme/shop.git") == "https://github.com/acme/shop.git"


@pytest.mark.parametrize(("revision", "is_tag"), [("v1.2.3", True), ("1.0", True), ("v2.0.0-rc.1", True),
                                                  ("v1", True), ("main", False), ("release/1.x", False),
                                                  ("2024", False), ("version-2", False)])
def test_revision_is_tag(revision, is_tag):
    assert revision_is_tag(revision) is is_tag


SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("revision", "field", "pinned"), [
    ("main", "branch", False), ("release/1.x", "branch", False), ("feature+x", "branch", False),
    ("v1.2.0", "tag", True), ("v1.2.0+build.5", "tag", True), (SHA, "commit", True),
    ("refs/heads/main", "name", False), ("refs/tags/v1", "name", True), ("refs/pull/42/head", "name", False),
])
def test_flux_git_ref_follows_what_the_revision_is(revision, field, pinned):
    assert git_revision_error(revision) == ""
    assert flux_git_ref(revision) == field
    assert revision_is_pinned(revision) is pinned


# Names on both sides of each git check-ref-format rule, and what our own rules add.
REF_NAMES = ["main", "feature/x", "a+b", "v1.2.0+build", "ünïcode", "a@b", "a#b", "a`b", "refs/heads/main",
             "a..b", "a.", ".a", "a/.b", "a.lock", "a/b.lock/c", "a//b", "/a", "a/", "a b", "a~1", "a^",
             "a:b", "a?", "a*", "a[b", "a\\b", "a@{1}", "@", "a\x7fb", "a\tb"]


@pytest.mark.parametrize("name", REF_NAMES)
def test_git_ref_rules_agree_with_git(name):
    result = subprocess.run(["git", "check-ref-format", "--allow-onelevel", name], capture_output=True)
    assert git_ref_name_is_valid(name) is (result.returncode == 0)


@settings(max_examples=150, deadline=None)
@given(name=st.text("ab/.-@{}~^:?*[\\ +#`ü\x7f\t", min_size=1, max_size=8).filter(lambda name: name[0] != "-"))
def test_git_ref_rules_agree_with_git_on_any_name(name):
    # (A leading '-' would read as an option; git's branch rule refuses it, and so do we.)
    result = subprocess.run(["git", "check-ref-format", "--allow-onelevel", name], capture_output=True)
    assert git_ref_name_is_valid(name) is (result.returncode == 0)


@pytest.mark.parametrize(("revision", "rule"), [
    ("HEAD", "check-ref-format"), ("-x", "check-ref-format"), ("a..b", "check-ref-format"),
    (SHA.upper(), "commit SHA in lowercase"), ("main ", "start or end with spaces"),
])
def test_git_revision_refused(revision, rule):
    error = git_revision_error(revision)
    assert error.startswith("git_revision: ") and rule in error
    assert git_revision_error(revision, "default_branch").startswith("default_branch: ")


@pytest.mark.parametrize("url", ["ssh://git@git.example.com:99999/acme/shop.git", "ssh://git@git.example.com:0/a/b.git",
                                 "https://git.example.com:abc/acme/shop.git", "https://git.example.com:/acme/shop.git"])
def test_repo_url_port_must_be_a_port(url):
    assert repo_url_error(url) == "repo_url: the port must be a number from 1 to 65535"


@pytest.mark.parametrize(("host", "github"), [("github.com", True), ("acme.ghe.com", True),
                                              ("github.example.com", False), ("notgithub.com", False)])
def test_only_github_gets_a_github_workflow(host, github):
    assert repo_is_github(host) is github


@pytest.mark.parametrize(("value", "rule"), [
    ("main", ""), ("release/2026", ""), ("v1.2.0", "must be a branch, such as main"),
    ("refs/heads/main", "must be a branch, such as main"), ("0123456789abcdef0123456789abcdef01234567", "must be a branch"),
    ("a..b", "must be a branch, tag, full ref"),
])
def test_branch_error(value, rule):
    error = branch_error(value, "orchestration_branch")
    assert (error == "") if not rule else error.startswith(f"orchestration_branch: {rule}")
