"""What a promotion could cost in data: the app's platform chart as an environment renders it now
and at the promoted revision, compared object by object. The fleet's `make promote` renders both
(scripts/registry.py) and refuses each change named here unless a person allows it.
"""

from __future__ import annotations

import re
from decimal import Decimal

# The objects holding data, by (API group, kind): what losing one loses.
DATA_KINDS = {
    ("postgresql.cnpg.io", "Cluster"): "database",
    ("objectbucket.io", "ObjectBucketClaim"): "bucket",
    ("redis.redis.opstreelabs.in", "Redis"): "key-value store",
    ("redis.redis.opstreelabs.in", "RedisReplication"): "key-value store",
    ("", "PersistentVolumeClaim"): "volume",
}
# Where the backups of a database are: its schedule, and the Barman Cloud Plugin's store.
BACKUP_KINDS = {("postgresql.cnpg.io", "ScheduledBackup"), ("barmancloud.cnpg.io", "ObjectStore")}
# The annotations that keep an object, and its data, when it leaves the chart: Helm's
# (helm.sh/docs/howto/charts_tips_and_tricks, "Tell Helm Not To Uninstall a Resource") and Argo CD's
# (argo-cd.readthedocs.io/en/stable/user-guide/sync-options, Prune=false and Delete=false).
KEEP_ANNOTATIONS = {"helm.sh/resource-policy": ("keep",),
                    "argocd.argoproj.io/sync-options": ("Prune=false", "Delete=false")}
# Each volume size a data kind declares, by its path in the object.
VOLUME_PATHS = {
    "Cluster": (("spec", "storage", "size"), ("spec", "walStorage", "size")),
    "Redis": (("spec", "storage", "volumeClaimTemplate", "spec", "resources", "requests", "storage"),),
    "RedisReplication": (("spec", "storage", "volumeClaimTemplate", "spec", "resources", "requests", "storage"),),
    "PersistentVolumeClaim": (("spec", "resources", "requests", "storage"),),
}
# Kubernetes quantity suffixes (k8s.io/apimachinery/pkg/api/resource, quantity.go).
_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "m": Decimal("0.001"),
             "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?P<suffix>[KMGTPE]i|[mkMGTPE]?)")
# A PostgreSQL image's tag starts with its major version (ghcr.io/cloudnative-pg/postgresql:17.2-...).
_POSTGRES_MAJOR = re.compile(r":(?P<major>\d+)(?:[.\-@]|$)")

Key = tuple[str, str, str, str]  # group, kind, namespace, name


def _key(obj: dict) -> Key:
    group = obj.get("apiVersion", "").rpartition("/")[0]
    metadata = obj.get("metadata", {})
    return group, obj.get("kind", ""), metadata.get("namespace", ""), metadata.get("name", "")


def _describe(key: Key) -> str:
    _, kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _at(obj: dict, path: tuple[str, ...]):
    for field in path:
        if not isinstance(obj, dict) or field not in obj:
            return None
        obj = obj[field]
    return obj


def quantity(value: object) -> Decimal:
    """A Kubernetes quantity ("1Gi", "500M", "1e3") as a number; ValueError if it is none."""
    match = _QUANTITY.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return Decimal(match["number"]) * Decimal(_SUFFIXES[match["suffix"]])


def postgres_major(cluster: dict) -> str:
    """The PostgreSQL major version a CloudNativePG Cluster runs, "" when its image does not say
    (no imageName: the operator's default image, which depends on the operator's version)."""
    match = _POSTGRES_MAJOR.search(_at(cluster, ("spec", "imageName")) or "")
    return match["major"] if match else ""


def _archives(cluster: dict) -> bool:
    """Whether a Cluster archives its WAL: the in-tree barmanObjectStore or a WAL-archiver plugin."""
    spec = cluster.get("spec", {})
    return bool(spec.get("backup")) or any(plugin.get("isWALArchiver") for plugin in spec.get("plugins", []))


def kept(obj: dict) -> set[str]:
    """The keep annotations an object carries, as `key: value` items."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    options = {key: {item.strip() for item in str(annotations.get(key, "")).split(",")} for key in KEEP_ANNOTATIONS}
    return {f"{key}: {value}" for key, values in KEEP_ANNOTATIONS.items() for value in values if value in options[key]}


def data_loss(before: list[dict], after: list[dict]) -> list[str]:
    """Every way replacing the objects `before` (the platform chart as the environment runs it) by
    `after` (at the promoted revision) could lose data, each naming the object and the change."""
    old = {_key(obj): obj for obj in before if obj}
    new = {_key(obj): obj for obj in after if obj}
    losses = []
    for key, obj in sorted(old.items()):
        group, kind = key[:2]
        what = DATA_KINDS.get((group, kind))
        if key not in new:
            if what:
                losses.append(f"{_describe(key)}: the {what} is removed")
            elif (group, kind) in BACKUP_KINDS:
                losses.append(f"{_describe(key)}: removed, so backups stop")
            elif kept(obj):
                losses.append(f"{_describe(key)}: removed, and it was kept ({', '.join(sorted(kept(obj)))})")
            continue
        promoted = new[key]
        if dropped := sorted(kept(obj) - kept(promoted)):
            losses.append(f"{_describe(key)}: no longer kept when it leaves the chart (drops {', '.join(dropped)})")
        for path in VOLUME_PATHS.get(kind, ()) if what else ():
            sizes = _at(obj, path), _at(promoted, path)
            if None not in sizes and quantity(sizes[1]) < quantity(sizes[0]):
                losses.append(f"{_describe(key)}: {'.'.join(path)} shrinks from {sizes[0]} to {sizes[1]} "
                              "(a volume never shrinks: the data must move to a new one)")
        if (group, kind) == ("postgresql.cnpg.io", "Cluster"):
            majors = postgres_major(obj), postgres_major(promoted)
            images = _at(obj, ("spec", "imageName")), _at(promoted, ("spec", "imageName"))
            if majors[0] != majors[1] or (images[0] != images[1] and "" in majors):
                losses.append(f"{_describe(key)}: PostgreSQL {majors[0] or 'the operator default'} becomes "
                              f"{majors[1] or 'the operator default'} ({images[0] or 'no imageName'} -> "
                              f"{images[1] or 'no imageName'}): a major upgrade needs a planned path "
                              "(cloudnative-pg.io/documentation/current/postgres_upgrades)")
            if _archives(obj) and not _archives(promoted):
                losses.append(f"{_describe(key)}: stops archiving its WAL, so backups stop")
    return losses
