"""A fleet's answers and registry entries, for unit tests of the fleet's modules without Copier."""

from __future__ import annotations

from gitops_template.fleet import orchestration_settings

ORCHESTRATION = {
    "orchestration_name": "fleet", "orchestration_repo_url": "https://github.com/acme/fleet.git",
    "orchestration_branch": "main", "environments": "staging,production", "cluster_controller": "argocd",
    "argocd_applicationset": False, "git_host": "github.com", "git_owner": "acme", "default_branch": "main",
    "argocd_namespace": "argocd", "flux_namespace": "flux-system", "cluster_server": "https://kubernetes.default.svc",
    "pod_security_level": "restricted", "secret_store_kind": "ClusterSecretStore", "secret_store_name": "apps",
}


def settings_for(**changes) -> dict:
    return orchestration_settings({**ORCHESTRATION, **changes})


def entry(app: str, namespace: str | None = None, **fields) -> dict:
    return {"app_name": app, "repo_url": f"https://github.com/acme/{app}.git", "git_revision": "main",
            "namespace": namespace or app, **fields}


def registry(*entries: dict) -> dict[str, dict]:
    return {f"{e['app_name']}.yaml": e for e in entries}
