"""The infrastructure catalogue: the upstream charts an orchestration installs before any app,
each pinned to a version, with the CRDs it installs (catalogue.json, beside this file, which
Renovate bumps), and the fixed names the infrastructure layer gives what it creates.
"""

from __future__ import annotations

import json
from pathlib import Path

_DATA = json.loads((Path(__file__).with_name("catalogue.json")).read_text(encoding="utf-8"))

# The upstream components, in install order: name, namespace (None: an org default decides),
# repo (a Helm repository, https://, or an OCI chart's full reference, oci://), chart, version,
# depends_on, crds ([{group, kinds}]), and own_resources where the chart creates custom resources
# of its own CRDs in the same sync.
INFRASTRUCTURE_CATALOGUE: tuple[dict, ...] = tuple(_DATA["components"])
# What a person installs before the fleet reconciles itself: Argo CD, the Flux Operator, Flux.
BOOTSTRAP: dict[str, dict] = _DATA["bootstrap"]


def component(name: str) -> dict:
    [entry] = [entry for entry in INFRASTRUCTURE_CATALOGUE if entry["name"] == name]
    return entry
# cert-manager's namespace: its "cluster resource namespace", where ClusterIssuers find their Secrets.
CERT_MANAGER_NAMESPACE = component("cert-manager")["namespace"]
# The configs chart (infrastructure/configs): the objects the apps attach to, once every operator is ready.
INFRASTRUCTURE_CONFIGS = "infrastructure-configs"
INFRASTRUCTURE_PATHS = {"infrastructure_configs": "infrastructure/configs"}
# The base chart's egress to a bucket endpoint names Rook's namespace (platform.objectStorage.namespace).
ROOK_NAMESPACE = component("rook-ceph")["namespace"]
CEPH_IMAGE = component("rook-ceph")["ceph_image"]
OBJECT_STORE_NAME = "objects"
# The homelab secret store: the Kubernetes provider, reading Secrets <app> from this namespace.
SECRETS_NAMESPACE = "secrets"
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
GATEWAY_CLASS = "envoy-gateway"
VAULT_DEFAULTS = {"path": "secret", "version": "v2", "auth_mount": "kubernetes", "role": "external-secrets"}


def infrastructure_releases() -> list[str]:
    """The infrastructure layer's Helm releases, each an Argo CD Application or Flux HelmRelease
    of that name."""
    return [entry["name"] for entry in INFRASTRUCTURE_CATALOGUE] + [INFRASTRUCTURE_CONFIGS]
