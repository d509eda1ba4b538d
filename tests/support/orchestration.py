"""The orchestration graph, walked by the very code a fleet runs in `make prove`
(orchestration/scripts/fleet_graph/), for the tests to use under one name."""

from fleet_graph.checks import (controller_reads, deployed_kinds, foreign_sources, impersonation_refusals,  # noqa: F401
                                impersonation_violations, ordering_violations, project_violations, refused,
                                secret_refusals, unresolved_dependencies)
from fleet_graph.deletion import removed  # noqa: F401
from fleet_graph.objects import CLUSTER_SCOPED, GraphError, Key, annotations, describe, key_of  # noqa: F401
from fleet_graph.sources import GitServer  # noqa: F401
from fleet_graph.walk import Graph, Walker  # noqa: F401
