"""What a change of the fleet does to each environment: every object its graph renders before and
after, compared, as Markdown for a pull request. Objects holding data come first: what
`make promote` counts as data (gitops_template.promotion), volume claim templates, and anything
carrying a keep annotation; a removed one says whether the controllers delete it (deletion.removed).
"""

from __future__ import annotations

from gitops_template import promotion

from .deletion import removed
from .objects import Key, describe
from .walk import Graph


# The infrastructure's own data: the Ceph cluster holding every bucket (Rook), and its object store.
INFRASTRUCTURE_DATA_KINDS = {("ceph.rook.io", "CephCluster"): "the buckets' storage",
                             ("ceph.rook.io", "CephObjectStore"): "the buckets' object store"}
# How many changed fields a changed object lists.
FIELDS_SHOWN = 4


def data_held(obj: dict) -> str:
    """What data an object holds ("" if none), as a promotion judges it."""
    group = obj["apiVersion"].rpartition("/")[0]
    if what := promotion.DATA_KINDS.get((group, obj["kind"])) or INFRASTRUCTURE_DATA_KINDS.get((group, obj["kind"])):
        return what
    if (group, obj["kind"]) in promotion.BACKUP_KINDS:
        return "backups"
    if (obj.get("spec") or {}).get("volumeClaimTemplates"):
        return "volumes"
    kept = promotion.kept(obj)
    return f"kept: {', '.join(sorted(kept))}" if kept else ""


def changed_fields(before, after, path: str = "") -> list[str]:
    """The dotted paths where two objects differ (a list compared whole)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [field for name in sorted(set(before) | set(after), key=str)
                for field in changed_fields(before.get(name), after.get(name), f"{path}.{name}" if path else str(name))]
    return [] if before == after else [path]


def environment_diff(environment: str, before: Graph, after: Graph) -> str:
    """One environment's section: data first, then every object added, changed or removed."""
    added = sorted(key for key in after.objects if key not in before.objects)
    gone = sorted(key for key in before.objects if key not in after.objects)
    changed = sorted(key for key in after.objects if key in before.objects and after.objects[key] != before.objects[key])
    if not (added or gone or changed):
        return f"### {environment}\n\nNo change.\n"
    deleted = removed(before, after)

    def line(change: str, key: Key, graph: Graph) -> str:
        held = data_held(graph.objects[key])
        text = f"- {change}: `{describe(key)}`{f' ({held})' if held else ''}"
        if change == "changed":
            fields = changed_fields(before.objects[key], after.objects[key])
            more = f", {len(fields) - FIELDS_SHOWN} more" if len(fields) > FIELDS_SHOWN else ""
            text += f": {', '.join(f'`{field}`' for field in fields[:FIELDS_SHOWN])}{more}"
        if change == "removed":
            text += ": the controller deletes it" if key in deleted else ": it stays on the cluster (not pruned)"
        return text

    lines = [f"### {environment}", "", f"{len(added)} added, {len(changed)} changed, {len(gone)} removed.", ""]
    data = ([line("removed", key, before) for key in gone if data_held(before.objects[key])]
            + [line("changed", key, after) for key in changed
               if data_held(after.objects[key]) or data_held(before.objects[key])]
            + [line("added", key, after) for key in added if data_held(after.objects[key])])
    losses = promotion.data_loss(list(before.objects.values()), list(after.objects.values()))
    if data or losses:
        lines += ["**Data** (review first):", "", *data, *(f"- could lose data (`make promote` refuses it): {loss}" for loss in losses), ""]
    lines += ["<details><summary>Every object</summary>", "",
              *(line("added", key, after) for key in added), *(line("changed", key, after) for key in changed),
              *(line("removed", key, before) for key in gone), "", "</details>", ""]
    return "\n".join(lines)
