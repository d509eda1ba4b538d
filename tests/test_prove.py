"""A fleet proves itself before merge: `make prove` walks each environment's graph as its controller
walks it (the fleet's scripts/prove.py and fleet_graph/, the code the suite walks fleets with) and
fails, one line per finding naming the object and what applied it, on each defect seeded here;
`make diff` shows what a change deploys, data first.

The apps are local repositories, reached as a fleet's CI reaches them on the network: git's own
configuration maps their URLs (`url.<path>.insteadOf`, given in GIT_CONFIG_* variables).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import flux_repo_url
from support.orchestration import Graph, key_of
from fleet_graph.checks import proof
from fleet_graph.diff import environment_diff
from gitops_template.names import orchestration_names
from gitops_template.registry import parse_registry_entry, registry_entry_text

import prove


def app_urls(fleet) -> dict[str, str]:
    """GIT_CONFIG_* variables mapping each app's URLs to its local repository (never the fleet's own:
    prove serves that from the working tree)."""
    own = {fleet.settings["orchestration_repo_url"], flux_repo_url(fleet.settings["orchestration_repo_url"])}
    served = [(url, repo) for url, repo in fleet.server.urls.items() if url not in own]
    env = {"GIT_CONFIG_COUNT": str(len(served))}
    for i, (url, repo) in enumerate(served):
        env[f"GIT_CONFIG_KEY_{i}"] = f"url.{repo.as_uri()}.insteadOf"
        env[f"GIT_CONFIG_VALUE_{i}"] = url
    return env


def make(root: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    """A target of the fleet's Makefile, as a person runs it, with this Python (PyYAML) for prove."""
    clean = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", *args, f"PROVE_PYTHON={sys.executable}"], cwd=root,
                          env={**clean, **env}, capture_output=True, text=True)


@pytest.mark.parametrize("name", ["argocd", "fluxcd"])
def test_make_prove_passes_on_a_fresh_fleet(fleet, name):
    f = fleet(name)
    result = make(f.root, app_urls(f), "prove")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"proven: {', '.join(f.settings['environments'])}" in result.stdout


def test_an_applicationset_fleet_proves(fleet, monkeypatch):
    f = fleet("applicationset")
    for variable, value in app_urls(f).items():
        monkeypatch.setenv(variable, value)
    assert prove.findings(f.root) == []


@pytest.fixture
def seeded(fleet, graph, tmp_path, monkeypatch):
    """seeded(name) -> a copy of the fleet (its git history too) whose apps git reaches, to seed a
    defect in; `.findings()` proves its first environment in-process."""
    class Seeded:
        def __init__(self, name: str):
            self.fleet, self.graph = fleet(name), graph(name)
            self.root = tmp_path / name
            shutil.copytree(self.fleet.root, self.root, symlinks=True)
            for variable, value in app_urls(self.fleet).items():
                monkeypatch.setenv(variable, value)

        def edit(self, app: str, **changes: str) -> None:
            """The app's registry entry in the first environment, with these values."""
            path = self.root / self.fleet.entry_path(app).relative_to(self.fleet.root)
            path.write_text(registry_entry_text({**parse_registry_entry(path.read_text()), **changes}))

        def add(self, *objects: dict) -> None:
            """Objects the environment's root applies besides its own (clusters/<env>/)."""
            path = self.root / "clusters" / self.fleet.environment / "seeded.yaml"
            path.write_text(yaml.safe_dump_all(objects))

        def findings(self) -> list[str]:
            return prove.findings(self.root, [self.fleet.environment])

    return Seeded


def test_argocd_seeded_defects_each_fail_naming_the_object(seeded):
    """Seeded in one fleet, to walk it once: each defect is one finding, or two where it breaks two
    rules (an object the root's AppProject does not admit either; an app the root applies, outside
    the apps layer that waits for the infrastructure), and nothing else is."""
    fleet = seeded("argocd")
    # A revision that does not exist: an unresolved reference.
    fleet.edit("billing-api", git_revision="v9.9.9")
    # Registered in another namespace than the app deploys to: its AppProject admits that one only.
    fleet.edit("shop", namespace="elsewhere")
    # An object the apps layer applies, applied by the root too: two parents. A custom kind nothing installs.
    fleet.add(fleet.graph.objects[("Application", "argocd", "inventory-gitops")],
              {"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
               "metadata": {"name": "orders", "namespace": "argocd"}, "spec": {"partitions": 1}})
    assert fleet.findings() == [
        "staging: Application argocd/billing-api-gitops (applied by Application argocd/fleet-apps): "
        "https://gitlab.example.com/finance/backend/billing-api.git: no revision 'v9.9.9'",
        "staging: Application argocd/inventory-gitops: applied twice, by Application argocd/fleet and by "
        "Application argocd/fleet-apps",
        "staging: Application argocd/inventory-gitops: not below the apps layer",
        "staging: KafkaTopic argocd/orders (applied by Application argocd/fleet): no infrastructure component "
        "installs KafkaTopic.kafka.strimzi.io",
        "staging: Application argocd/fleet (applied by hand): KafkaTopic argocd/orders not admitted by AppProject "
        "argocd/fleet",
        *(f"staging: Application argocd/shop-{chart} (applied by Application argocd/shop-gitops): destination "
          "https://kubernetes.default.svc shop not in AppProject argocd/shop" for chart in ("base", "platform")),
    ]


def test_flux_seeded_defects_each_fail_naming_the_object(seeded):
    """Each defect one finding, or two where it breaks two rules (a secret the root asks for past the
    infrastructure layer): a refused HelmRelease once, with how many objects it does not apply."""
    fleet = seeded("fluxcd")
    # Registered in another namespace than the app deploys to: its account may act in that one only.
    fleet.edit("inventory", namespace="elsewhere")
    # Another object of the kind and name of one the registry writes: a name collision.
    assert ("Namespace", "", "shop") in fleet.graph.objects
    [(_, _, store)] = fleet.graph.of_kind("ClusterSecretStore")
    fleet.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "x"}}},
              # Another app's secret, asked for in shop's namespace: the store's account there may not read it.
              {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
               "metadata": {"name": "steal", "namespace": "shop"},
               "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
                        "target": {"name": "steal"}, "dataFrom": [{"extract": {"key": "inventory"}}]}})
    assert fleet.findings() == [
        "staging: Namespace shop: two different objects of one kind and name, by Kustomization "
        "flux-system/flux-system and by HelmRelease flux-system/fleet-apps",
        "staging: ExternalSecret shop/steal: applied before the infrastructure is ready",
        *(f"staging: HelmRelease flux-system/inventory-{chart} (applied by Kustomization flux-system/inventory-{chart}): "
          f"system:serviceaccount:flux-system:inventory-deploy cannot create secrets.core in stock, so none of the "
          f"{count} objects below it is applied" for chart, count in (("base", 5), ("platform", 2))),
        f"staging: ExternalSecret shop/steal (applied by Kustomization flux-system/flux-system): through "
        f"ClusterSecretStore {store}, system:serviceaccount:shop:default cannot get secrets.core inventory in secrets",
    ]


def test_make_diff_calls_out_a_removed_database_first(fleet, tmp_path):
    """An environment's override turning the app's database off: the diff's data section names the
    Cluster, which the platform keeps on the cluster (its keep annotations), and which `make promote`
    would refuse."""
    f = fleet("argocd")
    root = tmp_path / "fleet"
    shutil.copytree(f.root, root, symlinks=True)
    override = root / "registry/environments/staging/values/billing-api-platform.yaml"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text("postgres:\n  enabled: false\n")
    result = make(root, app_urls(f), "diff", "BASE=HEAD")
    assert result.returncode == 0, result.stdout + result.stderr
    staging = result.stdout[result.stdout.index("### staging"):result.stdout.index("### production")]
    data = staging[staging.index("**Data**"):staging.index("<details>")]
    assert "- removed: `Cluster finance/billing-api-db` (database): it stays on the cluster (not pruned)" in data
    assert "(`make promote` refuses it): Cluster finance/billing-api-db: the database is removed" in data
    assert result.stdout[result.stdout.index("### production"):].startswith("### production\n\nNo change.")


def graph_of(application: dict, *objects: dict) -> Graph:
    """A graph of one Application (applied by hand) and the objects it applies."""
    graph = Graph()
    root = key_of(application)
    graph.objects[root], graph.parents[root], graph.children[root] = application, None, []
    for obj in objects:
        graph.objects[key_of(obj)], graph.parents[key_of(obj)] = obj, root
        graph.children[root].append(key_of(obj))
        graph.children[key_of(obj)] = []
    return graph


def test_the_diff_lists_data_first_and_says_what_the_controller_deletes():
    application = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                   "metadata": {"name": "shop", "namespace": "argocd"},
                   "spec": {"syncPolicy": {"automated": {"prune": True}}}}

    def obj(kind: str, name: str, api: str = "v1", **spec) -> dict:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "shop"}, "spec": spec}

    volume = obj("PersistentVolumeClaim", "data", resources={"requests": {"storage": "1Gi"}})
    kept = obj("StatefulSet", "cache", "apps", volumeClaimTemplates=[{"metadata": {"name": "cache"}}])
    kept["metadata"]["annotations"] = {"argocd.argoproj.io/sync-options": "Prune=false"}
    before = graph_of(application, volume, kept, obj("Deployment", "web", "apps", replicas=1), obj("ConfigMap", "old"))
    after = graph_of(application, obj("Deployment", "web", "apps", replicas=2), obj("ConfigMap", "new"))
    text = environment_diff("staging", before, after)
    data, every = text[text.index("**Data**"):text.index("<details>")], text[text.index("<details>"):]
    assert text.startswith("### staging\n\n1 added, 1 changed, 3 removed.\n")
    assert data.splitlines()[2:] == [
        "- removed: `PersistentVolumeClaim shop/data` (volume): the controller deletes it",
        "- removed: `StatefulSet shop/cache` (volumes): it stays on the cluster (not pruned)",
        "- could lose data (`make promote` refuses it): PersistentVolumeClaim shop/data: the volume is removed",
        "- could lose data (`make promote` refuses it): StatefulSet shop/cache: removed, and it was kept "
        "(argocd.argoproj.io/sync-options: Prune=false)", ""]
    assert "- changed: `Deployment shop/web`: `spec.replicas`" in every
    assert "- added: `ConfigMap shop/new`" in every and "- removed: `ConfigMap shop/old`: the controller deletes it" in every
    assert environment_diff("production", before, before) == "### production\n\nNo change.\n"


# A Flux fleet's settings, and its infrastructure layer, which every app waits for: what a graph
# built by hand needs to prove nothing but its own defect.
FLUX_SETTINGS = {"cluster_controller": "fluxcd", "flux_namespace": "flux-system", "registered_suffix": "-gitops",
                 "names": orchestration_names("fleet")}
INFRASTRUCTURE = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                  "metadata": {"name": "fleet-infrastructure", "namespace": "flux-system"}, "spec": {"wait": True}}


def registered(app: str) -> dict:
    """The app's registered Kustomization, waiting for the infrastructure layer as the registry's do."""
    return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": f"{app}-gitops", "namespace": "flux-system"},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": f"{app}-gitops"},
                     "dependsOn": [{"name": "fleet-infrastructure"}]}}


def by_hand(tree: dict[str | None, list[dict]], infrastructure: dict | None = INFRASTRUCTURE) -> Graph:
    """The graph of these objects, each under the Kustomization named by its key (None: applied by hand),
    beside the infrastructure layer."""
    graph = Graph()
    layers = [infrastructure] if infrastructure else []
    for parent, children in {**tree, None: [*layers, *tree.get(None, [])]}.items():
        for child in children:
            key = key_of(child)
            graph.objects[key], graph.children[key] = child, []
            graph.parents[key] = ("Kustomization", "flux-system", parent) if parent else None
            if parent:
                graph.children[("Kustomization", "flux-system", parent)].append(key)
    return graph


def test_prove_names_what_a_flux_controller_would_read_for_an_app():
    """The registry strips what would have a Flux controller read the Flux namespace's Secrets with
    its own rights; one that slips through is a finding."""
    sneaky = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
              "metadata": {"name": "shop-base", "namespace": "flux-system"},
              "spec": {"serviceAccountName": "shop-deploy",
                       "postBuild": {"substituteFrom": [{"kind": "Secret", "name": "flux-system"}]}}}
    assert proof(by_hand({None: [sneaky]}), FLUX_SETTINGS, prove.CATALOGUE) == [
        "Kustomization flux-system/shop-base (applied by hand): kustomize-controller reads Secret "
        "flux-system/flux-system with its own rights"]


def test_prove_names_an_app_reading_another_apps_source():
    """The registry confines each app's Flux objects to its own sources; one that reads another
    app's is a finding, whose source it is named."""
    def obj(kind, name, spec, group="kustomize.toolkit.fluxcd.io/v1"):
        return {"apiVersion": group, "kind": kind, "metadata": {"name": name, "namespace": "flux-system"}, "spec": spec}

    graph = by_hand({
        None: [registered("shop"), registered("ledger")],
        "shop-gitops": [obj("GitRepository", "shop", {}, "source.toolkit.fluxcd.io/v1")],
        "ledger-gitops": [obj("HelmRelease", "ledger-base", {"chart": {"spec": {
            "chart": "./helm/base", "sourceRef": {"kind": "GitRepository", "name": "shop"}}}}, "helm.toolkit.fluxcd.io/v2")]})
    assert proof(graph, FLUX_SETTINGS, prove.CATALOGUE) == [
        "HelmRelease flux-system/ledger-base (applied by Kustomization flux-system/ledger-gitops): reads "
        "GitRepository flux-system/shop, the app shop's, with its controller's own rights"]


def test_prove_names_what_would_start_before_the_infrastructure():
    """Apps wait for the infrastructure layer, which waits for what it applies: each way round that
    is a finding, and so is a fleet without the layer."""
    app = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
           "metadata": {"name": "shop-gitops", "namespace": "flux-system"}, "spec": {}}
    impatient = {**INFRASTRUCTURE, "spec": {"wait": False}}
    assert proof(by_hand({None: [app]}, impatient), FLUX_SETTINGS, prove.CATALOGUE) == [
        "Kustomization flux-system/fleet-infrastructure: does not wait for what it applies",
        "Kustomization flux-system/shop-gitops: does not depend on fleet-infrastructure"]
    assert proof(by_hand({None: [app]}, infrastructure=None), FLUX_SETTINGS, prove.CATALOGUE) == [
        "Kustomization flux-system/fleet-infrastructure: missing, so nothing holds the apps back until the "
        "infrastructure is ready"]
    # An environment with no root yet: nothing applied, nothing to order.
    assert proof(by_hand({}, infrastructure=None), FLUX_SETTINGS, prove.CATALOGUE) == []


def test_prove_names_an_alert_told_of_what_is_not_its_apps():
    """The registry sets each app's Alert to the app's own objects; one told of others is a finding."""
    alert = {"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
             "metadata": {"name": "shop", "namespace": "flux-system"},
             "spec": {"providerRef": {"name": "chat"}, "eventSources": [
                 {"kind": "Kustomization", "name": "shop-base"}, {"kind": "Kustomization", "name": "*"},
                 {"kind": "HelmRelease", "name": "ledger-base"},
                 {"kind": "HelmRelease", "name": "shop-base", "namespace": "elsewhere"}]}}
    assert proof(by_hand({None: [registered("shop")], "shop-gitops": [alert]}), FLUX_SETTINGS, prove.CATALOGUE) == [
        "Alert flux-system/shop (applied by Kustomization flux-system/shop-gitops): is told of every Kustomization "
        "of flux-system; of HelmRelease flux-system/ledger-base, not the app shop's; of HelmRelease "
        "elsewhere/shop-base, not the app shop's"]
