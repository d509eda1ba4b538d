"""Git repository URLs and revisions: validation, parsing, and how each controller is told which
revision to fetch (Argo CD takes any ref as is; Flux needs the kind of ref).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .grammar import text_error, hostname_error, url_port_error

# ssh form: user@host:owner/name(.git)
SCP_URL = re.compile(r"(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^:]+)")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
VERSION_TAG = re.compile(r"(v[0-9]+(\.[0-9]+)*|[0-9]+(\.[0-9]+)+)([-+][0-9A-Za-z.-]+)?")
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
# git check-ref-format: characters no ref name may contain anywhere.
_REF_FORBIDDEN = set(" ~^:?*[\\")


def repo_url_error(value: object, question: str = "repo_url") -> str:
    """`repo_url`: an https or ssh git URL with an owner and a name, and no credentials."""
    if error := text_error(question, value):
        return error
    if any(c.isspace() for c in value):
        return f"{question}: must not contain spaces"
    try:
        parse_repo_url(value)
    except ValueError as exc:
        return f"{question}: {exc}"
    return ""


def git_revision_error(value: object, question: str = "git_revision") -> str:
    """`git_revision` (and `default_branch`): a branch, a tag, a full ref or a commit SHA."""
    if error := text_error(question, value):
        return error
    if re.fullmatch(r"[0-9a-fA-F]{40}", value) and not COMMIT_SHA.fullmatch(value):
        return f"{question}: write a commit SHA in lowercase, as git prints it"
    if value == "HEAD" or value.startswith("-") or not git_ref_name_is_valid(value):
        return (f"{question}: must be a branch, tag, full ref (refs/heads/...) or commit SHA "
                "that git accepts (git check-ref-format), such as main or v1.2.0")
    return ""


def git_ref_name_is_valid(name: str) -> bool:
    """The rules of `git check-ref-format --allow-onelevel`."""
    return not (
        name == "@"
        or name.startswith("/") or name.endswith(("/", "."))
        or "//" in name or ".." in name or "@{" in name
        or any(c in _REF_FORBIDDEN or ord(c) < 0x20 or ord(c) == 0x7F for c in name)
        or any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
    )


def parse_repo_url(url: str) -> tuple[str, str, str]:
    """Split a git URL into (host, owner, name); raise ValueError naming the rule broken.

    Accepts https://host/owner/name(.git), ssh://git@host[:port]/owner/name(.git) and
    git@host:owner/name(.git). Owner may hold subgroups (GitLab). Credentials are refused:
    they would end up in the app repository and in every controller's manifests.
    """
    scp = SCP_URL.fullmatch(url)
    if scp and "://" not in url:
        host, path = scp["host"], scp["path"]
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "ssh"):
            raise ValueError("must be an https:// or ssh URL such as https://github.com/acme/my-app.git")
        if parts.password is not None or (parts.username and parts.scheme == "https"):
            raise ValueError("must not contain credentials; give the controllers a secret instead")
        if parts.query or parts.fragment:
            raise ValueError("must not contain a query or fragment")
        if port_error := url_port_error(parts):
            raise ValueError(port_error)
        host, path = parts.hostname or "", parts.path
    if hostname_error("repo_url", host):
        raise ValueError("must name a valid host")
    segments = [s for s in path.strip("/").split("/") if s]
    if len(segments) < 2 or not all(_PATH_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise ValueError("must name an owner and a repository, such as https://github.com/acme/my-app.git")
    name = segments[-1].removesuffix(".git")
    if not name:
        raise ValueError("must name a repository")
    return host, "/".join(segments[:-1]), name


def flux_repo_url(url: str) -> str:
    """The repo URL as Flux takes it: Flux has no scp-like form, so git@host:path -> ssh://."""
    if is_ssh_url(url) and "://" not in url:
        scp = SCP_URL.fullmatch(url)
        return f"ssh://{scp['user']}@{scp['host']}/{scp['path']}"
    return url


def revision_is_tag(revision: str) -> bool:
    """A revision that reads as a version (v1, v1.2.3, 1.2) is a tag; other short names branches."""
    return bool(VERSION_TAG.fullmatch(revision))


def flux_git_ref(revision: str) -> str:
    """The field of a Flux GitRepository's `spec.ref` that fetches `revision`.

    Argo CD's targetRevision takes a branch, tag, full ref or commit as is; Flux must be told
    which: a full ref is a `name`, a full SHA a `commit`, a version a `tag`, the rest a `branch`.
    """
    if COMMIT_SHA.fullmatch(revision):
        return "commit"
    if revision.startswith("refs/"):
        return "name"
    return "tag" if revision_is_tag(revision) else "branch"


def revision_is_pinned(revision: str) -> bool:
    """A commit or a tag never moves: deploying a new version means changing the revision."""
    return flux_git_ref(revision) in ("commit", "tag") or revision.startswith("refs/tags/")


def repo_is_github(host: str) -> bool:
    """GitHub itself (github.com, or GitHub Enterprise Cloud's <name>.ghe.com) runs its Actions."""
    return host == "github.com" or host.endswith(".ghe.com")


def is_ssh_url(url: str) -> bool:
    return url.startswith("ssh://") or (bool(SCP_URL.fullmatch(url)) and "://" not in url)


def branch_error(value: object, question: str) -> str:
    """A branch name: what `flux bootstrap` and the Flux Operator track."""
    if error := git_revision_error(value, question):
        return error
    if flux_git_ref(value) != "branch":
        return (f"{question}: must be a branch, such as main (flux bootstrap and the Flux Operator "
                "track a branch, not a version tag, full ref or commit)")
    return ""
