"""The orchestration graph, followed as the controllers follow it: from a root object, through
every repository, revision, folder, generator and chart, to every object applied.

Repositories are served locally: GitServer clones each by the very URL a manifest gives, through
git's `url.<local>.insteadOf`, so a URL in a form no repository is served under fails as it would
on a cluster. Revisions resolve as each controller resolves them (Argo CD: any branch, tag, full
ref or commit; Flux: the one `spec.ref` field it is given); folders are read as each reads them
(Argo CD: a Helm chart, a kustomization or the folder's manifests; Flux: a kustomization or every
manifest below the path, after the GitRepository's `ignore`); charts are rendered by Helm with
the release name, namespace and values each controller passes, and an ApplicationSet's template
by Go's template engine (Helm's `tpl`). Deleting is emulated from the controllers' documented
semantics (`removed`).

A chart from a Helm or OCI repository (an Argo CD source with `chart`, a Flux HelmRelease on a
HelmRepository or OCIRepository) is an external leaf: the suite runs offline, so the upstream
chart is never pulled. The walk records what the controller would install (`Graph.charts`: the
repository, chart, version, release name, namespace and values) and checks the Flux source
exists; what such a chart installs is the infrastructure catalogue's claim
(extensions/gitops_template/catalogue.json).
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import io
import tarfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from support import helm, rbac
from support import vault as vault_model

Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name

# Kinds Kubernetes and the operators here serve cluster-scoped; every other kind is namespaced.
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "StorageClass",
                  "PersistentVolume", "PriorityClass", "IngressClass", "GatewayClass", "ClusterSecretStore",
                  "ClusterIssuer", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService"}
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class GraphError(AssertionError):
    """A reference the controller could not follow: the graph does not resolve."""


def describe(key: Key) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def annotations(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("annotations") or {}


def load_all(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def manifests(folder: Path, recurse: bool) -> list[dict]:
    paths = folder.rglob("*") if recurse else folder.glob("*")
    return [obj for path in sorted(paths) if path.suffix in MANIFEST_SUFFIXES and path.is_file()
            for obj in load_all(path.read_text())]


def kustomize(folder: Path) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True)
    if result.returncode:
        raise GraphError(f"kustomize build {folder}: {result.stderr}")
    return load_all(result.stdout)


class GitServer:
    """Local git repositories, served under the URLs the manifests give."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.urls: dict[str, Path] = {}
        self._mirrors: dict[str, Path] = {}
        self._trees: dict[tuple[str, str, tuple[str, ...]], Path] = {}

    def copy(self, scratch: Path) -> GitServer:
        """Another server of the same repositories (serve() then replaces some)."""
        server = GitServer(scratch)
        server.urls = dict(self.urls)
        return server

    def serve(self, repo: Path, *urls: str) -> None:
        for url in urls:
            self.urls[url] = repo

    @staticmethod
    def _git(*args: str, cwd: Path | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        if result.returncode:
            raise GraphError(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def mirror(self, url: str) -> Path:
        """The repository at `url`, cloned by that URL (once). Git rewrites the URL it is given
        by the longest `insteadOf` it starts with, so a served URL reaches its repository."""
        if url not in self._mirrors:
            destination = self.scratch / f"mirror-{len(self._mirrors)}"
            rewrites = [arg for served, repo in self.urls.items() if url.startswith(served)
                        for arg in ("-c", f"url.{repo.as_uri()}.insteadOf={served}")]
            self._git(*rewrites, "clone", "--quiet", "--mirror", url, str(destination))
            self._mirrors[url] = destination
        return self._mirrors[url]

    def commit(self, url: str, revision: str) -> str:
        """The commit a git revision (branch, tag, full ref or SHA) names in the repository at `url`."""
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", cwd=self.mirror(url)).strip()
        except GraphError:
            raise GraphError(f"{url}: no revision {revision!r}") from None

    def flux_commit(self, url: str, ref: dict) -> str:
        """What a Flux GitRepository's spec.ref fetches: exactly the field it names."""
        [(field_, value)] = ref.items()
        revision = {"branch": f"refs/heads/{value}", "tag": f"refs/tags/{value}", "name": value,
                    "commit": value}.get(field_)
        if revision is None:
            raise GraphError(f"{url}: spec.ref.{field_} is not emulated here")
        commit = self.commit(url, revision)
        if field_ == "commit" and commit != value:
            raise GraphError(f"{url}: spec.ref.commit must be a full SHA, got {value!r}")
        return commit

    def tree(self, url: str, commit: str, include: tuple[str, ...] = ()) -> Path:
        """The files of a commit; with `include`, only those top-level folders (Flux's ignore)."""
        cache = (url, commit, include)
        if cache not in self._trees:
            destination = self.scratch / f"tree-{len(self._trees)}"
            destination.mkdir()
            archive = subprocess.run(["git", "archive", commit, *include], cwd=self.mirror(url), capture_output=True,
                                     check=True).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(destination, filter="data")
            self._trees[cache] = destination
        return self._trees[cache]


def flux_included(ignore: str | None) -> tuple[str, ...]:
    """The top-level folders a GitRepository's `ignore` keeps; only the form `/*` then `!/dir/`
    lines is emulated (re-including below an excluded folder does not work in .gitignore)."""
    if ignore is None:
        return ()
    lines = [line.strip() for line in ignore.splitlines() if line.strip() and not line.startswith("#")]
    kept = [re.fullmatch(r"!/([^/*]+)/", line) for line in lines[1:]]
    if not lines or lines[0] != "/*" or not all(kept):
        raise GraphError(f"GitRepository ignore rules not emulated here: {ignore!r}")
    return tuple(match[1] for match in kept)


@dataclass
class Release:
    """One Helm release a controller installs."""

    owner: Key
    name: str
    namespace: str
    manifest: str


@dataclass
class ExternalChart:
    """A chart from a Helm or OCI repository, as a controller would install it (not rendered)."""

    owner: Key
    repo: str
    chart: str
    version: str
    release: str
    namespace: str
    values: dict


@dataclass
class Graph:
    objects: dict[Key, dict] = field(default_factory=dict)
    parents: dict[Key, Key | None] = field(default_factory=dict)
    children: dict[Key, list[Key]] = field(default_factory=dict)
    # Objects applied by more than one parent (or twice by one).
    duplicates: list[str] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    charts: list[ExternalChart] = field(default_factory=list)

    def of_kind(self, kind: str) -> dict[Key, dict]:
        return {key: obj for key, obj in self.objects.items() if key[0] == kind}

    def descendants(self, key: Key) -> set[Key]:
        found, todo = set(), [key]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found


class Walker:
    """Follows a graph from its roots, as the controllers would."""

    def __init__(self, server: GitServer, scratch: Path):
        self.server = server
        self.scratch = scratch
        self._files = 0

    def walk(self, roots: list[dict]) -> Graph:
        graph = Graph()
        queue: deque[Key] = deque()
        for obj in roots:
            self._add(graph, queue, obj, None)
        known = -1
        while True:
            # An object whose source another branch of the graph creates waits for it.
            waiting: list[tuple[Key, str]] = []
            while queue:
                key = queue.popleft()
                try:
                    children = self._expand(graph, key, graph.objects[key])
                except _Unresolved as unresolved:
                    waiting.append((key, str(unresolved)))
                    continue
                for child in children:
                    self._add(graph, queue, child, key)
            if not waiting:
                return graph
            if len(graph.objects) == known:
                raise GraphError("; ".join(reason for _, reason in waiting))
            known = len(graph.objects)
            queue.extend(key for key, _ in waiting)

    @staticmethod
    def _add(graph: Graph, queue: deque, obj: dict, parent: Key | None) -> None:
        key = key_of(obj)
        if key in graph.objects:
            graph.duplicates.append(f"{describe(key)}: applied by {describe(graph.parents[key]) if graph.parents[key] else 'hand'}"
                                    f" and by {describe(parent) if parent else 'hand'}")
            return
        graph.objects[key] = obj
        graph.parents[key] = parent
        graph.children.setdefault(key, [])
        if parent:
            graph.children[parent].append(key)
        queue.append(key)

    def _expand(self, graph: Graph, key: Key, obj: dict) -> list[dict]:
        expand = {
            ("argoproj.io", "Application"): self._application,
            ("argoproj.io", "ApplicationSet"): self._application_set,
            ("kustomize.toolkit.fluxcd.io", "Kustomization"): self._kustomization,
            ("helm.toolkit.fluxcd.io", "HelmRelease"): self._helm_release,
            ("fluxcd.controlplane.io", "FluxInstance"): self._flux_instance,
        }.get((obj["apiVersion"].rpartition("/")[0], obj["kind"]))
        return expand(graph, key, obj) if expand else []

    # --- Argo CD ---------------------------------------------------------------------------

    def _application(self, graph: Graph, key: Key, app: dict) -> list[dict]:
        spec = app["spec"]
        source, namespace = spec["source"], spec["destination"].get("namespace", "")
        url = source["repoURL"]
        if "chart" in source:
            # A Helm repository's chart (an OCI registry's without oci://): an external leaf.
            helm_spec = source.get("helm", {})
            graph.charts.append(ExternalChart(key, url, source["chart"], source["targetRevision"],
                                              helm_spec.get("releaseName", key[2]), namespace,
                                              helm_spec.get("valuesObject", {})))
            return []
        tree = self.server.tree(url, self.server.commit(url, source["targetRevision"]))
        folder = _inside(tree, source.get("path", "."), f"{describe(key)}: path")
        if "helm" in source or (folder / "Chart.yaml").is_file():
            helm_spec = source.get("helm", {})
            values = [_inside(tree, f, f"{describe(key)}: valueFiles", base=folder) for f in helm_spec.get("valueFiles", [])]
            if "valuesObject" in helm_spec:
                values.append(self._values_file(helm_spec["valuesObject"]))
            objects = self._render(graph, key, folder, helm_spec.get("releaseName", key[2]), namespace, values)
        elif (folder / "kustomization.yaml").is_file():
            objects = self._patched(kustomize(folder), source.get("kustomize", {}).get("patches", []))
        elif "kustomize" in source:
            # Argo CD builds such a source with kustomize, which needs the file (argo-cd#16352).
            raise GraphError(f"{describe(key)}: {source.get('path', '.')} has no kustomization.yaml, which "
                             "Argo CD needs for its kustomize options")
        else:
            objects = manifests(folder, recurse=bool(source.get("directory", {}).get("recurse")))
        return _default_namespace(objects, namespace)

    def _application_set(self, graph: Graph, key: Key, appset: dict) -> list[dict]:
        spec = appset["spec"]
        if spec.get("goTemplate") is not True:
            raise GraphError(f"{describe(key)}: only goTemplate ApplicationSets are emulated")
        params = []
        for generator in spec["generators"]:
            if set(generator) != {"git"} or "files" not in generator["git"]:
                raise GraphError(f"{describe(key)}: only the git files generator is emulated")
            git = generator["git"]
            tree = self.server.tree(git["repoURL"], self.server.commit(git["repoURL"], git["revision"]))
            for pattern in git["files"]:
                for path in sorted(tree.glob(pattern["path"])):
                    relative = path.relative_to(tree)
                    params.append({**yaml.safe_load(path.read_text()), "path": {
                        "path": str(relative.parent), "basename": relative.parent.name,
                        "filename": relative.name, "segments": list(relative.parent.parts)}})
        template = spec["template"]
        strings = sorted({s for s in _strings(template) if "{{" in s})
        for param in params:
            for string in strings:
                for reference in re.findall(r"\{\{-?\s*\.([A-Za-z_][\w.]*)\s*-?\}\}", string):
                    value = param
                    for part in reference.split("."):
                        if not isinstance(value, dict) or part not in value:
                            raise GraphError(f"{describe(key)}: {{{{ .{reference} }}}} is missing (missingkey=error)")
                        value = value[part]
        rendered = self._go_templates(strings, params)
        applications = []
        for param_rendered in rendered:
            application = _replace_strings(template, dict(zip(strings, param_rendered)))
            application = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **application}
            application["metadata"].setdefault("namespace", key[1])
            applications.append(application)
        return applications

    def _go_templates(self, strings: list[str], params: list[dict]) -> list[list[str]]:
        """Each string rendered as a Go template with each params, by Helm's `tpl`."""
        if not strings or not params:
            return [[] for _ in params]
        self._files += 1
        chart = self.scratch / f"go-template-{self._files}"
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: go-template\nversion: 0.1.0\n")
        (chart / "templates/rendered.yaml").write_text(
            "rendered:\n{{- range $p := .Values.params }}\n  -\n{{- range $s := $.Values.strings }}\n"
            "    - {{ tpl $s $p | toJson }}\n{{- end }}\n{{- end }}\n")
        values = self._values_file({"params": params, "strings": strings})
        return yaml.safe_load(helm.helm("template", "go-template", str(chart), "--values", str(values)))["rendered"]

    # --- Flux ------------------------------------------------------------------------------

    def _source(self, graph: Graph, key: Key, ref: dict) -> Path:
        """The artifact of the source a Flux object references, as source-controller builds it."""
        source_key = (ref["kind"], ref.get("namespace", key[1]), ref["name"])
        if source_key not in graph.objects:
            raise _Unresolved(f"{describe(key)}: no {describe(source_key)}")
        if ref["kind"] != "GitRepository":
            raise GraphError(f"{describe(key)}: {ref['kind']} sources are not emulated")
        spec = graph.objects[source_key]["spec"]
        url = spec["url"]
        if url.startswith("ssh://") and "secretRef" not in spec:
            raise GraphError(f"{describe(source_key)}: Flux clones over ssh only with a secretRef")
        commit = self.server.flux_commit(url, spec.get("ref", {"branch": "master"}))
        return self.server.tree(url, commit, flux_included(spec.get("ignore")))

    def _kustomization(self, graph: Graph, key: Key, kustomization: dict) -> list[dict]:
        spec = kustomization["spec"]
        tree = self._source(graph, key, spec["sourceRef"])
        folder = _inside(tree, spec.get("path", "."), f"{describe(key)}: path")
        if (folder / "kustomization.yaml").is_file():
            objects = kustomize(folder)
        elif any(folder.rglob("kustomization.yaml")):
            raise GraphError(f"{describe(key)}: nested kustomizations are not emulated")
        else:
            # Without a kustomization.yaml, Flux applies every manifest below the path.
            objects = manifests(folder, recurse=True)
        objects = self._patched(objects, spec.get("patches", []))
        if "targetNamespace" in spec:
            for obj in objects:
                if obj["kind"] not in CLUSTER_SCOPED:
                    obj["metadata"]["namespace"] = spec["targetNamespace"]
        missing = [obj["metadata"]["name"] for obj in objects
                   if obj["kind"] not in CLUSTER_SCOPED and not obj["metadata"].get("namespace")]
        if missing:
            raise GraphError(f"{describe(key)}: objects without a namespace: {missing}")
        return objects

    def _external_chart(self, graph: Graph, key: Key, release: dict) -> bool:
        """A HelmRelease of a HelmRepository's or OCIRepository's chart: recorded, not rendered."""
        spec = release["spec"]
        ref = spec.get("chartRef") or spec["chart"]["spec"]["sourceRef"]
        if ref["kind"] == "GitRepository":
            return False
        source_key = (ref["kind"], ref.get("namespace", key[1]), ref["name"])
        if source_key not in graph.objects:
            raise _Unresolved(f"{describe(key)}: no {describe(source_key)}")
        source = graph.objects[source_key]["spec"]
        if ref["kind"] == "OCIRepository":
            if "chartRef" not in spec:
                raise GraphError(f"{describe(key)}: an OCIRepository is referenced by chartRef")
            url, chart = source["url"], source["url"].rpartition("/")[2]
            version = source["ref"]["tag"]
        elif ref["kind"] == "HelmRepository":
            url, chart, version = source["url"], spec["chart"]["spec"]["chart"], spec["chart"]["spec"]["version"]
        else:
            raise GraphError(f"{describe(key)}: {ref['kind']} sources are not emulated")
        namespace = spec.get("targetNamespace", key[1])
        name = spec.get("releaseName") or (f"{namespace}-{key[2]}" if "targetNamespace" in spec else key[2])
        graph.charts.append(ExternalChart(key, url, chart, version, name, namespace, spec.get("values", {})))
        return True

    def _helm_release(self, graph: Graph, key: Key, release: dict) -> list[dict]:
        spec = release["spec"]
        if self._external_chart(graph, key, release):
            return []
        chart_spec = spec["chart"]["spec"]
        tree = self._source(graph, key, chart_spec["sourceRef"])
        chart = _inside(tree, chart_spec["chart"], f"{describe(key)}: chart")
        if "valuesFrom" in spec:
            raise GraphError(f"{describe(key)}: valuesFrom is not emulated")
        values = []
        if "valuesFiles" in chart_spec:
            # They replace the chart's own values.yaml.
            values = [_inside(tree, f, f"{describe(key)}: valuesFiles") for f in chart_spec["valuesFiles"]]
            self._files += 1
            copy = self.scratch / f"chart-{self._files}"
            subprocess.run(["cp", "-r", str(chart), str(copy)], check=True)
            (copy / "values.yaml").write_text("{}\n")
            chart = copy
        if "values" in spec:
            values.append(self._values_file(spec["values"]))
        namespace = spec.get("targetNamespace", key[1])
        name = spec.get("releaseName") or (f"{spec['targetNamespace']}-{key[2]}" if "targetNamespace" in spec else key[2])
        return _default_namespace(self._render(graph, key, chart, name, namespace, values), namespace)

    def _flux_instance(self, graph: Graph, key: Key, instance: dict) -> list[dict]:
        """The sync the Flux Operator makes: a source and a Kustomization named after the namespace,
        with the instance's kustomize patches (fluxoperator.dev, "Flux Instance Customization")."""
        sync, namespace = instance["spec"]["sync"], key[1]
        name = sync.get("name", namespace)
        source = {"url": sync["url"], "ref": {"name": sync["ref"]}, "interval": sync.get("interval", "1m")}
        if "pullSecret" in sync:
            source["secretRef"] = {"name": sync["pullSecret"]}
        return self._patched([
            {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": sync["kind"],
             "metadata": {"name": name, "namespace": namespace}, "spec": source},
            {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
             "metadata": {"name": name, "namespace": namespace},
             "spec": {"interval": sync.get("interval", "1m"), "path": sync["path"], "prune": True,
                      "sourceRef": {"kind": sync["kind"], "name": name}}},
        ], instance["spec"].get("kustomize", {}).get("patches", []))

    def _patched(self, objects: list[dict], patches: list[dict]) -> list[dict]:
        """The objects with a controller's inline kustomize patches applied, by kustomize itself."""
        if not patches:
            return objects
        self._files += 1
        overlay = self.scratch / f"overlay-{self._files}"
        overlay.mkdir()
        (overlay / "resources.yaml").write_text(yaml.safe_dump_all(objects))
        (overlay / "kustomization.yaml").write_text(yaml.safe_dump(
            {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
             "resources": ["resources.yaml"], "patches": patches}))
        return kustomize(overlay)

    # --- Helm ------------------------------------------------------------------------------

    def _values_file(self, values: dict) -> Path:
        self._files += 1
        path = self.scratch / f"values-{self._files}.yaml"
        path.write_text(json.dumps(values))
        return path

    def _render(self, graph: Graph, owner: Key, chart: Path, release: str, namespace: str,
                values: list[Path]) -> list[dict]:
        manifest = helm.template(chart, release, namespace, values)
        graph.releases.append(Release(owner, release, namespace, manifest))
        return load_all(manifest)


class _Unresolved(Exception):
    """A source not (yet) in the graph."""


def _inside(tree: Path, relative: str, what: str, base: Path | None = None) -> Path:
    """`relative` (to `base`, by default the tree's root): it must exist inside the tree."""
    path = ((base or tree) / relative).resolve()
    if not path.is_relative_to(tree.resolve()) or not path.exists():
        raise GraphError(f"{what} {relative!r} does not exist")
    return path


def _default_namespace(objects: list[dict], namespace: str) -> list[dict]:
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED and namespace:
            obj["metadata"].setdefault("namespace", namespace)
    return objects


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _replace_strings(value, rendered: dict[str, str]):
    if isinstance(value, str):
        return rendered.get(value, value)
    if isinstance(value, dict):
        return {k: _replace_strings(v, rendered) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, rendered) for v in value]
    return value


# --- What the graph must hold -------------------------------------------------------------


def unresolved_dependencies(graph: Graph) -> list[str]:
    """dependsOn entries that name no object of the same kind."""
    return [f"{describe(key)} depends on missing {describe((key[0], dep.get('namespace', key[1]), dep['name']))}"
            for key, obj in graph.objects.items() if key[0] in ("Kustomization", "HelmRelease")
            for dep in obj["spec"].get("dependsOn", [])
            if (key[0], dep.get("namespace", key[1]), dep["name"]) not in graph.objects]


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


def impersonation_refusals(graph: Graph, flux_namespace: str, default_service_account: str | None = None) -> dict[Key, str]:
    """Each object Flux does not apply, with why: the account its Kustomization or HelmRelease
    acts as may not apply one of that parent's objects (by the RBAC the graph grants, counting
    only the RBAC objects that are applied), so none is, nor anything below them. Helm rolls an
    install back on the first refused object; kustomize-controller dry-runs every object before
    applying any."""
    controllers = {("ClusterRoleBinding", "", "cluster-reconciler"): {
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": flux_namespace}
                     for name in FLUX_CONTROLLERS.values()]}}
    refusals: dict[Key, str] = {}
    while True:
        granted = {**{key: obj for key, obj in graph.objects.items() if key[0] in RBAC_KINDS and key not in refusals},
                   **controllers}
        found: dict[Key, str] = {}
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
                for child in graph.descendants(key):
                    found[child] = f"{describe(child)}: not applied by {describe(key)}: {denied[0].describe()}"
        if found == refusals:
            return refusals
        refusals = found


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


def _vault_denial(vault: vault_model.Vault, store: dict, key: Key, spec: dict) -> str | None:
    """Why Vault refuses an ExternalSecret's keys, read with Kubernetes auth as the store's
    ServiceAccount: without a namespace, the ExternalSecret's (external-secrets v1
    providers/v1/vault/provider.go, isReferentSpec; auth.go, createServiceAccountToken)."""
    account = store["auth"]["kubernetes"]["serviceAccountRef"]
    namespace = account.get("namespace", key[1])
    if any("find" in item for item in spec.get("dataFrom", [])):
        return "a find lists paths, which Vault's policy grants no namespace"
    paths = [vault_model.kv_path(store["path"], store["version"], name) for name in _remote_keys(spec)]
    return next(filter(None, (vault.denial(namespace, account["name"], path) for path in paths)), None)


def secret_refusals(graph: Graph, skip: set[Key] = frozenset(), vault: vault_model.Vault | None = None) -> dict[Key, str]:
    """Each ExternalSecret (not in `skip`) whose secrets External Secrets would not fetch, with why:
    a ClusterSecretStore whose conditions leave its namespace out, a Kubernetes-provider store
    whose account may not get a Secret it names, or a Vault store whose `vault` (the fleet's
    README's role and policy, support/vault.py) refuses its account a path. A ClusterSecretStore's
    ServiceAccount without a namespace is the ExternalSecret's namespace's (external-secrets v1
    providers/v1/kubernetes/provider.go, isReferentSpec)."""
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


def refused(graph: Graph, settings: dict, vault: vault_model.Vault | None = None) -> set[Key]:
    """The objects of the graph its controller does not apply, and the ExternalSecrets whose
    secrets are not fetched (secret_refusals, with `vault`'s rights). Argo CD applies nothing of an
    Application its AppProject refuses any object of: the sync fails before applying (gitops-engine
    pkg/sync/sync_context.go, permission check of every task before the first wave)."""
    if settings["cluster_controller"] == "argocd":
        rejected = set().union(set(), *(graph.descendants(key) for key, app in graph.of_kind("Application").items()
                                        if _application_violations(graph, key, app)))
    else:
        rejected = set(impersonation_refusals(graph, settings["flux_namespace"]))
    return rejected | set(secret_refusals(graph, rejected, vault))


def deployed_kinds(graph: Graph, project: str) -> set[tuple[str, str]]:
    """(group, kind) of everything the Applications of one AppProject deploy."""
    return {(graph.objects[child]["apiVersion"].rpartition("/")[0], child[0])
            for key, app in graph.of_kind("Application").items() if app["spec"]["project"] == project
            for child in graph.children[key]}


# --- Deleting, as the controllers delete --------------------------------------------------


def _sync_options(obj: dict) -> str:
    return annotations(obj).get("argocd.argoproj.io/sync-options", "")


def _prunes(parent: dict, child: dict) -> bool:
    """Whether `parent`, still there, deletes `child`, which it no longer renders."""
    kind = parent["kind"]
    if kind == "Application":
        automated = parent["spec"].get("syncPolicy", {}).get("automated") or {}
        return bool(automated.get("prune")) and "Prune=false" not in _sync_options(child)
    if kind == "Kustomization":
        return bool(parent["spec"].get("prune")) and annotations(child).get("kustomize.toolkit.fluxcd.io/prune") != "disabled"
    if kind == "HelmRelease":
        return annotations(child).get("helm.sh/resource-policy") != "keep"
    # An ApplicationSet deletes the Applications it no longer generates; the Flux Operator its sync.
    return True


def _cascades(parent: dict, child: dict) -> bool:
    """Whether deleting `parent` deletes `child`, which it applied."""
    kind = parent["kind"]
    if kind == "Application":
        return ARGOCD_FINALIZER in parent["metadata"].get("finalizers", []) and "Delete=false" not in _sync_options(child)
    if kind == "Kustomization":
        # Flux garbage-collects what a deleted Kustomization applied only if it prunes.
        return _prunes(parent, child)
    if kind == "HelmRelease":
        return annotations(child).get("helm.sh/resource-policy") != "keep"
    return True


def _orphans(pruner: dict) -> bool:
    """Whether an Application prunes with the orphan propagation policy: Kubernetes then leaves
    the pruned object's dependents by owner reference (an ApplicationSet's Applications) in place
    (argo-cd docs/user-guide/sync-options.md, PrunePropagationPolicy)."""
    options = pruner["spec"].get("syncPolicy", {}).get("syncOptions", []) if pruner["kind"] == "Application" else []
    return "PrunePropagationPolicy=orphan" in options


def removed(before: Graph, after: Graph) -> set[Key]:
    """The objects of `before` the controllers delete once `after` is what git holds."""
    gone: set[Key] = set()

    def delete(key: Key, orphan: bool = False) -> None:
        gone.add(key)
        if orphan and key[0] == "ApplicationSet":
            return
        for child in before.children[key]:
            if child not in gone and _cascades(before.objects[key], before.objects[child]):
                delete(child)

    for key, parent in before.parents.items():
        if key not in after.objects and parent in after.objects and _prunes(before.objects[parent], before.objects[key]):
            delete(key, _orphans(after.objects[parent]))
    return gone


def ordering_violations(graph: Graph, settings: dict) -> list[str]:
    """Where an app could start before the infrastructure layer is ready: under Argo CD, a layer
    of the root synced no later than the apps layer, or a registered app outside the apps layer;
    under Flux, an infrastructure Kustomization that does not wait, a registered app's
    Kustomization that does not depend on it, or an app object applied other than through one."""
    names, problems = settings["names"], []
    if settings["cluster_controller"] == "argocd":
        namespace = settings["argocd_namespace"]
        layers = {name: graph.objects[("Application", namespace, names[name])] for name in ("infrastructure_layer", "apps_layer")}
        wave = {name: int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name, obj in layers.items()}
        if not wave["infrastructure_layer"] < wave["apps_layer"]:
            problems.append(f"sync waves: infrastructure {wave['infrastructure_layer']}, apps {wave['apps_layer']}")
        below = graph.descendants(("Application", namespace, names["apps_layer"]))
        problems += [f"{describe(key)}: not below the apps layer" for key in graph.of_kind("Application")
                     if key[2].endswith(settings["registered_suffix"]) and key not in below]
        return problems
    namespace = settings["flux_namespace"]
    infrastructure = ("Kustomization", namespace, names["infrastructure_layer"])
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
