"""extensions/gitops_template/promotion.py: what a promotion could cost in data, on the platform
chart as Helm renders it before and after each change."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from support.helm import CLUSTER_API_VERSIONS, render
from gitops_template.promotion import data_loss, postgres_major, quantity

# An app's platform with data of every kind, backed up.
RUNNING = {
    "postgres": {"enabled": True, "imageName": "ghcr.io/cloudnative-pg/postgresql:16.4", "storage": {"size": "2Gi"},
                 "backup": {"enabled": True, "destinationPath": "s3://backups/shop",
                            "s3Credentials": {"secretName": "backup-credentials"}}},
    "objectStorage": {"enabled": True},
    "keyValueStore": {"enabled": True, "storage": {"size": "1Gi"}},
}


@pytest.fixture(scope="module")
def platform(rendered, tmp_path_factory):
    """platform(**changes) -> the platform chart's objects with RUNNING's values, changed."""
    scratch = tmp_path_factory.mktemp("promotion")
    chart = rendered({"app_name": "shop"}) / "helm/platform"

    def _render(**changes) -> list[dict]:
        values = scratch / f"values-{len(list(scratch.glob('values-*')))}.json"
        values.write_text(json.dumps(merged(RUNNING, changes)))
        return render(chart, "shop-platform", "shop", [values], CLUSTER_API_VERSIONS)

    return _render


def merged(values: dict, changes: dict) -> dict:
    result = dict(values)
    for key, value in changes.items():
        result[key] = merged(result.get(key, {}), value) if isinstance(value, dict) else value
    return result


def test_a_change_keeping_every_byte_passes(platform):
    running = platform()
    assert data_loss(running, running) == []
    # More room, more replicas, a minor PostgreSQL release, more resources: nothing is lost.
    grown = platform(postgres={"instances": 3, "storage": {"size": "4Gi"},
                               "imageName": "ghcr.io/cloudnative-pg/postgresql:16.6"},
                     keyValueStore={"storage": {"size": "2048Mi"}})
    assert data_loss(running, grown) == []


@pytest.mark.parametrize(("changes", "loss"), [
    pytest.param({"postgres": {"enabled": False}}, "Cluster shop-db: the database is removed", id="database"),
    pytest.param({"objectStorage": {"enabled": False}}, "ObjectBucketClaim shop-bucket: the bucket is removed",
                 id="bucket"),
    pytest.param({"keyValueStore": {"enabled": False}}, "Redis shop-kv: the key-value store is removed", id="kv"),
    # Two replicas are another kind (RedisReplication): a new, empty store.
    pytest.param({"keyValueStore": {"replicas": 2}}, "Redis shop-kv: the key-value store is removed",
                 id="kv-kind"),
    pytest.param({"postgres": {"storage": {"size": "1Gi"}}},
                 "Cluster shop-db: spec.storage.size shrinks from 2Gi to 1Gi", id="database-volume"),
    pytest.param({"keyValueStore": {"storage": {"size": "512Mi"}}},
                 "Redis shop-kv: spec.storage.volumeClaimTemplate.spec.resources.requests.storage shrinks from 1Gi",
                 id="kv-volume"),
    pytest.param({"postgres": {"imageName": "ghcr.io/cloudnative-pg/postgresql:17.2"}},
                 "Cluster shop-db: PostgreSQL 16 becomes 17", id="postgres-major"),
    pytest.param({"postgres": {"imageName": ""}},
                 "Cluster shop-db: PostgreSQL 16 becomes the operator default", id="postgres-default"),
    pytest.param({"postgres": {"backup": {"enabled": False}}},
                 "ScheduledBackup shop-db-backup: removed, so backups stop", id="backups-off"),
])
def test_each_data_losing_change_is_named(platform, changes, loss):
    losses = data_loss(platform(), platform(**changes))
    assert any(found.startswith(loss) for found in losses), losses


def test_backups_off_is_named_on_the_cluster_too(platform):
    losses = data_loss(platform(), platform(postgres={"backup": {"enabled": False}}))
    assert "Cluster shop-db: stops archiving its WAL, so backups stop" in losses
    assert "ObjectStore shop-db-backup: removed, so backups stop" in losses


def test_a_dropped_keep_annotation_is_named(platform):
    running = platform()
    after = platform()
    [cluster] = [obj for obj in after if obj["kind"] == "Cluster"]
    del cluster["metadata"]["annotations"]["helm.sh/resource-policy"]
    cluster["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] = "Prune=false"
    assert data_loss(running, after) == [
        "Cluster shop-db: no longer kept when it leaves the chart (drops argocd.argoproj.io/sync-options: "
        "Delete=false, helm.sh/resource-policy: keep)"]


def test_a_kept_object_of_any_kind_removed_is_named():
    kept = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seed", "namespace": "shop",
                                                                  "annotations": {"helm.sh/resource-policy": "keep"}}}
    assert data_loss([kept], []) == ["ConfigMap shop/seed: removed, and it was kept (helm.sh/resource-policy: keep)"]
    assert data_loss([], [kept]) == []


@pytest.mark.parametrize(("value", "number"), [("1Gi", 2**30), ("512Mi", 2**29), ("1G", 10**9), ("1.5Gi", 3 * 2**29),
                                               ("100m", Decimal("0.1")), ("1e3", 1000), ("2048", 2048)])
def test_quantities_read_as_kubernetes_reads_them(value, number):
    assert quantity(value) == number


def test_a_non_quantity_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity("lots")


@pytest.mark.parametrize(("image", "major"), [("ghcr.io/cloudnative-pg/postgresql:17.2-standard-bookworm", "17"),
                                              ("ghcr.io/cloudnative-pg/postgresql:16", "16"),
                                              ("registry.example:5000/pg:15.8@sha256:abc", "15"),
                                              ("ghcr.io/cloudnative-pg/postgresql:latest", ""), ("", "")])
def test_postgres_major_from_the_image_tag(image, major):
    assert postgres_major({"spec": {"imageName": image}}) == major
