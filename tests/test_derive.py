"""extensions/gitops_template: the rendering context (derive.py), on its own, without Copier."""

from __future__ import annotations

from gitops_template.derive import derive
from gitops_template.infrastructure import INFRASTRUCTURE_ORG_DEFAULTS
from support.fleet_answers import ORCHESTRATION


def test_derive_tolerates_a_context_without_answers():
    # Copier renders migrations and tasks before any answer exists.
    assert derive({}) == {}
    assert derive({"app_name": "Not Valid"}) == {}


def test_derive_sets_names_paths_repo_parts_and_controllers():
    derived = derive(
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


def test_derive_an_orchestration():
    assert derive({"project_kind": "orchestration"}) == {}
    partial = derive({"project_kind": "orchestration", "orchestration_name": "fleet"})
    assert partial["apps_layer"] == "fleet-apps" and "orchestration" not in partial
    derived = derive({"project_kind": "orchestration", **ORCHESTRATION,
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
    org = {key: "x" for key in INFRASTRUCTURE_ORG_DEFAULTS}
    org.update(prometheus_labels="release=kps", grafana_dashboard_labels="grafana_dashboard=1",
               secret_store_kind="ClusterSecretStore", gateway_proxy_namespace="")
    derived = derive({"project_kind": "orchestration", **ORCHESTRATION, **org, "infrastructure_profile": "homelab",
                             "secret_store_provider": "kubernetes"})
    assert derived["infrastructure"]["configs_values"]["secretStore"]["provider"] == "kubernetes"
