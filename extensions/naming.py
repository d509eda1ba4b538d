"""Every name and path the template derives, as pure functions.

This module is the naming contract of DESIGN.md in code. It imports nothing from Copier,
so it is unit-tested on its own; `extensions/context.py` exposes it to the templates.

The `*_error` functions are the validators behind copier.yml: each returns "" for a good
answer, else one sentence that names the question and the rule it breaks.
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
import re
import shlex
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

# Kubernetes limits: most object names and every label value are DNS-1123 labels (63);
# Helm keeps release names to 53 so that its own suffixes still fit.
LABEL_MAX = 63
RELEASE_MAX = 53

# Suffixes appended to the app name, with the limit each derived name must respect.
# The longest one decides how long `app_name` may be (see APP_NAME_MAX).
DERIVED_SUFFIXES: dict[str, int] = {
    "": RELEASE_MAX,  # base chart and its release
    "-platform": RELEASE_MAX,  # platform chart and its release
    "-base": LABEL_MAX,  # Argo CD Application, Flux Kustomization and HelmRelease
    "-db": LABEL_MAX,  # CloudNativePG Cluster
    "-db-app": LABEL_MAX,  # Secret CloudNativePG writes for the app
    "-db-backup": LABEL_MAX,  # ScheduledBackup
    "-db-replication": LABEL_MAX,  # Secret CloudNativePG writes (its longest suffix)
    "-bucket": LABEL_MAX,  # ObjectBucketClaim, its ConfigMap and Secret
    "-kv": LABEL_MAX,  # Redis (or RedisReplication), its StatefulSet, Service and Secret
    "-kv-additional": LABEL_MAX,  # Service the Redis operator adds (its longest suffix)
    "-secrets": LABEL_MAX,  # ExternalSecret and its Secret
    "-config": LABEL_MAX,  # base chart ConfigMap
    "-data": LABEL_MAX,  # base chart PersistentVolumeClaim
    "-dashboard": LABEL_MAX,  # Grafana dashboard ConfigMap
}
APP_NAME_MAX = min(limit - len(suffix) for suffix, limit in DERIVED_SUFFIXES.items())

_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A whole DNS name, and the domain every app's hostname `<app>.<domain>` is built on.
DNS_NAME_MAX = 253
DOMAIN_MAX = DNS_NAME_MAX - APP_NAME_MAX - 1
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}|\$\{")
# ssh form: user@host:owner/name(.git)
_SCP_URL = re.compile(r"(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^:]+)")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_VERSION_TAG = re.compile(r"(v[0-9]+(\.[0-9]+)*|[0-9]+(\.[0-9]+)+)([-+][0-9A-Za-z.-]+)?")
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
# git check-ref-format: characters no ref name may contain anywhere.
_REF_FORBIDDEN = set(" ~^:?*[\\")
# The OCI distribution reference grammar (distribution/reference), without tag or digest:
# [registry[:port]/]path, each path component alphanumerics joined by '.', '_', '__' or '-'s.
_IMAGE_PATH = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
_IMAGE_COMPONENT = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*")
IMAGE_NAME_MAX = 255
# Docker's rule: a first component without '.' or ':' (other than localhost) is a path on Docker Hub.
DOCKER_HUB = "docker.io"
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_NOTIFICATION_TARGET = re.compile(r"[a-z0-9][-a-z0-9]*:[A-Za-z0-9_#@.-]+")


# --- Validators (copier.yml `validator:`) ---------------------------------------------


def _text_error(question: str, value: object) -> str:
    """The checks every free-text answer shares."""
    if not isinstance(value, str) or not value.strip():
        return f"{question}: a value is required"
    if value.splitlines() != [value]:
        return f"{question}: must be a single line"
    if value != value.strip():
        return f"{question}: must not start or end with spaces"
    # Never meant in a one-line answer; a lone surrogate (undecodable input) has no form in YAML at all.
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        return f"{question}: must not contain control characters"
    if _TEMPLATE_SYNTAX.search(value):
        return f"{question}: must not contain template syntax ({{{{ }}}}, {{% %}}, ${{ }})"
    return ""


def app_name_error(value: object) -> str:
    """`app_name`: a DNS-1035 label short enough for every derived name."""
    return _derived_name_error("app_name", value, APP_NAME_MAX)


def _derived_name_error(question: str, value: object, limit: int) -> str:
    """A name that names objects with suffixes after it: a DNS-1035 label of at most `limit`."""
    if error := _text_error(question, value):
        return error
    if len(value) > limit:
        return (
            f"{question}: at most {limit} characters so that every derived name "
            f"fits Kubernetes limits (got {len(value)})"
        )
    if not _DNS1035_LABEL.fullmatch(value):
        return (
            f"{question}: must be a DNS-1035 label: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return ""


def namespace_error(value: object) -> str:
    """`namespace` (and the org namespaces): a DNS-1123 label."""
    return dns_label_error("namespace", value)


def dns_label_error(question: str, value: object) -> str:
    if error := _text_error(question, value):
        return error
    if len(value) > LABEL_MAX or not _DNS1123_LABEL.fullmatch(value):
        return (
            f"{question}: must be a DNS-1123 label: at most {LABEL_MAX} lowercase letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return ""


def hostname_error(question: str, value: object, allow_port: bool = False) -> str:
    """A DNS name such as a domain; a git host or a registry may add a port."""
    if error := _text_error(question, value):
        return error
    host, colon, port = value.partition(":") if allow_port else (value, "", "")
    if colon and not port_is_valid(port):
        return f"{question}: the port must be a number from 1 to 65535"
    if not is_dns_name(host):
        example = "example.com (optionally :port)" if allow_port else "example.com"
        return (f"{question}: must be a lowercase DNS name such as {example}, at most {DNS_NAME_MAX} "
                f"characters, {LABEL_MAX} per label")
    return ""


def domain_error(value: object) -> str:
    """`domain`: short enough that every app's hostname `<app>.<domain>` is a valid DNS name."""
    if error := hostname_error("domain", value):
        return error
    if len(value) > DOMAIN_MAX:
        return (f"domain: at most {DOMAIN_MAX} characters, so that <app_name>.<domain> fits the "
                f"{DNS_NAME_MAX}-character DNS limit (got {len(value)})")
    return ""


def is_dns_name(host: str) -> bool:
    return (len(host) <= DNS_NAME_MAX and bool(_DNS1123_SUBDOMAIN.fullmatch(host))
            and all(len(label) <= LABEL_MAX for label in host.split(".")))


def port_is_valid(port: str) -> bool:
    """A TCP port as URLs and image references write it: decimal digits, 1-65535."""
    return port.isascii() and port.isdigit() and 1 <= int(port) <= 65535


def repo_url_error(value: object, question: str = "repo_url") -> str:
    """`repo_url`: an https or ssh git URL with an owner and a name, and no credentials."""
    if error := _text_error(question, value):
        return error
    if any(c.isspace() for c in value):
        return f"{question}: must not contain spaces"
    try:
        parse_repo_url(value)
    except ValueError as exc:
        return f"{question}: {exc}"
    return ""


def cluster_server_error(value: object) -> str:
    """`cluster_server`: the https URL of a Kubernetes API server, no credentials or path."""
    if error := _text_error("cluster_server", value):
        return error
    parts = urlsplit(value)
    if (parts.scheme != "https" or "@" in parts.netloc or url_port_error(parts) or parts.path.strip("/")
            or parts.query or parts.fragment or hostname_error("cluster_server", parts.hostname or "")):
        return "cluster_server: must be an https:// URL of an API server, such as https://kubernetes.default.svc"
    return ""


def url_port_error(parts) -> str:
    """The port of a split URL, if it names one, must be 1-65535 in decimal digits."""
    _, colon, port = parts.netloc.rpartition("@")[2].rpartition(":")
    if colon and not port_is_valid(port):
        return "the port must be a number from 1 to 65535"
    return ""


def git_revision_error(value: object, question: str = "git_revision") -> str:
    """`git_revision` (and `default_branch`): a branch, a tag, a full ref or a commit SHA."""
    if error := _text_error(question, value):
        return error
    if re.fullmatch(r"[0-9a-fA-F]{40}", value) and not _COMMIT_SHA.fullmatch(value):
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


def git_secret_name_error(value: object, repo_url: str, controller: str) -> str:
    """`git_secret_name`: required when Flux pulls over ssh, which always needs an identity."""
    if value:
        return dns_label_error("git_secret_name", value)
    if controller != "argocd" and is_ssh_url(repo_url):
        return "git_secret_name: required for an ssh repo_url, since Flux needs an ssh identity to clone"
    return ""


def image_repository_error(value: object) -> str:
    """`image_repository`: an OCI image name, registry optional, without a tag or digest."""
    if error := _text_error("image_repository", value):
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


def container_port_error(value: object) -> str:
    """`container_port`: an unprivileged TCP port, since the image runs as non-root."""
    text = "" if isinstance(value, bool) else str(value)
    if not (text.isascii() and text.isdigit() and 1024 <= int(text) <= 65535):
        return "container_port: must be a number from 1024 to 65535 (the image runs as non-root)"
    return ""


def description_error(value: object) -> str:
    return _text_error("description", value)


def destination_error(path: str, entries: list[str], overwrite: bool) -> str:
    """A copy goes into a new or empty folder (a bare git clone is empty), unless the user
    lets it replace files with --overwrite: Copier would otherwise stop at the first file that
    exists, half-way through, or replace the user's files without a word."""
    entries = [entry for entry in entries if entry != ".git"]
    if entries and not overwrite:
        listed = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        return (f"destination: not empty ({listed}): copy into a new or empty folder, or pass "
                f"--overwrite to let the template replace files of the same name ({path})")
    return ""


def cidr_list_error(question: str, value: object) -> str:
    """Comma-separated IP blocks in CIDR notation (10.0.0.10/32), as NetworkPolicy ipBlock takes them;
    empty for none."""
    if not isinstance(value, str):
        return f"{question}: must be comma-separated CIDR blocks such as 169.254.20.10/32"
    for block in cidr_list(value):
        try:
            ipaddress.ip_network(block)
        except ValueError:
            return f"{question}: {block!r} is not a CIDR block such as 169.254.20.10/32"
    return ""


def cidr_list(value: str) -> list[str]:
    return [block.strip() for block in value.split(",") if block.strip()]


def label_map_error(question: str, value: object) -> str:
    """Comma-separated Kubernetes labels, key=value (key optionally prefixed, as in example.com/team)."""
    if not isinstance(value, str) or any("=" not in pair for pair in _pairs(value)):
        return f"{question}: must be comma-separated labels such as release=kube-prometheus-stack"
    for key, label in label_map(value).items():
        prefix, _, name = key.rpartition("/")
        if (not _LABEL_NAME.fullmatch(name) or (prefix and not _DNS1123_SUBDOMAIN.fullmatch(prefix))
                or not _LABEL_VALUE.fullmatch(label)):
            return f"{question}: {key}={label} is not a valid Kubernetes label"
    return ""


def _pairs(value: str) -> list[str]:
    return [pair.strip() for pair in value.split(",") if pair.strip()]


def label_map(value: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in _pairs(value))


def notification_target_error(question: str, value: object) -> str:
    """service:recipient, as Argo CD notifications subscribe (slack:platform-alerts); empty for none."""
    if value == "":
        return ""
    if not isinstance(value, str) or not _NOTIFICATION_TARGET.fullmatch(value):
        return f"{question}: must be service:recipient, such as slack:platform-alerts"
    return ""


# --- Repository URL ----------------------------------------------------------------------


def parse_repo_url(url: str) -> tuple[str, str, str]:
    """Split a git URL into (host, owner, name); raise ValueError naming the rule broken.

    Accepts https://host/owner/name(.git), ssh://git@host[:port]/owner/name(.git) and
    git@host:owner/name(.git). Owner may hold subgroups (GitLab). Credentials are refused:
    they would end up in the app repository and in every controller's manifests.
    """
    scp = _SCP_URL.fullmatch(url)
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
        scp = _SCP_URL.fullmatch(url)
        return f"ssh://{scp['user']}@{scp['host']}/{scp['path']}"
    return url


def revision_is_tag(revision: str) -> bool:
    """A revision that reads as a version (v1, v1.2.3, 1.2) is a tag; other short names branches."""
    return bool(_VERSION_TAG.fullmatch(revision))


def flux_git_ref(revision: str) -> str:
    """The field of a Flux GitRepository's `spec.ref` that fetches `revision`.

    Argo CD's targetRevision takes a branch, tag, full ref or commit as is; Flux must be told
    which: a full ref is a `name`, a full SHA a `commit`, a version a `tag`, the rest a `branch`.
    """
    if _COMMIT_SHA.fullmatch(revision):
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
    return url.startswith("ssh://") or (bool(_SCP_URL.fullmatch(url)) and "://" not in url)


def default_git_secret_name(repo_url: str, app_name: str, controller: str) -> str:
    """`<app>-git` where Flux will need credentials (ssh); none for https, usually public."""
    return f"{app_name}-git" if controller != "argocd" and is_ssh_url(repo_url) else ""


def default_repo_url(git_host: str, git_owner: str, app_name: str) -> str:
    return f"https://{git_host}/{git_owner}/{app_name}.git"


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


# Answers whose default copier.yml derives from other answers, each from those before it.
DERIVED_ANSWERS = ("repo_url", "image_repository", "git_revision", "git_secret_name")


def derived_defaults(answers: dict) -> dict[str, str]:
    """The defaults copier.yml gives DERIVED_ANSWERS for these answers."""
    return {
        "repo_url": default_repo_url(answers["git_host"], answers["git_owner"], answers["app_name"]),
        "image_repository": default_image_repository(answers["repo_url"], answers["image_registry"]),
        "git_revision": answers["default_branch"],
        "git_secret_name": default_git_secret_name(answers["repo_url"], answers["app_name"],
                                                   answers["gitops_controller"]),
    }


def rederive(answers: dict, changes: dict) -> dict:
    """The answers after `changes`, where each derived answer that still held its derived
    default follows the change (an app never stays half on old org defaults); one the team
    chose stays."""
    old_defaults = derived_defaults(answers)
    new = {**answers, **changes}
    for key in DERIVED_ANSWERS:
        if key not in changes and answers.get(key) == old_defaults[key]:
            new[key] = derived_defaults(new)[key]
    return new


# --- The naming contract -------------------------------------------------------------------


def derived_names(app_name: str) -> dict[str, str]:
    """Every name DESIGN.md's naming contract derives from the app name."""
    return {
        "base_release": app_name,
        "platform_release": f"{app_name}-platform",
        "base_chart": app_name,
        "platform_chart": f"{app_name}-platform",
        "argocd_project": app_name,
        "argocd_base_app": f"{app_name}-base",
        "argocd_platform_app": f"{app_name}-platform",
        "flux_source": app_name,
        "flux_base": f"{app_name}-base",
        "flux_platform": f"{app_name}-platform",
        "flux_platform_source": f"{app_name}-platform",
        "database_cluster": f"{app_name}-db",
        "database_secret": f"{app_name}-db-app",
        "database_backup": f"{app_name}-db-backup",
        "bucket_claim": f"{app_name}-bucket",
        "kv_store": f"{app_name}-kv",
        "app_secret": f"{app_name}-secrets",
    }


# Paths inside the generated app, relative to its root; the controllers reference them.
# (The folders under template/ carry the same paths: tests check every reference resolves.)
PATHS: dict[str, str] = {
    "base_chart_path": "helm/base",
    "platform_chart_path": "helm/platform",
    "base_values_path": "gitops/values-base.yaml",
    "platform_values_path": "gitops/values-platform.yaml",
    "flux_base_path": "gitops/fluxcd-releases/base",
    "flux_platform_path": "gitops/fluxcd-releases/platform",
}


PLATFORM_FEATURES = ("postgres", "object_storage", "key_value_store", "external_secrets", "monitoring")
# The git tag a person moves onto a commit once its platform changes are reviewed; Flux deploys the
# platform from it when platform_sync is manual.
PLATFORM_REVIEW_TAG = "platform-reviewed"


def derive(answers: dict) -> dict[str, object]:
    """All derived values for a set of answers; {} while `app_name` is not answered yet."""
    if answers.get("project_kind") == "orchestration":
        return derive_orchestration(answers)
    keys = ("app_name", "repo_url", "gitops_controller", "git_revision", "domain", "image_repository")
    derived = dict(_derive(*(answers.get(key) for key in keys)))
    if derived:
        # With no platform feature there is nothing to wait for or to review.
        derived["has_platform"] = any(answers.get(feature) for feature in PLATFORM_FEATURES)
        derived["platform_needs_review"] = derived["has_platform"] and answers.get("platform_sync") == "manual"
        derived["platform_review_tag"] = PLATFORM_REVIEW_TAG
    return derived


# Copier builds a rendering context for every file, path and question: derive once per answers.
@lru_cache(maxsize=64)
def _derive(app_name: object, repo_url: object, controller: object, revision: object, domain: object,
            image: object) -> tuple:
    if not isinstance(app_name, str) or app_name_error(app_name):
        return ()
    derived: dict[str, object] = {**derived_names(app_name), **PATHS}
    # Argo CD resolves valueFiles from the chart's folder.
    for chart in ("base", "platform"):
        derived[f"{chart}_values_from_chart"] = posixpath.relpath(PATHS[f"{chart}_values_path"],
                                                                  PATHS[f"{chart}_chart_path"])
    if isinstance(repo_url, str) and not repo_url_error(repo_url):
        host = parse_repo_url(repo_url)[0]
        derived.update(repo_host=host, repo_is_github=repo_is_github(host), repo_is_ssh=is_ssh_url(repo_url),
                       flux_repo_url=flux_repo_url(repo_url))
    if isinstance(revision, str):
        derived.update(flux_git_ref=flux_git_ref(revision), revision_is_pinned=revision_is_pinned(revision))
    if isinstance(domain, str):
        derived["app_hostname"] = f"{app_name}.{domain}"
    if isinstance(image, str) and not image_repository_error(image):
        derived["image_registry_host"] = split_image_repository(image)[0]
    derived["use_argocd"] = controller in ("both", "argocd")
    derived["use_fluxcd"] = controller in ("both", "fluxcd")
    return tuple(derived.items())


# --- Answers written into files ------------------------------------------------------------

# Characters a YAML double-quoted scalar may carry as they are: printable, and not read as a
# line break (NEL, LINE/PARAGRAPH SEPARATOR fold in YAML 1.1) or a byte order mark.
_YAML_LITERAL = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def yaml_string(value: object) -> str:
    """`value` as a YAML double-quoted scalar that Go's go-yaml (Helm, Argo CD, Flux) and
    PyYAML both read back as exactly the same string.

    Plain scalars are not: `on`, `y`, `12`, `1e3`, `null` read as booleans, numbers or null,
    and not all alike in YAML 1.1, 1.2 and Go. `tojson` is not either: it escapes characters
    outside the Basic Multilingual Plane as surrogate pairs, which Go rejects. Here anything
    not safe as is becomes a \\u or \\U escape of its whole code point, which both accept.
    """
    text = str(value)
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif _YAML_LITERAL.fullmatch(char):
            out.append(char)
        elif "\ud800" <= char <= "\udfff":
            raise ValueError(f"{text!r}: a lone surrogate has no form in YAML")
        elif char <= "\uffff":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


# Characters that start emphasis, code, links, HTML, entities or table cells anywhere in Markdown.
_MARKDOWN_ACTIVE = re.compile(r"[\\`*_\[\]<>|~&]")
# An ordered list marker (1. or 1)) at the start of a line.
_MARKDOWN_LIST_NUMBER = re.compile(r"[0-9]{1,9}(?=[.)])")


def markdown_text(value: object) -> str:
    """`value` as Markdown (CommonMark, GitHub) that renders as exactly that text, in a paragraph
    or a table cell: a backslash before anything that would start markup."""
    text = _MARKDOWN_ACTIVE.sub(lambda match: "\\" + match[0], str(value))
    if number := _MARKDOWN_LIST_NUMBER.match(text):
        return f"{number[0]}\\{text[number.end():]}"
    # Headings, lists and setext underlines.
    return "\\" + text if text.startswith(("#", "+", "-", "=")) else text


def shell_word(value: object) -> str:
    """`value` as one shell word, quoted only if it needs to be, for commands a README gives."""
    return shlex.quote(str(value))


def markdown_code(value: object) -> str:
    """`value` as a Markdown code span, fenced by more backticks than it holds in a row."""
    text = str(value)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# --- The orchestration repository ----------------------------------------------------------
#
# The second kind of project (copier.yml `project_kind`): one repository that assembles
# registered apps onto a cluster run by one controller. An app names its GitOps objects <app>,
# <app>-base and <app>-platform (derived_names); the orchestration names its own
# <orchestration>, <orchestration>-apps and <orchestration>-infrastructure, and the object
# applying each registered app's gitops/ folder <app>-gitops. registry_errors() refuses the few
# registrations whose names could still meet another object's.

# Suffixes of the orchestration's own names, with the limit each derived name must respect.
ORCHESTRATION_SUFFIXES: dict[str, int] = {
    "": LABEL_MAX,  # Argo CD root Application and its AppProject
    "-apps": RELEASE_MAX,  # the apps layer: the registry chart's Helm release, its AppProject
    "-infrastructure": LABEL_MAX,  # the infrastructure layer, ready before any app
}
ORCHESTRATION_NAME_MAX = min(limit - len(suffix) for suffix, limit in ORCHESTRATION_SUFFIXES.items())
# The Argo CD Application, or Flux GitRepository and Kustomization, applying a registered app's
# gitops/<controller> folder: <app>-gitops. No app names an object of its own so.
REGISTERED_SUFFIX = "-gitops"

# Folders of the orchestration repository, and the app repository's folder per controller.
ORCHESTRATION_PATHS = {
    "registry": "registry",  # the registry chart, which renders each controller's objects
    "infrastructure": "infrastructure",  # what apps need installed before them
}
APP_GITOPS_PATHS = {"argocd": "gitops/argocd", "fluxcd": "gitops/fluxcd"}
# Each app's charts, whose values an environment may override (environment_paths "values").
APP_CHARTS = ("base", "platform")

# A registry entry: the registered app's own answers, as this cluster deploys it.
REGISTRY_FIELDS = ("app_name", "repo_url", "git_revision", "namespace", "git_secret_name")
REGISTRY_REQUIRED = REGISTRY_FIELDS[:4]
_REGISTRY_LINE = re.compile(r'(?P<key>[a-z_]+): (?P<value>".*")')

# The answers orchestration_settings() carries into the repository (registry/orchestration.json).
ORCHESTRATION_ANSWERS = (
    "orchestration_name", "orchestration_repo_url", "orchestration_branch", "environments",
    "cluster_controller", "argocd_applicationset", "git_host", "git_owner", "default_branch",
    "argocd_namespace", "flux_namespace", "cluster_server",
)


def orchestration_name_error(value: object) -> str:
    """`orchestration_name`: a DNS-1035 label short enough for every name derived from it."""
    return _derived_name_error("orchestration_name", value, ORCHESTRATION_NAME_MAX)


def environment_names(value: str) -> list[str]:
    """The environments answer ("staging,production") as a list."""
    return [name.strip() for name in value.split(",")]


def environments_error(value: object) -> str:
    """`environments`: comma-separated DNS labels, each named once."""
    if not isinstance(value, str) or not value.strip():
        return "environments: required: one or more names separated by commas, such as staging,production"
    names = environment_names(value)
    for name in names:
        if not name:
            return f"environments: no empty name between commas (got {value!r})"
        if error := dns_label_error("environments", name):
            return f"{error} (each of the comma-separated names; got {name!r})"
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        return f"environments: each environment is named once; {', '.join(repeated)} is repeated"
    return ""


def environment_paths(environment: str) -> dict[str, str]:
    """An environment's folders: its entry point, its registry of apps and their value overrides."""
    registry = f"{ORCHESTRATION_PATHS['registry']}/environments/{environment}"
    return {"cluster": f"clusters/{environment}", "apps": f"{registry}/apps", "values": f"{registry}/values"}


def override_file(environment: str, app_name: str, chart: str) -> str:
    """An environment's values for one chart of one app, layered over the app's own."""
    return f"{environment_paths(environment)['values']}/{app_name}-{chart}.yaml"


def branch_error(value: object, question: str) -> str:
    """A branch name: what `flux bootstrap` and the Flux Operator track."""
    if error := git_revision_error(value, question):
        return error
    if flux_git_ref(value) != "branch":
        return (f"{question}: must be a branch, such as main (flux bootstrap and the Flux Operator "
                "track a branch, not a version tag, full ref or commit)")
    return ""


def orchestration_names(name: str) -> dict[str, str]:
    """The orchestration's own object names, from its name."""
    return {
        "root_app": name,
        "root_project": name,
        "infrastructure_layer": f"{name}-infrastructure",
        # Argo CD: the AppProject of the infrastructure's Applications.
        "infrastructure_project": f"{name}-infrastructure",
        "apps_layer": f"{name}-apps",
        "apps_project": f"{name}-apps",
    }


def _infrastructure_releases() -> list[str]:
    """The infrastructure layer's Helm releases, each an Argo CD Application or Flux HelmRelease
    of that name (the catalogue is defined below, with the layer)."""
    return [entry["name"] for entry in INFRASTRUCTURE_CATALOGUE] + [INFRASTRUCTURE_CONFIGS]


def registered_name(app_name: str) -> str:
    return f"{app_name}{REGISTERED_SUFFIX}"


def _own_objects(settings: dict) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the orchestration's own GitOps objects on its cluster."""
    names = settings["names"]
    if settings["cluster_controller"] == "argocd":
        namespace = settings["argocd_namespace"]
        own = [("AppProject", names["root_project"]), ("Application", names["root_app"]),
               ("Application", names["infrastructure_layer"]), ("Application", names["apps_layer"]),
               ("AppProject", names["apps_project"]), ("AppProject", names["infrastructure_project"])]
        own += [("Application", name) for name in _infrastructure_releases()]
        if settings["argocd_applicationset"]:
            own.append(("ApplicationSet", names["apps_layer"]))
    else:
        namespace = settings["flux_namespace"]
        # flux bootstrap and the Flux Operator name the cluster's sync after Flux's namespace.
        own = [("GitRepository", namespace), ("Kustomization", namespace),
               ("Kustomization", names["infrastructure_layer"]), ("HelmRelease", names["apps_layer"])]
        own += [("HelmRelease", name) for name in _infrastructure_releases()]
        own += [("OCIRepository" if entry["repo"].startswith("oci://") else "HelmRepository", entry["name"])
                for entry in INFRASTRUCTURE_CATALOGUE]
    return [(kind, namespace, name) for kind, name in own]


def _registered_objects(settings: dict, app_name: str) -> list[tuple[tuple[str, str, str], str]]:
    """What one registered app puts on the cluster, GitOps objects only, each with its creator:
    the orchestration's object applying the app's gitops/ folder, and what that folder holds."""
    names = derived_names(app_name)
    ours, theirs = f"the orchestration (for app {app_name})", f"app {app_name}"
    gitops = registered_name(app_name)
    if settings["cluster_controller"] == "argocd":
        namespace = settings["argocd_namespace"]
        objects = [(("Application", gitops), ours), (("AppProject", names["argocd_project"]), theirs),
                   (("Application", names["argocd_base_app"]), theirs),
                   (("Application", names["argocd_platform_app"]), theirs)]
    else:
        namespace = settings["flux_namespace"]
        objects = [(("GitRepository", gitops), ours), (("Kustomization", gitops), ours),
                   (("GitRepository", names["flux_source"]), theirs)]
        objects += [((kind, names[key]), theirs) for key in ("flux_base", "flux_platform")
                    for kind in ("Kustomization", "HelmRelease")]
    return [((kind, namespace, name), creator) for (kind, name), creator in objects]


def reserved_app_names(settings: dict) -> list[str]:
    """App names a registration must not take: their objects would be the orchestration's own."""
    own = set(_own_objects(settings))
    candidates = {name.removesuffix(suffix) for _, _, name in own for suffix in ("", "-base", "-platform")}
    candidates |= {name.removesuffix(REGISTERED_SUFFIX) for _, _, name in own}
    return sorted(name for name in candidates if not app_name_error(name)
                  and any(key in own for key, _ in _registered_objects(settings, name)))


def registry_entry_errors(entry: dict, filename: str, controller: str) -> list[str]:
    """What is wrong with one registry entry, each message naming the field and the rule."""
    errors = [f"unknown field {key} (the fields are {', '.join(REGISTRY_FIELDS)})"
              for key in entry if key not in REGISTRY_FIELDS]
    missing = [key for key in REGISTRY_REQUIRED if key not in entry]
    errors += [f"{key}: required" for key in missing]
    if missing:
        return errors
    checks = (app_name_error(entry["app_name"]), repo_url_error(entry["repo_url"]),
              git_revision_error(entry["git_revision"]), namespace_error(entry["namespace"]),
              git_secret_name_error(entry.get("git_secret_name", ""), entry["repo_url"], controller))
    errors += [error for error in checks if error]
    if not errors and filename != f"{entry['app_name']}.yaml":
        errors.append(f"app_name: the file must be named after it, {entry['app_name']}.yaml")
    return errors


def registry_errors(settings: dict, entries: dict[str, dict]) -> list[str]:
    """Every reason the registry (file name -> entry) cannot be deployed as it is: a bad entry,
    two objects of one kind, namespace and name, or apps whose objects could meet."""
    errors = [f"{filename}: {error}" for filename, entry in sorted(entries.items())
              for error in registry_entry_errors(entry, filename, settings["cluster_controller"])]
    if errors:
        return errors
    creators: dict[tuple[str, str, str], str] = {key: "the orchestration" for key in _own_objects(settings)}
    for filename, entry in sorted(entries.items()):
        for key, creator in _registered_objects(settings, entry["app_name"]):
            if key in creators:
                kind, namespace, name = key
                errors.append(f"{filename}: {kind} {namespace}/{name} would be created by both "
                              f"{creators[key]} and {creator}: register the app under another name")
            creators.setdefault(key, creator)
    # Each app names its objects <app> and <app>-<suffix>: in one namespace, "a" and "a-db" could meet.
    apps = sorted((entry["namespace"], entry["app_name"]) for entry in entries.values())
    for namespace, first in apps:
        for other_namespace, second in apps:
            if namespace == other_namespace and second.startswith(f"{first}-"):
                errors.append(f"{second}.yaml: namespace {namespace} already holds app {first}, and {second} "
                              f"starts with {first}-, so their objects could share names: use another namespace")
    return errors


def registry_entry_text(entry: dict) -> str:
    """A registry entry as `make register` writes it: one double-quoted string per field."""
    lines = ["# A registered app, as this cluster deploys it (`make register` writes this, `make remove` deletes it)."]
    lines += [f"{key}: {yaml_string(entry[key])}" for key in REGISTRY_FIELDS if entry.get(key)]
    return "\n".join(lines) + "\n"


def parse_registry_entry(text: str) -> dict[str, str]:
    """A registry entry: `key: "value"` lines (double-quoted, as YAML and JSON both read them
    alike) and comments. Anything else is refused, naming its line."""
    entry: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _REGISTRY_LINE.fullmatch(line)
        try:
            value = json.loads(match["value"]) if match else None
        except ValueError:
            value = None
        if not isinstance(value, str):
            raise ValueError(f'line {number}: write each field as key: "value", one per line, the value '
                             'double-quoted (\\" and \\\\ inside it)')
        if match["key"] in entry:
            raise ValueError(f"line {number}: {match['key']} is given twice")
        entry[match["key"]] = value
    return entry


def override_errors(settings: dict, filenames: list[str], apps: list[str]) -> list[str]:
    """What is wrong with an environment's values/ folder (its file names), given the apps it
    runs: each file overrides one chart of one of them, <app>-base.yaml or <app>-platform.yaml."""
    expected = {f"{app}-{chart}.yaml" for app in apps for chart in settings["app_charts"]}
    errors = [f"{name}: overrides no chart of an app this environment runs (the files are <app>-"
              f"{{{','.join(settings['app_charts'])}}}.yaml, for a registered app)"
              for name in filenames if name not in expected]
    if filenames and settings["argocd_applicationset"]:
        errors.append(f"{filenames[0]}: value overrides need the App-of-Apps: the ApplicationSet's git "
                      "generator reads the registry entries only (argocd_applicationset: false)")
    return errors


def promotion_error(revision: str, source: str, given: bool) -> str:
    """A revision promoted from `source`: a fixed one (a tag or commit), unless named on purpose."""
    if error := git_revision_error(revision):
        return error
    if not given and (flux_git_ref(revision) == "branch" or revision.startswith("refs/heads/")):
        return (f"git_revision: {source} follows the branch {revision}, which moves: promote the tag or "
                "commit it runs now, named with --git-revision (GIT_REVISION=v1.2.0)")
    return ""


def orchestration_settings(answers: dict) -> dict:
    """What the orchestration repository's tools read (registry/orchestration.json): its answers
    and every name, path and rule they derive, so the registry chart (Go templates) and
    scripts/registry.py (Python) apply the rules of this module, not copies of them."""
    settings = {key: answers[key] for key in ORCHESTRATION_ANSWERS}
    settings["argocd_applicationset"] = bool(settings["argocd_applicationset"]
                                             and settings["cluster_controller"] == "argocd")
    settings["names"] = orchestration_names(answers["orchestration_name"])
    settings["registered_suffix"] = REGISTERED_SUFFIX
    settings["environments"] = environment_names(answers["environments"])
    settings["paths"] = {**ORCHESTRATION_PATHS,
                         **{f"app_{controller}": path for controller, path in APP_GITOPS_PATHS.items()},
                         "environments": {name: environment_paths(name) for name in settings["environments"]}}
    settings["app_charts"] = list(APP_CHARTS)
    settings["reserved_app_names"] = reserved_app_names(settings)
    # flux_git_ref() and flux_repo_url(), for the registry chart's Go templates (RE2 reads them alike).
    settings["patterns"] = {"commit": _COMMIT_SHA.pattern, "version_tag": _VERSION_TAG.pattern,
                            "scp_url": _SCP_URL.pattern}
    return settings


def derive_orchestration(answers: dict) -> dict[str, object]:
    """The derived values of an orchestration project; its names as soon as its name is valid."""
    name = answers.get("orchestration_name")
    if not isinstance(name, str) or orchestration_name_error(name):
        return {}
    derived: dict[str, object] = dict(orchestration_names(name))
    controller = answers.get("cluster_controller")
    derived.update(use_argocd=controller == "argocd", use_fluxcd=controller == "fluxcd")
    if (all(isinstance(answers.get(key), (str, bool)) for key in ORCHESTRATION_ANSWERS)
            and not environments_error(answers["environments"])):
        settings = orchestration_settings(answers)
        url = settings["orchestration_repo_url"]
        derived.update(
            orchestration=settings,
            use_applicationset=settings["argocd_applicationset"],
            environment_list=settings["environments"],
            platform_review_tag=PLATFORM_REVIEW_TAG,
            flux_orchestration_url=flux_repo_url(url),
            orchestration_is_ssh=is_ssh_url(url),
            flux_sync_ref=f"refs/heads/{settings['orchestration_branch']}",
            registry_picture=registry_picture(settings, {}),
            diagram_start=DIAGRAM_START,
            diagram_end=DIAGRAM_END,
        )
    if (all(isinstance(answers.get(key), str) for key in (*INFRASTRUCTURE_ORG_DEFAULTS, "infrastructure_profile"))
            and not any(label_map_error(key, answers[key])
                        for key in ("prometheus_labels", "grafana_dashboard_labels"))):
        derived["infrastructure"] = infrastructure_settings(answers)
    return derived


# --- The registry's picture (README.md) ----------------------------------------------------

DIAGRAM_START = "<!-- registry diagram: `make diagram` writes it from registry/environments/ -->"
DIAGRAM_END = "<!-- end of registry diagram -->"
# Characters Mermaid shows as they are in a quoted label; any other becomes an entity code.
_MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 ._/:@+-]")


def mermaid_text(text: str) -> str:
    return "".join(c if _MERMAID_PLAIN.fullmatch(c) else f"#{ord(c)};" for c in text)


def _node(node_id: str, *lines: str) -> str:
    return f'  {node_id}["{"<br>".join(mermaid_text(line) for line in lines)}"]'


def registry_diagram(settings: dict, registries: dict[str, list[dict]]) -> str:
    """The graph each environment's controller follows, root to layers to apps, as a Mermaid
    flowchart: one subgraph per environment, from its registry (environment -> entries)."""
    names = settings["names"]
    argocd = settings["cluster_controller"] == "argocd"
    kinds = ("Application", "Application", "Application") if argocd else (
        "Kustomization", "Kustomization", "HelmRelease")
    root = names["root_app"] if argocd else settings["flux_namespace"]
    kind = "Application" if argocd else "Kustomization"
    lines = ["flowchart LR"]
    for environment in settings["environments"]:
        paths = settings["paths"]["environments"][environment]
        node = environment.replace("-", "_") + "_"
        lines += [
            f"  subgraph {node}env[\"{mermaid_text(environment)}\"]",
            _node(f"{node}root", f"{kinds[0]} {root}", paths["cluster"] + "/"),
            _node(f"{node}infrastructure", f"{kinds[1]} {names['infrastructure_layer']}",
                  settings["paths"]["infrastructure"] + "/"),
            _node(f"{node}apps", f"{kinds[2]} {names['apps_layer']}", paths["apps"] + "/"),
            f"  {node}root --> {node}infrastructure",
            f"  {node}root --> {node}apps",
            f'  {node}infrastructure -. "ready before every app" .-> {node}apps',
        ]
        parent = f"{node}apps"
        if settings["argocd_applicationset"]:
            lines += [_node(f"{node}applicationset", f"ApplicationSet {names['apps_layer']}",
                            paths["apps"] + "/*.yaml"), f"  {node}apps --> {node}applicationset"]
            parent = f"{node}applicationset"
        entries = sorted(registries.get(environment, []), key=lambda entry: entry["app_name"])
        for entry in entries:
            node_id = node + "app_" + entry["app_name"].replace("-", "_")
            lines += [_node(node_id, f"{kind} {registered_name(entry['app_name'])}",
                            f"{entry['repo_url']} @ {entry['git_revision']}", f"namespace {entry['namespace']}"),
                      f"  {parent} --> {node_id}"]
        if not entries:
            lines += [_node(f"{node}none", "no app registered yet"), f"  {parent} --> {node}none"]
        lines.append("  end")
    return "\n".join(lines) + "\n"


def versions_table(settings: dict, registries: dict[str, list[dict]]) -> str:
    """Which revision of each app each environment runs, as a Markdown table ("-": not there)."""
    environments = settings["environments"]
    revisions: dict[str, dict[str, str]] = {}
    for environment in environments:
        for entry in registries.get(environment, []):
            revisions.setdefault(entry["app_name"], {})[environment] = entry["git_revision"]
    rows = [["app", *environments], ["---"] * (len(environments) + 1)]
    rows += [[app, *(markdown_code(revisions[app][environment]) if environment in revisions[app] else "-"
                     for environment in environments)] for app in sorted(revisions)]
    if not revisions:
        rows.append(["no app registered yet", *("-" for _ in environments)])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def registry_picture(settings: dict, registries: dict[str, list[dict]]) -> str:
    """README.md's generated block: the graph, then which version runs where."""
    return (f"```mermaid\n{registry_diagram(settings, registries)}```\n\n"
            f"Which revision of each app each environment runs:\n\n{versions_table(settings, registries)}")


def with_diagram(readme: str, picture: str) -> str:
    """README.md with the block between the registry diagram's markers replaced by `picture`."""
    start, end = readme.find(DIAGRAM_START), readme.find(DIAGRAM_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no registry diagram: keep the lines {DIAGRAM_START} and {DIAGRAM_END}")
    start += len(DIAGRAM_START)
    return f"{readme[:start]}\n{picture}{readme[end:]}"



# --- The infrastructure layer ---------------------------------------------------------------
#
# What an orchestration installs before any app: the operators the app template's charts use,
# each an upstream Helm chart pinned to a version, and the configs chart (infrastructure/configs)
# with the objects the apps attach to: the Gateway, the secret store, the bucket StorageClass.
# Names and namespaces come from the org defaults the app template reads, so both agree.
#
# Versions and CRD lists were read from each project's repository (a snapshot of August 2026):
# the chart's Chart.yaml at its release tag, and the group/kind of every CustomResourceDefinition
# the chart installs at that tag (its crds/ or templates). Renovate bumps the versions
# (renovate.json); a bump that adds CRDs updates `crds` here.

# Every component's CRDs, as (group, kinds): what the catalogue claims it installs.
_CERT_MANAGER_CRDS = (("cert-manager.io", ("Certificate", "CertificateRequest", "ClusterIssuer", "Issuer")),
                      ("acme.cert-manager.io", ("Challenge", "Order")))
_CNPG_CRDS = (("postgresql.cnpg.io", ("Backup", "Cluster", "ClusterImageCatalog", "Database", "DatabaseRole",
                                      "FailoverQuorum", "ImageCatalog", "Pooler", "Publication", "ScheduledBackup",
                                      "Subscription")),)
_ESO_CRDS = (("external-secrets.io", ("ClusterExternalSecret", "ClusterPushSecret", "ClusterSecretStore",
                                      "ExternalSecret", "PushSecret", "SecretStore")),
             # Generators (the key-value store's Password among them): deploy/crds/bundle.yaml at v2.9.0.
             ("generators.external-secrets.io", ("ACRAccessToken", "BeyondtrustWorkloadCredentialsDynamicSecret",
                                                 "CloudsmithAccessToken", "ClusterGenerator", "ECRAuthorizationToken",
                                                 "Fake", "GCRAccessToken", "GeneratorState", "GithubAccessToken",
                                                 "GitlabDeployToken", "Grafana", "MFA", "Password", "QuayAccessToken",
                                                 "SSHKey", "STSSessionToken", "UUID", "VaultDynamicSecret",
                                                 "Webhook")))
_PROMETHEUS_CRDS = (("monitoring.coreos.com", ("Alertmanager", "AlertmanagerConfig", "PodMonitor", "Probe",
                                               "Prometheus", "PrometheusAgent", "PrometheusRule", "ScrapeConfig",
                                               "ServiceMonitor", "ThanosRuler")),)
_GATEWAY_CRDS = (("gateway.networking.k8s.io", ("BackendTLSPolicy", "GRPCRoute", "Gateway", "GatewayClass",
                                                "HTTPRoute", "ListenerSet", "ReferenceGrant", "TCPRoute", "TLSRoute",
                                                "UDPRoute")),
                 ("gateway.envoyproxy.io", ("Backend", "BackendTrafficPolicy", "ClientTrafficPolicy",
                                            "EnvoyExtensionPolicy", "EnvoyPatchPolicy", "EnvoyProxy", "HTTPRouteFilter",
                                            "SecurityPolicy")))
_ROOK_CRDS = (("ceph.rook.io", ("CephBlockPool", "CephBlockPoolRadosNamespace", "CephBucketNotification",
                                "CephBucketTopic", "CephCOSIDriver", "CephClient", "CephCluster", "CephFilesystem",
                                "CephFilesystemMirror", "CephFilesystemSubVolumeGroup", "CephNFS", "CephNVMeOFGateway",
                                "CephObjectRealm", "CephObjectStore", "CephObjectStoreAccount", "CephObjectStoreUser",
                                "CephObjectZone", "CephObjectZoneGroup", "CephRBDMirror")),
              ("objectbucket.io", ("ObjectBucket", "ObjectBucketClaim")))
_REDIS_CRDS = (("redis.redis.opstreelabs.in", ("Redis", "RedisCluster", "RedisReplication", "RedisSentinel")),)

# cert-manager's namespace: its "cluster resource namespace", where ClusterIssuers find their Secrets.
CERT_MANAGER_NAMESPACE = "cert-manager"

# The upstream components, in install order. `repo` is a Helm repository (https://) or an OCI
# repository (oci://, the chart's full reference); `namespace` None: it follows an org default
# (infrastructure_components). Each `depends_on` is installed and ready first. `own_resources`:
# the chart creates custom resources of the CRDs it installs, in the same sync.
INFRASTRUCTURE_CATALOGUE: tuple[dict, ...] = (
    {"name": "cert-manager", "namespace": CERT_MANAGER_NAMESPACE, "repo": "https://charts.jetstack.io",
     "chart": "cert-manager", "version": "v1.21.1", "crds": _CERT_MANAGER_CRDS, "depends_on": ()},
    {"name": "cloudnative-pg", "namespace": "cnpg-system", "repo": "https://cloudnative-pg.github.io/charts",
     "chart": "cloudnative-pg", "version": "0.29.0", "crds": _CNPG_CRDS, "depends_on": ()},
    # The plugin runs beside the operator, in its namespace; its TLS certificates come from cert-manager.
    {"name": "plugin-barman-cloud", "namespace": "cnpg-system", "repo": "https://cloudnative-pg.github.io/charts",
     "chart": "plugin-barman-cloud", "version": "0.7.0", "crds": (("barmancloud.cnpg.io", ("ObjectStore",)),),
     "depends_on": ("cert-manager", "cloudnative-pg")},
    {"name": "external-secrets", "namespace": "external-secrets", "repo": "https://charts.external-secrets.io",
     "chart": "external-secrets", "version": "2.9.0", "crds": _ESO_CRDS, "depends_on": ()},
    # Its Prometheus selects the monitors labelled release=<this release> by default: the org's
    # prometheus_labels default names it.
    {"name": "kube-prometheus-stack", "namespace": None, "repo": "https://prometheus-community.github.io/helm-charts",
     "chart": "kube-prometheus-stack", "version": "88.5.3", "crds": _PROMETHEUS_CRDS, "depends_on": (),
     "own_resources": True},
    # The Gateway API CRDs (standard channel) and Envoy Gateway's own, released with Envoy Gateway.
    {"name": "gateway-api-crds", "namespace": None, "repo": "oci://docker.io/envoyproxy/gateway-crds-helm",
     "chart": "gateway-crds-helm", "version": "v1.9.0", "crds": _GATEWAY_CRDS, "depends_on": ()},
    {"name": "envoy-gateway", "namespace": None, "repo": "oci://docker.io/envoyproxy/gateway-helm",
     "chart": "gateway-helm", "version": "v1.9.0", "crds": (), "depends_on": ("gateway-api-crds",)},
    # Rook's operator and the ObjectBucketClaim provisioner; the Ceph cluster is in the configs.
    {"name": "rook-ceph", "namespace": "rook-ceph", "repo": "https://charts.rook.io/release",
     "chart": "rook-ceph", "version": "v1.20.6", "crds": _ROOK_CRDS, "depends_on": ()},
    # Opstree's documented namespace, which the key-value store's NetworkPolicy admits
    # (helm/platform keyValueStore.operatorNamespace).
    {"name": "redis-operator", "namespace": "ot-operators", "repo": "https://ot-container-kit.github.io/helm-charts",
     "chart": "redis-operator", "version": "0.26.1", "crds": _REDIS_CRDS, "depends_on": ()},
)
# The configs chart (infrastructure/configs): the objects the apps attach to, once every operator is ready.
INFRASTRUCTURE_CONFIGS = "infrastructure-configs"
INFRASTRUCTURE_PATHS = {"infrastructure_configs": "infrastructure/configs"}
# The base chart's egress to a bucket endpoint names Rook's namespace (platform.objectStorage.namespace).
ROOK_NAMESPACE = "rook-ceph"
CEPH_IMAGE = "quay.io/ceph/ceph:v20.2.4"  # Rook v1.20.6's deploy/examples/cluster.yaml
OBJECT_STORE_NAME = "objects"
# The homelab secret store: the Kubernetes provider, reading Secrets <app> from this namespace.
SECRETS_NAMESPACE = "secrets"
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
GATEWAY_CLASS = "envoy-gateway"
VAULT_DEFAULTS = {"path": "secret", "version": "v2", "auth_mount": "kubernetes", "role": "external-secrets"}
# The org defaults the layer reads, so that it agrees with the apps.
INFRASTRUCTURE_ORG_DEFAULTS = ("domain", "gateway_name", "gateway_namespace", "gateway_proxy_namespace",
                               "prometheus_namespace", "prometheus_labels", "grafana_dashboard_labels",
                               "bucket_storage_class", "secret_store_kind", "secret_store_name")
_VAULT_SERVER = re.compile(r"https?://[^/?#@\s]+/?")


def vault_server_error(value: object) -> str:
    """`vault_server`: the http(s) URL of a Vault server, no credentials or path."""
    if error := _text_error("vault_server", value):
        return error
    parts = urlsplit(value)
    if (not _VAULT_SERVER.fullmatch(value) or url_port_error(parts)
            or hostname_error("vault_server", parts.hostname or "")):
        return "vault_server: must be an http:// or https:// URL of a Vault server, such as http://vault.vault.svc:8200"
    return ""


def _first_label(labels: dict[str, str]) -> tuple[str, str]:
    # The Grafana sidecar matches one label: an app's dashboard carries them all. With none,
    # the sidecar's own default.
    return sorted(labels.items())[0] if labels else ("grafana_dashboard", "1")


def infrastructure_components(answers: dict) -> list[dict]:
    """The installed components, in install order: the catalogue's entry with its namespace,
    the values both controllers pass, and its sync wave (one more than its deepest dependency),
    then the configs chart, after all of them."""
    proxy_namespace = answers["gateway_proxy_namespace"]
    namespaces = {"kube-prometheus-stack": answers["prometheus_namespace"],
                  # Envoy Gateway's default mode runs the proxies in its controller's namespace.
                  "gateway-api-crds": proxy_namespace or ENVOY_GATEWAY_NAMESPACE,
                  "envoy-gateway": proxy_namespace or ENVOY_GATEWAY_NAMESPACE}
    prometheus_labels = label_map(answers["prometheus_labels"])
    selector = {"matchLabels": prometheus_labels}
    dashboard_label, dashboard_value = _first_label(label_map(answers["grafana_dashboard_labels"]))
    envoy = {"crds": {"enabled": False}}
    if not proxy_namespace:
        envoy["config"] = {"envoyGateway": {"provider": {"type": "Kubernetes", "kubernetes": {
            "deploy": {"type": "GatewayNamespace"}}}}}
    values = {
        "cert-manager": {"crds": {"enabled": True}},
        "cloudnative-pg": {},
        "plugin-barman-cloud": {},
        "external-secrets": {"installCRDs": True},
        "kube-prometheus-stack": {
            "prometheus": {"prometheusSpec": {
                # Only the monitors and rules carrying the org's labels, in every namespace.
                "serviceMonitorSelectorNilUsesHelmValues": False, "serviceMonitorSelector": selector,
                "podMonitorSelectorNilUsesHelmValues": False, "podMonitorSelector": selector,
                "ruleSelectorNilUsesHelmValues": False, "ruleSelector": selector}},
            "grafana": {"sidecar": {"dashboards": {"enabled": True, "label": dashboard_label,
                                                   "labelValue": dashboard_value, "searchNamespace": "ALL"}}}},
        "gateway-api-crds": {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"},
                                      "envoyGateway": {"enabled": True}}},
        "envoy-gateway": envoy,
        "rook-ceph": {"crds": {"enabled": True}},
        "redis-operator": {},
    }
    components, waves = [], {}
    for entry in INFRASTRUCTURE_CATALOGUE:
        waves[entry["name"]] = 1 + max((waves[dep] for dep in entry["depends_on"]), default=-1)
        components.append({"own_resources": False, **entry,
                           "namespace": entry["namespace"] or namespaces[entry["name"]],
                           "oci": entry["repo"].startswith("oci://"), "argocd_repo": _argocd_repo(entry),
                           "values": values[entry["name"]],
                           "wave": waves[entry["name"]], "crds": [{"group": group, "kinds": list(kinds)}
                                                                  for group, kinds in entry["crds"]],
                           "depends_on": list(entry["depends_on"])})
    return components


def _argocd_repo(entry: dict) -> str:
    """The repoURL of an Argo CD Helm source: an OCI chart's registry path without the scheme
    or the chart, as Envoy Gateway's Argo CD guide gives it."""
    if entry["repo"].startswith("oci://"):
        return entry["repo"].removeprefix("oci://").removesuffix("/" + entry["chart"])
    return entry["repo"]


def infrastructure_settings(answers: dict) -> dict:
    """The infrastructure layer of an orchestration: its components and the configs chart's values."""
    profile = answers["infrastructure_profile"]
    components = infrastructure_components(answers)
    homelab = profile == "homelab"
    store = None
    if answers["secret_store_kind"] == "ClusterSecretStore":
        store = {"name": answers["secret_store_name"], "provider": answers.get("secret_store_provider")}
        if store["provider"] == "kubernetes":
            store["namespace"] = SECRETS_NAMESPACE
        else:
            store["vault"] = {"server": answers.get("vault_server"), **VAULT_DEFAULTS,
                              "service_account": "external-secrets", "namespace": "external-secrets"}
    owned = {component["namespace"] for component in components}
    namespaces = sorted({answers["gateway_namespace"], *([SECRETS_NAMESPACE] if store and "namespace" in store
                                                         else [])} - owned)
    return {
        "profile": profile,
        "components": components,
        "configs": {"name": INFRASTRUCTURE_CONFIGS, "path": INFRASTRUCTURE_PATHS["infrastructure_configs"],
                    "wave": 1 + max(component["wave"] for component in components),
                    "depends_on": [component["name"] for component in components]},
        "configs_values": {
            "namespaces": namespaces,
            "gateway": {"className": GATEWAY_CLASS, "name": answers["gateway_name"],
                        "namespace": answers["gateway_namespace"], "hostname": f"*.{answers['domain']}",
                        "tls": gateway_tls(answers)},
            "secretStore": store,
            "objectStore": {"namespace": ROOK_NAMESPACE, "name": OBJECT_STORE_NAME, "cephImage": CEPH_IMAGE,
                            "storageClass": answers["bucket_storage_class"],
                            # homelab: one node, one copy; production: three of everything, one per host.
                            "replicas": 1 if homelab else 3, "gatewayInstances": 1 if homelab else 2},
        },
    }


def gateway_tls(answers: dict) -> dict | None:
    """Where the Gateway's HTTPS certificate comes from: a ClusterIssuer the configs chart makes
    (a self-signed CA, its key in cert-manager's namespace, where ClusterIssuers read Secrets), or
    the platform team's; None: HTTP only. While Copier still asks the questions, they may be absent."""
    mode = answers.get("gateway_tls")
    if mode == "none":
        return None
    if mode == "cluster-issuer":
        return {"issuer": answers.get("gateway_cluster_issuer"), "selfSigned": None}
    name = answers["gateway_name"]
    return {"issuer": f"{name}-ca", "selfSigned": {"bootstrapIssuer": f"{name}-selfsigned", "caSecret": f"{name}-ca",
                                                   "namespace": CERT_MANAGER_NAMESPACE}}


def installed_crds(settings: dict) -> dict[tuple[str, str], str]:
    """(group, kind) -> the component installing its CRD."""
    return {(crd["group"], kind): component["name"] for component in settings["components"]
            for crd in component["crds"] for kind in crd["kinds"]}


_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# Keys YAML 1.1 (PyYAML, Go) reads as booleans or null.
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _yaml_key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS else yaml_string(key)


def yaml_block(value: object, indent: int) -> str:
    """`value` (dicts, lists, strings, numbers, booleans) as block YAML indented by `indent`
    spaces, every string double-quoted (yaml_string), for values written into manifests."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}"
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_yaml_key(key)}:\n{yaml_block(item, indent + 2)}")
            else:
                lines.append(f"{pad}{_yaml_key(key)}: {yaml_block(item, 0)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]"
        return "\n".join(f"{pad}- {yaml_block(item, indent + 2).lstrip()}" for item in value)
    if isinstance(value, bool):
        return pad + ("true" if value else "false")
    if isinstance(value, int):
        return pad + str(value)
    if value is None:
        return pad + "null"
    return pad + yaml_string(value)
