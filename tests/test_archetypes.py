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
    assert NAMES == ["clustered-store", "finance-tracker", "keycloak", "mail-server", "mastodon", "nextcloud",
                     "plausible", "web-app"]


def test_deploys_the_same_under_both_controllers_and_validates(archetype, crd_schemas):
    _, charts = archetype
    for objects in charts.values():
        assert validation_errors(objects, crd_schemas) == []


def workload(objects: list[dict], component: str = "app") -> dict:
    """The app's Deployment or StatefulSet, or a component's Deployment."""
    [obj] = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}
             and o["metadata"]["labels"]["app.kubernetes.io/component"] == component]
    return obj


def container(objects: list[dict], component: str = "app") -> dict:
    [first] = workload(objects, component)["spec"]["template"]["spec"]["containers"]
    return first


def env_of(c: dict) -> dict[str, dict | str]:
    """Each variable of a container: its value, or where it comes from."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def secret_key(name: str, key: str) -> dict:
    return {"secretKeyRef": {"name": name, "key": key}}


def policies_of(objects: list[dict], pod: dict) -> list[dict]:
    """The NetworkPolicies selecting a pod template."""
    return [o for o in objects if o["kind"] == "NetworkPolicy" and selects(o["spec"]["podSelector"], pod["metadata"]["labels"])]


def reaches(objects: list[dict], source: dict, target: dict, port: int, port_names: dict | None = None) -> bool:
    """Whether pods of template `source` may connect to pods of template `target` on `port`: egress
    allowed by some policy of the source and ingress by some policy of the target."""
    out = any(allows(p, "egress", Peer("demo", target["metadata"]["labels"]), port) for p in policies_of(objects, source))
    into = any(allows(p, "ingress", Peer("demo", source["metadata"]["labels"]), port, port_names=port_names)
               for p in policies_of(objects, target))
    return out and into


def kv_admits(platform: list[dict], pod: dict) -> bool:
    policy = {**by_name(platform)["NetworkPolicy", "demo-kv"]}
    policy["metadata"] = {**policy["metadata"], "namespace": "demo"}
    return allows(policy, "ingress", Peer("demo", pod["metadata"]["labels"]), 6379)


def generated_keys(platform: list[dict]) -> list[str]:
    secret = by_name(platform)["ExternalSecret", "demo-generated"]["spec"]
    assert secret["refreshPolicy"] == "CreatedOnce"
    return [entry["rewrite"][0]["regexp"]["target"] for entry in secret["dataFrom"]]


def route_rule(objects: list[dict], path: str) -> dict:
    [rule] = [r for r in by_name(objects)["HTTPRoute", "demo"]["spec"]["rules"]
              if r["matches"][0]["path"]["value"] == path]
    return rule


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
    # Out too: each member's own policy lets it reach the others.
    member = store["template"]
    assert reaches(base, member, member, 7946, {"gossip": 7946})
    assert ("PodDisruptionBudget", "demo") in objects


def test_mastodon(generate, tmp_path):
    """Needs from mastodon/chart: web (puma, /health), Sidekiq workers, streaming (its own image,
    /api/v1/streaming routed to it), DB_* and REDIS_* variables, S3, secrets made once, a migration
    before each rollout, a weekly media clean-up."""
    root = archetype_app(generate, "mastodon")
    base, platform = deployed(root, "base", tmp_path), deployed(root, "platform", tmp_path)
    web, sidekiq, streaming = container(base), container(base, "sidekiq"), container(base, "streaming")
    assert web["command"][:3] == ["bundle", "exec", "puma"] and web["readinessProbe"]["httpGet"]["path"] == "/health"
    assert sidekiq["command"][:3] == ["bundle", "exec", "sidekiq"] and workload(base, "sidekiq")["spec"]["replicas"] == 2
    assert streaming["image"] == "ghcr.io/mastodon/mastodon-streaming:v4.3.2"
    assert streaming["readinessProbe"]["httpGet"] == {"path": "/api/v1/streaming/health", "port": "streaming"}
    # The database and Redis, under Mastodon's own names, in every process.
    for c in (web, sidekiq, streaming):
        env = env_of(c)
        assert env["DB_PASS"] == secret_key("demo-db-app", "password") and env["DB_HOST"] == secret_key("demo-db-app", "host")
        assert {"secretRef": {"name": "demo-kv"}} in c["envFrom"]
    assert env_of(streaming)["PORT"] == "4000" and env_of(web)["PORT"] == "3000"
    # The bucket and the secrets made once, in the Rails processes.
    for c in (web, sidekiq):
        assert env_of(c)["S3_BUCKET"] == {"configMapKeyRef": {"name": "demo-bucket", "key": "BUCKET_NAME"}}
        for source in ("demo-bucket", "demo-generated", "demo-secrets"):
            assert {"secretRef": {"name": source}} in c["envFrom"], source
    assert set(generated_keys(platform)) == {"SECRET_KEY_BASE", "OTP_SECRET", "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY",
                                             "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY",
                                             "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT"}
    vapid = {d["secretKey"] for d in by_name(platform)["ExternalSecret", "demo-secrets"]["spec"]["data"]}
    assert vapid == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"}
    # Streaming behind the Gateway, at its own path; the Gateway's proxies may reach it.
    rule = route_rule(base, "/api/v1/streaming")
    assert rule["backendRefs"][0]["name"] == "demo-streaming" and rule["backendRefs"][0]["port"] == 4000
    [policy] = policies_of(base, workload(base, "streaming")["spec"]["template"])
    assert allows(policy, "ingress", Peer("envoy-gateway-system", {}), 4000, port_names={"streaming": 4000})
    assert route_rule(base, "/api/v2/media")["timeouts"] == {"request": "5m"}
    # Every process reaches Redis, and Redis lets each in; the web's Service sends to web pods only.
    redis = Peer("demo", {"app": "demo-kv", "redis_setup_type": "standalone"})
    service = by_name(base)["Service", "demo"]["spec"]["selector"]
    for name in ("app", "sidekiq", "streaming"):
        pod = workload(base, name)["spec"]["template"]
        assert kv_admits(platform, pod), name
        assert all(allows(p, "egress", redis, 6379) for p in policies_of(base, pod)), name
        assert selects({"matchLabels": service}, pod["metadata"]["labels"]) == (name == "app"), name
    assert hooks_before_rollout(base) == ["demo-migrate"]
    assert by_name(base)["CronJob", "demo-media-remove"]["spec"]["schedule"] == "0 3 * * 0"


def test_plausible(generate, tmp_path):
    """Needs from plausible/community-edition compose.yml: the web app on port 8000, Postgres as
    DATABASE_URL, ClickHouse (its own image, /ping, its data kept) at CLICKHOUSE_DATABASE_URL,
    SECRET_KEY_BASE made once, migrations before it starts."""
    root = archetype_app(generate, "plausible")
    base, platform = deployed(root, "base", tmp_path), deployed(root, "platform", tmp_path)
    web, clickhouse = container(base), container(base, "clickhouse")
    assert web["image"] == "ghcr.io/plausible/community-edition:v2.1.3"
    assert web["readinessProbe"]["httpGet"]["path"] == "/api/health" and env_of(web)["PORT"] == "8000"
    assert env_of(web)["DATABASE_URL"] == secret_key("demo-db-app", "uri")
    assert {"secretRef": {"name": "demo-generated"}} in web["envFrom"]
    assert generated_keys(platform) == ["SECRET_KEY_BASE"]
    assert hooks_before_rollout(base) == ["demo-migrate"]
    # ClickHouse: its own image and claim, at the address the app is given, reachable by the app only.
    assert clickhouse["image"] == "clickhouse/clickhouse-server:24.3.3.102-alpine"
    assert clickhouse["readinessProbe"]["httpGet"] == {"path": "/ping", "port": "clickhouse"}
    assert "DATABASE_URL" not in env_of(clickhouse)
    claim = by_name(base)["PersistentVolumeClaim", "demo-clickhouse-events"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    config = by_name(base)["ConfigMap", "demo-config"]["data"]
    service = by_name(base)["Service", "demo-clickhouse"]["spec"]
    assert config["CLICKHOUSE_DATABASE_URL"] == f"http://demo-clickhouse:{service['ports'][0]['port']}/plausible_events_db"
    app_pod, store_pod = workload(base)["spec"]["template"], workload(base, "clickhouse")["spec"]["template"]
    assert reaches(base, app_pod, store_pod, 8123, {"clickhouse": 8123})
    assert not allows(policies_of(base, store_pod)[0], "ingress", Peer("elsewhere", {}), 8123,
                      port_names={"clickhouse": 8123})
    mounts = {m["mountPath"] for m in clickhouse["volumeMounts"]}
    assert {"/var/lib/clickhouse", "/etc/clickhouse-server/config.d"} <= mounts


def test_keycloak(generate, tmp_path):
    """Needs from codecentric/helm-charts keycloakx: members of a StatefulSet finding each other
    through the headless Service (JGroups, port 7800), the database as KC_DB_*, health and metrics
    on the management port, a build step before the server, the first admin's password made once."""
    root = archetype_app(generate, "keycloak")
    base, platform = deployed(root, "base", tmp_path), deployed(root, "platform", tmp_path)
    objects = by_name(base)
    store = objects["StatefulSet", "demo"]["spec"]
    assert store["replicas"] == 2 and store["serviceName"] == "demo-headless"
    headless = objects["Service", "demo-headless"]["spec"]
    assert "demo-headless" in objects["ConfigMap", "demo-config"]["data"]["JAVA_OPTS_APPEND"]
    assert (7800, "TCP") in {(p["port"], p["protocol"]) for p in headless["ports"]}
    peer = store["template"]
    assert reaches(base, peer, peer, 7800, {"jgroups": 7800})
    keycloak = container(base)
    env = env_of(keycloak)
    assert env["KC_DB_PASSWORD"] == secret_key("demo-db-app", "password")
    assert env["KC_DB_URL_HOST"] == secret_key("demo-db-app", "host")
    assert {"secretRef": {"name": "demo-generated"}} in keycloak["envFrom"]
    assert generated_keys(platform) == ["KC_BOOTSTRAP_ADMIN_PASSWORD"]
    for probe, path in (("startupProbe", "/health/started"), ("livenessProbe", "/health/live"),
                        ("readinessProbe", "/health/ready")):
        assert keycloak[probe]["httpGet"] == {"path": path, "port": "management"}
    metrics = [p for p in objects["Service", "demo"]["spec"]["ports"] if p["name"] == "metrics"]
    assert metrics[0]["targetPort"] == "management"
    assert ingress_peers_allowed(base, Peer("monitoring", {}), 9000)
    assert by_name(platform)["ServiceMonitor", "demo"]["spec"]["endpoints"][0]["port"] == "metrics"
    # The build step: the server's environment and volumes, so what it builds is what the server starts.
    [build] = store["template"]["spec"]["initContainers"]
    assert build["args"] == ["build"] and build["env"] == keycloak["env"] and build["envFrom"] == keycloak["envFrom"]
    assert build["volumeMounts"] == keycloak["volumeMounts"]
    assert ("PodDisruptionBudget", "demo") in objects


def test_nextcloud(generate, tmp_path):
    """Needs from nextcloud/helm: the web server as www-data, its files on a volume the cron job
    shares every five minutes, POSTGRES_*, REDIS_HOST*, OBJECTSTORE_S3_* variables, the first admin's
    password made once, status.php probed with a trusted Host, DAV discovery redirects, long uploads."""
    root = archetype_app(generate, "nextcloud")
    base, platform = deployed(root, "base", tmp_path), deployed(root, "platform", tmp_path)
    objects = by_name(base)
    pod = workload(base)["spec"]["template"]["spec"]
    web = container(base)
    assert pod["securityContext"]["runAsUser"] == 33
    files = {m["mountPath"]: m.get("subPath") for m in web["volumeMounts"]}
    assert files["/etc/apache2/ports.conf"] == "ports.conf"
    assert files["/etc/apache2/sites-enabled/000-default.conf"] == "000-default.conf"
    assert "<VirtualHost *:8080>" in objects["ConfigMap", "demo-apache-site"]["data"]["000-default.conf"]
    env = env_of(web)
    assert env["POSTGRES_PASSWORD"] == secret_key("demo-db-app", "password")
    assert env["REDIS_HOST_PASSWORD"] == secret_key("demo-kv", "REDIS_PASSWORD")
    assert env["OBJECTSTORE_S3_SECRET"] == secret_key("demo-bucket", "AWS_SECRET_ACCESS_KEY")
    assert {"secretRef": {"name": "demo-kv"}} in web["envFrom"]  # REDIS_HOST
    assert {"secretRef": {"name": "demo-generated"}} in web["envFrom"]
    assert generated_keys(platform) == ["NEXTCLOUD_ADMIN_PASSWORD"]
    assert "Host: cloud.example.com" in web["readinessProbe"]["exec"]["command"]
    claim = objects["PersistentVolumeClaim", "demo-data"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
    cron = objects["CronJob", "demo-cron"]["spec"]
    assert cron["schedule"] == "*/5 * * * *"
    cron_pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    assert cron_pod["volumes"] == pod["volumes"] and cron_pod["containers"][0]["volumeMounts"] == web["volumeMounts"]
    assert env_of(cron_pod["containers"][0])["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    for path in ("/.well-known/carddav", "/.well-known/caldav"):
        rule = route_rule(base, path)
        assert rule["filters"][0]["requestRedirect"]["path"]["replaceFullPath"] == "/remote.php/dav"
        assert "backendRefs" not in rule
    assert route_rule(base, "/remote.php")["timeouts"] == {"request": "1h", "backendRequest": "1h"}
