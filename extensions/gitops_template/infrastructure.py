"""The infrastructure layer of an orchestration: which catalogue components it installs, in
which order (waves) and namespaces, with which values, from the answers; the configs chart's values.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .catalogue import (
    CEPH_IMAGE, CERT_MANAGER_NAMESPACE, ENVOY_GATEWAY_NAMESPACE, GATEWAY_CLASS, INFRASTRUCTURE_CATALOGUE,
    INFRASTRUCTURE_CONFIGS, INFRASTRUCTURE_PATHS, OBJECT_STORE_NAME, ROOK_NAMESPACE, SECRETS_NAMESPACE,
    VAULT_DEFAULTS,
)
from .grammar import text_error, hostname_error, label_map, url_port_error

# The org defaults the layer reads, so that it agrees with the apps.
INFRASTRUCTURE_ORG_DEFAULTS = ("domain", "gateway_name", "gateway_namespace", "gateway_proxy_namespace",
                               "prometheus_namespace", "prometheus_labels", "grafana_dashboard_labels",
                               "bucket_storage_class", "secret_store_kind", "secret_store_name")
_VAULT_SERVER = re.compile(r"https?://[^/?#@\s]+/?")


def vault_server_error(value: object) -> str:
    """`vault_server`: the http(s) URL of a Vault server, no credentials or path."""
    if error := text_error("vault_server", value):
        return error
    parts = urlsplit(value)
    if (not _VAULT_SERVER.fullmatch(value) or url_port_error(parts)
            or hostname_error("vault_server", parts.hostname or "")):
        return "vault_server: must be an http:// or https:// URL of a Vault server, such as http://vault.vault.svc:8200"
    return ""


def _first_label(labels: dict[str, str]) -> tuple[str, str]:
    # The Grafana sidecar matches one label: an app's dashboard carries them all. With none,
    # the sidecar's own default.
    return sorted(labels.items())[0] if labels else ("grafana_dashboard", "1")


def infrastructure_components(answers: dict) -> list[dict]:
    """The installed components, in install order: the catalogue's entry with its namespace,
    the values both controllers pass, and its sync wave (one more than its deepest dependency),
    then the configs chart, after all of them."""
    proxy_namespace = answers["gateway_proxy_namespace"]
    namespaces = {"kube-prometheus-stack": answers["prometheus_namespace"],
                  # Envoy Gateway's default mode runs the proxies in its controller's namespace.
                  "gateway-api-crds": proxy_namespace or ENVOY_GATEWAY_NAMESPACE,
                  "envoy-gateway": proxy_namespace or ENVOY_GATEWAY_NAMESPACE}
    prometheus_labels = label_map(answers["prometheus_labels"])
    selector = {"matchLabels": prometheus_labels}
    dashboard_label, dashboard_value = _first_label(label_map(answers["grafana_dashboard_labels"]))
    envoy = {"crds": {"enabled": False}}
    if not proxy_namespace:
        envoy["config"] = {"envoyGateway": {"provider": {"type": "Kubernetes", "kubernetes": {
            "deploy": {"type": "GatewayNamespace"}}}}}
    values = {
        "cert-manager": {"crds": {"enabled": True}},
        "cloudnative-pg": {},
        "plugin-barman-cloud": {},
        "external-secrets": {"installCRDs": True},
        "kube-prometheus-stack": {
            "prometheus": {"prometheusSpec": {
                # Only the monitors and rules carrying the org's labels, in every namespace.
                "serviceMonitorSelectorNilUsesHelmValues": False, "serviceMonitorSelector": selector,
                "podMonitorSelectorNilUsesHelmValues": False, "podMonitorSelector": selector,
                "ruleSelectorNilUsesHelmValues": False, "ruleSelector": selector}},
            "grafana": {"sidecar": {"dashboards": {"enabled": True, "label": dashboard_label,
                                                   "labelValue": dashboard_value, "searchNamespace": "ALL"}}}},
        "gateway-api-crds": {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"},
                                      "envoyGateway": {"enabled": True}}},
        "envoy-gateway": envoy,
        "rook-ceph": {"crds": {"enabled": True}},
        "redis-operator": {},
    }
    components, waves = [], {}
    for entry in INFRASTRUCTURE_CATALOGUE:
        waves[entry["name"]] = 1 + max((waves[dep] for dep in entry["depends_on"]), default=-1)
        components.append({"own_resources": entry.get("own_resources", False),
                           "pod_security": entry.get("pod_security"), "name": entry["name"],
                           "namespace": entry["namespace"] or namespaces[entry["name"]],
                           **{key: entry[key] for key in ("repo", "chart", "version", "crds", "depends_on")},
                           "oci": entry["repo"].startswith("oci://"), "argocd_repo": _argocd_repo(entry),
                           "values": values[entry["name"]], "wave": waves[entry["name"]]})
    return components


def _argocd_repo(entry: dict) -> str:
    """The repoURL of an Argo CD Helm source: an OCI chart's registry path without the scheme
    or the chart, as Envoy Gateway's Argo CD guide gives it."""
    if entry["repo"].startswith("oci://"):
        return entry["repo"].removeprefix("oci://").removesuffix("/" + entry["chart"])
    return entry["repo"]


def infrastructure_settings(answers: dict) -> dict:
    """The infrastructure layer of an orchestration: its components and the configs chart's values."""
    profile = answers["infrastructure_profile"]
    components = infrastructure_components(answers)
    homelab = profile == "homelab"
    store = None
    if answers["secret_store_kind"] == "ClusterSecretStore":
        store = {"name": answers["secret_store_name"], "provider": answers.get("secret_store_provider")}
        if store["provider"] == "kubernetes":
            store["namespace"] = SECRETS_NAMESPACE
        else:
            # Vault authenticates the ServiceAccount default of each app's namespace, and its
            # policy lets each namespace read only the secret named after it (README.md).
            store["vault"] = {"server": answers.get("vault_server"), **VAULT_DEFAULTS, "service_account": "default"}
    owned = {component["namespace"] for component in components}
    namespaces = sorted({answers["gateway_namespace"], *([SECRETS_NAMESPACE] if store and "namespace" in store
                                                         else [])} - owned)
    return {
        "profile": profile,
        "components": components,
        "configs": {"name": INFRASTRUCTURE_CONFIGS, "path": INFRASTRUCTURE_PATHS["infrastructure_configs"],
                    "wave": 1 + max(component["wave"] for component in components),
                    "depends_on": [component["name"] for component in components]},
        "configs_values": {
            "namespaces": namespaces,
            "gateway": {"className": GATEWAY_CLASS, "name": answers["gateway_name"],
                        "namespace": answers["gateway_namespace"], "hostname": f"*.{answers['domain']}",
                        "tls": gateway_tls(answers), "envoyProxy": envoy_proxy(answers, components)},
            "secretStore": store,
            "objectStore": {"namespace": ROOK_NAMESPACE, "name": OBJECT_STORE_NAME, "cephImage": CEPH_IMAGE,
                            "storageClass": answers["bucket_storage_class"],
                            # homelab: one node, one copy; production: three of everything, one per host.
                            "replicas": 1 if homelab else 3, "gatewayInstances": 1 if homelab else 2},
        },
    }


def envoy_proxy(answers: dict, components: list[dict]) -> dict | None:
    """How the Gateway's proxies are reached when no LoadBalancer implementation gives their
    Service an address (homelab: a bare node): a NodePort, whose address Envoy Gateway takes from
    the nodes, set by an EnvoyProxy beside Envoy Gateway, which the GatewayClass names. None:
    Envoy Gateway's default, a LoadBalancer."""
    if answers["infrastructure_profile"] != "homelab":
        return None
    [envoy] = [component for component in components if component["name"] == "envoy-gateway"]
    return {"namespace": envoy["namespace"], "serviceType": "NodePort"}


def gateway_tls(answers: dict) -> dict | None:
    """Where the Gateway's HTTPS certificate comes from: a ClusterIssuer the configs chart makes
    (a self-signed CA, its key in cert-manager's namespace, where ClusterIssuers read Secrets), or
    the platform team's; None: HTTP only. While Copier still asks the questions, they may be absent."""
    mode = answers.get("gateway_tls")
    if mode == "none":
        return None
    if mode == "cluster-issuer":
        return {"issuer": answers.get("gateway_cluster_issuer"), "selfSigned": None}
    name = answers["gateway_name"]
    return {"issuer": f"{name}-ca", "selfSigned": {"bootstrapIssuer": f"{name}-selfsigned", "caSecret": f"{name}-ca",
                                                   "namespace": CERT_MANAGER_NAMESPACE}}


def installed_crds(settings: dict) -> dict[tuple[str, str], str]:
    """(group, kind) -> the component installing its CRD."""
    return {(crd["group"], kind): component["name"] for component in settings["components"]
            for crd in component["crds"] for kind in crd["kinds"]}
