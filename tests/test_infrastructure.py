"""The orchestration's infrastructure layer: the operators the apps need, installed before them,
and the objects the apps attach to, agreeing with the apps by construction.

The graph is walked as the controllers walk it (support/orchestration.py). The suite runs
offline, so an upstream chart is an external leaf: what the controller would install is
recorded (repository, chart, version, release, namespace, values), and the CRDs it installs
are the catalogue's claim (INFRASTRUCTURE_CATALOGUE, checked against each chart's
release tag when the versions were pinned). The configs chart is this repository's own and is
rendered by Helm like any other.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from conftest import publish_orchestration, recorded_answers
from support import helm
from support.kube import BUILTIN_GROUPS, validation_errors
from support.netpol import Peer, allows
from support.orchestration import GitServer, GraphError, Walker, describe, project_violations
from gitops_template.catalogue import INFRASTRUCTURE_CATALOGUE, INFRASTRUCTURE_CONFIGS
from gitops_template.infrastructure import infrastructure_settings, installed_crds, vault_server_error

# The production choices, and Envoy Gateway's GatewayNamespace mode (no proxy namespace).
PRODUCTION = {"infrastructure_profile": "production", "vault_server": "https://vault.internal.example:8200",
              "gateway_proxy_namespace": ""}
VARIANTS = {
    "argocd-homelab": ("argocd", {}),
    "fluxcd-homelab": ("fluxcd", {}),
    "argocd-production": ("argocd", PRODUCTION),
    "fluxcd-production": ("fluxcd", PRODUCTION),
    # Apps bring their own SecretStore: the layer makes no store; and a Gateway serving HTTP only.
    "fluxcd-secretstore": ("fluxcd", {"secret_store_kind": "SecretStore", "gateway_tls": "none"}),
}


@pytest.fixture(scope="session")
def bare(rendered, tmp_path_factory):
    """bare(variant) -> (settings of the generated orchestration, its graph): no app registered."""
    walked = {}

    def _bare(variant: str):
        if variant not in walked:
            controller, answers = VARIANTS[variant]
            base = tmp_path_factory.mktemp(f"infrastructure-{variant}")
            root = rendered({"project_kind": "orchestration", "cluster_controller": controller, **answers},
                            base / "orchestration")
            server = GitServer(base)
            roots = publish_orchestration(server, root)
            (base / "walk").mkdir()
            settings = infrastructure_settings(recorded_answers(root))
            walked[variant] = (settings, Walker(server, base / "walk").walk(roots))
        return walked[variant]

    return _bare


def layer(graph, controller: str) -> set:
    """Everything the infrastructure layer applies, transitively."""
    [key] = [key for key in graph.objects if key[2].endswith("-infrastructure")
             and key[0] == ("Application" if controller == "argocd" else "Kustomization")]
    return graph.descendants(key)


def configs_objects(graph) -> list[dict]:
    [release] = [r for r in graph.releases if r.name == INFRASTRUCTURE_CONFIGS]
    return [doc for doc in yaml.safe_load_all(release.manifest) if doc]


def installed_charts(graph) -> dict[str, tuple]:
    """release -> (repository as Helm pulls it, chart, version, namespace, values)."""
    charts = {}
    for chart in graph.charts:
        # Argo CD names an OCI registry's chart by its registry path and chart; Flux by its full reference.
        repo = chart.repo if "://" in chart.repo else f"oci://{chart.repo}/{chart.chart}"
        charts[chart.release] = (repo, chart.chart, chart.version, chart.namespace, chart.values)
    return charts


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_infrastructure_object_validates_strictly(bare, variant, crd_schemas):
    settings, graph = bare(variant)
    controller = VARIANTS[variant][0]
    objects = [graph.objects[key] for key in layer(graph, controller)]
    assert {obj["kind"] for obj in objects} >= ({"AppProject", "Application"} if controller == "argocd"
                                                else {"HelmRepository", "OCIRepository", "HelmRelease"})
    assert validation_errors(objects, crd_schemas) == []
    # Every component is installed, and the configs chart rendered.
    assert set(installed_charts(graph)) == {c["name"] for c in settings["components"]}
    kinds = {obj["kind"] for obj in configs_objects(graph)}
    assert {"GatewayClass", "Gateway", "CephCluster", "CephObjectStore", "StorageClass"} <= kinds
    assert ("ClusterSecretStore" in kinds) == (VARIANTS[variant][1].get("secret_store_kind") != "SecretStore")


def test_the_profiles_size_the_store_and_pick_the_provider(bare):
    def configs(variant):
        return {obj["kind"]: obj for obj in configs_objects(bare(variant)[1])}

    homelab, production = configs("fluxcd-homelab"), configs("fluxcd-production")
    assert homelab["CephCluster"]["spec"]["mon"]["count"] == 1
    assert homelab["CephObjectStore"]["spec"]["dataPool"]["replicated"]["size"] == 1
    assert production["CephCluster"]["spec"]["mon"]["count"] == 3
    assert production["CephObjectStore"]["spec"]["dataPool"] == {"failureDomain": "host", "replicated": {"size": 3}}
    assert set(homelab["ClusterSecretStore"]["spec"]["provider"]) == {"kubernetes"}
    vault = production["ClusterSecretStore"]["spec"]["provider"]["vault"]
    assert vault["server"] == PRODUCTION["vault_server"]
    # No proxy namespace: Envoy Gateway runs the proxies in the Gateway's namespace.
    envoy = installed_charts(bare("fluxcd-production")[1])["envoy-gateway"]
    assert envoy[4]["config"]["envoyGateway"]["provider"]["kubernetes"]["deploy"]["type"] == "GatewayNamespace"
    assert "config" not in installed_charts(bare("fluxcd-homelab")[1])["envoy-gateway"][4]


def https_chain(configs: list[dict]) -> tuple[dict, dict, str]:
    """The Gateway's HTTPS listener, the Certificate it serves (by its Secret), and the issuer's name."""
    [gateway] = of_kind(configs, "Gateway")
    [listener] = [listener for listener in gateway["spec"]["listeners"] if listener["protocol"] == "HTTPS"]
    [ref] = listener["tls"]["certificateRefs"]
    [certificate] = [c for c in of_kind(configs, "Certificate") if c["spec"]["secretName"] == ref["name"]
                     and c["metadata"]["namespace"] == gateway["metadata"]["namespace"]]
    assert certificate["spec"]["dnsNames"] == [listener["hostname"]]
    assert certificate["spec"]["issuerRef"]["kind"] == "ClusterIssuer"
    return listener, certificate, certificate["spec"]["issuerRef"]["name"]


def test_the_gateway_serves_https_from_the_chosen_issuer(bare):
    """Homelab: a CA of the cluster's own, its key where ClusterIssuers read Secrets (cert-manager's
    namespace); production: the platform team's ClusterIssuer; or plain HTTP only."""
    homelab = configs_objects(bare("argocd-homelab")[1])
    _, _, issuer_name = https_chain(homelab)
    [issuer] = [i for i in of_kind(homelab, "ClusterIssuer") if i["metadata"]["name"] == issuer_name]
    [ca] = [c for c in of_kind(homelab, "Certificate") if c["spec"]["secretName"] == issuer["spec"]["ca"]["secretName"]]
    assert ca["spec"]["isCA"] is True
    assert ca["metadata"]["namespace"] == installed_charts(bare("argocd-homelab")[1])["cert-manager"][3]
    [bootstrap_issuer] = [i for i in of_kind(homelab, "ClusterIssuer") if i["metadata"]["name"] == ca["spec"]["issuerRef"]["name"]]
    assert bootstrap_issuer["spec"] == {"selfSigned": {}}

    production = configs_objects(bare("argocd-production")[1])
    assert https_chain(production)[2] == "letsencrypt" and of_kind(production, "ClusterIssuer") == []

    http_only = configs_objects(bare("fluxcd-secretstore")[1])
    [gateway] = of_kind(http_only, "Gateway")
    assert [listener["protocol"] for listener in gateway["spec"]["listeners"]] == ["HTTP"]
    assert of_kind(http_only, "Certificate") == []


@pytest.mark.parametrize("profile", ["homelab", "production"])
def test_argocd_and_flux_install_the_same_releases_with_the_same_values(bare, profile):
    argocd, flux = bare(f"argocd-{profile}")[1], bare(f"fluxcd-{profile}")[1]
    assert installed_charts(argocd) == installed_charts(flux)
    assert configs_objects(argocd) == configs_objects(flux)
    # Each as the catalogue pins it.
    settings = bare(f"argocd-{profile}")[0]
    for component in settings["components"]:
        repo, chart, version, namespace, values = installed_charts(argocd)[component["name"]]
        assert (repo, chart, version, namespace, values) == (component["repo"], component["chart"],
                                                             component["version"], component["namespace"],
                                                             component["values"])


def order(graph, controller: str) -> dict[str, set[str]]:
    """release -> the releases the controller has ready before it starts it."""
    if controller == "argocd":
        waves = {key[2]: int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
                 for key, obj in graph.of_kind("Application").items() if obj["spec"]["project"].endswith("-infrastructure")}
        return {name: {other for other, w in waves.items() if w < wave} for name, wave in waves.items()}
    return {key[2]: {dep["name"] for dep in obj["spec"].get("dependsOn", [])}
            for key, obj in graph.of_kind("HelmRelease").items() if key[1] == "flux-system"}


@pytest.mark.parametrize("controller", ["argocd", "fluxcd"])
def test_crds_are_installed_before_the_objects_that_use_them(bare, controller):
    """Each component after what it depends on, and each object of the configs chart after the
    component installing its CRD."""
    settings, graph = bare(f"{controller}-homelab")
    before = order(graph, controller)
    for component in settings["components"]:
        assert set(component["depends_on"]) <= before[component["name"]], component["name"]
        if controller == "argocd":
            # A chart whose own custom resources meet their CRDs in one sync: Argo CD skips their dry run.
            options = graph.objects[("Application", "argocd", component["name"])]["spec"]["syncPolicy"]["syncOptions"]
            assert ("SkipDryRunOnMissingResource=true" in options) == component["own_resources"], component["name"]
    assert any(component["own_resources"] for component in settings["components"])
    crds = installed_crds(settings)
    custom = [obj for obj in configs_objects(graph) if obj["apiVersion"].rpartition("/")[0] not in BUILTIN_GROUPS]
    assert custom
    for obj in custom:
        group = obj["apiVersion"].rpartition("/")[0]
        assert crds.get((group, obj["kind"])) in before[INFRASTRUCTURE_CONFIGS], obj["kind"]


def app_chart_kinds(app) -> set[tuple[str, str]]:
    """(group, kind) of everything the app template's charts can emit: an app with every platform
    feature, its charts rendered with every value file of the suite."""
    root = app("argocd-platform")
    kinds = set()
    for chart in ("base", "platform"):
        for values in sorted((Path(__file__).parent / "values" / chart).glob("*.yaml")):
            for obj in helm.render(root / "helm" / chart, "kinds", "kinds", [root / f"gitops/values-{chart}.yaml", values]):
                kinds.add((obj["apiVersion"].rpartition("/")[0], obj["kind"]))
    return kinds


def test_every_crd_an_app_uses_is_installed_before_the_apps(app, bare):
    """Every custom kind the app charts emit, and every API their operator checks ask for, is
    installed by a component of the infrastructure layer, which is ready before any app."""
    settings = bare("argocd-homelab")[0]
    crds = installed_crds(settings)
    custom = {(group, kind) for group, kind in app_chart_kinds(app) if group not in BUILTIN_GROUPS}
    assert {("postgresql.cnpg.io", "Cluster"), ("barmancloud.cnpg.io", "ObjectStore"),
            ("objectbucket.io", "ObjectBucketClaim"), ("external-secrets.io", "ExternalSecret"),
            ("monitoring.coreos.com", "ServiceMonitor"), ("gateway.networking.k8s.io", "HTTPRoute")} <= custom
    assert sorted(kind for kind in custom if kind not in crds) == []
    groups = {group for group, _ in crds}
    # An API version (group/version), or one kind of it (group/version/Kind) where the version is older than the kind.
    apis = [api.split("/") for api in helm.CLUSTER_API_VERSIONS]
    assert sorted("/".join(api) for api in apis if (api[0] not in groups if len(api) == 2 else (api[0], api[2]) not in crds)) == []


def test_catalogue_pins_exact_versions():
    for entry in INFRASTRUCTURE_CATALOGUE:
        assert re.fullmatch(r"v?[0-9]+\.[0-9]+\.[0-9]+", entry["version"]), entry["name"]
        assert entry["repo"].startswith(("https://", "oci://")), entry["name"]
        assert all(dep in {e["name"] for e in INFRASTRUCTURE_CATALOGUE} for dep in entry["depends_on"])


# --- Agreement: the platform the layer installs is the one the apps assume -------------------


def of_kind(objects, kind):
    return [obj for obj in objects if obj["kind"] == kind]


@pytest.mark.parametrize("name", ["argocd", "fluxcd"])
def test_the_platform_agrees_with_the_apps(fleet, graph, name):
    """With apps registered: the Gateway, its proxies, Prometheus, Grafana, the secret store and
    the bucket StorageClass the layer installs are the ones the apps' objects name."""
    walked, settings = graph(name), fleet(name).settings
    infrastructure = layer(walked, fleet(name).controller)
    configs = configs_objects(walked)
    charts = installed_charts(walked)
    apps = [walked.objects[key] for key in walked.objects
            if key not in infrastructure and walked.parents[key] and walked.parents[key][0] in ("Application", "HelmRelease")]
    checked = set()

    [gateway] = of_kind(configs, "Gateway")
    [gateway_class] = of_kind(configs, "GatewayClass")
    assert gateway_class["metadata"]["name"] == gateway["spec"]["gatewayClassName"]
    assert gateway_class["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    proxy_namespace = charts["envoy-gateway"][3]
    for route in of_kind(apps, "HTTPRoute"):
        namespace = route["metadata"]["namespace"]
        [parent] = route["spec"]["parentRefs"]
        assert (parent["name"], parent["namespace"]) == (gateway["metadata"]["name"], gateway["metadata"]["namespace"])
        listeners = [listener for listener in gateway["spec"]["listeners"]
                     if all(fnmatch.fnmatchcase(host, listener["hostname"]) for host in route["spec"]["hostnames"])
                     and listener["allowedRoutes"]["namespaces"]["from"] == "All"]
        assert listeners, describe(("HTTPRoute", namespace, route["metadata"]["name"]))
        # Each app is served over HTTPS too, by a certificate for its host.
        https, certificate, _ = https_chain(configs)
        assert https in listeners
        assert all(fnmatch.fnmatchcase(host, name) for host in route["spec"]["hostnames"]
                   for name in certificate["spec"]["dnsNames"])
        # The proxies, and the Gateway's namespace, reach the app's pods.
        [policy] = [p for p in of_kind(apps, "NetworkPolicy") if p["metadata"]["namespace"] == namespace
                    and p["metadata"]["name"] == route["metadata"]["name"]]
        for source in {proxy_namespace, gateway["metadata"]["namespace"]}:
            assert allows(policy, "ingress", Peer(namespace=source, labels={"app": "envoy"}), 8080,
                          port_names={"http": 8080}), (source, namespace)
        checked.add("gateway")

    prometheus_namespace = charts["kube-prometheus-stack"][3]
    spec = charts["kube-prometheus-stack"][4]["prometheus"]["prometheusSpec"]
    selectors = {"ServiceMonitor": spec["serviceMonitorSelector"], "PodMonitor": spec["podMonitorSelector"],
                 "PrometheusRule": spec["ruleSelector"]}
    for kind, selector in selectors.items():
        for monitor in of_kind(apps, kind):
            labels = monitor["metadata"].get("labels", {})
            assert selector["matchLabels"].items() <= labels.items(), monitor["metadata"]["name"]
            checked.add(kind)
    # Prometheus scrapes each monitored app: the app's own NetworkPolicy, named like its monitor, admits it.
    for monitor in of_kind(apps, "ServiceMonitor"):
        [policy] = [p for p in of_kind(apps, "NetworkPolicy") if (p["metadata"]["namespace"], p["metadata"]["name"])
                    == (monitor["metadata"]["namespace"], monitor["metadata"]["name"])]
        assert allows(policy, "ingress", Peer(namespace=prometheus_namespace, labels={"app": "prometheus"}), 8080,
                      port_names={"http": 8080}), policy["metadata"]["name"]
        checked.add("prometheus-namespace")
    dashboards = charts["kube-prometheus-stack"][4]["grafana"]["sidecar"]["dashboards"]
    assert dashboards["searchNamespace"] == "ALL"
    for config_map in of_kind(apps, "ConfigMap"):
        if config_map["metadata"]["name"].endswith("-dashboard"):
            assert config_map["metadata"]["labels"].get(dashboards["label"]) == dashboards["labelValue"]
            checked.add("dashboard")

    stores = {(obj["kind"], obj["metadata"]["name"]) for obj in configs if obj["kind"] == "ClusterSecretStore"}
    for external in of_kind(apps, "ExternalSecret"):
        if "secretStoreRef" not in external["spec"]:
            # Made in the cluster by a generator of the app's own (the key-value store's password).
            assert all("generatorRef" in source["sourceRef"] for source in external["spec"]["dataFrom"])
            continue
        ref = external["spec"]["secretStoreRef"]
        assert (ref["kind"], ref["name"]) in stores
        checked.add("secret-store")

    [storage_class] = of_kind(configs, "StorageClass")
    [store] = of_kind(configs, "CephObjectStore")
    for claim in of_kind(apps, "ObjectBucketClaim"):
        assert claim["spec"]["storageClassName"] == storage_class["metadata"]["name"]
        # The app's pods may reach the object gateway: Rook's namespace, its pods' port 8080.
        namespace = claim["metadata"]["namespace"]
        app = claim["metadata"]["name"].removesuffix("-bucket")
        [policy] = [p for p in of_kind(apps, "NetworkPolicy") if (p["metadata"]["namespace"], p["metadata"]["name"])
                    == (namespace, app)]
        assert allows(policy, "egress", Peer(namespace=store["metadata"]["namespace"], labels={"app": "rook-ceph-rgw"}),
                      8080)
        checked.add("bucket")
    # The key-value store's operator sets up replication: the store admits its namespace.
    for redis in of_kind(apps, "Redis") + of_kind(apps, "RedisReplication"):
        store_key = (redis["metadata"]["namespace"], redis["metadata"]["name"])
        [policy] = [p for p in of_kind(apps, "NetworkPolicy") if (p["metadata"]["namespace"], p["metadata"]["name"])
                    == store_key]
        assert allows(policy, "ingress", Peer(namespace=charts["redis-operator"][3], labels={}), 6379), store_key
        checked.add("key-value-store")
    assert storage_class["parameters"]["objectStoreNamespace"] == store["metadata"]["namespace"]
    assert storage_class["parameters"]["objectStoreName"] == store["metadata"]["name"]
    expected = {"argocd": {"gateway", "ServiceMonitor", "PodMonitor", "PrometheusRule", "prometheus-namespace",
                           "dashboard", "secret-store", "bucket", "key-value-store"},
                "fluxcd": {"gateway", "ServiceMonitor", "PrometheusRule", "prometheus-namespace", "bucket"}}
    assert expected[name] <= checked


@pytest.mark.parametrize("controller", ["argocd", "fluxcd"])
def test_a_chart_source_missing_from_the_layer_is_caught(rendered, tmp_path, controller):
    """The walk follows each external chart to its source: a HelmRelease whose HelmRepository
    is gone does not resolve, and an Application whose chart repository its AppProject does not
    admit is a violation."""
    root = rendered({"project_kind": "orchestration", "cluster_controller": controller}, tmp_path / "orchestration")
    components = root / "infrastructure/components.yaml"
    documents = components.read_text().split("\n---\n")
    if controller == "fluxcd":
        kept = [doc for doc in documents if not ("\nkind: HelmRepository\n" in doc and 'name: "rook-ceph"' in doc)]
        assert len(kept) == len(documents) - 1
    else:
        kept = [doc.replace('    - "https://charts.rook.io/release"\n', "") for doc in documents]
    assert kept != documents
    components.write_text("\n---\n".join(kept))
    server = GitServer(tmp_path)
    roots = publish_orchestration(server, root)
    (tmp_path / "walk").mkdir()
    walker = Walker(server, tmp_path / "walk")
    if controller == "fluxcd":
        with pytest.raises(GraphError, match="no HelmRepository flux-system/rook-ceph"):
            walker.walk(roots)
    else:
        assert project_violations(walker.walk(roots)) == [
            "Application argocd/rook-ceph: source https://charts.rook.io/release not in AppProject argocd/fleet-infrastructure"]


@pytest.mark.parametrize("url", ["http://vault.vault.svc:8200", "https://vault.example.com", "https://vault.example.com/"])
def test_vault_server_accepted(url):
    assert vault_server_error(url) == ""
