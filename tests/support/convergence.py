"""The fleet's bootstrap on a fresh cluster, reconciled round by round as Argo CD or Flux would.

Over a walked Graph (support/orchestration.py), each round every controller object reconciles
once: an Argo CD Application runs a step of its sync operation, a Flux Kustomization or
HelmRelease one reconciliation. A round stands for one pass of the controllers; a retry backoff
or a Flux timeout is finite, so it only stretches rounds, and a wait without timeout is a wait
forever. What each object reports comes from its operator's documented status, on a cluster
Profile. Every modelled fact names its source:
  Argo CD v3.5.1 (github.com/argoproj/argo-cd at tag v3.5.1): gitops-engine/pkg/sync/sync_context.go,
    controller/appcontroller.go, controller/health.go, resource_customizations/<group>/<kind>/health.lua;
  Flux 2.8: kustomize-controller v1.9.4 docs/spec/v1/kustomizations.md and
    internal/controller/kustomization_controller.go; helm-controller docs (fluxcd.io/flux/components/helm/
    helmreleases, "Configuring failure handling"); Helm 4 waits with kstatus (helm.sh HIP-0022), whose
    generic rule (sigs.k8s.io/cli-utils pkg/kstatus/status/generic.go) is: a Ready condition True is
    Current, any other Ready InProgress, no Ready condition Current;
  Rook v1.20.6 (github.com/rook/rook): pkg/operator/ceph/cluster/cluster.go, cephstatus.go,
    Documentation/Storage-Configuration/Advanced/cephx-key-rotation.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from support.orchestration import Graph, Key, annotations

HEALTHY, PROGRESSING, DEGRADED = "Healthy", "Progressing", "Degraded"
# Argo CD's order of health, best first (gitops-engine/pkg/health/health.go healthOrder).
HEALTH_ORDER = (HEALTHY, "Suspended", PROGRESSING, "Missing", DEGRADED, "Unknown")
BUILTIN_GROUPS = {"", "apps", "rbac.authorization.k8s.io", "networking.k8s.io", "storage.k8s.io", "policy",
                  "batch", "apiextensions.k8s.io", "admissionregistration.k8s.io"}
FLUX_SOURCES = {"GitRepository", "HelmRepository", "OCIRepository"}
# Ceph v20 raises these on every new cluster while its keys are of the older type; Rook v1.20.6's
# cephx-key-rotation.md gives exactly these four to mute (Rook's own cluster-test.yaml mutes them
# since commit 87e926092, "test: mute the ceph health warnings in test clusters").
CEPH_INSECURE_AUTH_WARNINGS = ("AUTH_INSECURE_ROTATING_SERVICE_KEY_TYPE", "AUTH_INSECURE_CLIENT_KEY_TYPE",
                               "AUTH_INSECURE_KEYS_ALLOWED", "AUTH_INSECURE_KEYS_CREATABLE")
# Components whose pods the Pod Security "baseline" level rejects: Rook's Ceph CSI node plugins
# and OSDs (privileged, host paths), the Prometheus node exporter (hostNetwork, hostPID, hostPath).
PRIVILEGED_COMPONENTS = {"rook-ceph", "kube-prometheus-stack"}
ENFORCE = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True)
class Profile:
    """What a cluster has before the fleet arrives."""

    name: str
    load_balancer: bool  # a LoadBalancer implementation gives Services of that type an address
    raw_disk: bool  # an unused disk Ceph can take for an OSD
    vault_role: bool  # Vault has the role and policy the ClusterSecretStore logs in with
    issuer: bool  # the platform team's ClusterIssuer exists
    pod_security: str  # the level the cluster enforces where a namespace sets none
    broken: str = ""  # an app whose database volume names a StorageClass the cluster lacks


@dataclass
class ArgoState:
    operation: dict | None = None  # the running sync: its revision, applied and completed tasks
    retries: int = 0
    attempted: tuple[int, bool] | None = None  # (revision, succeeded) of the last operation
    health: str = PROGRESSING


@dataclass
class FluxState:
    ready: bool = False
    applied_revision: int = 0  # status.lastAppliedRevision: set only once the health checks pass
    observed: int = 0  # the revision of its spec it last acted on
    failures: int = 0
    stalled: bool = False


@dataclass
class Cluster:
    graph: Graph
    settings: dict  # the orchestration's registry/orchestration.json
    infrastructure: dict  # gitops_template.infrastructure.infrastructure_settings of its answers
    profile: Profile
    revision: int = 1  # of the orchestration repository
    live: set[Key] = field(default_factory=set)
    spec_revision: dict[Key, int] = field(default_factory=dict)  # the revision that last applied it
    installed: set[Key] = field(default_factory=set)  # external charts applied (their CRDs with them)
    # Argo CD's controller.sync.timeout.seconds, in rounds of a minute; 0: none, Argo CD's default
    # (docs/operator-manual/argocd-cmd-params-cm.yaml: "0" means no timeout).
    sync_timeout: int = 0
    failing: set[str] = field(default_factory=set)  # components whose pods crash from now on (a bad upgrade)
    argo: dict[Key, ArgoState] = field(default_factory=dict)
    flux: dict[Key, FluxState] = field(default_factory=dict)
    rounds: int = 0

    def __post_init__(self):
        for key, parent in self.graph.parents.items():
            if parent is None:  # applied by hand (README, "Bootstrap")
                self._apply(key, self.revision)
        self.crd_owner = {(crd["group"], kind): component["name"] for component in self.infrastructure["components"]
                          for crd in component["crds"] for kind in crd["kinds"]}
        self.charts = {chart.owner: chart for chart in self.graph.charts}

    # --- the controllers -----------------------------------------------------------------

    def run(self, rounds: int) -> None:
        for _ in range(rounds):
            self.rounds += 1
            for key in list(self.graph.objects):
                if key in self.live and key[0] == "Application":
                    self._argo_reconcile(key)
                elif key in self.live and key[0] in ("Kustomization", "HelmRelease"):
                    self._flux_reconcile(key)
                elif key in self.live and key[0] in ("FluxInstance", "ApplicationSet"):
                    # The Flux Operator creates its sync's source and Kustomization; the
                    # ApplicationSet controller every Application its generator yields from this
                    # repository's newest revision, all at once (it ignores sync waves).
                    for child in self.graph.children[key]:
                        self._apply(child, self.revision)

    def commit(self) -> None:
        """A new commit of the orchestration repository (a registry change): every object it
        renders changes, so each must be applied again."""
        self.revision += 1

    def _apply(self, key: Key, revision: int) -> None:
        self.live.add(key)
        self.spec_revision[key] = revision

    def desired(self, key: Key) -> int:
        """The revision an object's spec asks for: the repository's newest for what the root
        applies from this repository, else that of the apply that made it."""
        return self.revision if self._from_orchestration(key) else self.spec_revision.get(key, 0)

    def _from_orchestration(self, key: Key) -> bool:
        """Whether the object reads this repository: an Application's source, a Flux object's (or
        its chart's) source the sync's GitRepository."""
        spec = self.graph.objects[key].get("spec", {})
        flux_source = spec.get("sourceRef") or spec.get("chart", {}).get("spec", {}).get("sourceRef") or {}
        sync_source = ("GitRepository", self.settings.get("flux_namespace"))
        return ((spec.get("source") or {}).get("repoURL") == self.settings["orchestration_repo_url"]
                or (flux_source.get("kind"), flux_source.get("name")) == sync_source)

    # Argo CD --------------------------------------------------------------------------------

    def _argo_reconcile(self, key: Key) -> None:
        state = self.argo.setdefault(key, ArgoState())
        spec = self.graph.objects[key]["spec"]
        revision = self.desired(key)
        if (self.sync_timeout and state.operation is not None
                and self.rounds - state.operation["started"] >= self.sync_timeout):
            # appcontroller.go processRequestedAppOperation: "Terminating in-progress operation due
            # to timeout"; a terminated operation is not retried.
            state.attempted, state.operation = (state.operation["revision"], False), None
        if state.operation is None:
            # While an operation runs, auto-sync waits for it ("Skipping auto-sync: another
            # operation is in progress"), however new the revision. It skips a revision whose last
            # sync failed, until a new one (appcontroller.go autoSync, alreadyAttemptedSync:
            # "failed previous sync attempt ... will not retry").
            # A manual-sync Application (a platform a person reviews) is synced by that person.
            if state.attempted is None or state.attempted[0] != revision:
                state.operation = {"revision": revision, "applied": set(), "done": set(), "started": self.rounds}
                state.retries = 0
        if state.operation is not None:
            self._argo_sync_step(key, state, spec)
        state.health = self._argo_app_health(key)

    def _argo_sync_step(self, key: Key, state: ArgoState, spec: dict) -> None:
        """One pass of gitops-engine's syncContext.Sync (gitops-engine/pkg/sync/sync_context.go)."""
        operation = state.operation
        if key in self.charts:
            # An upstream chart: one wave of the chart's own objects, its CRDs applied with it.
            self.installed.add(key)
            return self._argo_finish(key, state, True)
        tasks = self.graph.children[key]
        waves = sorted({wave(self.graph.objects[t]) for t in tasks})
        options = spec.get("syncPolicy", {}).get("syncOptions", [])
        if not operation["applied"] and "SkipDryRunOnMissingResource=true" not in options:
            # Every task is dry-run before any is applied: a kind without its CRD fails the sync.
            if any(not self._kind_served(t) for t in tasks):
                return self._argo_finish(key, state, False)
        multistep = len(waves) > 1  # syncTasks.multiStep: more than one wave (or phase)
        for task in operation["applied"] - operation["done"]:
            health = self._argo_health(task)
            # A running task completes when Healthy (or without health), fails when Degraded.
            if health in (HEALTHY, None):
                operation["done"].add(task)
            elif health == DEGRADED:
                return self._argo_finish(key, state, False)
        if multistep and operation["applied"] - operation["done"]:
            return  # "if we are multi-step and we have any running tasks ... then wait", no timeout
        pending = [t for t in tasks if t not in operation["applied"]]
        if not pending:
            return self._argo_finish(key, state, True)
        current = min(wave(self.graph.objects[t]) for t in pending)
        this_wave = [t for t in pending if wave(self.graph.objects[t]) == current]
        if any(not self._kind_served(t) for t in this_wave):
            return self._argo_finish(key, state, False)  # "one or more objects failed to apply"
        for task in this_wave:
            self._apply(task, operation["revision"])
            operation["applied"].add(task)
        if current == waves[-1]:
            # "if it is the last phase/wave and the only remaining tasks are non-hooks, the we are
            # successful EVEN if those objects subsequently degraded": the final wave is not waited on.
            self._argo_finish(key, state, True)

    def _argo_finish(self, key: Key, state: ArgoState, succeeded: bool) -> None:
        limit = self.graph.objects[key]["spec"].get("syncPolicy", {}).get("retry", {}).get("limit", 0)
        if not succeeded and state.retries < limit:
            # The retry re-runs the whole operation after its backoff (appcontroller.go processRequestedAppOperation).
            state.retries += 1
            state.operation = {**state.operation, "applied": set(), "done": set()}
            return
        state.attempted = (state.operation["revision"], succeeded)
        state.operation = None

    def _argo_app_health(self, key: Key) -> str:
        """An Application's health: the worst of its live resources' (controller/health.go
        setApplicationHealth): no health, Missing, a child Application's Missing/Unknown and
        argocd.argoproj.io/ignore-healthcheck resources do not count."""
        if key in self.charts:
            chart = self.charts[key]
            # Crashing pods exceed the rollout's progress deadline: Degraded; pods Pod Security
            # rejects are never created: the DaemonSet stays Progressing.
            return (DEGRADED if chart.release in self.failing else
                    HEALTHY if self._component_healthy(key) else PROGRESSING)
        worst = HEALTHY
        for child in self.graph.children[key]:
            if child not in self.live or annotations(self.graph.objects[child]).get(
                    "argocd.argoproj.io/ignore-healthcheck") == "true":
                continue
            health = self._argo_health(child)
            if health is not None and HEALTH_ORDER.index(health) > HEALTH_ORDER.index(worst):
                worst = health
        return worst

    def _argo_health(self, key: Key) -> str | None:
        if key[0] == "Application":
            # bootstrap/argocd/argocd-cm.yaml's check reads status.health; none reported yet: Progressing.
            return self.argo[key].health if key in self.argo else PROGRESSING
        if key[0] in ("AppProject", "ApplicationSet"):
            return None
        return self.observe(key)[0]

    # Flux -----------------------------------------------------------------------------------

    def _flux_reconcile(self, key: Key) -> None:
        state = self.flux.setdefault(key, FluxState())
        obj, revision = self.graph.objects[key], self.desired(key)
        spec = obj["spec"]
        if state.stalled and state.observed == revision:
            # Remediation retries exhausted: no further attempt until the spec or chart changes
            # (helm-controller docs, "Configuring failure handling").
            return
        if not all(self._dependency_ready(key, dep) for dep in spec.get("dependsOn", [])):
            # kustomization_controller.go checkDependencies: Ready False, DependencyNotReady, requeue.
            state.ready = False
            return
        state.observed = revision
        if key[0] == "HelmRelease" and state.applied_revision == revision and state.ready:
            return  # the release is installed at this revision: nothing to upgrade
        if key in self.charts:
            self.installed.add(key)
            healthy = self._component_healthy(key)
        else:
            children = self.graph.children[key]
            if any(not self._kind_served(child) for child in children):
                healthy = False  # the apply fails: no match for the kind
            else:
                for child in children:
                    self._apply(child, revision)
                healthy = not self._flux_waits(obj) or all(self._kstatus_current(child) for child in children)
        if healthy:
            state.ready, state.applied_revision, state.failures, state.stalled = True, revision, 0, False
            return
        # Health checks (or Helm's wait) time out: Ready False; a Kustomization retries at its
        # retryInterval; a HelmRelease remediates up to its retries, then stalls.
        state.ready = False
        if key[0] == "HelmRelease":
            state.failures += 1
            retries = (spec.get("install", {}).get("remediation", {}) or {}).get("retries", 0)
            state.stalled = state.failures > retries

    @staticmethod
    def _flux_waits(obj: dict) -> bool:
        if obj["kind"] == "Kustomization":
            return obj["spec"].get("wait") is True  # .spec.wait: health checks for all it applied
        # helm-controller waits for the release's resources unless install.disableWait.
        return not obj["spec"].get("install", {}).get("disableWait", False)

    def _dependency_ready(self, key: Key, dependency: dict) -> bool:
        dep = (key[0], dependency.get("namespace", key[1]), dependency["name"])
        state = self.flux.get(dep)
        if dep not in self.live or state is None:
            return False
        if "readyExpr" in dependency:
            # The expression replaces the built-in check (checkDependencies, without the
            # AdditiveCELDependencyCheck gate). Only has(dep.status.<field>) is emulated here.
            match = re.fullmatch(r"has\(dep\.status\.(\w+)\)", dependency["readyExpr"])
            if match is None or match[1] != "lastAppliedRevision":
                raise NotImplementedError(f"readyExpr not emulated: {dependency['readyExpr']}")
            return state.applied_revision > 0
        return state.ready and state.observed == self.desired(dep)

    def _kstatus_current(self, key: Key) -> bool:
        if key[0] in ("Kustomization", "HelmRelease"):
            # Flux objects report Ready, and observedGeneration: a changed spec is InProgress
            # until its controller has acted on it.
            state = self.flux.get(key)
            return state is not None and state.ready and state.observed == self.desired(key)
        if key[0] in FLUX_SOURCES:
            return True  # the local git server serves every source
        return self.observe(key)[1]

    # --- the cluster: what each operator reports -------------------------------------------

    def _kind_served(self, key: Key) -> bool:
        """Whether the API server serves the kind: built in, or its CRD installed."""
        group = self.graph.objects[key]["apiVersion"].rpartition("/")[0]
        if group in BUILTIN_GROUPS or group in ("argoproj.io", "kustomize.toolkit.fluxcd.io",
                                                "helm.toolkit.fluxcd.io", "source.toolkit.fluxcd.io"):
            return True
        owner = self.crd_owner.get((group, key[0]))
        return owner is not None and any(chart[2] == owner for chart in self.installed)

    def _operator_running(self, group: str, kind: str) -> bool:
        owner = self.crd_owner.get((group, kind))
        return any(chart[2] == owner and self._component_healthy(chart) for chart in self.installed)

    def _component_healthy(self, key: Key) -> bool:
        """An upstream chart's pods run, unless Pod Security rejects them in its namespace."""
        chart = self.charts[key]
        if chart.release in self.failing:
            return False
        return chart.release not in PRIVILEGED_COMPONENTS or self.namespace_level(chart.namespace) == "privileged"

    def namespace_level(self, namespace: str) -> str:
        """The Pod Security level enforced in a namespace: its label, from a Namespace the fleet
        applies or from an Application's managedNamespaceMetadata; else the cluster's default."""
        for key in self.live:
            obj = self.graph.objects[key]
            labels = {}
            if key == ("Namespace", "", namespace):
                labels = obj["metadata"].get("labels") or {}
            elif key[0] == "Application" and obj["spec"]["destination"].get("namespace") == namespace:
                labels = (obj["spec"].get("syncPolicy", {}).get("managedNamespaceMetadata") or {}).get("labels") or {}
            if ENFORCE in labels:
                return labels[ENFORCE]
        return self.profile.pod_security

    def ceph_warnings(self, cluster: dict) -> set[str]:
        """The health checks a new Ceph cluster raises, less those muted in its spec."""
        warnings = set(CEPH_INSECURE_AUTH_WARNINGS)
        if not self.osds_up():
            warnings.add("TOO_FEW_OSDS")  # "OSD count 0 < osd_pool_default_size 1"
        mutes = (cluster["spec"].get("healthCheck") or {}).get("muteHealthWarning") or {}
        muted = {code for code, spec in mutes.items() if spec.get("policy") == "mute"}
        return warnings - muted

    def osds_up(self) -> bool:
        return self.profile.raw_disk and self.namespace_level("rook-ceph") == "privileged"

    def observe(self, key: Key) -> tuple[str | None, bool]:
        """(Argo CD's health of the live object, kstatus Current) from what its operator reports."""
        obj = self.graph.objects[key]
        kind, group = key[0], obj["apiVersion"].rpartition("/")[0]
        if group not in BUILTIN_GROUPS and not self._operator_running(group, kind):
            # No status yet: Argo CD's checks say Progressing ("Waiting for status"); kstatus, with
            # no Ready condition, Current.
            return (PROGRESSING if kind in ARGO_CHECKED else None), True
        if kind == "CephCluster":
            # Rook sets Ready True once the cluster is created (cluster.go, ClusterCreatedReason)
            # whatever Ceph's health; Argo CD's health.lua maps HEALTH_WARN and HEALTH_ERR to Degraded.
            return (DEGRADED if self.ceph_warnings(obj) else HEALTHY), True
        if kind == "CephObjectStore":
            # Its pools need OSDs; phase Ready is Healthy (health.lua); no Ready condition.
            return (HEALTHY if self.osds_up() else PROGRESSING), True
        if kind == "ObjectBucketClaim":
            # Bound once the store serves buckets, else Pending: Progressing (health.lua); no conditions.
            store_up = self.osds_up() and any(k[0] == "CephObjectStore" for k in self.live)
            return (HEALTHY if store_up else PROGRESSING), True
        if kind == "Gateway":
            # Envoy Gateway programs a Gateway once its proxy Service has an address: a
            # LoadBalancer's from an implementation, a NodePort's the nodes', a ClusterIP's its own;
            # else Programmed False, AddressNotAssigned (envoyproxy/gateway v1.9
            # internal/gatewayapi/status/gateway.go UpdateGatewayStatusProgrammedCondition).
            # health.lua: Programmed not True is Progressing. No Ready condition: kstatus Current.
            return (HEALTHY if self.gateway_addressed(obj) else PROGRESSING), True
        if kind in ("Certificate", "ClusterIssuer", "ClusterSecretStore", "ExternalSecret", "Cluster"):
            ready = self._ready(key, obj)
            if ready:
                return HEALTHY, True
            # Certificate: Issuing True while its issuer is missing: Progressing (health.lua checks
            # Issuing first); the others: Ready False is Degraded (ESO's health.lua), a CNPG Cluster
            # "Setting up primary" Progressing. kstatus: Ready False is InProgress.
            return (PROGRESSING if kind in ("Certificate", "Cluster", "ClusterIssuer") else DEGRADED), False
        if kind == "Deployment":
            # The app's pods read the Secrets its platform makes (database, bucket, secrets): until
            # all are there, CreateContainerConfigError, the rollout Progressing.
            ready = all(self.observe(other)[1] and self.observe(other)[0] in (HEALTHY, None)
                        for other in self.live if other[1] == key[1] and other[0] != "Deployment")
            return (HEALTHY if ready else PROGRESSING), ready
        return (HEALTHY if kind in ARGO_CHECKED else None), True

    def gateway_addressed(self, gateway: dict) -> bool:
        return self.profile.load_balancer or self.service_type(gateway) in ("NodePort", "ClusterIP")

    def service_type(self, gateway: dict) -> str:
        """The proxy Service's type: LoadBalancer, unless the GatewayClass's parametersRef names
        an EnvoyProxy setting another (Envoy Gateway's EnvoyProxy envoyService.type)."""
        class_key = ("GatewayClass", "", gateway["spec"]["gatewayClassName"])
        ref = (self.graph.objects.get(class_key) or {}).get("spec", {}).get("parametersRef")
        if not ref or ref.get("kind") != "EnvoyProxy":
            return "LoadBalancer"
        proxy = self.graph.objects.get(("EnvoyProxy", ref.get("namespace", ""), ref["name"]))
        if proxy is None:
            return "LoadBalancer"
        return (proxy["spec"].get("provider", {}).get("kubernetes", {}).get("envoyService") or {}).get(
            "type", "LoadBalancer")

    def _ready(self, key: Key, obj: dict) -> bool:
        kind, spec = key[0], obj["spec"]
        if kind == "ClusterIssuer":
            if "ca" in spec:  # a CA issuer needs its CA's Secret, which its Certificate makes
                return any(self._ready(k, self.graph.objects[k]) for k in self.live if k[0] == "Certificate"
                           and self.graph.objects[k]["spec"]["secretName"] == spec["ca"]["secretName"])
            return True
        if kind == "Certificate":
            issuer = ("ClusterIssuer", "", spec["issuerRef"]["name"])
            if issuer in self.live:
                return self._ready(issuer, self.graph.objects[issuer])
            return issuer not in self.graph.objects and self.profile.issuer  # the platform team's
        if kind == "ClusterSecretStore":
            # The kubernetes provider reads this cluster; Vault needs the role (ValidationFailed).
            return "vault" not in spec["provider"] or self.profile.vault_role
        if kind == "ExternalSecret":
            ref = spec.get("secretStoreRef")
            if ref is None:
                return True  # made by a generator only (the key-value store's Password): no store
            kind = ref.get("kind", "SecretStore")
            store = (kind, "" if kind == "ClusterSecretStore" else key[1], ref["name"])
            return store in self.live and self._ready(store, self.graph.objects[store])
        # A CNPG Cluster: its volume binds unless the profile's broken app is this one.
        return not (self.profile.broken and key[1] == self.app_namespace(self.profile.broken))

    def app_namespace(self, app: str) -> str:
        return next((r.namespace for r in self.graph.releases if r.name == app), "")

    # --- what the tests read --------------------------------------------------------------

    def apps(self) -> list[str]:
        """The registered apps: the names of the objects applying their gitops folders."""
        suffix = self.settings["registered_suffix"]
        return sorted(key[2].removesuffix(suffix) for key in self.graph.objects
                      if key[2].endswith(suffix) and key[0] in ("Application", "Kustomization"))

    def app_objects(self, app: str) -> set[Key]:
        gitops = [key for key in self.graph.objects if key[2] == f"{app}{self.settings['registered_suffix']}"
                  and key[0] in ("Application", "Kustomization")]
        return set(gitops) | set().union(*(self.graph.descendants(key) for key in gitops))

    def app_ready(self, app: str) -> bool:
        """Every object of the app live and healthy, its controller objects Healthy / Ready."""
        for key in self.app_objects(app):
            if key not in self.live:
                return False
            if key[0] == "Application":
                if self.argo.get(key, ArgoState()).health != HEALTHY:
                    return False
            elif key[0] in ("Kustomization", "HelmRelease"):
                if not self.flux.get(key, FluxState()).ready:
                    return False
            elif self.observe(key)[0] not in (HEALTHY, None) or not self.observe(key)[1]:
                return False
        return True

    def registry_applied(self, app: str) -> bool:
        """Whether the app's registry entry at the newest revision reached its controller: the
        apps layer applied it, and the app's object acted on it."""
        [gitops] = [key for key in self.app_objects(app) if key[2].endswith(self.settings["registered_suffix"])
                    and key[0] in ("Application", "Kustomization")]
        if self.spec_revision.get(gitops) != self.revision:
            return False
        if gitops[0] == "Application":
            state = self.argo.get(gitops, ArgoState())
            acted_on = {state.attempted and state.attempted[0], state.operation and state.operation["revision"]}
            return self.revision in acted_on
        return self.flux.get(gitops, FluxState()).observed == self.revision


def wave(obj: dict) -> int:
    return int(annotations(obj).get("argocd.argoproj.io/sync-wave", "0"))


# Kinds Argo CD v3.5.1 has a health check for: built in (gitops-engine/pkg/health/health.go) or
# resource_customizations/<group>/<kind>/health.lua.
ARGO_CHECKED = {"Deployment", "StatefulSet", "DaemonSet", "Service", "PersistentVolumeClaim", "Pod", "Job",
                "Ingress", "CephCluster", "CephObjectStore", "ObjectBucketClaim", "Gateway", "GatewayClass",
                "HTTPRoute", "Certificate", "ClusterIssuer", "ClusterSecretStore", "ExternalSecret", "Cluster"}
