"""An app reaches only its own namespace: two hostile apps registered beside the others, under
each controller, and every object they should not get refused as the controller refuses it (Argo
CD's AppProject admission, Flux's impersonation through Kubernetes RBAC, External Secrets' store
rights), shown by the graph walk."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import pytest
import yaml

from conftest import (FLEETS, PRODUCTION_FLEETS, REVIEWED_ENVIRONMENTS, answers_for, commit_all, git, recorded_answers,
                      registry_script, serve_orchestration)
from support.orchestration import Walker, controller_reads, foreign_sources, refused, secret_refusals
from support.vault import Vault
from gitops_template.fleet import platform_review_tag
from gitops_template.names import derived_names, registered_name
from gitops_template.vcs import flux_repo_url

INTRUDER, RAIDER = "intruder", "raider"
ENFORCE = "pod-security.kubernetes.io/enforce"
VICTIM = "shop"  # registered in every fleet, in its namespace shop
PRIVATE = answers_for("fluxcd-private")  # registered in the Flux fleets, from a private repository
INTRUDER_BASE = f"""\
# Cluster-admin for the app's pods.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {INTRUDER}-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: default
    namespace: {INTRUDER}
---
# An object in another app's namespace.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {INTRUDER}-planted
  namespace: {VICTIM}
---
# A namespace of its own choosing, where its pods may run privileged.
apiVersion: v1
kind: Namespace
metadata:
  name: {INTRUDER}-annex
  labels:
    pod-security.kubernetes.io/enforce: privileged
"""
# Another app's secret, through the store the app's own come from.
INTRUDER_PLATFORM = f"""\
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {INTRUDER}-steal
spec:
  secretStoreRef:
    kind: {{{{ .Values.externalSecrets.secretStoreRef.kind }}}}
    name: {{{{ .Values.externalSecrets.secretStoreRef.name }}}}
  target:
    name: {INTRUDER}-steal
  dataFrom:
    - extract:
        key: {VICTIM}
"""


def intruder_app(rendered, scratch):
    """An app whose charts reach out of its namespace (its gitops folders are the template's)."""
    repo = rendered({"app_name": INTRUDER}, scratch / INTRUDER)
    (repo / "helm/base/templates/hostile.yaml").write_text(INTRUDER_BASE)
    (repo / "helm/platform/templates/hostile.yaml").write_text(INTRUDER_PLATFORM)
    return repo


def raider_app(rendered, scratch):
    """An app whose gitops folders reach out of its namespace (its charts are the template's)."""
    repo = rendered({"app_name": RAIDER}, scratch / RAIDER)
    argocd = repo / "gitops/argocd"
    project = yaml.safe_load((argocd / "project.yaml").read_text())
    project["spec"].update(sourceRepos=["*"], destinations=[{"server": "*", "namespace": "*"}],
                           clusterResourceWhitelist=[{"group": "*", "kind": "*"}])
    project["spec"].pop("namespaceResourceWhitelist")
    (argocd / "project.yaml").write_text(yaml.safe_dump(project))
    # Its namespace, as its Applications create it, lets its pods run privileged.
    for name in ("base-application.yaml", "platform-application.yaml"):
        application = yaml.safe_load((argocd / name).read_text())
        application["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"] = {ENFORCE: "privileged"}
        (argocd / name).write_text(yaml.safe_dump(application))
    # An Application of its own in another app's project, deploying into that app's namespace.
    base = yaml.safe_load((argocd / "base-application.yaml").read_text())
    base["metadata"]["name"] = f"{RAIDER}-extra"
    base["spec"]["project"] = VICTIM
    base["spec"]["destination"]["namespace"] = VICTIM
    (argocd / "extra-application.yaml").write_text(yaml.safe_dump(base))
    kustomization = yaml.safe_load((argocd / "kustomization.yaml").read_text())
    kustomization["resources"].append("extra-application.yaml")
    (argocd / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    # A Kustomization of its own, acting as Flux's own account, applying a HelmRelease of its own
    # that acts as Flux's own account too and deploys into another app's namespace.
    flux = repo / "gitops/fluxcd"
    extra = yaml.safe_load((flux / "base-kustomization.yaml").read_text())
    extra["metadata"]["name"] = f"{RAIDER}-extra"
    # Both read Secrets of Flux's namespace with their controller's own rights: as variables and
    # values, as a kubeconfig to apply with, and as decryption keys.
    flux_secret = {"kind": "Secret", "name": "flux-system"}
    extra["spec"].update(serviceAccountName="kustomize-controller", path="./gitops/hostile",
                         postBuild={"substituteFrom": [flux_secret]}, kubeConfig={"secretRef": {"name": "flux-system"}},
                         decryption={"provider": "sops", "secretRef": {"name": "flux-system"}})
    (flux / "extra-kustomization.yaml").write_text(yaml.safe_dump(extra))
    release = yaml.safe_load((repo / "gitops/fluxcd-releases/base/helm-release.yaml").read_text())
    release["metadata"]["name"] = release["spec"]["releaseName"] = f"{RAIDER}-extra"
    release["spec"].update(serviceAccountName="helm-controller", targetNamespace=VICTIM, storageNamespace=VICTIM,
                           valuesFrom=[flux_secret], kubeConfig={"secretRef": {"name": "flux-system"}})
    (repo / "gitops/hostile").mkdir()
    (repo / "gitops/hostile/helm-release.yaml").write_text(yaml.safe_dump(release))
    # Its own Kustomization, HelmRelease and GitRepository read another app's repository, which
    # lives beside its own in Flux's namespace: deployed, charts read into its namespace, included.
    edit_yaml(flux / "base-kustomization.yaml", lambda k: k["spec"]["sourceRef"].update(name=VICTIM))
    edit_yaml(repo / "gitops/fluxcd-releases/platform/helm-release.yaml",
              lambda r: r["spec"]["chart"]["spec"]["sourceRef"].update(name=VICTIM))
    source = yaml.safe_load((flux / "git-repository.yaml").read_text())
    # Its platform from a GitRepository of its own fetching a private app's repository with that
    # app's Secret (also in Flux's namespace).
    private = {**source["spec"], "url": flux_repo_url(PRIVATE["repo_url"]), "secretRef": {"name": PRIVATE["git_secret_name"]}}
    platform = {**source, "metadata": {**source["metadata"], "name": f"{RAIDER}-platform"}, "spec": private}
    source["spec"]["include"] = [{"repository": {"name": VICTIM}}]
    (flux / "git-repository.yaml").write_text(yaml.safe_dump_all([source, platform]))
    edit_yaml(flux / "platform-kustomization.yaml", lambda k: k["spec"]["sourceRef"].update(name=f"{RAIDER}-platform"))
    # An Alert told of every app's Kustomizations (all in Flux's namespace) and another app's HelmRelease.
    alert = {"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
             "metadata": {"name": RAIDER, "namespace": source["metadata"]["namespace"]},
             "spec": {"providerRef": {"name": "team-chat"}, "eventSeverity": "info",
                      "eventSources": [{"kind": "Kustomization", "name": "*"},
                                       {"kind": "HelmRelease", "name": f"{VICTIM}-base"}]}}
    (flux / "alert.yaml").write_text(yaml.safe_dump(alert))
    return repo


def edit_yaml(path, change) -> None:
    """The one object of a YAML file, changed in place."""
    obj = yaml.safe_load(path.read_text())
    change(obj)
    path.write_text(yaml.safe_dump(obj))


# The homelab fleets' store holds apps' secrets as Secrets of the cluster, the production
# fleets' in Vault.
HOSTILE_FLEETS = [*FLEETS, *PRODUCTION_FLEETS]


def vault_of(fleet) -> Vault | None:
    """What Vault lets the store read, as the fleet's README has a person set it up."""
    readme = (fleet.root / "README.md").read_text()
    return Vault.from_readme(readme) if "vault policy write" in readme else None


def bootstrapped(fleet, walked):
    """The graph with the ClusterRoleBindings the fleet's README has a person make at bootstrap
    (flux_service_account's, whose rights the fleet's own layers act with)."""
    readme = (fleet.root / "README.md").read_text()
    objects = dict(walked.objects)
    for name, role, namespace, account in re.findall(
            r"^kubectl create clusterrolebinding (\S+) --clusterrole=(\S+) --serviceaccount=([^:\s]+):(\S+)$", readme, re.M):
        objects[("ClusterRoleBinding", "", name)] = {
            "roleRef": {"kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}
    return dataclasses.replace(walked, objects=objects)


# What the hostile apps must not get, under each controller.
INTRUDER_OBJECTS = {("ClusterRoleBinding", "", f"{INTRUDER}-admin"), ("ConfigMap", VICTIM, f"{INTRUDER}-planted"),
                    ("ExternalSecret", INTRUDER, f"{INTRUDER}-steal"), ("Namespace", "", f"{INTRUDER}-annex")}
HOSTILE_OBJECTS = {"argocd": INTRUDER_OBJECTS | {("Deployment", VICTIM, RAIDER)},
                   "fluxcd": INTRUDER_OBJECTS | {("Deployment", VICTIM, f"{RAIDER}-extra")}}


def pod_security(walked, rejected: set, namespace: str) -> set[str]:
    """The Pod Security levels what is applied sets on a namespace: a Namespace's label, and under
    Argo CD an Application's managedNamespaceMetadata, which Argo CD sets on its destination
    namespace whether it creates it or not (argo-cd controller/sync_namespace.go, syncNamespace)."""
    levels = set()
    for key, obj in walked.objects.items():
        if key in rejected:
            continue
        if key == ("Namespace", "", namespace):
            levels.add(obj["metadata"].get("labels", {}).get(ENFORCE))
        elif key[0] == "Application" and obj["spec"]["destination"].get("namespace") == namespace:
            policy = obj["spec"].get("syncPolicy") or {}
            if "CreateNamespace=true" in policy.get("syncOptions", []) and policy.get("managedNamespaceMetadata"):
                levels.add(policy["managedNamespaceMetadata"].get("labels", {}).get(ENFORCE))
    return levels


@pytest.fixture(scope="module")
def hostile_graph(fleet, rendered, tmp_path_factory):
    """hostile_graph(fleet name) -> the fleet's graph with both hostile apps registered too."""
    graphs = {}

    def _graph(name: str):
        if name not in graphs:
            original = fleet(name)
            scratch = tmp_path_factory.mktemp(f"hostile-{name}")
            clone = scratch / "orchestration"
            subprocess.run(["git", "clone", "--quiet", str(original.root), str(clone)], check=True)
            server = original.server.copy(scratch)
            for app, make in ((INTRUDER, intruder_app), (RAIDER, raider_app)):
                repo = make(rendered, scratch)
                git(repo, "init", "--quiet", "--initial-branch", "main")
                commit_all(repo, "hostile")
                # Its platform reviewed, as a fleet deploys a GitRepository <app>-platform from.
                for environment in REVIEWED_ENVIRONMENTS:
                    git(repo, "tag", platform_review_tag(environment))
                url = recorded_answers(repo)["repo_url"]
                result = registry_script(clone, "register", app, "--repo-url", url)
                assert result.returncode == 0, result.stderr
                server.serve(repo, url, flux_repo_url(url))
            commit_all(clone, "register the hostile apps")
            serve_orchestration(server, clone, original.answers)
            graphs[name] = Walker(server, scratch).walk(original.bootstrap())
        return graphs[name]

    return _graph


@pytest.mark.parametrize("name", HOSTILE_FLEETS)
def test_hostile_apps_get_nothing_outside_their_namespace(fleet, hostile_graph, name):
    walked, settings, vault = bootstrapped(fleet(name), hostile_graph(name)), fleet(name).settings, vault_of(fleet(name))
    controller = settings["cluster_controller"]
    rejected = refused(walked, settings, vault)
    # No app's object reads another app's source: each reads its own.
    assert foreign_sources(walked, settings) == {}
    if controller == "fluxcd":
        namespace = settings["flux_namespace"]
        assert walked.objects[("Kustomization", namespace, f"{RAIDER}-base")]["spec"]["sourceRef"] == {
            "kind": "GitRepository", "name": RAIDER}
        # Its Alert is told of its own objects only.
        told = walked.objects[("Alert", namespace, RAIDER)]["spec"]["eventSources"]
        names = derived_names(RAIDER)
        assert {(source["kind"], source["name"]) for source in told} == {
            ("GitRepository", names["flux_source"]), ("GitRepository", names["flux_platform_source"]),
            *((kind, names[name]) for kind in ("Kustomization", "HelmRelease") for name in ("flux_base", "flux_platform"))}
    assert HOSTILE_OBJECTS[controller] <= set(walked.objects)
    assert HOSTILE_OBJECTS[controller] - rejected == set()
    # Nothing of another app is refused, and the secret by External Secrets' own rules.
    assert {key for key in rejected if INTRUDER not in key[2] and RAIDER not in key[2]} == set()
    steal = ("ExternalSecret", INTRUDER, f"{INTRUDER}-steal")
    assert steal in secret_refusals(walked, rejected - {steal}, vault)
    # No controller reads a Secret for an app with its own rights.
    assert controller_reads(walked) == {}
    # Each app's namespace has the organisation's Pod Security level, whatever the app says.
    for app in (INTRUDER, RAIDER):
        assert pod_security(walked, rejected, app) == {settings["pod_security_level"]}
    if controller == "argocd":
        # The app's own AppProject is never applied: the fleet writes every app's.
        namespace = settings["argocd_namespace"]
        assert walked.parents[("AppProject", namespace, RAIDER)] != ("Application", namespace, registered_name(RAIDER))


@pytest.mark.parametrize("name", HOSTILE_FLEETS)
def test_a_fleet_of_well_behaved_apps_has_nothing_refused(graph, fleet, name):
    assert refused(bootstrapped(fleet(name), graph(name)), fleet(name).settings, vault_of(fleet(name))) == set()



def test_the_fleet_admits_the_kinds_an_app_deploys(app, fleet, graph):
    """The AppProject the registry writes admits the API groups of the kinds the app's own lists
    (Flux's per-app Role grants the same groups), and no cluster-scoped kind."""
    own = yaml.safe_load((app("canonical") / "gitops/argocd/project.yaml").read_text())["spec"]
    namespace = fleet("argocd").settings["argocd_namespace"]
    written = graph("argocd").objects[("AppProject", namespace, "shop")]["spec"]
    assert {e["group"] for e in written["namespaceResourceWhitelist"]} == {e["group"] for e in own["namespaceResourceWhitelist"]}
    assert {e["kind"] for e in written["namespaceResourceWhitelist"]} == {"*"}
    # Not even the namespace, which the registry writes (the app's own admits it, to create it).
    assert "clusterResourceWhitelist" not in written and own["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]


def test_flux_applies_an_app_only_as_the_app(fleet, graph):
    """Every Kustomization and HelmRelease applying an app's content acts as one of that app's
    accounts, which the registry binds to Roles only: nothing cluster-wide but its namespace."""
    walked, flux = graph("fluxcd"), fleet("fluxcd")
    for app in flux.apps:
        gitops = ("Kustomization", flux.settings["flux_namespace"], registered_name(app))
        appliers = [key for key in {gitops} | walked.descendants(gitops) if key[0] in ("Kustomization", "HelmRelease")]
        assert len(appliers) == 5, appliers
        assert {walked.objects[key]["spec"].get("serviceAccountName") for key in appliers} == {f"{app}-gitops", f"{app}-deploy"}
    assert walked.of_kind("ClusterRoleBinding") == {}


def test_flux_keeps_the_source_each_app_gives(fleet, graph):
    """Confined to its own sources, each app still reads the one it names: its reviewed platform
    from <app>-platform (where it has one), the rest from <app>."""
    def source_of(spec: dict) -> dict:
        return spec.get("sourceRef") or spec["chart"]["spec"]["sourceRef"]

    walked, flux, reviewed = graph("fluxcd"), fleet("fluxcd"), set()
    for app, repo in flux.apps.items():
        gitops = ("Kustomization", flux.settings["flux_namespace"], registered_name(app))
        given, read = {}, {}
        for path in [*(repo / "gitops/fluxcd").glob("*kustomization.yaml"),
                     *(repo / "gitops/fluxcd-releases").glob("*/helm-release.yaml")]:
            obj = yaml.safe_load(path.read_text())
            given[(obj["kind"], obj["metadata"]["name"])] = source_of(obj["spec"])
        for key in walked.descendants(gitops):
            if key[0] in ("Kustomization", "HelmRelease"):
                read[(key[0], key[2])] = source_of(walked.objects[key]["spec"])
        assert read == given, app
        reviewed |= {app for ref in read.values() if ref["name"] == f"{app}-platform"}
    # One of the fleet's apps has its platform reviewed (fluxcd-private).
    assert reviewed


@pytest.mark.parametrize("name", list(FLEETS))
def test_the_fleet_writes_each_apps_namespace(fleet, graph, name):
    """An app's namespace is the registry's, with the organisation's Pod Security Standard, kept
    when the app is removed; no Application of the app manages it."""
    walked, settings = graph(name), fleet(name).settings
    key = ("Namespace", "", "stock")
    namespace = walked.objects[key]
    layer = settings["names"]["apps_layer"]
    assert walked.parents[key] == (("HelmRelease", settings["flux_namespace"], layer) if settings["cluster_controller"] == "fluxcd"
                                   else ("Application", settings["argocd_namespace"], layer))
    assert namespace["metadata"]["labels"][ENFORCE] == settings["pod_security_level"] == "restricted"
    assert pod_security(walked, set(), "stock") == {"restricted"}


@pytest.mark.parametrize("name", ["fluxcd", "fluxcd-production"])
def test_flux_layers_act_as_the_flux_service_account(fleet, graph, name):
    """Where the organisation names flux_service_account (Flux locked down with
    --default-service-account, which gives an object naming no account none of the controllers'
    rights), the sync, the layers and the infrastructure act as it, and the README's bootstrap
    makes it with those rights; the apps act as their own accounts. Without it, the fleet's
    objects name none (the controllers' own)."""
    f = fleet(name)
    walked, account = graph(name), f.answers.get("flux_service_account") or None
    apps = set().union(*(walked.descendants(("Kustomization", f.settings["flux_namespace"], registered_name(app))) | {
        ("Kustomization", f.settings["flux_namespace"], registered_name(app))} for app in f.apps))
    for key, obj in walked.objects.items():
        if key[0] in ("Kustomization", "HelmRelease") and key not in apps:
            assert obj["spec"].get("serviceAccountName") == account, key
    assert ("Kustomization", f.settings["flux_namespace"], f.settings["flux_namespace"]) in walked.objects
    readme = (f.root / "README.md").read_text()
    binding = (f"kubectl create clusterrolebinding {account} --clusterrole=cluster-admin "
               f"--serviceaccount={f.settings['flux_namespace']}:{account}")
    assert (binding in readme) == bool(account)
