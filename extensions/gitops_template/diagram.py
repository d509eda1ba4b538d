"""README.md's generated picture of an orchestration: the graph each environment's controller
follows (Mermaid) and which revision of each app runs where.
"""

from __future__ import annotations

import re

from .formats import markdown_code
from .names import registered_name

DIAGRAM_START = "<!-- registry diagram: `make diagram` writes it from registry/environments/ -->"
DIAGRAM_END = "<!-- end of registry diagram -->"
# Characters Mermaid shows as they are in a quoted label; any other becomes an entity code.
_MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 ._/:@+-]")


def mermaid_text(text: str) -> str:
    return "".join(c if _MERMAID_PLAIN.fullmatch(c) else f"#{ord(c)};" for c in text)


def _node(node_id: str, *lines: str) -> str:
    return f'  {node_id}["{"<br>".join(mermaid_text(line) for line in lines)}"]'


def registry_diagram(settings: dict, registries: dict[str, list[dict]]) -> str:
    """The graph each environment's controller follows, root to layers to apps, as a Mermaid
    flowchart: one subgraph per environment, from its registry (environment -> entries)."""
    names = settings["names"]
    argocd = settings["cluster_controller"] == "argocd"
    kinds = ("Application", "Application", "Application") if argocd else (
        "Kustomization", "Kustomization", "HelmRelease")
    root = names["root_app"] if argocd else settings["flux_namespace"]
    kind = "Application" if argocd else "Kustomization"
    lines = ["flowchart LR"]
    # Node ids by position: names map to ids one to one only so (a-b and a_b would not).
    for number, environment in enumerate(settings["environments"]):
        paths = settings["paths"]["environments"][environment]
        node = f"e{number}_"
        lines += [
            f"  subgraph {node}env[\"{mermaid_text(environment)}\"]",
            _node(f"{node}root", f"{kinds[0]} {root}", paths["cluster"] + "/"),
            _node(f"{node}infrastructure", f"{kinds[1]} {names['infrastructure_layer']}",
                  settings["paths"]["infrastructure"] + "/"),
            _node(f"{node}apps", f"{kinds[2]} {names['apps_layer']}", paths["apps"] + "/"),
            f"  {node}root --> {node}infrastructure",
            f"  {node}root --> {node}apps",
            f'  {node}infrastructure -. "ready before every app" .-> {node}apps',
        ]
        parent = f"{node}apps"
        if settings["argocd_applicationset"]:
            lines += [_node(f"{node}applicationset", f"ApplicationSet {names['apps_layer']}",
                            paths["apps"] + "/*.yaml"), f"  {node}apps --> {node}applicationset"]
            parent = f"{node}applicationset"
        entries = sorted(registries.get(environment, []), key=lambda entry: entry["app_name"])
        for index, entry in enumerate(entries):
            node_id = f"{node}app{index}"
            lines += [_node(node_id, f"{kind} {registered_name(entry['app_name'])}",
                            f"{entry['repo_url']} @ {entry['git_revision']}", f"namespace {entry['namespace']}"),
                      f"  {parent} --> {node_id}"]
        if not entries:
            lines += [_node(f"{node}none", "no app registered yet"), f"  {parent} --> {node}none"]
        lines.append("  end")
    return "\n".join(lines) + "\n"


def versions_table(settings: dict, registries: dict[str, list[dict]]) -> str:
    """Which revision of each app each environment runs, as a Markdown table ("-": not there)."""
    environments = settings["environments"]
    revisions: dict[str, dict[str, str]] = {}
    for environment in environments:
        for entry in registries.get(environment, []):
            revisions.setdefault(entry["app_name"], {})[environment] = entry["git_revision"]
    rows = [["app", *environments], ["---"] * (len(environments) + 1)]
    rows += [[app, *(markdown_code(revisions[app][environment]) if environment in revisions[app] else "-"
                     for environment in environments)] for app in sorted(revisions)]
    if not revisions:
        rows.append(["no app registered yet", *("-" for _ in environments)])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def registry_picture(settings: dict, registries: dict[str, list[dict]]) -> str:
    """README.md's generated block: the graph, then which version runs where."""
    return (f"```mermaid\n{registry_diagram(settings, registries)}```\n\n"
            f"Which revision of each app each environment runs:\n\n{versions_table(settings, registries)}")


def with_diagram(readme: str, picture: str) -> str:
    """README.md with the block between the registry diagram's markers replaced by `picture`."""
    start, end = readme.find(DIAGRAM_START), readme.find(DIAGRAM_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no registry diagram: keep the lines {DIAGRAM_START} and {DIAGRAM_END}")
    start += len(DIAGRAM_START)
    return f"{readme[:start]}\n{picture}{readme[end:]}"
