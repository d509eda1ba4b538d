"""The base chart (helm/base) with the image it runs: every values combination renders valid,
restricted and checkov-clean objects; the schema refuses typos; Dockerfile, chart and values agree.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import ANSWER_SETS, load_answers
from support.helm import CLUSTER_API_VERSIONS, HelmError, lint, render
from support.chart_docs import documented_keys
from support.gitops import as_flux_builds_it
from support.kube import allowed_in, by_name, validation_errors
from support.netpol import Peer, allows, selects

VALUES = Path(__file__).parent / "values" / "base"
GITOPS_VALUES = Path("gitops") / "values-base.yaml"
VENV_BIN = Path(sys.executable).parent

# Checks the chart fails on purpose, each with why. Anything else checkov fails, the test fails.
CHECKOV_SKIPS = {
    "CKV_K8S_43": "a digest exists only once CI has built the image; image.digest pins it (see extras)",
}
# Checks a values file fails on purpose, on top of those.
PLATFORM_AS_ENV = "the platform contract hands credentials over as env vars (DATABASE_URL, envFrom Secrets)"
CHECKOV_SKIPS_BY_VALUES = {
    "minimal.yaml": {"CKV2_K8S_6": "the file turns the NetworkPolicy off, to show that the switch works"},
    "platform.yaml": {"CKV_K8S_35": PLATFORM_AS_ENV},
    "values-base.yaml": {"CKV_K8S_35": PLATFORM_AS_ENV},
    "jobs.yaml": {"CKV_K8S_35": PLATFORM_AS_ENV},
    "postgres-pooler.yaml": {"CKV_K8S_35": PLATFORM_AS_ENV},
    "generated-secrets.yaml": {"CKV_K8S_35": PLATFORM_AS_ENV},
    "rbac.yaml": {"CKV_K8S_38": "the file gives the app the API access it needs, which needs its token"},
    "workload.yaml": {"CKV_K8S_25": "NET_BIND_SERVICE, which the restricted standard allows, binds port 25"},
    "components.yaml": {"CKV_K8S_35": PLATFORM_AS_ENV,
                        "CKV_K8S_8": "a queue worker serves nothing a liveness probe could ask",
                        "CKV_K8S_9": "a queue worker takes no traffic a readiness probe could hold back"},
}

# Every values file, on the canonical app, with the kinds it must render and no others.
ALWAYS = {"Deployment", "Service"}
NAMED_CASES = [
    pytest.param([], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="chart-defaults"),
    pytest.param(["minimal.yaml"], ALWAYS, id="minimal"),
    pytest.param(["httproute.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="httproute"),
    pytest.param(["ingress.yaml"], ALWAYS | {"ServiceAccount", "Ingress", "NetworkPolicy"}, id="ingress"),
    pytest.param(
        ["autoscaling.yaml"],
        ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget"},
        id="autoscaling",
    ),
    pytest.param(
        ["replicas.yaml"],
        ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "PodDisruptionBudget"},
        id="replicas",
    ),
    pytest.param(
        ["persistence.yaml"],
        ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "PersistentVolumeClaim"},
        id="persistence",
    ),
    pytest.param(["platform.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="platform"),
    pytest.param(
        ["extras.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "ConfigMap"}, id="extras"
    ),
    # Two Services: the HTTP one and the extra one.
    pytest.param(["ports.yaml"], [*ALWAYS, "Service", "ServiceAccount", "HTTPRoute", "NetworkPolicy"], id="ports"),
    pytest.param(["workload.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="workload"),
    pytest.param(["volumes.yaml"], [*ALWAYS, "ServiceAccount", "HTTPRoute", "NetworkPolicy", "PersistentVolumeClaim",
                                    "PersistentVolumeClaim"], id="volumes"),
    pytest.param(["extra-objects.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "Certificate", "ConfigMap"},
                 id="extra-objects"),
    pytest.param(["jobs.yaml"], [*ALWAYS, "ServiceAccount", "HTTPRoute", "NetworkPolicy", "NetworkPolicy", "Job", "CronJob"],
                 id="jobs"),
    pytest.param(["statefulset.yaml"], [*ALWAYS - {"Deployment"}, "StatefulSet", "Service", "ServiceAccount", "HTTPRoute",
                                        "NetworkPolicy", "PodDisruptionBudget"], id="statefulset"),
    pytest.param(["metrics-port.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="metrics-port"),
    pytest.param(["postgres-pooler.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="postgres-pooler"),
    pytest.param(["probes.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"}, id="probes"),
    pytest.param(["files.yaml"], [*ALWAYS, "ConfigMap", "ConfigMap", "ServiceAccount", "HTTPRoute", "NetworkPolicy"],
                 id="files"),
    pytest.param(["routes.yaml"], [*ALWAYS, "Service", "ServiceAccount", "HTTPRoute", "TCPRoute", "TLSRoute",
                                   "NetworkPolicy"], id="routes"),
    pytest.param(["files-modes.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "ConfigMap"},
                 id="files-modes"),
    pytest.param(["rbac.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy", "Role", "RoleBinding"},
                 id="rbac"),
    pytest.param(["generated-secrets.yaml"], ALWAYS | {"ServiceAccount", "HTTPRoute", "NetworkPolicy"},
                 id="generated-secrets"),
    # The app and three components: a worker (two replicas, so a PodDisruptionBudget), a server with a
    # Service, and a store with a Service and a claim of its own.
    pytest.param(["components.yaml"], [*ALWAYS, "Deployment", "Deployment", "Deployment", "Service", "Service",
                                       "ServiceAccount", "HTTPRoute", "NetworkPolicy", "NetworkPolicy", "NetworkPolicy",
                                       "NetworkPolicy", "PodDisruptionBudget", "ConfigMap", "ConfigMap",
                                       "PersistentVolumeClaim", "PersistentVolumeClaim"], id="components"),
]


class Case:
    """The chart of a generated app, released as Argo CD and Flux release it, with values files
    layered over its values.yaml: the named files of tests/values/base, or (None) the app's own
    gitops/values-base.yaml."""

    def __init__(self, app, answers: str, values: list[str] | None = ()):
        self.app = app(answers)
        self.chart = self.app / "helm" / "base"
        self.release = load_answers(answers)["app_name"]
        self.namespace = load_answers(answers).get("namespace", self.release)
        self.values = [self.app / GITOPS_VALUES] if values is None else [VALUES / v for v in values]

    def render(self, *extra_values: Path) -> list[dict]:
        return render(self.chart, self.release, self.namespace, [*self.values, *extra_values])


CASES = ([pytest.param(("canonical", p.values[0]), id=p.id) for p in NAMED_CASES]
         + [pytest.param((name, None), id=f"gitops-{name}") for name in ANSWER_SETS])


@pytest.fixture(params=CASES)
def case(request, app) -> Case:
    return Case(app, *request.param)


@pytest.fixture(scope="module")
def checkov_report(app, tmp_path_factory) -> dict:
    """checkov's report on every case's manifests, one file per case id, in one run: its start-up
    (about 10 s) is most of a run, and checks judge each object on its own."""
    folder = tmp_path_factory.mktemp("checkov")
    for param in CASES:
        (folder / f"{param.id}.yaml").write_text(yaml.safe_dump_all(Case(app, *param.values[0]).render()))
    result = subprocess.run(
        # Not --quiet: the passed checks say which objects each file had.
        [VENV_BIN / "checkov", "--directory", folder, "--framework", "kubernetes", "--output", "json",
         "--skip-check", ",".join(CHECKOV_SKIPS)],
        capture_output=True, text=True,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: some check failed, which each case judges
    return json.loads(result.stdout)


@pytest.fixture
def canonical(app) -> Case:
    return Case(app, "canonical")


def one(objects: list[dict], kind: str) -> dict:
    [obj] = [o for o in objects if o["kind"] == kind]
    return obj


def job_pods(objects: list[dict]) -> dict[str, dict]:
    """The pod template of each Job and CronJob, by the object's name."""
    pods = {o["metadata"]["name"]: o["spec"]["template"] for o in objects if o["kind"] == "Job"}
    pods |= {o["metadata"]["name"]: o["spec"]["jobTemplate"]["spec"]["template"] for o in objects if o["kind"] == "CronJob"}
    return pods


def workload(objects: list[dict]) -> dict:
    """The app's Deployment, or the StatefulSet in its place (not its components')."""
    [obj] = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}
             and o["metadata"]["labels"]["app.kubernetes.io/component"] == "app"]
    return obj


def components(objects: list[dict]) -> dict[str, dict]:
    """The components' Deployments, by component name."""
    return {o["metadata"]["labels"]["app.kubernetes.io/component"]: o for o in objects
            if o["kind"] == "Deployment" and o["metadata"]["labels"]["app.kubernetes.io/component"] != "app"}


def pod_spec(objects: list[dict]) -> dict:
    return workload(objects)["spec"]["template"]["spec"]


def write_values(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


# --- Every combination --------------------------------------------------------------------


def test_lints(case):
    lint(case.chart, case.values)


def test_objects_are_valid_at_every_kubernetes_version(case, crd_schemas):
    assert validation_errors(case.render(), crd_schemas) == []


def test_pod_template_ignores_the_chart_version(case, tmp_path):
    """Flux rebuilds the chart on every commit as <version>+<commit>.<n>: pods must not restart for it,
    and Argo CD (which keeps 0.1.0) and Flux must deploy the same pods."""
    def template(chart: Path) -> dict:
        return workload(render(chart, case.release, case.namespace, case.values))["spec"]["template"]

    assert yaml.safe_load((case.chart / "Chart.yaml").read_text())["version"] == "0.1.0"
    assert template(case.chart) == template(as_flux_builds_it(case.chart, tmp_path, "abcdef123456"))


def test_pods_meet_the_restricted_pod_security_standard(case):
    objects = case.render()
    pod = pod_spec(objects)
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert isinstance(security["runAsUser"], int) and security["runAsUser"] > 0
    # Group 0 is allowed: images built to run under arbitrary user ids share files with it.
    assert all(isinstance(security[key], int) and security[key] >= 0 for key in ("runAsGroup", "fsGroup"))
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod)
    assert all("hostPath" not in volume for volume in pod["volumes"])
    # No API token unless the app asks for one (rbac.yaml does, to use its Role).
    assert pod["automountServiceAccountToken"] is ("rbac.yaml" in {v.name for v in case.values})
    tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        # NET_BIND_SERVICE, the one capability the standard lets a container add, for ports below 1024.
        assert context["capabilities"]["drop"] == ["ALL"]
        assert set(context["capabilities"].get("add", [])) <= {"NET_BIND_SERVICE"}
        assert context["readOnlyRootFilesystem"] is True
        assert not context.get("privileged")
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound])
    for container in pod["containers"]:
        assert any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in container["volumeMounts"])
        if "probes.yaml" not in {v.name for v in case.values}:  # which sets each probe its own way
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert container[probe]["httpGet"]["path"] == "/healthz"
    if "ServiceAccount" in {o["kind"] for o in objects}:
        assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is pod["automountServiceAccountToken"]
    other_pods = [*job_pods(objects).values(), *(c["spec"]["template"] for c in components(objects).values())]
    for other_pod in other_pods:
        assert other_pod["spec"]["securityContext"] == security
        assert other_pod["spec"]["automountServiceAccountToken"] is False
        [container] = other_pod["spec"]["containers"]
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                                "readOnlyRootFilesystem": True}
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])


def test_checkov_finds_nothing(case, request, checkov_report):
    mine = f"/{request.node.callspec.id}.yaml"
    skips = {check for v in case.values for check in CHECKOV_SKIPS_BY_VALUES.get(v.name, {})}
    results = checkov_report["results"]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed_checks"]
              if c["file_path"] == mine and c["check_id"] not in skips]
    assert failed == []
    checked = {c["resource"] for c in results["passed_checks"] + results["failed_checks"] if c["file_path"] == mine}
    assert len(checked) >= 2 and checkov_report["summary"]["parsing_errors"] == 0


def test_every_object_is_labelled_and_namespaced(case):
    for obj in case.render():
        assert obj["metadata"]["namespace"] == case.namespace
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == case.release


# --- What each values file switches -------------------------------------------------------


@pytest.mark.parametrize(("values", "kinds"), NAMED_CASES)
def test_optional_objects_switch(app, values, kinds):
    objects = Case(app, "canonical", values).render()
    assert sorted(o["kind"] for o in objects) == sorted(kinds)


def test_selector_labels_are_the_service_monitor_contract(canonical):
    objects = canonical.render()
    expected = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop"}
    assert one(objects, "Service")["spec"]["selector"] == expected
    assert one(objects, "Deployment")["spec"]["selector"]["matchLabels"] == expected
    assert one(objects, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"] == expected


def test_httproute_attaches_to_the_gateway_and_lets_it_in(app):
    objects = Case(app, "canonical", ["httproute.yaml"]).render()
    route = one(objects, "HTTPRoute")["spec"]
    assert route["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "internal",
                                    "namespace": "envoy-gateway-system", "sectionName": "https"}]
    assert route["hostnames"] == ["app.example.com"]
    assert route["rules"][0]["backendRefs"] == [{"group": "", "kind": "Service", "name": "shop", "port": 80, "weight": 1}]
    assert "envoy-gateway-system" in allowed_in(objects)


def test_httproute_needs_the_gateway_api(app, tmp_path):
    without_gateway_api = tuple(api for api in CLUSTER_API_VERSIONS if not api.startswith("gateway."))
    case = Case(app, "canonical")
    with pytest.raises(HelmError, match="does not serve gateway.networking.k8s.io/v1: install the Gateway API"):
        render(case.chart, case.release, case.namespace, case.values, without_gateway_api)
    ingress = write_values(tmp_path, {"httpRoute": {"enabled": False}, "ingress": {
        "enabled": True, "hosts": ["shop.example.com"], "controllerNamespace": "ingress-nginx"}})
    assert render(case.chart, case.release, case.namespace, [ingress], without_gateway_api)


def test_gateway_proxies_let_in_from_the_gateways_namespace_when_empty(app, tmp_path):
    """Implementations that run proxies beside their Gateway (Istio, NGINX Gateway Fabric)."""
    proxies = write_values(tmp_path, {"networkPolicy": {"gatewayNamespace": ""}})
    allowed = allowed_in(Case(app, "canonical").render(proxies))
    assert "gateway-system" in allowed
    assert "envoy-gateway-system" not in allowed


# The labels Envoy Gateway puts on the proxy pods of the Gateway gateway-system/public.
ENVOY_PROXY = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
               "app.kubernetes.io/managed-by": "envoy-gateway", "gateway.envoyproxy.io/owning-gateway-name": "public",
               "gateway.envoyproxy.io/owning-gateway-namespace": "gateway-system"}


def network_policy(objects: list[dict]) -> dict:
    return one(objects, "NetworkPolicy")


def test_envoy_gateway_proxies_reach_the_app_by_default(app):
    """Envoy Gateway's default mode runs every proxy in its controller's namespace, not the Gateway's."""
    policy = network_policy(Case(app, "canonical", None).render())
    http = {"http": 8080}
    assert allows(policy, "ingress", Peer("envoy-gateway-system", ENVOY_PROXY), 8080, port_names=http)
    assert not allows(policy, "ingress", Peer("elsewhere", ENVOY_PROXY), 8080, port_names=http)
    # Implementations that run proxies beside the Gateway (Istio, NGINX Gateway Fabric) get in too.
    assert allows(policy, "ingress", Peer("gateway-system", {"istio.io/gateway-name": "public"}), 8080, port_names=http)


@pytest.mark.parametrize("address", ["169.254.20.10", "169.254.169.254"], ids=["nodelocaldns", "gke-cloud-dns"])
def test_dns_through_node_local_resolvers(app, address):
    """NodeLocal DNSCache and GKE Cloud DNS answer on link-local addresses no pod selector matches."""
    policy = network_policy(Case(app, "canonical", None).render())
    for protocol in ("UDP", "TCP"):
        assert allows(policy, "egress", Peer(ip=address), 53, protocol)
        assert allows(policy, "egress", Peer("kube-system", {"k8s-app": "kube-dns"}), 53, protocol)
    # Only DNS: the metadata server's HTTP API stays closed.
    assert not allows(policy, "egress", Peer(ip=address), 80)


def test_dns_addresses_are_an_org_default(generate):
    root = generate(dns_ip_blocks="")
    objects = render(root / "helm/base", "demo", "demo", [root / GITOPS_VALUES])
    assert not allows(network_policy(objects), "egress", Peer(ip="169.254.20.10"), 53, "UDP")


def test_ingress_alternative(app):
    objects = Case(app, "canonical", ["ingress.yaml"]).render()
    ingress = one(objects, "Ingress")["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"hosts": ["app.example.com", "www.app.example.com"], "secretName": "app-tls"}]
    assert [rule["host"] for rule in ingress["rules"]] == ["app.example.com", "www.app.example.com"]
    assert allowed_in(objects) == {"ingress-nginx"}


def test_autoscaler_owns_the_replica_count(app):
    objects = Case(app, "canonical", ["autoscaling.yaml"]).render()
    assert "replicas" not in one(objects, "Deployment")["spec"]
    assert one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] == "shop"


def test_persistence_mounts_the_claim_and_replaces_pods(app):
    objects = Case(app, "canonical", ["persistence.yaml"]).render()
    deployment = one(objects, "Deployment")["spec"]
    assert deployment["strategy"] == {"type": "Recreate"}
    [volume] = [v for v in deployment["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert volume["persistentVolumeClaim"]["claimName"] == one(objects, "PersistentVolumeClaim")["metadata"]["name"]
    mounts = deployment["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": volume["name"], "mountPath": "/var/lib/app"} in mounts


def test_several_volumes(app):
    objects = Case(app, "canonical", ["volumes.yaml"]).render()
    claims = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PersistentVolumeClaim"}
    assert claims.keys() == {"shop-data", "shop-queue"}  # the existing claim is not created
    data, queue = claims["shop-data"], claims["shop-queue"]
    assert data["metadata"]["annotations"] == {"k8up.io/backup": "true", **KEEP}
    assert data["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                            "resources": {"requests": {"storage": "10Gi"}}}
    # What a claim does not set, it takes from persistence.
    assert queue["spec"] == {"accessModes": ["ReadWriteOncePod"], "storageClassName": "fast",
                             "resources": {"requests": {"storage": "2Gi"}}}
    assert queue["metadata"]["annotations"] == KEEP
    deployment = one(objects, "Deployment")["spec"]
    assert deployment["strategy"] == {"type": "Recreate"}
    pod = deployment["template"]["spec"]
    claim_of = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    mounted = {m["mountPath"]: claim_of[m["name"]] for m in pod["containers"][0]["volumeMounts"] if m["name"] in claim_of}
    assert mounted == {"/var/lib/app": "shop-data", "/var/spool/app": "shop-queue", "/srv/archive": "archive-2019"}


# What keeps a claim when Helm uninstalls the release (Flux's too) and when Argo CD prunes it or
# deletes its Application.
KEEP = {"helm.sh/resource-policy": "keep", "argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}


def test_claims_outlive_the_release_unless_told(app, tmp_path):
    case = Case(app, "canonical", ["volumes.yaml"])
    claims = [o for o in case.render() if o["kind"] == "PersistentVolumeClaim"]
    assert len(claims) == 2 and all(KEEP.items() <= c["metadata"]["annotations"].items() for c in claims)
    let_go = [o for o in case.render(write_values(tmp_path, {"persistence": {"keep": False}}))
              if o["kind"] == "PersistentVolumeClaim"]
    assert [c["metadata"].get("annotations") for c in let_go] == [{"k8up.io/backup": "true"}, None]


def test_an_existing_claim_replaces_the_data_claim(canonical, tmp_path):
    kept = write_values(tmp_path, {"persistence": {"enabled": True, "existingClaim": "shop-data-old"}})
    objects = canonical.render(kept)
    assert "PersistentVolumeClaim" not in {o["kind"] for o in objects}
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "shop-data-old"}} in pod_spec(objects)["volumes"]


def test_extra_objects_use_the_charts_names(app):
    objects = by_name(Case(app, "canonical", ["extra-objects.yaml"]).render())
    certificate = objects["Certificate", "shop-tls"]
    assert certificate["metadata"]["namespace"] == "shop" and certificate["spec"]["secretName"] == "shop-tls"
    motd = objects["ConfigMap", "shop-motd"]
    assert motd["data"] == {"motd": "welcome to shop"}
    assert motd["metadata"]["labels"]["app.kubernetes.io/name"] == "shop"


def test_migration_runs_before_every_rollout(app):
    """A Helm pre-install/pre-upgrade hook: Flux's Helm runs it before applying the release, Argo CD
    (which maps Helm hooks) as a PreSync hook; either way the Deployment waits for its success."""
    objects = Case(app, "canonical", ["jobs.yaml"]).render()
    migrate = by_name(objects)["Job", "shop-migrate"]
    assert migrate["metadata"]["annotations"] == {
        "helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "0",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded"}
    assert migrate["spec"]["activeDeadlineSeconds"] == 900 and migrate["spec"]["backoffLimit"] == 1
    pod = migrate["spec"]["template"]["spec"]
    # Before the release's objects exist: the namespace's ServiceAccount, no `config` ConfigMap.
    assert pod["serviceAccountName"] == "default" and pod["restartPolicy"] == "Never"
    [container] = pod["containers"]
    assert container["command"] == ["/app/manage"] and container["args"] == ["migrate", "--no-input"]
    assert container["image"] == pod_spec(objects)["containers"][0]["image"]
    assert {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "shop-db-app", "key": "uri"}}} in container["env"]
    cleanup = by_name(objects)["CronJob", "shop-cleanup"]["spec"]
    assert (cleanup["schedule"], cleanup["timeZone"], cleanup["concurrencyPolicy"]) == ("30 3 * * *", "Europe/Paris", "Forbid")
    assert cleanup["jobTemplate"]["spec"]["backoffLimit"] == 0
    assert "helm.sh/hook" not in by_name(objects)["CronJob", "shop-cleanup"]["metadata"].get("annotations", {})


def test_job_pods_get_no_traffic_and_reach_the_database(app):
    objects = Case(app, "canonical", ["jobs.yaml"]).render()
    service = one([o for o in objects if o["kind"] == "Service"], "Service")
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}
    database = Peer("shop", {"cnpg.io/cluster": "shop-db"})
    for name, pod in job_pods(objects).items():
        labels = pod["metadata"]["labels"]
        assert not selects({"matchLabels": service["spec"]["selector"]}, labels), name
        [policy] = [p for p in policies.values() if selects(p["spec"]["podSelector"], labels)]
        assert policy["metadata"]["name"] == "shop-jobs"
        assert allows(policy, "egress", database, 5432)
        assert not allows(policy, "ingress", Peer("shop", {}), 8080)


def test_a_scheduled_job_mounts_the_apps_volumes_and_files(canonical, tmp_path):
    """A cron job working on the app's files (Nextcloud's cron.php): the same claims and files as the app."""
    values = write_values(tmp_path, {
        "persistence": {"enabled": True, "accessModes": ["ReadWriteMany"], "mountPath": "/var/www/html"},
        "configFiles": [{"name": "php", "mountPath": "/etc/php", "files": {"extra.ini": "memory_limit = 512M\n"}}],
        "jobs": [{"name": "cron", "command": ["php", "-f", "/var/www/html/cron.php"], "schedule": "*/5 * * * *",
                  "inheritMounts": True}]})
    objects = canonical.render(values)
    job = job_pods(objects)["shop-cron"]["spec"]
    app_pod = pod_spec(objects)
    assert job["volumes"] == app_pod["volumes"]
    assert job["containers"][0]["volumeMounts"] == app_pod["containers"][0]["volumeMounts"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"jobs": [{"name": "migrate", "command": ["m"], "inheritMounts": True}]},
                     "jobs: migrate is a hook, which runs before the release's claims and files exist", id="hook"),
        pytest.param({"persistence": {"enabled": True},
                      "jobs": [{"name": "cron", "command": ["c"], "schedule": "@hourly", "inheritMounts": True}]},
                     "jobs: cron would share the app's volume data, which is ReadWriteOnce", id="readwriteonce"),
    ],
)
def test_jobs_mounting_what_they_cannot_are_refused(canonical, tmp_path, values, message):
    with pytest.raises(HelmError, match=re.escape(message)):
        canonical.render(write_values(tmp_path, values))


def test_statefulset_gives_each_pod_its_identity_and_claim(app):
    objects = Case(app, "canonical", ["statefulset.yaml"]).render()
    stateful = one(objects, "StatefulSet")["spec"]
    headless = services(objects)["shop-headless"]
    assert stateful["serviceName"] == "shop-headless" and stateful["replicas"] == 3
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    assert headless["selector"] == stateful["selector"]["matchLabels"]
    assert {p["name"]: p["port"] for p in headless["ports"]} == {"http": 8080, "gossip": 7946}
    assert stateful["podManagementPolicy"] == "Parallel" and "strategy" not in stateful
    assert stateful["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Delete"}
    # A claim per pod (data-shop-0, data-shop-1, ...), no shared claim, so three replicas are fine.
    assert "PersistentVolumeClaim" not in {o["kind"] for o in objects}
    [template] = stateful["volumeClaimTemplates"]
    assert template["metadata"] == {"name": "data", "annotations": {"k8up.io/backup": "true"}}
    assert template["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}
    pod = stateful["template"]["spec"]
    assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert {"name": "data", "mountPath": "/var/lib/store"} in pod["containers"][0]["volumeMounts"]


def test_autoscaler_scales_the_statefulset(canonical, tmp_path):
    values = write_values(tmp_path, {"statefulSet": {"enabled": True}, "autoscaling": {"enabled": True}})
    objects = canonical.render(values)
    assert one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "shop"}


def test_extras_reach_the_pod(app):
    objects = Case(app, "canonical", ["extras.yaml"]).render()
    pod = pod_spec(objects)
    [container] = pod["containers"]
    assert container["image"].endswith("@sha256:" + "0123456789abcdef" * 4)
    assert {"configMapRef": {"name": "shop-config"}} in container["envFrom"]
    assert one(objects, "ConfigMap")["data"] == {"LOG_LEVEL": "info", "WORKERS": "4"}
    assert {"name": "FEATURE_FLAGS", "value": "beta"} in container["env"]
    assert {"name": "cache", "mountPath": "/var/cache/app"} in container["volumeMounts"]
    assert pod["serviceAccountName"] == "app-runner" == one(objects, "ServiceAccount")["metadata"]["name"]
    assert pod["nodeSelector"] and pod["tolerations"] and pod["affinity"] and pod["topologySpreadConstraints"]


def test_config_change_rolls_the_pods(canonical, tmp_path):
    def checksum(config: dict) -> str:
        objects = canonical.render(write_values(tmp_path, {"config": config}))
        return one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    assert checksum({"A": "1"}) != checksum({"A": "2"})


def mounted_files(objects: list[dict]) -> dict[str, str]:
    """Each file path the app's container sees from a ConfigMap, with its content, as the kubelet
    projects it: a directory mount shows every key, a subPath mount the one key."""
    pod = pod_spec(objects)
    config_maps = {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}
    volumes = {v["name"]: config_maps[v["configMap"]["name"]] for v in pod["volumes"] if "configMap" in v}
    files = {}
    for mount in pod["containers"][0]["volumeMounts"]:
        if mount["name"] in volumes:
            data = volumes[mount["name"]]
            assert mount["readOnly"] is True
            if "subPath" in mount:
                files[mount["mountPath"]] = data[mount["subPath"]]
            else:
                files.update({f"{mount['mountPath'].rstrip('/')}/{key}": value for key, value in data.items()})
    return files


def test_config_files_are_mounted(app):
    objects = Case(app, "canonical", ["files.yaml"]).render()
    assert mounted_files(objects) == {
        "/etc/postfix/main.cf": "myhostname = mail.example.com\nsmtpd_tls_cert_file = /etc/tls/tls.crt\n",
        "/etc/postfix/master.cf": "smtp inet n - n - - smtpd\n",
        "/etc/app/rules.d/spam.yaml": "threshold: 5\n",
    }
    pod = pod_spec(objects)
    [tls] = [v for v in pod["volumes"] if "secret" in v]
    assert tls["secret"] == {"secretName": "mail-tls"}
    assert {"name": tls["name"], "mountPath": "/etc/tls", "readOnly": True} in pod["containers"][0]["volumeMounts"]
    assert ("Secret", "mail-tls") in loaded_sources(pod)  # so Reloader rolls the pods on renewal


def test_files_with_modes_and_a_secrets_single_key(app, tmp_path):
    objects = Case(app, "canonical", ["files-modes.yaml"]).render()
    pod = pod_spec(objects)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["files-scripts"]["configMap"]["defaultMode"] == 0o755
    assert volumes["secret-files-0"]["secret"] == {"secretName": "shop-config-file", "defaultMode": 0o440,
                                                   "items": [{"key": "settings.json", "path": "settings.json"}]}
    assert {"name": "secret-files-0", "mountPath": "/etc/app/settings.json", "subPath": "settings.json",
            "readOnly": True} in pod["containers"][0]["volumeMounts"]
    with pytest.raises(HelmError, match="secretFiles: x has subPath, which mounts its items one by one"):
        Case(app, "canonical").render(write_values(tmp_path, {"secretFiles": [
            {"secretName": "x", "mountPath": "/x", "subPath": True}]}))
    with pytest.raises(HelmError, match="/secretFiles/0/items/0/path"):
        Case(app, "canonical").render(write_values(tmp_path, {"secretFiles": [
            {"secretName": "x", "mountPath": "/x", "items": [{"key": "a", "path": "../etc/passwd"}]}]}))


def test_config_file_change_rolls_the_pods(canonical, tmp_path):
    def annotations(content: str) -> dict:
        files = [{"name": "app", "mountPath": "/etc/app", "files": {"app.toml": content}}]
        objects = canonical.render(write_values(tmp_path, {"configFiles": files}))
        return one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]

    assert annotations("a = 1")["checksum/files"] != annotations("a = 2")["checksum/files"]
    # Without files, the pod template is what it was before files existed.
    assert "checksum/files" not in one(canonical.render(), "Deployment")["spec"]["template"]["metadata"]["annotations"]


def test_each_probe_its_own_way(app):
    [container] = pod_spec(Case(app, "canonical", ["probes.yaml"]).render())["containers"]
    assert container["startupProbe"] == {"tcpSocket": {"port": "http"}, "failureThreshold": 60, "periodSeconds": 2,
                                         "timeoutSeconds": 2}
    assert container["livenessProbe"] == {"exec": {"command": ["/app/healthcheck", "--live"]}, "initialDelaySeconds": 10,
                                          "failureThreshold": 3, "periodSeconds": 10, "timeoutSeconds": 2}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "admin", "scheme": "HTTPS"}
    assert "admin" in {port["name"] for port in container["ports"]}


def test_probes_by_default_get_the_health_path(canonical):
    [container] = pod_spec(canonical.render())["containers"]
    for kind, period in (("liveness", 10), ("readiness", 5), ("startup", 2)):
        assert container[f"{kind}Probe"] == {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": period,
                                             "timeoutSeconds": 2, "failureThreshold": 30 if kind == "startup" else 3}


def test_probes_can_be_off(canonical, tmp_path):
    off = write_values(tmp_path, {"probes": {"liveness": {"type": "off"}, "startup": {"type": "off"}}})
    [container] = pod_spec(canonical.render(off))["containers"]
    assert "livenessProbe" not in container and "startupProbe" not in container
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_workload_settings_reach_the_pod(app):
    deployment = one(Case(app, "canonical", ["workload.yaml"]).render(), "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "business-critical"
    assert pod["dnsConfig"] == {"options": [{"name": "ndots", "value": "2"}]}
    assert pod["terminationGracePeriodSeconds"] == 60
    # The sidecar first, as a native sidecar (kept running), then the init container, which runs to completion.
    assert [(c["name"], c.get("restartPolicy")) for c in pod["initContainers"]] == [
        ("log-shipper", "Always"), ("wait-for-db", None)]
    for extra in pod["initContainers"]:
        assert extra["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "readOnlyRootFilesystem": True}
    [app_container] = pod["containers"]
    assert app_container["command"] == ["/app/server"] and app_container["args"] == ["--config", "/etc/app/app.toml"]
    # The app's own drain replaces the preStop wait.
    assert app_container["lifecycle"] == {"postStart": {"exec": {"command": ["/app/warm-cache"]}},
                                          "preStop": {"exec": {"command": ["/app/drain", "--timeout", "20"]}}}
    assert app_container["securityContext"]["capabilities"] == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}
    assert app_container["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert app_container["resources"]["requests"]["ephemeral-storage"] == "1Gi"
    assert pod["securityContext"]["runAsGroup"] == 0 and pod["securityContext"]["runAsUser"] == 10001


def test_sidecar_security_defaults_to_the_apps(canonical, tmp_path):
    sidecar = {"name": "proxy", "image": "example.com/proxy:1.0.0", "securityContext": {"runAsUser": 10002}}
    [container] = pod_spec(canonical.render(write_values(tmp_path, {"sidecars": [sidecar]})))["initContainers"]
    assert container["securityContext"] == {"runAsUser": 10002, "allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}


def test_an_init_step_inherits_the_apps_environment_and_mounts(canonical, tmp_path):
    values = write_values(tmp_path, {
        "platform": {"postgres": {"enabled": True, "secretName": "shop-db-app"}},
        "persistence": {"enabled": True},
        "initContainers": [{"name": "build", "image": "example.com/build:1.0.0", "inheritEnv": True,
                            "inheritMounts": True, "env": [{"name": "STEP", "value": "build"}]},
                           {"name": "plain", "image": "example.com/plain:1.0.0"}]})
    pod = pod_spec(canonical.render(values))
    build, plain = pod["initContainers"]
    [app_container] = pod["containers"]
    assert build["env"] == [*app_container["env"], {"name": "STEP", "value": "build"}]
    assert build["volumeMounts"] == app_container["volumeMounts"]
    assert not {"inheritEnv", "inheritMounts"} & build.keys()
    assert not {"env", "envFrom", "volumeMounts"} & plain.keys()


def test_no_capability_without_a_privileged_port(canonical):
    [container] = pod_spec(canonical.render())["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_post_start_keeps_the_pre_stop_wait(canonical, tmp_path):
    hook = write_values(tmp_path, {"lifecycle": {"postStart": {"exec": {"command": ["/bin/true"]}}}})
    [container] = pod_spec(canonical.render(hook))["containers"]
    assert container["lifecycle"]["postStart"] == {"exec": {"command": ["/bin/true"]}}
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}


def test_limits_are_optional(canonical, tmp_path):
    """Many teams set no CPU limit (throttling hurts latency): null drops a default."""
    no_cpu_limit = write_values(tmp_path, {"resources": {"limits": {"cpu": None}}})
    [container] = pod_spec(canonical.render(no_cpu_limit))["containers"]
    assert container["resources"]["limits"] == {"memory": "256Mi"}


# How long endpoint removal takes to reach kube-proxy and the Gateway's proxies: a few seconds.
ENDPOINT_PROPAGATION_SECONDS = 5


@pytest.mark.parametrize("kube_version", ["1.29.0", "1.37.0"])
def test_stopping_pods_finish_their_requests(canonical, kube_version):
    """On termination the kubelet runs preStop, then sends SIGTERM; proxies keep routing to the pod until
    its endpoint removal reaches them. Serving through that window, then stopping within the grace
    period, means no request meets a closed port."""
    objects = render(canonical.chart, canonical.release, canonical.namespace, canonical.values,
                     kube_version=kube_version)
    pod = pod_spec(objects)
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]
    # The sleep action is on by default from Kubernetes 1.30; before, the image's sleep does it.
    wait = (int(pre_stop["exec"]["command"][1]) if kube_version < "1.30"
            else pre_stop["sleep"]["seconds"])
    assert pre_stop.keys() == ({"exec"} if kube_version < "1.30" else {"sleep"})
    assert wait >= ENDPOINT_PROPAGATION_SECONDS
    assert pod["terminationGracePeriodSeconds"] - wait >= 10  # the app's own shutdown


@pytest.mark.parametrize(("values", "spread"), [(["replicas.yaml"], True), (["autoscaling.yaml"], True), ([], False)])
def test_pods_spread_over_nodes_and_zones(app, values, spread):
    objects = Case(app, "canonical", values).render()
    pod = one(objects, "Deployment")["spec"]["template"]
    constraints = pod["spec"].get("topologySpreadConstraints", [])
    assert [c["topologyKey"] for c in constraints] == (["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
                                                       if spread else [])
    for constraint in constraints:
        # Best effort: never leaves a pod pending; and it counts exactly the app's pods.
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
        assert selects(constraint["labelSelector"], pod["metadata"]["labels"])


def loaded_sources(pod: dict) -> set[tuple[str, str]]:
    """The Secrets and ConfigMaps a pod loads, which Reloader watches for a Deployment annotated
    reloader.stakater.com/auto: env valueFrom, envFrom and volumes."""
    sources = set()
    for container in pod["containers"]:
        for env in container.get("env", []):
            for kind, ref in env.get("valueFrom", {}).items():
                sources.add(({"secretKeyRef": "Secret", "configMapKeyRef": "ConfigMap"}[kind], ref["name"]))
        for env_from in container.get("envFrom", []):
            for kind, ref in env_from.items():
                sources.add(({"secretRef": "Secret", "configMapRef": "ConfigMap"}[kind], ref["name"]))
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            sources.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume:
            sources.add(("ConfigMap", volume["configMap"]["name"]))
    return sources


def test_pods_roll_when_a_platform_secret_changes(app):
    """CloudNativePG rotates the database password, External Secrets refreshes the app's: the
    pods load them at start, so they must restart (Reloader) to see the new values."""
    deployment = one(Case(app, "argocd-platform", None).render(), "Deployment")
    assert deployment["metadata"]["annotations"]["reloader.stakater.com/auto"] == "true"
    assert {("Secret", "billing-api-db-app"), ("Secret", "billing-api-secrets"),
            ("Secret", "billing-api-bucket")} <= loaded_sources(deployment["spec"]["template"]["spec"])


def services(objects: list[dict]) -> dict[str, dict]:
    return {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Service"}


def test_every_port_reaches_the_container_a_service_and_the_network_policy(app):
    """A multi-protocol server: each port is a container port, a Service port (on the Service it
    names) and opened by the NetworkPolicy to the app's namespace and the peers it lists."""
    objects = Case(app, "canonical", ["ports.yaml"]).render()
    [container] = pod_spec(objects)["containers"]
    container_ports = {p["name"]: (p["containerPort"], p["protocol"]) for p in container["ports"]}
    assert container_ports == {"http": (8080, "TCP"), "grpc": (9000, "TCP"), "syslog": (5514, "UDP"),
                               "smtp": (2525, "TCP"), "imaps": (9993, "TCP")}
    main, extra = services(objects)["shop"], services(objects)["shop-extra"]
    assert [(p["name"], p["port"], p["targetPort"], p["protocol"], p.get("appProtocol")) for p in main["ports"]] == [
        ("http", 80, "http", "TCP", "http"), ("grpc", 9000, "grpc", "TCP", "kubernetes.io/h2c"),
        ("syslog", 514, "syslog", "UDP", None)]
    assert main["type"] == "ClusterIP" and main["internalTrafficPolicy"] == "Cluster"
    assert [(p["name"], p["port"], p["targetPort"]) for p in extra["ports"]] == [("smtp", 25, "smtp"), ("imaps", 993, "imaps")]
    assert extra["type"] == "LoadBalancer" and extra["externalTrafficPolicy"] == "Local"
    assert extra["loadBalancerClass"] == "metallb.io/metallb" and extra["selector"] == main["selector"]
    policy = network_policy(objects)
    names = {name: port for name, (port, _) in container_ports.items()}
    neighbour = Peer("shop", {"app.kubernetes.io/name": "other"})
    client = Peer(ip="198.51.100.7")
    for name, (port, protocol) in container_ports.items():
        assert allows(policy, "ingress", neighbour, port, protocol, port_names=names), name
        assert allows(policy, "ingress", client, port, protocol, port_names=names) == (name in {"smtp", "imaps"}), name
    # Only the ports' own protocols: the UDP port stays closed to TCP, the TCP ports to UDP.
    assert not allows(policy, "ingress", neighbour, 5514, "TCP", port_names=names)
    assert not allows(policy, "ingress", client, 2525, "UDP", port_names=names)


def test_tcp_and_tls_routes_reach_their_service_port_and_let_the_gateway_in(app):
    """Each route attaches to its Gateway listener and sends to the Service port of its `ports`
    entry; the NetworkPolicy lets that Gateway's namespace (and Envoy's proxies') in on the port."""
    objects = Case(app, "canonical", ["routes.yaml"]).render()
    routes = {(o["kind"], o["metadata"]["name"]): o["spec"] for o in objects if o["kind"] in ("TCPRoute", "TLSRoute")}
    assert set(routes) == {("TCPRoute", "shop-smtp"), ("TLSRoute", "shop-imaps")}
    smtp, imaps = routes["TCPRoute", "shop-smtp"], routes["TLSRoute", "shop-imaps"]
    # The org's Gateway by default, another one where the route names it.
    assert smtp["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public",
                                   "namespace": "gateway-system", "sectionName": "smtp"}]
    assert (imaps["parentRefs"][0]["name"], imaps["parentRefs"][0]["namespace"]) == ("mail", "mail-gateway")
    assert imaps["hostnames"] == ["mail.example.com"] and "hostnames" not in smtp
    [container] = pod_spec(objects)["containers"]
    names = {p["name"]: p["containerPort"] for p in container["ports"]}
    policy = network_policy(objects)
    for route, port in ((smtp, "smtp"), (imaps, "imaps")):
        [rule] = route["rules"]
        [backend] = rule["backendRefs"]
        service = services(objects)[backend["name"]]
        [service_port] = [p for p in service["ports"] if p["port"] == backend["port"]]
        assert service_port["targetPort"] == port and service_port["protocol"] == "TCP"
        gateway = route["parentRefs"][0]["namespace"]
        for namespace in (gateway, "envoy-gateway-system"):
            assert allows(policy, "ingress", Peer(namespace, ENVOY_PROXY), names[port], port_names=names), (port, namespace)
        assert not allows(policy, "ingress", Peer("elsewhere", {}), names[port], port_names=names)
    # Only the route's own port is opened to the other Gateway.
    assert not allows(policy, "ingress", Peer("mail-gateway", {}), names["smtp"], port_names=names)


def test_tcp_and_tls_routes_need_their_kinds(app):
    """TCPRoute and TLSRoute are served as v1 from Gateway API 1.6 on: an older cluster serves
    gateway.networking.k8s.io/v1 without them, and is told so."""
    case = Case(app, "canonical", ["routes.yaml"])
    without_tcp_route = tuple(api for api in CLUSTER_API_VERSIONS if not api.endswith("/TCPRoute"))
    with pytest.raises(HelmError, match="does not serve gateway.networking.k8s.io/v1/TCPRoute: install the Gateway API"):
        render(case.chart, case.release, case.namespace, case.values, without_tcp_route)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        pytest.param({"name": "x", "kind": "TCPRoute", "port": "nope"}, "routes: x sends to port nope, which is not in ports",
                     id="unknown-port"),
        pytest.param({"name": "x", "kind": "TCPRoute", "port": "syslog"}, "which is UDP: a TCPRoute carries TCP",
                     id="udp-port"),
        pytest.param({"name": "x", "kind": "TLSRoute", "port": "smtp"}, "hostnames", id="tls-without-hostnames"),
        pytest.param({"name": "x", "kind": "TCPRoute", "port": "smtp", "hostnames": ["a.example.com"]}, "routes/0",
                     id="tcp-with-hostnames"),
        pytest.param({"name": "x", "kind": "UDPRoute", "port": "syslog"}, "routes/0/kind", id="unknown-kind"),
    ],
)
def test_bad_routes_are_refused(canonical, tmp_path, route, message):
    values = write_values(tmp_path, {"ports": [{"name": "smtp", "containerPort": 2525},
                                               {"name": "syslog", "containerPort": 5514, "protocol": "UDP"}],
                                     "routes": [route]})
    with pytest.raises(HelmError, match=message):
        canonical.render(values)


def test_metrics_on_a_port_of_their_own(app):
    objects = Case(app, "canonical", ["metrics-port.yaml"]).render()
    [metrics] = [p for p in one(objects, "Service")["spec"]["ports"] if p["name"] == "metrics"]
    assert metrics["targetPort"] == "admin"
    policy = network_policy(objects)
    names = {"http": 8080, "admin": 9100}
    assert allows(policy, "ingress", Peer("monitoring", {"app.kubernetes.io/name": "prometheus"}), 9100, port_names=names)
    assert not allows(policy, "ingress", Peer("elsewhere", {}), 9100, port_names=names)


def test_components_run_beside_the_app(app):
    """A worker in the app's image, environment and volumes, and a server of its own image, each a
    Deployment <release>-<name>; the app's own objects are what they were."""
    objects = Case(app, "canonical", ["components.yaml"]).render()
    app_pod = pod_spec(objects)
    [app_container] = app_pod["containers"]
    worker, streaming = components(objects)["worker"], components(objects)["streaming"]
    assert (worker["metadata"]["name"], streaming["metadata"]["name"]) == ("shop-worker", "shop-streaming")
    assert (worker["spec"]["replicas"], streaming["spec"]["replicas"]) == (2, 1)
    [worker_container] = worker["spec"]["template"]["spec"]["containers"]
    assert worker_container["image"] == app_container["image"]
    assert (worker_container["command"], worker_container["args"]) == (["/app/worker"], ["--queue", "default"])
    # The app's environment first (its database and config), then the worker's own.
    assert worker_container["env"] == [*app_container["env"], {"name": "WORKER_CONCURRENCY", "value": "8"}]
    assert worker_container["envFrom"] == app_container["envFrom"] == [{"configMapRef": {"name": "shop-config"}}]
    assert worker_container["volumeMounts"] == app_container["volumeMounts"]
    assert worker["spec"]["template"]["spec"]["volumes"] == app_pod["volumes"]
    assert worker_container["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & worker_container.keys()
    # The worker rolls with the configuration it inherits, as the app does.
    app_annotations = workload(objects)["spec"]["template"]["metadata"]["annotations"]
    assert worker["spec"]["template"]["metadata"]["annotations"] == {
        key: app_annotations[key] for key in ("checksum/config", "checksum/files")}
    [streaming_container] = streaming["spec"]["template"]["spec"]["containers"]
    assert streaming_container["image"] == "example.com/shop/streaming:1.4.2"
    assert streaming_container["env"] == [{"name": "STREAMING_PORT", "value": "4000"}]
    assert "envFrom" not in streaming_container
    assert [m["mountPath"] for m in streaming_container["volumeMounts"]] == ["/tmp"]
    assert streaming_container["readinessProbe"] == {"httpGet": {"path": "/api/v1/streaming/health", "port": "streaming"}}
    assert streaming_container["livenessProbe"] == {"tcpSocket": {"port": "streaming"}}
    assert streaming["spec"]["strategy"]["type"] == "RollingUpdate"
    service = services(objects)["shop-streaming"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["ports"]] == [
        ("streaming", 80, "streaming"), ("admin", 9102, "admin"), ("metrics", 9090, "admin")]
    labels = by_name(objects)["Service", "shop-streaming"]["metadata"]["labels"]
    assert (labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"]) == ("shop", "streaming")


def test_a_component_keeps_a_store_of_its_own(app):
    objects = Case(app, "canonical", ["components.yaml"]).render()
    claim = by_name(objects)["PersistentVolumeClaim", "shop-index-data"]
    # What the claim does not set, it takes from persistence (ReadWriteMany in this file).
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "5Gi"}}}
    assert KEEP.items() <= claim["metadata"]["annotations"].items()
    index = components(objects)["index"]["spec"]
    pod = index["template"]["spec"]
    assert {"name": "index-data", "persistentVolumeClaim": {"claimName": "shop-index-data"}} in pod["volumes"]
    assert {"name": "index-data", "mountPath": "/var/lib/index"} in pod["containers"][0]["volumeMounts"]
    assert index["strategy"] == {"type": "Recreate"}
    # Its own only: the app and the other components do not mount it.
    for name, other in components(objects).items():
        if name != "index":
            assert "shop-index-data" not in str(other["spec"]["template"]["spec"]["volumes"])
    assert "shop-index-data" not in str(pod_spec(objects)["volumes"])


def test_components_selectors_keep_their_pods_apart(app):
    """Each Service, PodDisruptionBudget and NetworkPolicy selects the pods of its own workload only:
    the app's Service never sends traffic to a worker, nor a component's to the app."""
    objects = Case(app, "canonical", ["components.yaml", "jobs.yaml"]).render()
    pods = {o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"]
            for o in objects if o["kind"] == "Deployment"}
    pods |= {name: pod["metadata"]["labels"] for name, pod in job_pods(objects).items()}
    assert pods.keys() == {"shop", "shop-worker", "shop-streaming", "shop-index", "shop-migrate", "shop-cleanup"}
    owner = {"shop-jobs": {"shop-migrate", "shop-cleanup"}}
    for obj in objects:
        selector = {"Service": lambda o: {"matchLabels": o["spec"]["selector"]},
                    "PodDisruptionBudget": lambda o: o["spec"]["selector"],
                    "NetworkPolicy": lambda o: o["spec"]["podSelector"],
                    "Deployment": lambda o: o["spec"]["selector"]}.get(obj["kind"])
        if selector:
            name = obj["metadata"]["name"]
            selected = {pod for pod, labels in pods.items() if selects(selector(obj), labels)}
            assert selected == owner.get(name, {name}), (obj["kind"], name)


def test_httproute_rules_reach_a_component_and_shape_requests(app):
    objects = Case(app, "canonical", ["components.yaml"]).render()
    rules = one(objects, "HTTPRoute")["spec"]["rules"]
    streaming, upload, redirect, default = rules
    assert streaming["backendRefs"] == [{"group": "", "kind": "Service", "name": "shop-streaming", "port": 80, "weight": 1}]
    assert services(objects)["shop-streaming"]["ports"][0]["port"] == 80
    assert upload["timeouts"] == {"request": "10m", "backendRequest": "10m"}
    assert upload["backendRefs"][0]["name"] == "shop"
    # Gateway API refuses backends beside a redirect.
    assert redirect["filters"][0]["type"] == "RequestRedirect" and "backendRefs" not in redirect
    assert default["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    # The Gateway's proxies reach the streaming server, on the routed port only.
    policy = by_name(objects)["NetworkPolicy", "shop-streaming"]
    names = {"streaming": 4000, "admin": 9102}
    assert allows(policy, "ingress", Peer("envoy-gateway-system", ENVOY_PROXY), 4000, port_names=names)
    assert not allows(policy, "ingress", Peer("envoy-gateway-system", ENVOY_PROXY), 9102, port_names=names)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param({"matches": [{}], "component": "nope", "port": "x"}, "httpRoute.rules: component nope is not in components",
                     id="unknown-component"),
        pytest.param({"matches": [{}], "component": "streaming", "port": "nope"},
                     "httpRoute.rules: port nope is not a port of the component streaming", id="unknown-port"),
        pytest.param({"matches": [{}], "component": "streaming"}, "/httpRoute/rules/0", id="component-without-port"),
        pytest.param({"matches": [{}], "timeouts": {"request": "10 minutes"}}, "/httpRoute/rules/0/timeouts/request",
                     id="timeout-not-a-duration"),
    ],
)
def test_bad_httproute_rules_are_refused(app, tmp_path, rule, message):
    case = Case(app, "canonical", ["components.yaml"])
    with pytest.raises(HelmError, match=re.escape(message)):
        case.render(write_values(tmp_path, {"httpRoute": {"rules": [rule]}}))


def test_components_network_policies(app):
    objects = Case(app, "canonical", ["components.yaml"]).render()
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}
    streaming, worker, main = policies["shop-streaming"], policies["shop-worker"], policies["shop"]
    names = {"streaming": 4000, "admin": 9102}
    neighbour, prometheus = Peer("shop", {"app.kubernetes.io/name": "other"}), Peer("monitoring", {})
    assert allows(streaming, "ingress", neighbour, 4000, port_names=names)
    assert allows(streaming, "ingress", prometheus, 9102, port_names=names)
    assert not allows(streaming, "ingress", prometheus, 4000, port_names=names)
    assert not allows(streaming, "ingress", Peer(ip="203.0.113.9"), 4000, port_names=names)
    # A worker serves nothing: nothing gets in.
    assert not allows(worker, "ingress", neighbour, 8080)
    # Each reaches the database; the streaming server, its own extra egress; the app and the worker, the server.
    database = Peer("shop", {"cnpg.io/cluster": "shop-db"})
    streaming_pod = Peer("shop", components(objects)["streaming"]["spec"]["template"]["metadata"]["labels"])
    app_pod = Peer("shop", workload(objects)["spec"]["template"]["metadata"]["labels"])
    for policy in (main, worker, streaming):
        assert allows(policy, "egress", database, 5432)
    assert allows(streaming, "egress", Peer(ip="198.51.100.7"), 443)
    assert not allows(worker, "egress", Peer(ip="198.51.100.7"), 443)
    for policy in (main, worker):
        assert allows(policy, "egress", streaming_pod, 4000)
    assert allows(worker, "egress", app_pod, 8080)
    assert not allows(worker, "egress", Peer("elsewhere", app_pod.labels), 8080)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"components": {"app": {"command": ["x"]}}}, "invalid propertyName 'app'", id="named-like-the-app"),
        pytest.param({"components": {"job-x": {"command": ["x"]}}}, "invalid propertyName 'job-x'", id="named-like-a-job"),
        pytest.param({"components": {"worker": {"replica": 2}}}, "additional properties", id="misspelt-key"),
        pytest.param({"components": {"worker": {"image": {"repository": "example.com/w"}}}}, "/components/worker/image",
                     id="image-without-tag"),
        pytest.param({"components": {"worker": {"metrics": {"enabled": True}}}},
                     "components.worker.metrics.port is required", id="metrics-without-port"),
        pytest.param({"components": {"worker": {"probes": {"readiness": {"type": "http"}}}}},
                     "components.worker.probes.readiness.port (or components.worker.probes.port) is required",
                     id="probe-without-port"),
        pytest.param({"persistence": {"enabled": True}, "components": {"worker": {}}},
                     "components.worker: the app's volume data is ReadWriteOnce", id="shared-readwriteonce-volume"),
        pytest.param({"components": {"store": {"replicas": 2, "persistence": [{"name": "data", "mountPath": "/d"}]}}},
                     "components.store: a ReadWriteOnce volume (data) mounts on one node only", id="own-readwriteonce-volume"),
    ],
)
def test_bad_components_are_refused(canonical, tmp_path, values, message):
    with pytest.raises(HelmError, match=re.escape(message)):
        canonical.render(write_values(tmp_path, values))


def test_a_component_name_too_long_for_its_service_is_refused(canonical, tmp_path):
    """The app name may take 44 characters and a component's 30: their Service name must still fit 63."""
    long_release = "a" * 44
    values = write_values(tmp_path, {"components": {"w" * 30: {"command": ["w"]}}})
    with pytest.raises(HelmError, match="longer than the 63 characters Kubernetes allows"):
        render(canonical.chart, long_release, "shop", [values])


def test_a_component_may_leave_a_readwriteonce_volume_alone(canonical, tmp_path):
    values = write_values(tmp_path, {"persistence": {"enabled": True},
                                     "components": {"worker": {"inheritMounts": False}}})
    assert "shop-worker" in {o["metadata"]["name"] for o in canonical.render(values)}


def test_an_app_slow_to_start_still_fits_what_flux_waits(canonical, tmp_path):
    """Ten minutes to start (60 probes 10s apart) is within the 15 Flux waits for each step."""
    slow = write_values(tmp_path, {"probes": {"startup": {"periodSeconds": 10, "failureThreshold": 60}}})
    [container] = pod_spec(canonical.render(slow))["containers"]
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] == 600


def test_rbac_grants_the_apps_service_account_its_namespace_only(app, tmp_path):
    objects = by_name(Case(app, "canonical", ["rbac.yaml"]).render())
    role, binding = objects["Role", "shop"], objects["RoleBinding", "shop"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "shop"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "shop", "namespace": "shop"}]
    assert objects["Deployment", "shop"]["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
    case = Case(app, "canonical")
    with pytest.raises(HelmError, match="which its pods reach only with serviceAccount.automountToken: true"):
        case.render(write_values(tmp_path, {"rbac": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}}))
    with pytest.raises(HelmError, match="/rbac/rules/0"):
        case.render(write_values(tmp_path, {"serviceAccount": {"automountToken": True},
                                            "rbac": {"rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}}))


def test_service_account_token_only_when_asked(canonical, tmp_path):
    objects = canonical.render(write_values(tmp_path, {"serviceAccount": {"automountToken": True}}))
    assert pod_spec(objects)["automountServiceAccountToken"] is True
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is True


# --- The platform contract, through gitops/values-base.yaml ---------------------------------


def egress_ports(objects: list[dict]) -> set[int]:
    return {port["port"] for rule in one(objects, "NetworkPolicy")["spec"]["egress"] for port in rule["ports"]}


def test_platform_wiring_uses_the_contract_names(app):
    """argocd-platform has every platform feature on: the pod consumes each by its stable name."""
    objects = Case(app, "argocd-platform", None).render()
    [container] = pod_spec(objects)["containers"]
    env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in container["env"]}
    assert env["DATABASE_URL"] == {"name": "billing-api-db-app", "key": "uri"}
    assert env["PGPASSWORD"] == {"name": "billing-api-db-app", "key": "password"}
    assert env["PORT"] is None
    assert container["envFrom"] == [
        {"configMapRef": {"name": "billing-api-bucket"}},
        {"secretRef": {"name": "billing-api-bucket"}},
        {"secretRef": {"name": "billing-api-kv"}},
        {"secretRef": {"name": "billing-api-secrets"}},
    ]
    assert "metrics" in {port["name"] for port in one(objects, "Service")["spec"]["ports"]}
    assert allowed_in(objects) == {"gateway-system", "envoy-gateway-system", "monitoring"}
    assert egress_ports(objects) == {53, 5432, 6379, 8080}
    # The redis-operator's pods, primary and replicas alike, by the label it gives them all.
    for role in ("standalone", "replication"):
        redis = Peer("finance", {"app": "billing-api-kv", "redis_setup_type": role, "role": role})
        assert allows(network_policy(objects), "egress", redis, 6379)
    route = one(objects, "HTTPRoute")["spec"]
    assert route["hostnames"] == ["billing-api.apps.example.com"]
    assert route["parentRefs"][0]["name"] == "public" and route["parentRefs"][0]["namespace"] == "gateway-system"


def test_generated_secrets_are_loaded(app):
    objects = Case(app, "canonical", ["generated-secrets.yaml"]).render()
    [container] = pod_spec(objects)["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "shop-generated"}}]


def test_database_through_its_pooler(app):
    objects = Case(app, "canonical", ["postgres-pooler.yaml"]).render()
    [container] = pod_spec(objects)["containers"]
    env = [(e["name"], e.get("value") or e["valueFrom"]["secretKeyRef"]["key"]) for e in container["env"]]
    assert env == [("PORT", "8080"), ("PGDATABASE", "dbname"), ("PGPASSWORD", "password"), ("PGPORT", "port"),
                   ("PGUSER", "user"), ("SPRING_DATASOURCE_URL", "jdbc-uri"), ("PGHOST", "app-db-pooler"),
                   ("DATABASE_URL", "postgresql://$(PGUSER):$(PGPASSWORD)@app-db-pooler:$(PGPORT)/$(PGDATABASE)")]
    # Kubernetes expands $(VAR) only from variables listed before it.
    names = [name for name, _ in env]
    assert all(names.index(var) < names.index("DATABASE_URL") for var in ("PGUSER", "PGPASSWORD", "PGPORT", "PGDATABASE"))
    policy = network_policy(objects)
    assert allows(policy, "egress", Peer("shop", {"cnpg.io/poolerName": "app-db-pooler"}), 5432)
    assert allows(policy, "egress", Peer("shop", {"cnpg.io/cluster": "app-db"}), 5432)


def test_no_platform_wiring_when_the_answers_are_off(app):
    objects = Case(app, "canonical", None).render()
    [container] = pod_spec(objects)["containers"]
    assert [e["name"] for e in container["env"]] == ["PORT"] and "envFrom" not in container
    assert [port["name"] for port in one(objects, "Service")["spec"]["ports"]] == ["http"]
    assert egress_ports(objects) == {53}


def bucket_egress(objects: list[dict], port: int) -> dict:
    [rule] = [r for r in one(objects, "NetworkPolicy")["spec"]["egress"] if r["ports"][0]["port"] == port]
    return rule


def test_bucket_endpoint_in_or_out_of_the_cluster(app):
    in_cluster = Case(app, "argocd-platform", None).render()
    rook = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "rook-ceph"}}}
    assert bucket_egress(in_cluster, 8080)["to"] == [rook]
    external = Case(app, "canonical", ["platform.yaml"]).render()
    assert "to" not in bucket_egress(external, 443)


# --- Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"replicas": 2}, id="top-level"),
        pytest.param({"image": {"tags": "1.0"}}, id="image.tags"),
        pytest.param({"podSecurityContext": {"runAsUsr": 1000}}, id="podSecurityContext.runAsUsr"),
        pytest.param({"securityContext": {"readOnlyRootFileSystem": True}},
                     id="securityContext.readOnlyRootFileSystem"),
        pytest.param({"probes": {"liveness": {"periodSecond": 5}}}, id="probes.liveness.periodSecond"),
        pytest.param({"httpRoute": {"parentRefs": [{"name": "public"}]}}, id="httpRoute.parentRefs"),
        pytest.param({"platform": {"postgres": {"secretname": "x"}}}, id="platform.postgres.secretname"),
        pytest.param({"platform": {"objectstorage": {"enabled": True}}}, id="platform.objectstorage"),
        pytest.param({"networkPolicy": {"extraEgres": []}}, id="networkPolicy.extraEgres"),
        pytest.param({"resources": {"limits": {"cpu": "1", "memroy": "1Gi"}}}, id="resources.limits.memroy"),
        pytest.param({"ports": [{"name": "smtp", "containerPort": 25, "port": 25}]}, id="ports.0.port"),
        pytest.param({"extraService": {"enable": True}}, id="extraService.enable"),
        pytest.param({"extraPersistence": [{"name": "q", "mountPath": "/q", "storageClass": "fast"}]},
                     id="extraPersistence.0.storageClass"),
        pytest.param({"secretFiles": [{"secretName": "tls", "mountPath": "/tls", "subpath": True}]},
                     id="secretFiles.0.subpath"),
    ],
)
def test_schema_rejects_misspelt_keys(canonical, tmp_path, values):
    typo = write_values(tmp_path, values)
    with pytest.raises(HelmError, match="additional properties"):
        lint(canonical.chart, [typo])
    with pytest.raises(HelmError, match="additional properties"):
        canonical.render(typo)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"platform": {"postgres": {"enabled": True}}}, "platform.postgres.secretName is required",
                     id="postgres-without-secret"),
        pytest.param({"platform": {"objectStorage": {"enabled": True}}}, "platform.objectStorage.name is required",
                     id="bucket-without-name"),
        pytest.param({"platform": {"externalSecrets": {"enabled": True}}},
                     "platform.externalSecrets.secretName is required", id="secrets-without-name"),
        pytest.param({"platform": {"keyValueStore": {"enabled": True}}},
                     "platform.keyValueStore.secretName is required", id="kv-without-name"),
        pytest.param({"platform": {"generatedSecrets": {"enabled": True}}},
                     "platform.generatedSecrets.secretName is required", id="generated-without-name"),
        pytest.param({"ingress": {"enabled": True, "hosts": ["a.example.com"]}},
                     "ingress.controllerNamespace is required", id="ingress-closed-by-networkpolicy"),
        pytest.param({"ingress": {"enabled": True, "controllerNamespace": "x"}}, "ingress.hosts needs",
                     id="ingress-without-hosts"),
        pytest.param({"persistence": {"enabled": True}, "replicaCount": 2}, "ReadWriteOnce volume",
                     id="shared-readwriteonce-volume"),
        pytest.param({"extraPersistence": [{"name": "queue", "mountPath": "/q"}], "replicaCount": 2},
                     "a ReadWriteOnce volume (queue) mounts on one node only", id="shared-readwriteonce-extra-volume"),
        pytest.param({"statefulSet": {"enabled": True}, "strategy": {"type": "Recreate"}},
                     "strategy is a Deployment's: a StatefulSet takes statefulSet.updateStrategy", id="strategy-on-statefulset"),
        pytest.param({"preStopSleepSeconds": 30}, "preStopSleepSeconds must be shorter than terminationGracePeriodSeconds",
                     id="prestop-beyond-grace"),
        pytest.param({"image": {"tag": "latest"}}, "/image/tag", id="latest-tag"),
        pytest.param({"sidecars": [{"name": "app", "image": "x:1"}]}, "/sidecars/0/name", id="sidecar-named-app"),
        pytest.param({"initContainers": [{"name": "migrate"}]}, "/initContainers/0", id="init-container-without-image"),
        pytest.param({"resources": {"requests": {"gpu": 1}}}, "/resources/requests", id="unqualified-extended-resource"),
        pytest.param({"probes": {"liveness": {"type": "exec"}}}, "probes.liveness.command is required", id="exec-probe-without-command"),
        pytest.param({"probes": {"readiness": {"type": "grpc"}}}, "/probes/readiness/type", id="unknown-probe-type"),
        pytest.param({"configFiles": [{"name": "config", "mountPath": "/etc/app", "files": {"a": "b"}}]},
                     "/configFiles/0/name", id="files-named-like-the-config-configmap"),
        pytest.param({"configFiles": [{"name": "app", "mountPath": "etc/app", "files": {"a": "b"}}]},
                     "/configFiles/0/mountPath", id="files-relative-path"),
        pytest.param({"configFiles": [{"name": "app", "mountPath": "/etc/app", "files": {"../a": "b"}}]},
                     "invalid propertyName '../a'", id="files-escaping-the-directory"),
        pytest.param({"ports": [{"name": "smtp", "containerPort": 2525, "service": "extra"}]},
                     "ports: smtp has service: extra, but extraService.enabled is off", id="extra-port-without-service"),
        pytest.param({"extraService": {"enabled": True}}, "extraService.enabled needs at least one of ports",
                     id="extra-service-without-ports"),
        pytest.param({"service": {"externalTrafficPolicy": "Local"}},
                     "service.externalTrafficPolicy applies to NodePort and LoadBalancer Services only",
                     id="external-traffic-policy-on-clusterip"),
        pytest.param({"service": {"loadBalancerSourceRanges": ["10.0.0.0/8"]}},
                     "service.loadBalancerClass and loadBalancerSourceRanges apply to LoadBalancer Services only",
                     id="source-ranges-on-clusterip"),
        pytest.param({"ports": [{"name": "http", "containerPort": 9000}]}, "/ports/0/name", id="port-named-http"),
        pytest.param({"ports": [{"name": "a-very-long-port-name", "containerPort": 9000}]}, "/ports/0/name",
                     id="port-name-too-long"),
        pytest.param({"podSecurityContext": {"runAsUser": 0}}, "/podSecurityContext/runAsUser", id="root-user"),
        pytest.param({"httpRoute": {"hostnames": ["shop.example.com:8443"]}}, "/httpRoute/hostnames/0",
                     id="hostname-with-port"),
        pytest.param({"ingress": {"hosts": ["Shop.Example.com"]}}, "/ingress/hosts/0", id="uppercase-host"),
        pytest.param({"jobs": [{"name": "migrate", "command": ["m"], "activeDeadlineSeconds": 1200}]},
                     "jobs: the hook migrate may run 1200s (activeDeadlineSeconds), beyond rolloutTimeoutSeconds (900)",
                     id="hook-outlasting-flux"),
        pytest.param({"rolloutTimeoutSeconds": 300, "probes": {"startup": {"periodSeconds": 10, "failureThreshold": 60}}},
                     "probes.startup gives the pods 600s to start (initialDelaySeconds + periodSeconds x failureThreshold), "
                     "beyond rolloutTimeoutSeconds (300)", id="startup-outlasting-flux"),
        pytest.param({"components": {"worker": {"probes": {"startup": {"type": "exec", "command": ["true"],
                                                                      "periodSeconds": 10, "failureThreshold": 100}}}}},
                     "components.worker.probes.startup gives the pods 1000s to start", id="component-startup-outlasting-flux"),
    ],
)
def test_refuses_unsafe_or_incomplete_values(canonical, tmp_path, values, message):
    with pytest.raises(HelmError, match=re.escape(message)):
        canonical.render(write_values(tmp_path, values))


# --- Documentation ------------------------------------------------------------------------



def values_table(values_yaml: str) -> str:
    """The chart README's values table, as values.yaml's `# --` lines say it should read."""
    values = yaml.safe_load(values_yaml)
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for key, doc in documented_keys(values_yaml):
        value = values
        for part in key.split("."):
            value = value[part]
        kind = {bool: "bool", int: "int", float: "number", str: "string", list: "list", dict: "object"}[type(value)]
        default = "" if isinstance(value, dict) and value else f"`{json.dumps(value)}`"
        rows.append(f"| `{key}` | {kind} | {default} | {doc} |")
    return "\n".join(rows)


@pytest.mark.parametrize("answers", ["canonical", "argocd-platform"])
def test_every_value_is_documented_and_in_the_readme(app, answers):
    chart = app(answers) / "helm" / "base"
    values_yaml = (chart / "values.yaml").read_text()
    assert [key for key, doc in documented_keys(values_yaml) if not doc] == []
    table = values_table(values_yaml)
    assert table in (chart / "README.md").read_text(), f"README.md values table should read:\n{table}"


def test_schema_knows_every_value(canonical):
    """Strictness cuts both ways: a key of values.yaml the schema lacks would fail every render."""
    schema = json.loads((canonical.chart / "values.schema.json").read_text())

    def walk(node: dict, properties: dict, path: str) -> None:
        for key, value in node.items():
            assert key in properties, f"values.schema.json lacks {path}{key}"
            sub = properties[key]
            if "$ref" in sub:
                sub = schema["definitions"][sub["$ref"].rsplit("/", 1)[1]]
            if isinstance(value, dict) and "properties" in sub:
                walk(value, sub["properties"], f"{path}{key}.")

    walk(yaml.safe_load((canonical.chart / "values.yaml").read_text()), schema["properties"], "")


def test_helpers_are_documented(canonical):
    helpers = (canonical.chart / "templates" / "_helpers.tpl").read_text()
    defines = re.findall(r"(?P<before>.*)\n\{\{- define \"(?P<name>[^\"]+)\"", helpers)
    assert {"base.fullname", "base.labels", "base.selectorLabels"} <= {name for _, name in defines}
    assert [name for before, name in defines if before.strip() != "*/}}"] == []
    assert len(defines) == helpers.count("{{- define")


# --- The image: Dockerfile, app and chart agree ----------------------------------------------


def dockerfile(app_dir: Path) -> dict[str, list[str]]:
    """Each instruction of the Dockerfile with its arguments, in order."""
    instructions: dict[str, list[str]] = {}
    text = (app_dir / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.setdefault(word.upper(), []).append(rest.strip())
    return instructions


@pytest.mark.parametrize("answers", ["canonical", "argocd-platform"])
def test_dockerfile_agrees_with_the_chart(app, answers):
    generated = app(answers)
    values = yaml.safe_load((generated / "helm/base/values.yaml").read_text())
    docker = dockerfile(generated)
    pod = values["podSecurityContext"]
    assert docker["USER"] == [f"{pod['runAsUser']}:{pod['runAsGroup']}"]
    port = values["containerPort"]
    assert port == int(load_answers(answers).get("container_port", 8080))
    assert docker["EXPOSE"] == [str(port)]
    assert f"PORT={port}" in docker["ENV"][0].split()
    assert len(docker["FROM"]) >= 2, "multi-stage"
    for base in docker["FROM"]:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*( AS \w+)?", base), f"{base}: pin a version"


def test_hadolint(canonical):
    result = subprocess.run([VENV_BIN / "hadolint", canonical.app / "Dockerfile"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_sends_only_the_source(canonical):
    lines = (canonical.app / ".dockerignore").read_text().splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == ["*", "!src/"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, response.read().decode()


def test_the_app_answers_the_probes_and_prometheus(canonical):
    """Runs src/server.py as the image does (PORT from the environment, read-only friendly)."""
    values = yaml.safe_load((canonical.chart / "values.yaml").read_text())
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-B", "-m", "server"], cwd=canonical.app / "src", env={"PORT": str(port)},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 5
        while True:
            try:
                status, _ = get(base + values["probes"]["path"])
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 200
        status, metrics = get(base + "/metrics")
        assert status == 200 and "http_requests_total" in metrics
    finally:
        server.terminate()
        assert server.wait(timeout=5) == 0, "the server should stop cleanly on SIGTERM"
