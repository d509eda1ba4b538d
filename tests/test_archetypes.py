"""Real apps from values alone: four archetypes, each the answers of a generated app plus what a
platform engineer writes into its gitops/values-*.yaml (tests/values/archetypes). Each deploys
the same objects under Argo CD and Flux, validates strictly, and gets what the app needs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support import helm
from support.gitops import argocd_deployments, chart_for, flux_deployments, merge
from support.kube import by_name, validation_errors
from support.netpol import Peer, allows, selects

ARCHETYPES = Path(__file__).parent / "values" / "archetypes"
NAMES = sorted(path.stem for path in ARCHETYPES.glob("*.yaml"))


def archetype_app(generate, name: str) -> Path:
    """The app generated with the archetype's answers, its gitops values edited as the archetype says."""
    archetype = yaml.safe_load((ARCHETYPES / f"{name}.yaml").read_text())
    root = generate(app_name="demo", **archetype["answers"])
    for chart in ("base", "platform"):
        path = root / "gitops" / f"values-{chart}.yaml"
        edited = merge(yaml.safe_load(path.read_text()) or {}, archetype[chart])
        path.write_text(yaml.safe_dump(edited, sort_keys=False))
    return root


def deployed(root: Path, chart: str, scratch: Path) -> list[dict]:
    """The objects of `chart`, after checking that both controllers deploy exactly these."""
    renders = {
        d.controller: helm.template(chart_for(d, scratch), d.release, d.namespace, d.values)
        for d in (argocd_deployments(root)[chart], flux_deployments(root)[chart])
    }
    assert renders["argocd"] == renders["fluxcd"]
    return [doc for doc in yaml.safe_load_all(renders["argocd"]) if doc]


@pytest.fixture(params=NAMES)
def archetype(request, generate, tmp_path) -> tuple[str, dict[str, list[dict]]]:
    root = archetype_app(generate, request.param)
    return request.param, {chart: deployed(root, chart, tmp_path) for chart in ("base", "platform")}


def test_every_archetype_is_here():
    assert NAMES == ["clustered-store", "finance-tracker", "mail-server", "web-app"]


def test_deploys_the_same_under_both_controllers_and_validates(archetype, crd_schemas):
    _, charts = archetype
    for objects in charts.values():
        assert validation_errors(objects, crd_schemas) == []


def workload(objects: list[dict]) -> dict:
    [obj] = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}]
    return obj


def ingress_peers_allowed(objects: list[dict], peer: Peer, port: int, protocol: str = "TCP") -> bool:
    [policy] = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "demo"]
    [container] = workload(objects)["spec"]["template"]["spec"]["containers"]
    names = {p["name"]: p["containerPort"] for p in container["ports"]}
    return allows(policy, "ingress", peer, port, protocol, port_names=names)


def hooks_before_rollout(objects: list[dict]) -> list[str]:
    """Jobs Flux's Helm (pre-install, pre-upgrade) and Argo CD (PreSync) run before the rest."""
    return [o["metadata"]["name"] for o in objects if o["kind"] == "Job"
            and set(o["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}]


def test_web_app(generate, tmp_path):
    root = archetype_app(generate, "web-app")
    base, platform = deployed(root, "base", tmp_path), deployed(root, "platform", tmp_path)
    pod = workload(base)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "demo-db-app", "key": "uri"}}} in container["env"]
    assert {"secretRef": {"name": "demo-bucket"}} in container["envFrom"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert hooks_before_rollout(base) == ["demo-migrate"]
    endpoint = by_name(platform)["ServiceMonitor", "demo"]["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/api/metrics")
    assert "metrics" in {p["name"] for p in by_name(base)["Service", "demo"]["spec"]["ports"]}


def test_mail_server(generate, tmp_path):
    base = deployed(archetype_app(generate, "mail-server"), "base", tmp_path)
    objects = by_name(base)
    lb = objects["Service", "demo-extra"]["spec"]
    assert lb["type"] == "LoadBalancer" and lb["externalTrafficPolicy"] == "Local"
    assert {p["name"]: p["port"] for p in lb["ports"]} == {"smtp": 25, "submission": 587, "imaps": 993}
    internet = Peer(ip="203.0.113.9")
    for port in (25, 587, 993):
        assert ingress_peers_allowed(base, internet, port)
    assert not ingress_peers_allowed(base, internet, 8080)
    pod = workload(base)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["securityContext"]["capabilities"]["add"] == ["NET_BIND_SERVICE"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/postfix/main.cf"]["subPath"] == "main.cf"
    assert objects["ConfigMap", "demo-postfix"]["data"]["main.cf"].startswith("myhostname = mail.example.com")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/tls"]["name"]]["secret"]["secretName"] == "mail-tls"
    assert volumes[mounts["/var/mail"]["name"]]["persistentVolumeClaim"]["claimName"] == "demo-data"
    assert objects["PersistentVolumeClaim", "demo-data"]["metadata"]["annotations"]["k8up.io/backup"] == "true"
    assert container["livenessProbe"]["tcpSocket"] == {"port": "smtp"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert pod["terminationGracePeriodSeconds"] == 120
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] == 30


def test_finance_tracker(generate, tmp_path):
    root = archetype_app(generate, "finance-tracker")
    base, platform = deployed(root, "base", tmp_path), deployed(root, "platform", tmp_path)
    assert hooks_before_rollout(base) == ["demo-migrate"]
    migrate = by_name(base)["Job", "demo-migrate"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("valueFrom") for e in migrate["containers"][0]["env"]}
    assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "demo-db-app", "key": "uri"}}
    assert {"secretRef": {"name": "demo-secrets"}} in migrate["containers"][0]["envFrom"]
    assert by_name(base)["CronJob", "demo-import"]["spec"]["schedule"] == "15 4 * * *"
    # The database comes first: the platform syncs before the base under both controllers.
    assert ("Cluster", "demo-db") in by_name(platform)
    assert by_name(platform)["ExternalSecret", "demo-secrets"]["spec"]["target"]["template"]["data"] == {
        "APP_KEY": "base64:{{ .key }}"}
    # Redis: the app and its jobs load its Secret, may connect out to it, and it lets them in.
    redis = by_name(platform)["Redis", "demo-kv"]
    kv_secret = by_name(platform)["ExternalSecret", "demo-kv"]["spec"]["target"]
    assert redis["spec"]["kubernetesConfig"]["redisSecret"]["name"] == kv_secret["name"] == "demo-kv"
    assert {"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"} <= kv_secret["template"]["data"].keys()
    # The operator gives each Redis pod its own labels over the Redis object's.
    redis_pod = Peer("demo", {**redis["metadata"]["labels"], "app": "demo-kv", "redis_setup_type": "standalone",
                              "role": "standalone"})
    kv_policy = {**by_name(platform)["NetworkPolicy", "demo-kv"]}
    kv_policy["metadata"] = {**kv_policy["metadata"], "namespace": "demo"}  # the release namespace
    assert selects(kv_policy["spec"]["podSelector"], redis_pod.labels)
    app_pod = workload(base)["spec"]["template"]
    pods = {"app": app_pod, "migrate": by_name(base)["Job", "demo-migrate"]["spec"]["template"],
            "import": by_name(base)["CronJob", "demo-import"]["spec"]["jobTemplate"]["spec"]["template"]}
    for name, pod in pods.items():
        assert {"secretRef": {"name": "demo-kv"}} in pod["spec"]["containers"][0]["envFrom"], name
        policies = [o for o in base if o["kind"] == "NetworkPolicy"
                    and selects(o["spec"]["podSelector"], pod["metadata"]["labels"])]
        assert policies and all(allows(p, "egress", redis_pod, 6379) for p in policies), name
        assert allows(kv_policy, "ingress", Peer("demo", pod["metadata"]["labels"]), 6379), name


def test_clustered_store(generate, tmp_path):
    base = deployed(archetype_app(generate, "clustered-store"), "base", tmp_path)
    objects = by_name(base)
    store = objects["StatefulSet", "demo"]["spec"]
    assert store["replicas"] == 3 and store["serviceName"] == "demo-headless"
    assert [t["metadata"]["name"] for t in store["volumeClaimTemplates"]] == ["data"]
    headless = objects["Service", "demo-headless"]["spec"]
    assert selects({"matchLabels": headless["selector"]}, store["template"]["metadata"]["labels"])
    assert {(p["port"], p["protocol"]) for p in headless["ports"]} >= {(7946, "TCP"), (7946, "UDP")}
    peer = Peer("demo", {"app.kubernetes.io/name": "demo"})
    assert ingress_peers_allowed(base, peer, 7946, "TCP") and ingress_peers_allowed(base, peer, 7946, "UDP")
    assert ("PodDisruptionBudget", "demo") in objects
