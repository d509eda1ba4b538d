"""What a fleet's graph must hold, checked as the controllers check it: dependencies that
resolve, AppProjects that admit what their Applications deploy (Argo CD), accounts that may apply
what they apply and apps that read only their own sources (Flux), secret stores that admit their
readers, custom kinds an installed component defines, and the infrastructure ready before the apps."""

from __future__ import annotations

import fnmatch
import re

from gitops_template.names import derived_names

from . import rbac
from .objects import BUILTIN_GROUPS, CLUSTER_SCOPED, GraphError, Key, describe
from .walk import Graph, located

# Groups Kubernetes serves besides those of the objects it validates itself (BUILTIN_GROUPS).
KUBERNETES_GROUPS = BUILTIN_GROUPS | {"apiextensions.k8s.io", "apiregistration.k8s.io"}


def _missing_dependencies(graph: Graph) -> list[tuple[Key, str]]:
    return [(key, f"{describe(key)} depends on missing {describe((key[0], dep.get('namespace', key[1]), dep['name']))}")
            for key, obj in graph.objects.items() if key[0] in ("Kustomization", "HelmRelease")
            for dep in obj["spec"].get("dependsOn", [])
            if (key[0], dep.get("namespace", key[1]), dep["name"]) not in graph.objects]


def unresolved_dependencies(graph: Graph) -> list[str]:
    """dependsOn entries that name no object of the same kind."""
    return [problem for _, problem in _missing_dependencies(graph)]


def installed_kinds(graph: Graph, catalogue: dict, controller: str) -> set[tuple[str, str]]:
    """(group, kind) of every custom resource the cluster serves: the CRDs of the controller's
    bootstrap, of each catalogue component whose chart the graph installs, and any the graph applies."""
    bootstrap = ["argo-cd"] if controller == "argocd" else ["flux-operator", "flux"]
    components = [catalogue["bootstrap"][name] for name in bootstrap]
    for chart in graph.charts:
        # Argo CD names an OCI registry's chart by its registry path and chart; Flux by its full reference.
        repo = chart.repo if "://" in chart.repo else f"oci://{chart.repo}/{chart.chart}"
        components += [c for c in catalogue["components"] if (c["repo"], c["chart"]) == (repo, chart.chart)]
    kinds = {(crd["group"], kind) for component in components for crd in component["crds"] for kind in crd["kinds"]}
    return kinds | {(crd["spec"]["group"], crd["spec"]["names"]["kind"])
                    for crd in graph.of_kind("CustomResourceDefinition").values()}


def uninstalled_kinds(graph: Graph, installed: set[tuple[str, str]]) -> list[tuple[Key, str]]:
    """Objects of a custom kind nothing installs: the API server has no such resource."""
    problems = []
    for key, obj in graph.objects.items():
        group = obj["apiVersion"].rpartition("/")[0]
        if group not in KUBERNETES_GROUPS and (group, key[0]) not in installed:
            problems.append((key, f"{describe(key)}: no infrastructure component installs {key[0]}.{group}"))
    return problems


def proof(graph: Graph, settings: dict, catalogue: dict) -> list[str]:
    """Every reason an environment's graph does not deploy as it stands, lets an app start before the
    infrastructure is ready, or deploys beyond an app's rights (a Flux controller reading for it
    with its own), one line each, naming the object and what applied it (`make prove`)."""
    # An environment with nothing bootstrapped yet (no root) has nothing to order.
    problems = [*graph.unresolved, *graph.duplicates, *(ordering_violations(graph, settings) if graph.objects else [])]
    found = _missing_dependencies(graph)
    found += uninstalled_kinds(graph, installed_kinds(graph, catalogue, settings["cluster_controller"]))
    if settings["cluster_controller"] == "argocd":
        found += [(key, violation) for key, app in graph.of_kind("Application").items()
                  for violation in _application_violations(graph, key, app)]
    else:
        found += impersonation_denials(graph, settings["flux_namespace"])
        found += list(controller_reads(graph).items())
        found += list(foreign_sources(graph, settings).items())
    # Secrets only where the objects asking for them are applied; a Vault store's rights live in Vault.
    found += list(secret_refusals(graph, not_applied(graph, settings)).items())
    return problems + [located(graph, key, problem) for key, problem in found]


def _matches(entries: list[dict], group: str, kind: str) -> bool:
    return any(fnmatch.fnmatchcase(group, e["group"]) and fnmatch.fnmatchcase(kind, e["kind"]) for e in entries)


def _permitted(project: dict, group: str, kind: str, namespaced: bool) -> bool:
    """Whether an AppProject admits a kind: a namespaced kind unless a whitelist is given and
    omits it, a cluster-scoped one only if whitelisted, neither if blacklisted (argo-cd v3.0
    pkg/apis/application/v1alpha1/app_project_types.go, IsGroupKindPermitted)."""
    scope = "namespace" if namespaced else "cluster"
    whitelist = project.get(f"{scope}ResourceWhitelist")
    listed = whitelist is None if namespaced else False
    blacklisted = _matches(project.get(f"{scope}ResourceBlacklist", []), group, kind)
    return (listed or _matches(whitelist or [], group, kind)) and not blacklisted


def _application_violations(graph: Graph, key: Key, app: dict) -> list[str]:
    """What one Application deploys that its AppProject does not admit, as Argo CD checks it."""
    spec, violations = app["spec"], []
    project_key = ("AppProject", key[1], spec["project"])
    if project_key not in graph.objects:
        return [f"{describe(key)}: no {describe(project_key)}"]
    project = graph.objects[project_key]["spec"]
    if not any(fnmatch.fnmatchcase(spec["source"]["repoURL"], repo) for repo in project.get("sourceRepos", [])):
        violations.append(f"{describe(key)}: source {spec['source']['repoURL']} not in {describe(project_key)}")
    server = spec["destination"]["server"]
    namespaces = {spec["destination"].get("namespace", "")} | {child[1] for child in graph.children[key] if child[1]}
    for namespace in sorted(namespaces):
        if not any(fnmatch.fnmatchcase(server, d["server"]) and fnmatch.fnmatchcase(namespace, d["namespace"])
                   for d in project.get("destinations", [])):
            violations.append(f"{describe(key)}: destination {server} {namespace} not in {describe(project_key)}")
    for child in graph.children[key]:
        obj = graph.objects[child]
        if not _permitted(project, obj["apiVersion"].rpartition("/")[0], obj["kind"], obj["kind"] not in CLUSTER_SCOPED):
            violations.append(f"{describe(key)}: {describe(child)} not admitted by {describe(project_key)}")
    return violations


def project_violations(graph: Graph) -> list[str]:
    """What an Application deploys that its AppProject does not admit, as Argo CD checks it."""
    return [violation for key, app in graph.of_kind("Application").items()
            for violation in _application_violations(graph, key, app)]


# The account each Flux kind acts as when it names none: its controller's, which Flux's install
# binds to cluster-admin (flux2 v2.7 manifests/rbac/controller.yaml, ClusterRoleBinding
# cluster-reconciler), unless the controllers run with --default-service-account.
FLUX_CONTROLLERS = {"Kustomization": "kustomize-controller", "HelmRelease": "helm-controller"}
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def flux_account(key: Key, obj: dict, flux_namespace: str, default_service_account: str | None = None) -> str:
    """The user a Kustomization or HelmRelease applies as: spec.serviceAccountName, a ServiceAccount
    of its own namespace, impersonated (fluxcd.io/flux/components/kustomize/kustomizations/#role-based-access-control,
    fluxcd.io/flux/components/helm/helmreleases/#role-based-access-control); it does not reach the
    objects it applies, so a HelmRelease a Kustomization applies names its own."""
    if name := obj["spec"].get("serviceAccountName") or default_service_account:
        return rbac.service_account(key[1], name)
    return rbac.service_account(flux_namespace, FLUX_CONTROLLERS[key[0]])


def controller_reads(graph: Graph) -> dict[Key, str]:
    """Each Kustomization or HelmRelease that has its controller read a Secret or ConfigMap with
    the controller's own rights, whatever account it acts as, with what: a Kustomization's
    postBuild.substituteFrom (kustomize-controller v1.9.4 kustomization_controller.go passes its
    own client to SubstituteVariables; fluxcd/pkg kustomize v1.35.4 kustomize_varsub.go,
    LoadVariables, reads the Kustomization's namespace), a HelmRelease's valuesFrom (helm-controller
    v1.6.3 helmrelease_controller.go, ChartValuesFromReferences with r.Client), and either's
    kubeConfig, whose credentials then replace the controller's (fluxcd/pkg runtime v0.110.1
    client/impersonator.go, getRESTConfigFromSecret), and a Kustomization's decryption, whose
    keys (its secretRef, else the controller's global age Secret) decrypt what the app brings
    (kustomize-controller v1.9.4 internal/decryptor/decryptor.go, the controller's client)."""
    reads = {}
    for key, obj in graph.objects.items():
        if key[0] not in FLUX_CONTROLLERS:
            continue
        spec = obj["spec"]
        if key[0] == "Kustomization":
            refs = (spec.get("postBuild") or {}).get("substituteFrom") or []
        else:
            refs = spec.get("valuesFrom") or []
        names = [f"{ref['kind']} {key[1]}/{ref['name']}" for ref in refs]
        kubeconfig = spec.get("kubeConfig") or {}
        names += [f"the kubeconfig of {kind} {key[1]}/{kubeconfig[field_]['name']}"
                  for kind, field_ in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")) if field_ in kubeconfig]
        if "decryption" in spec:
            names.append(f"the decryption keys of {(spec['decryption'].get('secretRef') or {}).get('name', 'its flags')}")
        if names:
            reads[key] = f"{describe(key)}: {FLUX_CONTROLLERS[key[0]]} reads {', '.join(names)} with its own rights"
    return reads


def _source_refs(key: Key, obj: dict) -> list[tuple[str, str, str]]:
    """The sources a Flux object has its controller read: a Kustomization's sourceRef, a
    HelmRelease's chartRef or chart's sourceRef, a GitRepository's includes (same namespace)."""
    spec = obj["spec"]
    if key[0] == "GitRepository":
        return [("GitRepository", key[1], include["repository"]["name"]) for include in spec.get("include") or []]
    if key[0] == "Kustomization":
        ref = spec["sourceRef"]
    else:
        ref = spec.get("chartRef") or spec["chart"]["spec"]["sourceRef"]
    return [(ref["kind"], ref.get("namespace", key[1]), ref["name"])]


def _foreign_events(key: Key, spec: dict, app: str, owners: dict[Key, str]) -> list[str]:
    """The event sources of an app's Alert that select objects not the app's: every object of a
    kind (name "*"), objects by label, of another namespace, of another app, or of a name the
    naming contract does not give the app's Flux objects (notification-controller's Alert spec,
    eventSources)."""
    names = derived_names(app)
    own = {names[name] for name in ("flux_source", "flux_platform_source", "flux_base", "flux_platform")}
    foreign = []
    for source in spec.get("eventSources") or []:
        told = (source["kind"], source.get("namespace", key[1]), source["name"])
        if "*" in told[2] or source.get("matchLabels"):
            foreign.append(f"every {told[0]} of {told[1]}{' by label' if source.get('matchLabels') else ''}")
        elif told[1] != key[1] or owners.get(told, app) != app or told[2] not in own:
            whose = f"the app {owners[told]}'s" if owners.get(told, app) != app else f"not the app {app}'s"
            foreign.append(f"{describe(told)}, {whose}")
    return foreign


def foreign_sources(graph: Graph, settings: dict) -> dict[Key, str]:
    """Each Kustomization, HelmRelease or GitRepository of a registered app (below its
    `<app>-gitops` Kustomization) that reads what is not that app's, with what: a source of
    another app or of the fleet, or, for a GitRepository, a repository or Secret other than those
    the app is registered with (its `<app>-gitops` GitRepository's). The controllers read a source,
    and fetch its artifact, with their own rights, whatever account the object acts as
    (kustomize-controller v1.9.4 kustomization_controller.go, getSource and fetch.New before
    NewImpersonator; helm-controller v1.6.3 helmrelease_controller.go, NewHelmChartTemplate with
    r.Client, loader.SecureLoadChartFromURL), as source-controller reads a GitRepository's
    secretRef and includes (fluxcd.io/flux/components/source/gitrepositories/), so an app naming
    another's deploys, or reads, that app's repository. An app's Alert is told of events of other
    objects than the app's (_foreign_events)."""
    namespace, suffix = settings["flux_namespace"], settings["registered_suffix"]
    owners: dict[Key, str] = {}
    for key in graph.of_kind("Kustomization"):
        if key[1] == namespace and key[2].endswith(suffix):
            app = key[2].removesuffix(suffix)
            owners.update({owned: app for owned in graph.descendants(key) | {("GitRepository", namespace, key[2])}})
    reads = {}
    for key, app in owners.items():
        if key[0] == "Alert" and key in graph.objects:
            if told := _foreign_events(key, graph.objects[key]["spec"], app, owners):
                reads[key] = f"{describe(key)}: is told of {'; of '.join(told)}"
            continue
        if key[0] not in (*FLUX_CONTROLLERS, "GitRepository") or key not in graph.objects:
            continue
        spec, problems = graph.objects[key]["spec"], []
        for source in _source_refs(key, graph.objects[key]):
            if owners.get(source) != app:
                whose = f"the app {owners[source]}'s" if source in owners else f"not the app {app}'s"
                problems.append(f"reads {describe(source)}, {whose}")
        registered = graph.objects.get(("GitRepository", namespace, app + suffix), {}).get("spec")
        if key[0] == "GitRepository" and registered and (spec["url"], spec.get("secretRef")) != (
                registered["url"], registered.get("secretRef")):
            secret = (spec.get("secretRef") or {}).get("name")
            problems.append(f"fetches {spec['url']} with {f'Secret {key[1]}/{secret}' if secret else 'no Secret'}, "
                            f"not the repository and Secret the app {app} is registered with")
        if problems:
            reads[key] = f"{describe(key)}: {'; '.join(problems)}, with its controller's own rights"
    return reads


def _apply_requests(parent: Key, parent_obj: dict, child: Key, child_obj: dict, user: str) -> list[rbac.Request]:
    """The requests applying `child` makes: kustomize-controller applies server-side, a patch
    (fluxcd.io/flux/components/kustomize/kustomizations/, "server-side apply"); Helm installs by
    creating each object (helm v3 pkg/kube/client.go, Create)."""
    group = child_obj["apiVersion"].rpartition("/")[0]
    verb = "patch" if parent[0] == "Kustomization" else "create"
    return [rbac.Request(user, verb, group, rbac.resource_of(child[0]), child[1], child[2])]


def _release_requests(key: Key, release: dict, user: str) -> list[rbac.Request]:
    """What a HelmRelease needs before any object: its release record, a Secret in
    spec.storageNamespace (by default the HelmRelease's), and with install.createNamespace the
    target namespace, which Helm creates (and fails on Forbidden, even when it exists: helm v3
    pkg/action/install.go ignores AlreadyExists only)."""
    spec = release["spec"]
    requests = [rbac.Request(user, "create", "", "secrets", spec.get("storageNamespace", key[1]), "")]
    if spec.get("install", {}).get("createNamespace"):
        requests.append(rbac.Request(user, "create", "", "namespaces", "", spec.get("targetNamespace", key[1])))
    return requests


def _impersonation(graph: Graph, flux_namespace: str,
                   default_service_account: str | None = None) -> tuple[dict[Key, str], dict[Key, rbac.Request]]:
    """The objects Flux does not apply, with why, and each Kustomization or HelmRelease refused
    with the first request its account may not make (impersonation_refusals)."""
    controllers = {("ClusterRoleBinding", "", "cluster-reconciler"): {
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": flux_namespace}
                     for name in FLUX_CONTROLLERS.values()]}}
    refusals: dict[Key, str] = {}
    while True:
        granted = {**{key: obj for key, obj in graph.objects.items() if key[0] in RBAC_KINDS and key not in refusals},
                   **controllers}
        found: dict[Key, str] = {}
        denials: dict[Key, rbac.Request] = {}
        # Parents come before their children in the walk's order.
        for key, obj in graph.objects.items():
            if key[0] not in FLUX_CONTROLLERS or key in found or not graph.children[key]:
                continue
            user = flux_account(key, obj, flux_namespace, default_service_account)
            requests = _release_requests(key, obj, user) if key[0] == "HelmRelease" else []
            requests += [request for child in graph.children[key]
                         for request in _apply_requests(key, obj, child, graph.objects[child], user)]
            denied = [request for request in requests if not rbac.allowed(granted, request)]
            if denied:
                denials[key] = denied[0]
                for child in graph.descendants(key):
                    found[child] = f"{describe(child)}: not applied by {describe(key)}: {denied[0].describe()}"
        if found == refusals:
            return refusals, denials
        refusals = found


def impersonation_refusals(graph: Graph, flux_namespace: str, default_service_account: str | None = None) -> dict[Key, str]:
    """Each object Flux does not apply, with why: the account its Kustomization or HelmRelease
    acts as may not apply one of that parent's objects (by the RBAC the graph grants, counting
    only the RBAC objects that are applied), so none is, nor anything below them. Helm rolls an
    install back on the first refused object; kustomize-controller dry-runs every object before
    applying any."""
    return _impersonation(graph, flux_namespace, default_service_account)[0]


def impersonation_denials(graph: Graph, flux_namespace: str) -> list[tuple[Key, str]]:
    """Each Kustomization or HelmRelease Flux applies whose account may not apply what it applies,
    with the first request refused: nothing below it is applied."""
    refusals, denials = _impersonation(graph, flux_namespace)
    return [(key, f"{describe(key)}: {request.describe()}, so none of the {len(graph.descendants(key))} objects "
                  "below it is applied") for key, request in denials.items() if key not in refusals]


def impersonation_violations(graph: Graph, flux_namespace: str) -> list[str]:
    return list(impersonation_refusals(graph, flux_namespace).values())


def _store_admits(condition: dict, namespace: str) -> bool:
    """Whether a ClusterSecretStore condition admits a namespace: by name or by regular expression
    (external-secrets v1 apis/externalsecrets/v1/secretstore_types.go, ClusterSecretStoreCondition)."""
    if "namespaceSelector" in condition:
        raise GraphError("ClusterSecretStore namespaceSelector conditions are not emulated")
    return namespace in condition.get("namespaces", []) or any(
        re.search(pattern, namespace) for pattern in condition.get("namespaceRegexes", []))


def _remote_keys(spec: dict) -> list[str]:
    return ([item["remoteRef"]["key"] for item in spec.get("data", [])]
            + [item["extract"]["key"] for item in spec.get("dataFrom", []) if "extract" in item])


def kv_path(mount: str, version: str, key: str) -> str:
    """The path External Secrets reads for a key (external-secrets v1 providers/v1/vault/
    client_get.go, buildPath): the mount, `data` for KV v2, then the key, the mount dropped from
    a key that starts with it."""
    if key.startswith(f"{mount}/"):
        key = key.removeprefix(f"{mount}/")
        if version == "v2":
            key = key.removeprefix("data/")
    return "/".join([mount, *(["data"] if version == "v2" else []), key])


def _vault_denial(vault, store: dict, key: Key, spec: dict) -> str | None:
    """Why Vault refuses an ExternalSecret's keys, read with Kubernetes auth as the store's
    ServiceAccount: without a namespace, the ExternalSecret's (external-secrets v1
    providers/v1/vault/provider.go, isReferentSpec; auth.go, createServiceAccountToken)."""
    account = store["auth"]["kubernetes"]["serviceAccountRef"]
    namespace = account.get("namespace", key[1])
    if any("find" in item for item in spec.get("dataFrom", [])):
        return "a find lists paths, which Vault's policy grants no namespace"
    paths = [kv_path(store["path"], store["version"], name) for name in _remote_keys(spec)]
    return next(filter(None, (vault.denial(namespace, account["name"], path) for path in paths)), None)


def secret_refusals(graph: Graph, skip: set[Key] = frozenset(), vault=None) -> dict[Key, str]:
    """Each ExternalSecret (not in `skip`) whose secrets External Secrets would not fetch, with why:
    a ClusterSecretStore whose conditions leave its namespace out, a Kubernetes-provider store
    whose account may not get a Secret it names, or a Vault store whose `vault` (its rights: an
    object whose denial(namespace, account, path) says why it refuses a read, or None) refuses its
    account a path; without `vault`, Vault stores are not judged: their rights live in Vault. A
    ClusterSecretStore's ServiceAccount without a namespace is the ExternalSecret's namespace's
    (external-secrets v1 providers/v1/kubernetes/provider.go, isReferentSpec)."""
    granted = {key: obj for key, obj in graph.objects.items() if key[0] in RBAC_KINDS and key not in skip}
    refusals: dict[Key, str] = {}
    for key, external in graph.of_kind("ExternalSecret").items():
        # One of generators only (a Password) has no store.
        ref = external["spec"].get("secretStoreRef", {"name": ""})
        kind = ref.get("kind", "SecretStore")
        store_key = (kind, "" if kind == "ClusterSecretStore" else key[1], ref["name"])
        if key in skip or store_key not in graph.objects:
            continue
        store = graph.objects[store_key]["spec"]
        conditions = store.get("conditions") if kind == "ClusterSecretStore" else None
        if conditions and not any(_store_admits(condition, key[1]) for condition in conditions):
            refusals[key] = f"{describe(key)}: {describe(store_key)} does not admit namespace {key[1]}"
            continue
        if vault and "vault" in store["provider"]:
            if denied := _vault_denial(vault, store["provider"]["vault"], key, external["spec"]):
                refusals[key] = f"{describe(key)}: through {describe(store_key)}, {denied}"
            continue
        provider = store["provider"].get("kubernetes")
        if not provider:
            continue
        account = provider["auth"]["serviceAccount"]
        namespace = account.get("namespace") if kind == "ClusterSecretStore" else None
        user = rbac.service_account(namespace or key[1], account["name"])
        remote = provider.get("remoteNamespace", "default")
        spec = external["spec"]
        names = _remote_keys(spec)
        requests = [rbac.Request(user, "get", "", "secrets", remote, name) for name in names]
        requests += [rbac.Request(user, "list", "", "secrets", remote, "") for item in spec.get("dataFrom", [])
                     if "find" in item]
        denied = [request for request in requests if not rbac.allowed(granted, request)]
        if denied:
            refusals[key] = f"{describe(key)}: through {describe(store_key)}, {denied[0].describe()}"
    return refusals


def not_applied(graph: Graph, settings: dict) -> set[Key]:
    """The objects of the graph its controller does not apply. Argo CD applies nothing of an
    Application its AppProject refuses any object of: the sync fails before applying (gitops-engine
    pkg/sync/sync_context.go, permission check of every task before the first wave)."""
    if settings["cluster_controller"] == "argocd":
        return set().union(set(), *(graph.descendants(key) for key, app in graph.of_kind("Application").items()
                                    if _application_violations(graph, key, app)))
    return set(impersonation_refusals(graph, settings["flux_namespace"]))


def refused(graph: Graph, settings: dict, vault=None) -> set[Key]:
    """The objects of the graph its controller does not apply, and the ExternalSecrets whose
    secrets are not fetched (secret_refusals, with `vault`'s rights)."""
    rejected = not_applied(graph, settings)
    return rejected | set(secret_refusals(graph, rejected, vault))


def deployed_kinds(graph: Graph, project: str) -> set[tuple[str, str]]:
    """(group, kind) of everything the Applications of one AppProject deploy."""
    return {(graph.objects[child]["apiVersion"].rpartition("/")[0], child[0])
            for key, app in graph.of_kind("Application").items() if app["spec"]["project"] == project
            for child in graph.children[key]}


def _missing_layers(graph: Graph, keys) -> list[str]:
    return [f"{describe(key)}: missing, so nothing holds the apps back until the infrastructure is ready"
            for key in keys if key not in graph.objects]


def ordering_violations(graph: Graph, settings: dict) -> list[str]:
    """Where an app could start before the infrastructure layer is ready: under Argo CD, a layer
    of the root synced no later than the apps layer, or a registered app outside the apps layer;
    under Flux, an infrastructure Kustomization that does not wait, a registered app's
    Kustomization that does not depend on it, or an app object applied other than through one."""
    names, problems = settings["names"], []
    if settings["cluster_controller"] == "argocd":
        namespace = settings["argocd_namespace"]
        keys = {name: ("Application", namespace, names[name]) for name in ("infrastructure_layer", "apps_layer")}
        if missing := _missing_layers(graph, keys.values()):
            return missing
        layers = {name: graph.objects[key] for name, key in keys.items()}
        wave = {name: int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name, obj in layers.items()}
        if not wave["infrastructure_layer"] < wave["apps_layer"]:
            problems.append(f"sync waves: infrastructure {wave['infrastructure_layer']}, apps {wave['apps_layer']}")
        below = graph.descendants(("Application", namespace, names["apps_layer"]))
        problems += [f"{describe(key)}: not below the apps layer" for key in graph.of_kind("Application")
                     if key[2].endswith(settings["registered_suffix"]) and key not in below]
        return problems
    namespace = settings["flux_namespace"]
    infrastructure = ("Kustomization", namespace, names["infrastructure_layer"])
    if missing := _missing_layers(graph, [infrastructure]):
        return missing
    if graph.objects[infrastructure]["spec"].get("wait") is not True:
        problems.append(f"{describe(infrastructure)}: does not wait for what it applies")
    gitops = [key for key in graph.of_kind("Kustomization") if key[2].endswith(settings["registered_suffix"])]
    problems += [f"{describe(key)}: does not depend on {infrastructure[2]}" for key in gitops
                 if [dep["name"] for dep in graph.objects[key]["spec"].get("dependsOn", [])] != [infrastructure[2]]]
    infrastructure_objects = graph.descendants(infrastructure)
    below = set().union(set(), *(graph.descendants(key) for key in gitops))
    # The registry grants each app its rights in its namespace (RBAC, which needs no operator) first.
    problems += [f"{describe(key)}: applied before the infrastructure is ready" for key in graph.objects
                 if key[1] not in ("", namespace) and key not in infrastructure_objects and key not in below
                 and key[0] not in RBAC_KINDS]
    return problems
