"""The orchestration repository (copier.yml `project_kind: orchestration`): its environments,
folders, and the settings file its tools read (registry/orchestration.json).
"""

from __future__ import annotations

from .vcs import COMMIT_SHA, SCP_URL, VERSION_TAG
from .catalogue import SECRETS_NAMESPACE
from .grammar import dns_label_error
from .names import APP_KINDS, PLATFORM_REVIEW_TAG, REGISTERED_SUFFIX, orchestration_names, platform_namespaces
from .registry import reserved_app_names

# Folders of the orchestration repository, and the app repository's folder per controller.
ORCHESTRATION_PATHS = {
    "registry": "registry",  # the registry chart, which renders each controller's objects
    "infrastructure": "infrastructure",  # what apps need installed before them
}
APP_GITOPS_PATHS = {"argocd": "gitops/argocd", "fluxcd": "gitops/fluxcd"}
# Each app's charts, whose values an environment may override (environment_paths "values").
APP_CHARTS = ("base", "platform")
# The answers orchestration_settings() carries into the repository (registry/orchestration.json).
ORCHESTRATION_ANSWERS = (
    "orchestration_name", "orchestration_repo_url", "orchestration_branch", "environments",
    "cluster_controller", "argocd_applicationset", "git_host", "git_owner", "default_branch",
    "argocd_namespace", "flux_namespace", "cluster_server",
    # The registry writes each app's namespace under Flux, with the organisation's standard.
    "pod_security_level",
    "secret_store_kind", "secret_store_name",
)


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


def platform_review_tag(environment: str) -> str:
    """The app repository's tag a person moves onto the commit whose platform they reviewed for one
    environment: where the environment follows a branch, Flux deploys the app's platform from it, so
    reviewing for staging never changes production. An environment pinned to a tag or commit deploys
    its platform from that revision, reviewed when it was promoted (`make promote`)."""
    return f"{PLATFORM_REVIEW_TAG}-{environment}"


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
    settings["app_api_groups"] = [group for group, _ in APP_KINDS]
    settings["platform_review_tags"] = {name: platform_review_tag(name) for name in settings["environments"]}
    # The store apps read their secrets from when it holds them as Secrets of this cluster: the
    # registry lets each app read its own there, and no other (registry.secretReader).
    in_cluster = (settings["secret_store_kind"] == "ClusterSecretStore"
                  and answers.get("secret_store_provider") == "kubernetes")
    settings["secret_store"] = ({"name": answers["secret_store_name"], "namespace": SECRETS_NAMESPACE}
                                if in_cluster else None)
    settings["reserved_app_names"] = reserved_app_names(settings)
    settings["platform_namespaces"] = platform_namespaces(answers)
    # flux_git_ref() and flux_repo_url(), for the registry chart's Go templates (RE2 reads them alike).
    settings["patterns"] = {"commit": COMMIT_SHA.pattern, "version_tag": VERSION_TAG.pattern,
                            "scp_url": SCP_URL.pattern}
    return settings
