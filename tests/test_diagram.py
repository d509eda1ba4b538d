"""extensions/gitops_template: README.md's picture of a fleet (diagram.py), on its own, without Copier."""

from __future__ import annotations

import re

import pytest

from gitops_template.diagram import DIAGRAM_END, DIAGRAM_START, registry_diagram, versions_table, with_diagram
from support.fleet_answers import entry, settings_for


def test_registry_diagram_draws_each_environment_root_layers_and_apps():
    settings = settings_for(argocd_applicationset=True)
    diagram = registry_diagram(settings, {"staging": [entry("shop"), entry("b-2", git_revision='say "hi"')]})
    assert diagram.startswith("flowchart LR\n")
    assert '  e0_applicationset["ApplicationSet fleet-apps<br>registry/environments/staging/apps/#42;.yaml"]' in diagram
    # Apps in name order: b-2 first.
    assert '  e0_app0["Application b-2-gitops' in diagram and "e0_applicationset --> e0_app0" in diagram
    assert "say #34;hi#34;" in diagram and 'say "hi"' not in diagram
    assert '  e1_none["no app registered yet"]' in diagram
    assert diagram.count("  subgraph ") == diagram.count("  end\n") == 2
    flux = registry_diagram(settings_for(cluster_controller="fluxcd"), {})
    assert 'e0_root["Kustomization flux-system<br>clusters/staging/"]' in flux
    assert 'e1_none["no app registered yet"]' in flux and "applicationset" not in flux


def test_distinct_apps_and_environments_get_distinct_nodes():
    # Read as ids with '-' made '_', x-app-y's app z and x's app y-app-z were one node.
    settings = settings_for(environments="x,x-app-y")
    diagram = registry_diagram(settings, {"x": [entry("y-app-z")], "x-app-y": [entry("z")]})
    ids = re.findall(r"^  (\w+)\[", diagram, re.MULTILINE)
    assert len(ids) == len(set(ids))


def test_versions_table_says_which_revision_runs_where():
    table = versions_table(settings_for(), {"staging": [entry("shop"), entry("b-2", git_revision="v2")],
                                                   "production": [entry("shop", git_revision="v1")]})
    assert table.splitlines() == ["| app | staging | production |", "| --- | --- | --- |",
                                  "| b-2 | `v2` | - |", "| shop | `main` | `v1` |"]


def test_with_diagram_replaces_only_the_marked_block():
    readme = f"# x\n{DIAGRAM_START}\nold\n{DIAGRAM_END}\nrest\n"
    assert with_diagram(readme, "new\n") == f"# x\n{DIAGRAM_START}\nnew\n{DIAGRAM_END}\nrest\n"
    with pytest.raises(ValueError, match="no registry diagram"):
        with_diagram("# x\n", "new\n")
