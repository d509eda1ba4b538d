"""The orchestration graph, followed as the controllers follow it: from a root object, through
every repository, revision, folder, generator and chart, to every object applied.

GitServer (sources.py) clones each repository by the very URL a manifest gives, so a URL in a form
no repository is reachable under fails as it would on a cluster. Revisions resolve as each
controller resolves them (Argo CD: any branch, tag, full ref or commit; Flux: the one `spec.ref`
field it is given); folders are read as each reads them (Argo CD: a Helm chart, a kustomization
or the folder's manifests; Flux: a kustomization or every manifest below the path, after the
GitRepository's `ignore`); charts are rendered by Helm with the release name, namespace and
values each controller passes, and an ApplicationSet's template by Go's template engine (Helm's
`tpl`). Deleting is emulated from the controllers' documented semantics (deletion.py).

A chart from a Helm or OCI repository (an Argo CD source with `chart`, a Flux HelmRelease on a
HelmRepository or OCIRepository) is an external leaf: the upstream chart is never pulled (the
walk needs no registry). The walk records what the controller would install (`Graph.charts`: the
repository, chart, version, release name, namespace and values) and checks the Flux source
exists; what such a chart installs is the infrastructure catalogue's claim
(gitops_template/catalogue.json).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import render
from .objects import CLUSTER_SCOPED, GraphError, Key, describe, key_of, load_all, manifests
from .render import kustomize
from .sources import GitServer, flux_included

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
    # Objects applied by more than one parent (or twice by one), or two objects sharing a name.
    duplicates: list[str] = field(default_factory=list)
    # What the controllers could not follow (a walk that is not strict), one line each.
    unresolved: list[str] = field(default_factory=list)
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
    """Follows a graph from its roots, as the controllers would, rendering charts with the APIs a
    cluster serves (`api_versions`)."""

    def __init__(self, server: GitServer, scratch: Path, api_versions: tuple[str, ...] = render.CLUSTER_API_VERSIONS):
        self.server = server
        self.scratch = scratch
        self.api_versions = api_versions
        self._files = 0

    def walk(self, roots: list[dict], strict: bool = True) -> Graph:
        """The graph below `roots`. What the controllers could not follow raises GraphError, or,
        unless `strict`, is left out (and below it) and listed in Graph.unresolved."""
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
                except GraphError as error:
                    graph.unresolved.append(located(graph, key, str(error)))
                    continue
                for child in children:
                    self._add(graph, queue, child, key)
            if waiting and len(graph.objects) == known:
                graph.unresolved += [located(graph, key, reason) for key, reason in waiting]
            elif waiting:
                known = len(graph.objects)
                queue.extend(key for key, _ in waiting)
                continue
            if strict and graph.unresolved:
                raise GraphError("\n".join(graph.unresolved))
            return graph

    @staticmethod
    def _add(graph: Graph, queue: deque, obj: dict, parent: Key | None) -> None:
        key = key_of(obj)
        if key in graph.objects:
            first = graph.parents[key]
            what = "applied twice" if graph.objects[key] == obj else "two different objects of one kind and name"
            graph.duplicates.append(f"{describe(key)}: {what}, by {describe(first) if first else 'hand'}"
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
            objects = self._patched(kustomize(folder, tree), source.get("kustomize", {}).get("patches", []))
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
        return yaml.safe_load(render.helm("template", "go-template", str(chart), "--values", str(values)))["rendered"]

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
            objects = kustomize(folder, tree)
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
        return kustomize(overlay, overlay)

    # --- Helm ------------------------------------------------------------------------------

    def _values_file(self, values: dict) -> Path:
        self._files += 1
        path = self.scratch / f"values-{self._files}.yaml"
        path.write_text(json.dumps(values))
        return path

    def _render(self, graph: Graph, owner: Key, chart: Path, release: str, namespace: str,
                values: list[Path]) -> list[dict]:
        try:
            manifest = render.template(chart, release, namespace, values, self.api_versions)
        except render.HelmError as error:
            raise GraphError(f"helm template {release}: {' '.join(error.output.split())}") from None
        graph.releases.append(Release(owner, release, namespace, manifest))
        return load_all(manifest)


class _Unresolved(Exception):
    """A source not (yet) in the graph."""


def located(graph: Graph, key: Key, problem: str) -> str:
    """A problem of `key`, the line naming it and what applied it."""
    parent = graph.parents[key]
    applied = f"applied by {describe(parent)}" if parent else "applied by hand"
    if problem.startswith(describe(key)):
        return f"{describe(key)} ({applied}){problem[len(describe(key)):]}"
    return f"{describe(key)} ({applied}): {problem}"


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
