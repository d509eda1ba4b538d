"""The rendering context: every derived value for a set of answers, computed once per answer set
(Copier builds a context for every file, path and question).
"""

from __future__ import annotations

import posixpath
from functools import lru_cache

from .catalogue import BOOTSTRAP
from .diagram import DIAGRAM_END, DIAGRAM_START, registry_picture
from .fleet import ORCHESTRATION_ANSWERS, environments_error, orchestration_settings
from .vcs import (
    flux_git_ref, flux_repo_url, is_ssh_url, parse_repo_url, repo_is_github, repo_url_error,
    revision_is_pinned,
)
from .grammar import label_map_error
from .images import image_repository_error, split_image_repository
from .infrastructure import INFRASTRUCTURE_ORG_DEFAULTS, infrastructure_settings
from .names import (
    APP_KINDS,
    PATHS, PLATFORM_FEATURES, PLATFORM_REVIEW_TAG, app_name_error, derived_names, orchestration_name_error,
    orchestration_names,
)


# The kinds of value an answer has; the rest of Copier's context (its own `_` keys, the derived
# dicts set before) says nothing about the answers.
_ANSWER_TYPES = (str, bool, int, float, type(None))


def derive(answers: dict) -> dict[str, object]:
    """All derived values for a set of answers; {} while the project's name is not answered yet."""
    return dict(_derive(frozenset((key, value) for key, value in answers.items()
                                  if not key.startswith("_") and isinstance(value, _ANSWER_TYPES))))


# Copier builds a rendering context for every file, path and question: derive once per answer set.
# The cache lives in this module, which each template version loads as its own (extensions/context.py).
@lru_cache(maxsize=64)
def _derive(answers: frozenset) -> dict[str, object]:
    answers = dict(answers)
    if answers.get("project_kind") == "orchestration":
        return derive_orchestration(answers)
    return derive_app(answers)


def derive_app(answers: dict) -> dict[str, object]:
    """The derived values of an app project: its names and paths as soon as its name is valid."""
    app_name = answers.get("app_name")
    if not isinstance(app_name, str) or app_name_error(app_name):
        return {}
    derived: dict[str, object] = {**derived_names(app_name), **PATHS}
    # Argo CD resolves valueFiles from the chart's folder.
    for chart in ("base", "platform"):
        derived[f"{chart}_values_from_chart"] = posixpath.relpath(PATHS[f"{chart}_values_path"],
                                                                  PATHS[f"{chart}_chart_path"])
    repo_url, revision, domain, image = (answers.get(key) for key in ("repo_url", "git_revision", "domain",
                                                                      "image_repository"))
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
    controller = answers.get("gitops_controller")
    derived["use_argocd"] = controller in ("both", "argocd")
    derived["use_fluxcd"] = controller in ("both", "fluxcd")
    # With no platform feature there is nothing to wait for or to review.
    derived["has_platform"] = any(answers.get(feature) for feature in PLATFORM_FEATURES)
    derived["platform_needs_review"] = derived["has_platform"] and answers.get("platform_sync") == "manual"
    derived["platform_review_tag"] = PLATFORM_REVIEW_TAG
    derived["app_kinds"] = APP_KINDS
    return derived


def derive_orchestration(answers: dict) -> dict[str, object]:
    """The derived values of an orchestration project; its names as soon as its name is valid."""
    name = answers.get("orchestration_name")
    if not isinstance(name, str) or orchestration_name_error(name):
        return {}
    derived: dict[str, object] = {**orchestration_names(name), "bootstrap": BOOTSTRAP}
    controller = answers.get("cluster_controller")
    derived.update(use_argocd=controller == "argocd", use_fluxcd=controller == "fluxcd")
    if (all(isinstance(answers.get(key), (str, bool)) for key in ORCHESTRATION_ANSWERS)
            and not environments_error(answers["environments"])):
        settings = orchestration_settings(answers)
        url = settings["orchestration_repo_url"]
        host = "" if repo_url_error(url) else parse_repo_url(url)[0]
        derived.update(
            orchestration=settings,
            use_applicationset=settings["argocd_applicationset"],
            environment_list=settings["environments"],
            platform_review_tag=PLATFORM_REVIEW_TAG,
            flux_orchestration_url=flux_repo_url(url),
            orchestration_is_ssh=is_ssh_url(url),
            # The fleet's CI, like an app's, where GitHub runs it.
            orchestration_host=host,
            orchestration_is_github=repo_is_github(host),
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
