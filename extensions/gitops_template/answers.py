"""copier.yml's remaining validators of app answers and the defaults it derives from other
answers (`derived_defaults`), so a fork's re-pointing (`rederive`) follows them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .vcs import is_ssh_url
from .grammar import (
    LABEL_MAX, dns_label_error, hostname_error, label_name_is_valid, notification_target_error, text_error,
    url_port_error,
)
from .images import default_image_repository


def cluster_server_error(value: object) -> str:
    """`cluster_server`: the https URL of a Kubernetes API server, no credentials or path."""
    if error := text_error("cluster_server", value):
        return error
    parts = urlsplit(value)
    if (parts.scheme != "https" or "@" in parts.netloc or url_port_error(parts) or parts.path.strip("/")
            or parts.query or parts.fragment or hostname_error("cluster_server", parts.hostname or "")):
        return "cluster_server: must be an https:// URL of an API server, such as https://kubernetes.default.svc"
    return ""


# The triggers (of Argo CD's default catalog) each Application subscribes argocd_notify to:
# template/gitops/argocd/*-application.yaml.jinja.
ARGOCD_NOTIFY_TRIGGERS = ("on-sync-failed", "on-health-degraded")


def argocd_notify_error(value: object) -> str:
    """`argocd_notify`: service:recipient, the service fitting the annotation key
    notifications.argoproj.io/subscribe.<trigger>.<service> of every trigger."""
    if error := notification_target_error("argocd_notify", value):
        return error
    service = value.partition(":")[0]
    names = [f"subscribe.{trigger}.{service}" for trigger in ARGOCD_NOTIFY_TRIGGERS]
    if value and not all(label_name_is_valid(name) for name in names):
        room = LABEL_MAX - max(len(name) - len(service) for name in names)
        return (f"argocd_notify: the service must fit an annotation key, notifications.argoproj.io/"
                f"subscribe.<trigger>.<service>: at most {room} characters, ending with a letter or digit")
    return ""


def git_secret_name_error(value: object, repo_url: str, controller: str) -> str:
    """`git_secret_name`: required when Flux pulls over ssh, which always needs an identity."""
    if value:
        return dns_label_error("git_secret_name", value)
    if controller != "argocd" and is_ssh_url(repo_url):
        return "git_secret_name: required for an ssh repo_url, since Flux needs an ssh identity to clone"
    return ""


def container_port_error(value: object) -> str:
    """`container_port`: an unprivileged TCP port, since the image runs as non-root."""
    text = "" if isinstance(value, bool) else str(value)
    if not (text.isascii() and text.isdigit() and 1024 <= int(text) <= 65535):
        return "container_port: must be a number from 1024 to 65535 (the image runs as non-root)"
    return ""


def description_error(value: object) -> str:
    return text_error("description", value)


def destination_error(path: str, entries: list[str], overwrite: bool, answers_file: str = ".copier-answers.yml") -> str:
    """A copy goes into a new or empty folder (a bare git clone is empty), unless the user
    lets it replace files with --overwrite: Copier would otherwise stop at the first file that
    exists, half-way through, or replace the user's files without a word."""
    entries = [entry for entry in entries if entry != ".git"]
    if answers_file in entries and not overwrite:
        return (f"destination: already generated from a template ({answers_file}): `copier update --trust` "
                "takes it to a newer version with your edits; `copier recopy --trust --overwrite` generates it "
                f"again from its answers, over your edits ({path})")
    if entries and not overwrite:
        listed = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        return (f"destination: not empty ({listed}): copy into a new or empty folder, or pass "
                f"--overwrite to let the template replace files of the same name ({path})")
    return ""


def default_git_secret_name(repo_url: str, app_name: str, controller: str) -> str:
    """`<app>-git` where Flux will need credentials (ssh); none for https, usually public."""
    return f"{app_name}-git" if controller != "argocd" and is_ssh_url(repo_url) else ""


def default_repo_url(git_host: str, git_owner: str, app_name: str) -> str:
    return f"https://{git_host}/{git_owner}/{app_name}.git"
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
