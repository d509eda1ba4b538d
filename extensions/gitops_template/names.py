"""The naming contract of DESIGN.md: every object name derived from an app's name or an
orchestration's name, the limits that keep them valid, and the app's paths the controllers read.
"""

from __future__ import annotations

from .catalogue import (
    ENVOY_GATEWAY_NAMESPACE, INFRASTRUCTURE_CATALOGUE, SECRETS_NAMESPACE, infrastructure_releases,
)
from .grammar import DNS_NAME_MAX, LABEL_MAX, RELEASE_MAX, derived_name_error, dns_label_error, hostname_error

# Suffixes appended to the app name, with the limit each derived name must respect.
# The longest one decides how long `app_name` may be (see APP_NAME_MAX).
DERIVED_SUFFIXES: dict[str, int] = {
    "": RELEASE_MAX,  # base chart and its release
    "-platform": RELEASE_MAX,  # platform chart and its release
    "-base": LABEL_MAX,  # Argo CD Application, Flux Kustomization and HelmRelease
    "-db": LABEL_MAX,  # CloudNativePG Cluster
    "-db-app": LABEL_MAX,  # Secret CloudNativePG writes for the app
    "-db-backup": LABEL_MAX,  # ScheduledBackup
    "-db-replication": LABEL_MAX,  # Secret CloudNativePG writes (its longest suffix)
    "-bucket": LABEL_MAX,  # ObjectBucketClaim, its ConfigMap and Secret
    "-kv": LABEL_MAX,  # Redis (or RedisReplication), its StatefulSet, Service and Secret
    "-kv-additional": LABEL_MAX,  # Service the Redis operator adds (its longest suffix)
    "-secrets": LABEL_MAX,  # ExternalSecret and its Secret
    "-generated": LABEL_MAX,  # Password generator, ExternalSecret and Secret of the secrets the app makes once
    "-config": LABEL_MAX,  # base chart ConfigMap
    "-data": LABEL_MAX,  # base chart PersistentVolumeClaim
    "-dashboard": LABEL_MAX,  # Grafana dashboard ConfigMap
}
APP_NAME_MAX = min(limit - len(suffix) for suffix, limit in DERIVED_SUFFIXES.items())
DOMAIN_MAX = DNS_NAME_MAX - APP_NAME_MAX - 1


# Names of objects every cluster already has, which a derived name would overwrite.
ARGOCD_DEFAULT_PROJECT = "default"


def app_name_error(value: object, flux_namespace: str = "") -> str:
    """`app_name`: a DNS-1035 label short enough for every derived name, naming none of the
    platform's objects: the AppProject `<app>` and the GitRepository `<app>` (in Flux's namespace)."""
    if error := derived_name_error("app_name", value, APP_NAME_MAX):
        return error
    if value == ARGOCD_DEFAULT_PROJECT:
        return f"app_name: {value} is Argo CD's built-in AppProject, which the app's AppProject would replace"
    if value == flux_namespace:
        return (f"app_name: {value} is Flux's own GitRepository and Kustomization (named after its namespace), "
                "which the app's would replace")
    return ""


def platform_namespaces(answers: dict) -> dict[str, str]:
    """The namespaces the platform owns, each with its owner, from the org's answers: an app in one
    would share it with the platform (its Pod Security level, its NetworkPolicies, Flux's Namespace)."""
    owners = {answers.get("argocd_namespace"): "Argo CD's", answers.get("flux_namespace"): "Flux's",
              answers.get("prometheus_namespace"): "the infrastructure's (Prometheus)",
              answers.get("gateway_namespace"): "the infrastructure's (the Gateway)",
              answers.get("gateway_proxy_namespace") or ENVOY_GATEWAY_NAMESPACE:
                  "the infrastructure's (the Gateway's proxies)",
              SECRETS_NAMESPACE: "the infrastructure's (the secret store)"}
    for entry in INFRASTRUCTURE_CATALOGUE:
        owners.setdefault(entry["namespace"], f"the infrastructure's ({entry['name']})")
    owners["default"] = "Kubernetes' own"
    return {namespace: owner for namespace, owner in owners.items() if isinstance(namespace, str) and namespace}


def namespace_error(value: object, platform: dict[str, str] | None = None) -> str:
    """`namespace`: a DNS-1123 label, none of Kubernetes' (kube-*) nor the `platform`'s."""
    if error := dns_label_error("namespace", value):
        return error
    owner = "Kubernetes' own" if value.startswith("kube-") else (platform or {}).get(value)
    if owner:
        return f"namespace: {value} is {owner}: give the app a namespace of its own"
    return ""


def domain_error(value: object) -> str:
    """`domain`: short enough that every app's hostname `<app>.<domain>` is a valid DNS name."""
    if error := hostname_error("domain", value):
        return error
    if len(value) > DOMAIN_MAX:
        return (f"domain: at most {DOMAIN_MAX} characters, so that <app_name>.<domain> fits the "
                f"{DNS_NAME_MAX}-character DNS limit (got {len(value)})")
    return ""


def derived_names(app_name: str) -> dict[str, str]:
    """Every name DESIGN.md's naming contract derives from the app name."""
    return {
        "base_release": app_name,
        "platform_release": f"{app_name}-platform",
        "base_chart": app_name,
        "platform_chart": f"{app_name}-platform",
        "argocd_project": app_name,
        "argocd_base_app": f"{app_name}-base",
        "argocd_platform_app": f"{app_name}-platform",
        "flux_source": app_name,
        "flux_base": f"{app_name}-base",
        "flux_platform": f"{app_name}-platform",
        "flux_platform_source": f"{app_name}-platform",
        "database_cluster": f"{app_name}-db",
        "database_secret": f"{app_name}-db-app",
        "database_backup": f"{app_name}-db-backup",
        "bucket_claim": f"{app_name}-bucket",
        "kv_store": f"{app_name}-kv",
        "app_secret": f"{app_name}-secrets",
        "generated_secret": f"{app_name}-generated",
    }
# Paths inside the generated app, relative to its root; the controllers reference them.
# (The folders under template/ carry the same paths: tests check every reference resolves.)
PATHS: dict[str, str] = {
    "base_chart_path": "helm/base",
    "platform_chart_path": "helm/platform",
    "base_values_path": "gitops/values-base.yaml",
    "platform_values_path": "gitops/values-platform.yaml",
    "flux_base_path": "gitops/fluxcd-releases/base",
    "flux_platform_path": "gitops/fluxcd-releases/platform",
}
# The kinds the app's charts render, by API group, in the app's namespace: what its AppProject admits
# (gitops/argocd/project.yaml) and, in a fleet, what the registry lets each app deploy (orchestration.json).
APP_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("ConfigMap", "PersistentVolumeClaim", "Service", "ServiceAccount")),
    ("apps", ("Deployment", "StatefulSet")),
    ("batch", ("CronJob", "Job")),
    ("autoscaling", ("HorizontalPodAutoscaler",)),
    ("policy", ("PodDisruptionBudget",)),
    ("rbac.authorization.k8s.io", ("Role", "RoleBinding")),
    ("networking.k8s.io", ("Ingress", "NetworkPolicy")),
    ("gateway.networking.k8s.io", ("HTTPRoute", "TCPRoute", "TLSRoute")),
    ("postgresql.cnpg.io", ("Cluster", "Pooler", "ScheduledBackup")),
    ("barmancloud.cnpg.io", ("ObjectStore",)),
    ("objectbucket.io", ("ObjectBucketClaim",)),
    ("external-secrets.io", ("ExternalSecret",)),
    ("generators.external-secrets.io", ("Password",)),
    ("redis.redis.opstreelabs.in", ("Redis", "RedisReplication")),
    ("monitoring.coreos.com", ("PodMonitor", "PrometheusRule", "ServiceMonitor")),
)

PLATFORM_FEATURES = ("postgres", "object_storage", "key_value_store", "external_secrets", "monitoring")
# The git tag a person moves onto a commit once its platform changes are reviewed; Flux deploys the
# platform from it when platform_sync is manual.
PLATFORM_REVIEW_TAG = "platform-reviewed"
# Suffixes of the orchestration's own names, with the limit each derived name must respect.
ORCHESTRATION_SUFFIXES: dict[str, int] = {
    "": LABEL_MAX,  # Argo CD root Application and its AppProject
    "-apps": RELEASE_MAX,  # the apps layer: the registry chart's Helm release, its AppProject
    "-infrastructure": LABEL_MAX,  # the infrastructure layer, ready before any app
}
ORCHESTRATION_NAME_MAX = min(limit - len(suffix) for suffix, limit in ORCHESTRATION_SUFFIXES.items())
# The Argo CD Application, or Flux GitRepository and Kustomization, applying a registered app's
# gitops/<controller> folder: <app>-gitops. No app names an object of its own so.
REGISTERED_SUFFIX = "-gitops"


def orchestration_name_error(value: object) -> str:
    """`orchestration_name`: a DNS-1035 label short enough for every name derived from it, naming
    none of the platform's objects (the root is an Application and AppProject `<name>`)."""
    if error := derived_name_error("orchestration_name", value, ORCHESTRATION_NAME_MAX):
        return error
    if value == ARGOCD_DEFAULT_PROJECT:
        return f"orchestration_name: {value} is Argo CD's built-in AppProject, which the root's would replace"
    if value in infrastructure_releases():
        return (f"orchestration_name: {value} is an infrastructure release, whose Application the root "
                "would be")
    return ""


def orchestration_names(name: str) -> dict[str, str]:
    """The orchestration's own object names, from its name."""
    return {
        "root_app": name,
        "root_project": name,
        "infrastructure_layer": f"{name}-infrastructure",
        # Argo CD: the AppProject of the infrastructure's Applications.
        "infrastructure_project": f"{name}-infrastructure",
        "apps_layer": f"{name}-apps",
        "apps_project": f"{name}-apps",
    }


def registered_name(app_name: str) -> str:
    return f"{app_name}{REGISTERED_SUFFIX}"
