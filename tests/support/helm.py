"""Helm, run for real: `helm template` and `helm lint --strict` on generated charts."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from fleet_graph.objects import load_all

# The APIs of a cluster with every operator the charts can use (the charts' operator checks look
# them up in .Capabilities.APIVersions), Helm run for real: the fleet's own graph code's.
from fleet_graph.render import CLUSTER_API_VERSIONS, HelmError, helm, template, values_args  # noqa: E402,F401


def render(*args, **kwargs) -> list[dict]:
    """The objects `template(...)` renders, parsed, in Helm's order."""
    return load_all(template(*args, **kwargs))


def lint(chart: Path, values: Sequence[Path] = ()) -> None:
    helm("lint", "--strict", str(chart), *values_args(values))
