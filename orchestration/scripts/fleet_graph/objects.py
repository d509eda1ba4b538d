"""The objects of a fleet's graph: how an object is named (kind, namespace, name), which kinds are
cluster-scoped, and reading manifests."""

from __future__ import annotations

from pathlib import Path

import yaml

Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name

# Kinds Kubernetes and the operators here serve cluster-scoped; every other kind is namespaced.
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "StorageClass",
                  "PersistentVolume", "PriorityClass", "IngressClass", "GatewayClass", "ClusterSecretStore",
                  "ClusterIssuer", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService"}
# API groups served by Kubernetes itself ("" is the core group): every other group is a CRD's.
BUILTIN_GROUPS = {"", "admissionregistration.k8s.io", "apps", "autoscaling", "batch", "certificates.k8s.io",
                  "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "networking.k8s.io", "node.k8s.io",
                  "policy", "rbac.authorization.k8s.io", "scheduling.k8s.io", "storage.k8s.io"}
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class GraphError(Exception):
    """A reference the controller could not follow: the graph does not resolve."""


def describe(key: Key) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def annotations(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("annotations") or {}


# libyaml's parser where PyYAML was built with it: the same documents, several times faster on
# the megabytes of YAML a fleet's renders are.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_all(text: str) -> list[dict]:
    return [doc for doc in yaml.load_all(text, Loader=SafeLoader) if doc]


def manifests(folder: Path, recurse: bool) -> list[dict]:
    paths = folder.rglob("*") if recurse else folder.glob("*")
    return [obj for path in sorted(paths) if path.suffix in MANIFEST_SUFFIXES and path.is_file()
            for obj in load_all(path.read_text())]
