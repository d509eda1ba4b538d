"""Deleting, as the controllers delete: what pruning and cascading remove once git no longer
holds an object."""

from __future__ import annotations

from .objects import Key, annotations
from .walk import Graph

ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"



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
