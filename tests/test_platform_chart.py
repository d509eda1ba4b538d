"""The platform chart (helm/platform) of a generated app: each feature alone and all together,
rendered and strictly validated; its operator checks; its values schema and README; and its
contract with the base chart (docs/contract.md, extensions/gitops_template/names.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from support.helm import CLUSTER_API_VERSIONS, HelmError, lint, render
from support.chart_docs import documented_keys
from support.gitops import as_flux_builds_it
from support.netpol import Peer, allows, selects
from support.kube import by_name, validation_errors
from gitops_template.names import APP_NAME_MAX, derived_names

VALUES = Path(__file__).parent / "values" / "platform"

# What each named values file renders for the app "demo", as (kind, name).
DATABASE = {("Cluster", "demo-db")}
BACKUP = {("ObjectStore", "demo-db-backup"), ("ScheduledBackup", "demo-db-backup")}
BUCKET = {("ObjectBucketClaim", "demo-bucket")}
SECRETS = {("ExternalSecret", "demo-secrets")}
KV = {("Password", "demo-kv"), ("ExternalSecret", "demo-kv"), ("NetworkPolicy", "demo-kv")}
MONITORING = {("ServiceMonitor", "demo"), ("PrometheusRule", "demo"), ("ConfigMap", "demo-dashboard")}
GENERATED = {("Password", "demo-generated"), ("ExternalSecret", "demo-generated")}
EXPECTED = {
    "postgres": DATABASE,
    "postgres-backup": DATABASE | BACKUP,
    "postgres-options": DATABASE | {("Pooler", "demo-db-pooler")},
    "object-storage": BUCKET,
    "key-value-store": KV | {("Redis", "demo-kv")},
    "key-value-store-replication": KV | {("RedisReplication", "demo-kv")},
    "external-secrets": SECRETS,
    "external-secrets-template": SECRETS,
    "monitoring": MONITORING,
    "monitoring-custom": MONITORING,
    "monitoring-endpoints": MONITORING | {("ServiceMonitor", "demo-streaming")},
    "generated-secrets": GENERATED,
    "extra-objects": {("ExternalSecret", "demo-config-file"), ("Role", "demo-pod-reader")},
    "all": DATABASE | BACKUP | BUCKET | KV | {("RedisReplication", "demo-kv")} | SECRETS | MONITORING
           | {("PodMonitor", "demo-db")} | GENERATED,
}
FEATURES = [pytest.param(name, id=name) for name in EXPECTED]

# Each feature's API and the operator its missing-API failure must name.
OPERATORS = [
    pytest.param("postgresql.cnpg.io/v1", "CloudNativePG", id="cloudnative-pg"),
    pytest.param("barmancloud.cnpg.io/v1", "Barman Cloud Plugin", id="barman-cloud-plugin"),
    pytest.param("objectbucket.io/v1alpha1", "Rook-Ceph or NooBaa", id="bucket-provisioner"),
    pytest.param("redis.redis.opstreelabs.in/v1beta2", "Opstree redis-operator", id="redis-operator"),
    pytest.param("generators.external-secrets.io/v1alpha1", "External Secrets Operator", id="secret-generators"),
    pytest.param("external-secrets.io/v1", "External Secrets Operator", id="external-secrets"),
    pytest.param("monitoring.coreos.com/v1", "Prometheus Operator", id="prometheus-operator"),
]

# Field names that hold a credential itself; a reference to one is named otherwise
# (secretName, ...Key, or a {name, key} selector).
CREDENTIAL_FIELDS = re.compile(
    r"(?i)password|passwd|token|secret|apikey|accesskeyid|secretaccesskey|credentials?|connectionstring"
)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def kinds_and_names(objects: list[dict]) -> set[tuple[str, str]]:
    return {(obj["kind"], obj["metadata"]["name"]) for obj in objects}


def by_kind(objects: list[dict]) -> dict[str, dict]:
    return {obj["kind"]: obj for obj in objects}


def plaintext_credentials(node, path: str = "") -> list[str]:
    """Paths of credential-named fields holding a literal, and of URLs carrying a password."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if CREDENTIAL_FIELDS.fullmatch(str(key)) and isinstance(value, (str, int, float)):
                found.append(f"{path}.{key}")
            found += plaintext_credentials(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += plaintext_credentials(item, f"{path}[{i}]")
    elif isinstance(node, str) and URL_WITH_PASSWORD.search(node):
        found.append(path)
    return found


def documented_values(values_yaml: str) -> dict[str, str]:
    """{dotted key: its `# --` description}, in file order."""
    keys = documented_keys(values_yaml)
    assert [key for key, description in keys if not description] == [], "values.yaml: keys with no `# --` line"
    return dict(keys)


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under `heading`, as stripped cells."""
    section = markdown.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


@pytest.fixture
def chart(generate) -> Path:
    return generate() / "helm" / "platform"


def test_every_values_file_is_tested():
    assert sorted(EXPECTED) == sorted(path.stem for path in VALUES.glob("*.yaml"))


def test_defaults_render_nothing_and_need_no_operator(chart):
    assert render(chart, "demo-platform", "demo", api_versions=()) == []


@pytest.mark.parametrize("values", FEATURES)
def test_feature_renders_its_objects(chart, values):
    objects = render(chart, "demo-platform", "demo", [VALUES / f"{values}.yaml"], CLUSTER_API_VERSIONS)
    assert kinds_and_names(objects) == EXPECTED[values]


@pytest.mark.parametrize("values", FEATURES)
def test_feature_lints_and_validates_strictly(chart, crd_schemas, values):
    values_file = VALUES / f"{values}.yaml"
    lint(chart, [values_file])
    objects = render(chart, "demo-platform", "demo", [values_file], CLUSTER_API_VERSIONS)
    assert validation_errors(objects, crd_schemas) == []


@pytest.mark.parametrize(("api", "operator"), OPERATORS)
def test_missing_operator_fails_naming_it(chart, api, operator):
    # Every feature on and every other API served, so this check is the only one that can fail.
    others = tuple(a for a in CLUSTER_API_VERSIONS if a != api)
    with pytest.raises(HelmError) as failure:
        render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], others)
    message = str(failure.value)
    assert f"does not serve {api}: install" in message
    assert operator in message


def test_database_follows_the_app(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS))
    cluster = objects["Cluster"]["spec"]
    assert cluster["bootstrap"] == {"initdb": {"database": "demo", "owner": "demo"}}
    assert cluster["storage"] == {"size": "20Gi", "storageClass": "fast"}
    assert cluster["plugins"] == [
        {
            "name": "barman-cloud.cloudnative-pg.io",
            "enabled": True,
            "isWALArchiver": True,
            "parameters": {"barmanObjectName": "demo-db-backup"},
        }
    ]
    backup = objects["ScheduledBackup"]["spec"]
    assert backup["cluster"] == {"name": "demo-db"}
    assert backup["method"] == "plugin"
    assert objects["ObjectStore"]["spec"]["configuration"]["s3Credentials"] == {
        "accessKeyId": {"name": "demo-backup-credentials", "key": "ACCESS_KEY_ID"},
        "secretAccessKey": {"name": "demo-backup-credentials", "key": "SECRET_ACCESS_KEY"},
    }
    assert objects["PodMonitor"]["spec"]["selector"]["matchLabels"]["cnpg.io/cluster"] == "demo-db"


def test_data_outlives_its_release_and_application(chart):
    objects = render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS)
    keep = {"helm.sh/resource-policy": "keep", "argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
    holding_data = [o for o in objects if o["kind"] in ("Cluster", "ObjectBucketClaim", "RedisReplication")]
    assert len(holding_data) == 3
    for obj in holding_data:
        assert obj["metadata"]["annotations"] == keep


def test_the_backup_store_stays_while_the_kept_database_names_it(chart):
    """The database outlives its release, and so does the ObjectStore it archives to: removed, it
    would leave the kept database with no WAL archive and no backups to restore from."""
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS))
    [plugin] = objects["Cluster"]["spec"]["plugins"]
    store = objects["ObjectStore"]["metadata"]
    assert store["name"] == plugin["parameters"]["barmanObjectName"]
    assert store["annotations"] == objects["Cluster"]["metadata"]["annotations"]


def test_monitoring_scrapes_the_base_charts_metrics_port(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS))
    spec = objects["ServiceMonitor"]["spec"]
    assert spec["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "demo", "app.kubernetes.io/component": "app"}
    }
    assert spec["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s"}]
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
        assert objects[kind]["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    alerts = {rule["alert"] for group in objects["PrometheusRule"]["spec"]["groups"] for rule in group["rules"]}
    assert alerts == {
        "AppTargetDown",
        "AppMetricsAbsent",
        "AppPodCrashLooping",
        "DatabaseDown",
        "DatabaseMetricsAbsent",
        "DatabaseReplicationLagging",
        "DatabaseBackupFailing",
    }
    dashboard = objects["ConfigMap"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert yaml.safe_load(dashboard["data"]["demo.json"])["title"] == "demo"


def test_a_dashboard_without_labels_still_renders(chart):
    values = chart / "values.yaml"
    labelled = '    labels:\n      "grafana_dashboard": "1"\n'
    assert labelled in values.read_text()
    values.write_text(values.read_text().replace(labelled, "    labels: {}\n"))
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS))
    assert "grafana_dashboard" not in objects["ConfigMap"]["metadata"]["labels"]


def test_monitoring_of_a_metrics_endpoint_of_its_own(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "monitoring-custom.yaml"], CLUSTER_API_VERSIONS))
    [endpoint] = objects["ServiceMonitor"]["spec"]["endpoints"]
    assert endpoint == {
        "port": "metrics", "path": "/api/metrics", "scheme": "https", "interval": "30s", "scrapeTimeout": "10s",
        "basicAuth": {"username": {"name": "demo-metrics-auth", "key": "username"},
                      "password": {"name": "demo-metrics-auth", "key": "password"}},
        "tlsConfig": {"insecureSkipVerify": False, "serverName": "demo.demo.svc"},
    }
    groups = {group["name"]: group for group in objects["PrometheusRule"]["spec"]["groups"]}
    assert {"demo", "demo-queue"} == groups.keys()
    assert groups["demo-queue"]["rules"][0]["alert"] == "QueueBacklog"


def test_monitoring_follows_every_metrics_endpoint(chart):
    """Several endpoints: the app's `metrics` port, an exporter's port at its own path, and a component's
    `metrics` port (the base chart labels a component's Service with its name as component)."""
    objects = by_name(render(chart, "demo-platform", "demo", [VALUES / "monitoring-endpoints.yaml"], CLUSTER_API_VERSIONS))
    endpoints = objects["ServiceMonitor", "demo"]["spec"]["endpoints"]
    assert [(e["port"], e["path"]) for e in endpoints] == [("metrics", "/metrics"), ("exporter", "/exporter/metrics")]
    component = objects["ServiceMonitor", "demo-streaming"]["spec"]
    assert component["selector"] == {"matchLabels": {"app.kubernetes.io/name": "demo",
                                                     "app.kubernetes.io/component": "streaming"}}
    assert [(e["port"], e["path"]) for e in component["endpoints"]] == [("metrics", "/metrics")]
    assert component["jobLabel"] == "app.kubernetes.io/name"  # job="demo": the alerts cover it too


def test_extra_objects_use_the_charts_names(chart):
    objects = by_name(render(chart, "demo-platform", "demo", [VALUES / "extra-objects.yaml"], CLUSTER_API_VERSIONS))
    assert objects["ExternalSecret", "demo-config-file"]["spec"]["target"]["name"] == "demo-config-file"
    assert objects["Role", "demo-pod-reader"]["metadata"]["labels"]["app.kubernetes.io/name"] == "demo"


def test_external_secret_shapes_the_secret(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "external-secrets-template.yaml"],
                             CLUSTER_API_VERSIONS))
    target = objects["ExternalSecret"]["spec"]["target"]
    assert target["name"] == "demo-secrets" and target["creationPolicy"] == "Owner"
    assert target["template"]["engineVersion"] == "v2"
    # The store's keys reach the template; Helm passes External Secrets' own braces through untouched.
    assert target["template"]["data"]["SMTP_URL"] == "smtp://{{ .user }}:{{ .password }}@smtp.example.com:587"
    assert plaintext_credentials(objects["ExternalSecret"]) == []


def test_database_as_the_app_wants_it(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "postgres-options.yaml"], CLUSTER_API_VERSIONS))
    initdb = objects["Cluster"]["spec"]["bootstrap"]["initdb"]
    assert (initdb["database"], initdb["owner"]) == ("tasks", "tasks_app")
    assert initdb["postInitApplicationSQL"] == [
        "CREATE EXTENSION IF NOT EXISTS pgcrypto", "CREATE EXTENSION IF NOT EXISTS citext",
        "ALTER DATABASE tasks SET timezone TO 'UTC'"]
    pooler = objects["Pooler"]["spec"]
    assert pooler == {"cluster": {"name": "demo-db"}, "instances": 2, "type": "rw", "pgbouncer": {"poolMode": "transaction"}}
    postgresql = objects["Cluster"]["spec"]["postgresql"]
    assert postgresql["parameters"] == {"max_connections": "200", "pg_stat_statements.track": "all"}
    assert postgresql["shared_preload_libraries"] == ["pg_stat_statements"]
    assert postgresql["extensions"] == [{"name": "pgvector",
                                         "image": {"reference": "ghcr.io/cloudnative-pg/pgvector:0.8.0-18-trixie"}}]
    assert objects["Cluster"]["spec"]["managed"]["roles"] == [
        {"name": "reporting", "login": True, "inRoles": ["pg_read_all_data"], "passwordSecret": {"name": "demo-reporting"}}]


def test_database_defaults_to_the_app_name(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "postgres.yaml"], CLUSTER_API_VERSIONS))
    assert objects["Cluster"]["spec"]["bootstrap"]["initdb"] == {"database": "demo", "owner": "demo"}
    assert not {"postgresql", "managed"} & objects["Cluster"]["spec"].keys()
    assert "Pooler" not in objects


def test_database_alerts_only_with_a_database(chart):
    objects = by_kind(render(chart, "demo-platform", "demo", [VALUES / "monitoring.yaml"], CLUSTER_API_VERSIONS))
    assert [group["name"] for group in objects["PrometheusRule"]["spec"]["groups"]] == ["demo"]


@pytest.mark.parametrize(
    ("values", "rejected"),
    [
        pytest.param({"postgress": {"enabled": True}}, "'postgress'", id="top-level"),
        pytest.param({"postgres": {"storage": {"sise": "1Gi"}}}, "sise", id="nested"),
        pytest.param({"monitoring": {"dashbaord": {"enabled": False}}}, "dashbaord", id="monitoring"),
        pytest.param({"externalSecrets": {"secretStoreRef": {"knd": "SecretStore"}}}, "knd", id="store-ref"),
        pytest.param({"objectStorage": {"provider": "s3"}}, "/objectStorage/provider", id="unknown-provider"),
        pytest.param(
            {"postgres": {"enabled": True, "backup": {"enabled": True}}}, "/postgres/backup/destinationPath", id="backup-without-target"
        ),
        pytest.param({"externalSecrets": {"enabled": True}}, "/externalSecrets/dataFrom", id="secrets-without-keys"),
    ],
)
def test_schema_rejects_bad_values(chart, tmp_path, values, rejected):
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    with pytest.raises(HelmError, match="schema") as failure:
        render(chart, "demo-platform", "demo", [values_file], CLUSTER_API_VERSIONS)
    assert rejected in str(failure.value)


def test_no_plaintext_credentials(generate):
    root = generate(postgres=True, object_storage=True, key_value_store=True, external_secrets=True, monitoring=True)
    chart = root / "helm" / "platform"
    objects = render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS)
    assert "Secret" not in {obj["kind"] for obj in objects}
    assert plaintext_credentials(objects) == []
    for path in (chart / "values.yaml", root / "gitops" / "values-platform.yaml"):
        assert plaintext_credentials(yaml.safe_load(path.read_text()), path.name) == []


def test_credential_scan_catches_literals():
    assert plaintext_credentials({"spec": {"password": "hunter2", "url": "s3://k:s3cr3t@host/b"}}) == [
        ".spec.password",
        ".spec.url",
    ]


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({}, id="none"),
        pytest.param({"postgres": True}, id="postgres"),
        pytest.param({"object_storage": True}, id="object_storage"),
        pytest.param({"key_value_store": True}, id="key_value_store"),
        pytest.param({"external_secrets": True}, id="external_secrets"),
        pytest.param({"monitoring": True}, id="monitoring"),
        pytest.param(
            {"postgres": True, "object_storage": True, "key_value_store": True, "external_secrets": True,
             "monitoring": True}, id="all"
        ),
    ],
)
def test_each_answer_drives_its_feature(generate, crd_schemas, answers):
    root = generate(**answers)
    chart, values = root / "helm" / "platform", [root / "gitops" / "values-platform.yaml"]
    lint(chart, values)
    objects = render(chart, "demo-platform", "demo", values, CLUSTER_API_VERSIONS)
    assert validation_errors(objects, crd_schemas) == []
    kinds = {kind for kind, _ in kinds_and_names(objects)}
    assert ("Cluster" in kinds) == answers.get("postgres", False)
    assert ("ObjectBucketClaim" in kinds) == answers.get("object_storage", False)
    assert ("Redis" in kinds) == answers.get("key_value_store", False)
    assert (("ExternalSecret", "demo-secrets") in kinds_and_names(objects)) == answers.get("external_secrets", False)
    assert ("ServiceMonitor" in kinds) == answers.get("monitoring", False)


def test_secret_store_is_the_org_default(generate):
    """The app reads the secret named after its namespace: what the fleet's store lets a
    namespace read (orchestration README, the secret store)."""
    root = generate(external_secrets=True, secret_store_kind="SecretStore", secret_store_name="team-vault",
                    namespace="team")
    chart, values = root / "helm" / "platform", [root / "gitops" / "values-platform.yaml"]
    spec = by_kind(render(chart, "demo-platform", "team", values, CLUSTER_API_VERSIONS))["ExternalSecret"]["spec"]
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "team-vault"}
    assert spec["dataFrom"] == [{"extract": {"key": "team"}}]


def test_names_follow_the_app_not_the_release(generate):
    # The release is deliberately not <app>-platform here: no name may come from it.
    chart = generate(app_name="shop") / "helm" / "platform"
    names = derived_names("shop")
    objects_ = render(chart, "any-release", "shop", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS)
    objects = by_kind(objects_)
    assert objects["Cluster"]["metadata"]["name"] == names["database_cluster"]
    # CloudNativePG names the app Secret <cluster>-app.
    assert f"{objects['Cluster']['metadata']['name']}-app" == names["database_secret"]
    assert objects["ScheduledBackup"]["metadata"]["name"] == names["database_backup"]
    assert objects["ObjectBucketClaim"]["metadata"]["name"] == names["bucket_claim"]
    secrets = {o["metadata"]["name"]: o for o in objects_ if o["kind"] == "ExternalSecret"}
    assert secrets[names["app_secret"]]["spec"]["target"]["name"] == names["app_secret"]
    assert objects["RedisReplication"]["metadata"]["name"] == names["kv_store"]
    assert secrets[names["kv_store"]]["spec"]["target"]["name"] == names["kv_store"]
    assert objects["ServiceMonitor"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": names["base_release"],
        "app.kubernetes.io/component": "app",
    }


@pytest.mark.parametrize(
    ("document", "heading"),
    [
        pytest.param(ROOT / "docs" / "contract.md", "## What the platform produces", id="docs"),
        pytest.param(ROOT / "template" / "helm" / "platform" / "README.md", "## Contract", id="chart-readme"),
    ],
)
def test_contract_tables_agree_with_naming(document, heading):
    names = derived_names("shop")
    rows = table_rows(document.read_text(), heading)
    assert rows
    for name, *_, key in rows:
        assert name.strip("`").replace("<app>", "shop") == names[key.strip("`")], name
    consumed = {"database_secret", "bucket_claim", "kv_store", "app_secret"}
    assert consumed <= {key.strip("`") for *_, key in rows}


def test_app_name_limit_matches_naming(chart):
    schema = yaml.safe_load((chart / "values.schema.json").read_text())
    assert schema["properties"]["appName"]["maxLength"] == APP_NAME_MAX


def test_readme_documents_every_value(chart):
    documented = documented_values((chart / "values.yaml").read_text())
    table = {key.strip("`"): description for key, _, description in table_rows(
        (chart / "README.md").read_text(), "## Values"
    )}
    assert table == documented


# What kube-prometheus-stack (release kube-prometheus-stack) loads with its default values: its
# Prometheus selects monitors and rules by `release`, its Grafana sidecar dashboards by label.
KUBE_PROMETHEUS_STACK = {"ServiceMonitor": {"matchLabels": {"release": "kube-prometheus-stack"}},
                         "PodMonitor": {"matchLabels": {"release": "kube-prometheus-stack"}},
                         "PrometheusRule": {"matchLabels": {"release": "kube-prometheus-stack"}},
                         "ConfigMap": {"matchLabels": {"grafana_dashboard": "1"}}}


@pytest.mark.parametrize(("answers", "selectors"), [
    pytest.param({}, KUBE_PROMETHEUS_STACK, id="org-defaults"),
    pytest.param({"prometheus_labels": "prometheus=apps", "grafana_dashboard_labels": "dashboards=apps"},
                 {**{kind: {"matchLabels": {"prometheus": "apps"}} for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule")},
                  "ConfigMap": {"matchLabels": {"dashboards": "apps"}}}, id="forked"),
])
def test_monitoring_is_picked_up_by_the_org_prometheus_and_grafana(generate, answers, selectors):
    root = generate(postgres=True, monitoring=True, **answers)
    # Both controllers layer gitops/values-platform.yaml over the chart's values.yaml (test_gitops).
    objects = render(root / "helm/platform", "demo-platform", "demo", [root / "gitops/values-platform.yaml"],
                     CLUSTER_API_VERSIONS)
    monitoring = [o for o in objects if o["kind"] in selectors]
    assert {o["kind"] for o in monitoring} == set(selectors)
    for obj in monitoring:
        assert selects(selectors[obj["kind"]], obj["metadata"]["labels"]), obj["kind"]


def drain_completes(cluster: dict) -> bool:
    """Whether `kubectl drain` of the primary's node completes, as CloudNativePG documents it: unless
    enablePDB is false (it defaults to true), the primary has a PodDisruptionBudget of minAvailable 1,
    which refuses its eviction; the operator then switches over to a replica on another node, after
    which the old primary may go. With no replica there is nothing to switch to: the drain hangs."""
    spec = cluster["spec"]
    return not spec.get("enablePDB", True) or spec["instances"] > 1


@pytest.mark.parametrize("instances", [1, 2, 3])
def test_database_never_blocks_a_node_drain(chart, tmp_path, instances):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"postgres": {"enabled": True, "instances": instances}}))
    cluster = by_kind(render(chart, "demo-platform", "demo", [values], CLUSTER_API_VERSIONS))["Cluster"]
    assert drain_completes(cluster)
    # With replicas the budgets stay: they keep the database up through the drain.
    assert cluster["spec"]["enablePDB"] is (instances > 1)


def scheduled_backup_creates(scheduled: dict) -> dict:
    """A Backup as CloudNativePG creates it for a ScheduledBackup: owned as backupOwnerReference
    says (none, the default: unowned; self: by the ScheduledBackup; cluster: by the Cluster)."""
    owner = {"self": ("ScheduledBackup", scheduled["metadata"]["name"]),
             "cluster": ("Cluster", scheduled["spec"]["cluster"]["name"])}.get(
        scheduled["spec"].get("backupOwnerReference", "none"))
    return {"kind": "Backup", "metadata": {"ownerReferences": [{"kind": owner[0], "name": owner[1]}] if owner else []}}


def test_backups_belong_to_the_release(chart):
    """Argo CD lists an object it does not track and whose owner it does not track as an orphan
    (the AppProject warns about those); Backups with an owner go when it goes."""
    objects = render(chart, "demo-platform", "demo", [VALUES / "all.yaml"], CLUSTER_API_VERSIONS)
    tracked = kinds_and_names(objects)
    backup = scheduled_backup_creates(by_kind(objects)["ScheduledBackup"])
    assert [(ref["kind"], ref["name"]) for ref in backup["metadata"]["ownerReferences"]] == [("ScheduledBackup", "demo-db-backup")]
    assert all((ref["kind"], ref["name"]) in tracked for ref in backup["metadata"]["ownerReferences"])


SELECTOR = re.compile(r"(?P<metric>[a-z_]+)\{(?P<labels>[^}]*)\}")


def fires_without_series(expr: str) -> bool:
    """Whether a PromQL alert expression returns anything when its series do not exist at all.
    A selector over no series is empty, and so is any comparison or function of it; only absent()
    turns nothing into a result."""
    return expr.startswith("absent(")


@pytest.mark.parametrize("values", ["monitoring", "all"])
def test_alerts_fire_when_targets_vanish(chart, values):
    """Every series the alerts watch has an alert that fires when it is gone altogether."""
    rule = by_kind(render(chart, "demo-platform", "demo", [VALUES / f"{values}.yaml"], CLUSTER_API_VERSIONS))["PrometheusRule"]
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    watched = {m.group(0) for r in rules for m in [SELECTOR.search(r["expr"])] if m and m["metric"] in ("up", "cnpg_collector_up")}
    assert watched == ({'up{namespace="demo", job="demo"}'}
                       | ({'cnpg_collector_up{namespace="demo", pod=~"demo-db-[0-9]+"}'} if values == "all" else set()))
    for selector in watched:
        assert any(fires_without_series(r["expr"]) and selector in r["expr"] for r in rules), selector


def redis_primary_service(redis: dict) -> str:
    """The Service the Opstree redis-operator sends clients to the primary by: a Redis's own
    Service is named after it; a RedisReplication's primary is behind <name>-master, which selects
    the pod the operator labels redis-role: master."""
    name = redis["metadata"]["name"]
    return {"Redis": name, "RedisReplication": f"{name}-master"}[redis["kind"]]


def redis_pod_labels(redis: dict) -> dict:
    """The labels the operator gives the Redis pods: its own, over the Redis object's labels."""
    setup = {"Redis": "standalone", "RedisReplication": "replication"}[redis["kind"]]
    return {**redis["metadata"]["labels"], "app": redis["metadata"]["name"], "redis_setup_type": setup, "role": setup}


@pytest.mark.parametrize("values", ["key-value-store", "key-value-store-replication"])
def test_key_value_store_gets_a_password_made_once_in_the_cluster(chart, values):
    objects = render(chart, "demo-platform", "demo", [VALUES / f"{values}.yaml"], CLUSTER_API_VERSIONS)
    [redis] = [o for o in objects if o["kind"] in ("Redis", "RedisReplication")]
    secret = by_name(objects)["ExternalSecret", "demo-kv"]["spec"]
    generator = by_name(objects)["Password", "demo-kv"]["spec"]
    # Generated once by External Secrets, never in git nor at render time, and never rotated under Redis.
    assert plaintext_credentials(objects) == []
    assert secret["refreshPolicy"] == "CreatedOnce"
    assert secret["dataFrom"] == [{"sourceRef": {"generatorRef": {
        "apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "name": "demo-kv"}}}]
    # Letters and digits only: the password goes into REDIS_URL as it is.
    assert generator["symbols"] == 0 and generator.get("encoding", "raw") == "raw"
    # Redis reads its password from the Secret the app loads, under the key the template writes.
    ref = redis["spec"]["kubernetesConfig"]["redisSecret"]
    assert ref["name"] == secret["target"]["name"] == "demo-kv"
    data = secret["target"]["template"]["data"]
    assert data[ref["key"]] == "{{ .password }}"
    host = redis_primary_service(redis)
    assert data["REDIS_HOST"] == host and data["REDIS_PORT"] == "6379"
    assert data["REDIS_URL"] == f"redis://:{{{{ .password }}}}@{host}:6379/0"
    # Its data outlives the Redis, as the database's does.
    assert redis["spec"]["storage"]["keepAfterDelete"] is True


def test_generated_secrets_are_made_once_and_kept(chart):
    """An app's secret key is made in the cluster, one value per key, never refreshed, and outlives
    the release and its Application: a new one would invalidate what the old one signed."""
    objects = render(chart, "demo-platform", "demo", [VALUES / "generated-secrets.yaml"], CLUSTER_API_VERSIONS)
    secret = by_name(objects)["ExternalSecret", "demo-generated"]
    generator = by_name(objects)["Password", "demo-generated"]
    assert plaintext_credentials(objects) == []
    assert secret["spec"]["refreshPolicy"] == "CreatedOnce"
    assert secret["spec"]["target"]["name"] == "demo-generated"
    # One generator run per dataFrom entry, its `password` renamed to the key.
    ref = {"apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "name": "demo-generated"}
    assert secret["spec"]["dataFrom"] == [
        {"sourceRef": {"generatorRef": ref}, "rewrite": [{"regexp": {"source": "^password$", "target": key}}]}
        for key in ("SECRET_KEY_BASE", "ADMIN_PASSWORD")]
    assert generator["spec"]["length"] == 48 and generator["spec"]["symbols"] == 0
    keep = {"helm.sh/resource-policy": "keep", "argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
    assert secret["metadata"]["annotations"] == generator["metadata"]["annotations"] == keep


def test_key_value_store_admits_only_the_app(chart):
    objects = render(chart, "demo-platform", "demo", [VALUES / "key-value-store-replication.yaml"],
                     CLUSTER_API_VERSIONS)
    [redis] = [o for o in objects if o["kind"] == "RedisReplication"]
    policy = by_name(objects)["NetworkPolicy", "demo-kv"]
    # Like every object of this chart, it lands in the release namespace.
    policy["metadata"]["namespace"] = "demo"
    assert selects(policy["spec"]["podSelector"], redis_pod_labels(redis))
    app = Peer("demo", {"app.kubernetes.io/name": "demo", "app.kubernetes.io/instance": "demo",
                        "app.kubernetes.io/component": "app"})
    job = Peer("demo", {"app.kubernetes.io/instance": "demo", "app.kubernetes.io/part-of": "demo",
                        "app.kubernetes.io/component": "job-migrate"})
    for peer in (app, job, Peer("demo", redis_pod_labels(redis)), Peer("redis-operator", {})):
        assert allows(policy, "ingress", peer, 6379)
    for stranger in (Peer("demo", {"app.kubernetes.io/name": "other"}), Peer("other", app.labels),
                     Peer(ip="10.0.0.9")):
        assert not allows(policy, "ingress", stranger, 6379)


def test_redis_pods_ignore_the_chart_version(chart, tmp_path):
    """The operator copies the Redis's labels onto its pods: none may change with the version Flux
    gives the chart on every commit, or every commit would restart Redis."""
    def labels(chart_path: Path) -> dict:
        objects = render(chart_path, "demo-platform", "demo", [VALUES / "key-value-store.yaml"], CLUSTER_API_VERSIONS)
        return by_name(objects)["Redis", "demo-kv"]["metadata"]["labels"]

    assert labels(chart) == labels(as_flux_builds_it(chart, tmp_path))
