"""The template's logic, as pure functions in modules by concern, in layers (each imports only
the ones above it):

    grammar         one-line checks every validator is built from (DNS names, labels, ports, CIDRs)
    formats         writers for answers in generated files (YAML, Markdown, shell)
    pins            version pins: a conflict between two bumps of one pin resolved to the newer
    vcs             git repository URLs and revisions, and how each controller is told a revision
    images          container image names
    catalogue       the infrastructure catalogue (catalogue.json: charts, versions, CRDs)
    names           the naming contract: every object name derived from an app's or a fleet's name
    answers         copier.yml's other validators and derived defaults
    registry        the fleet's registry of apps: entries, collisions, overrides, promotion
    promotion       what a promotion could cost in data: the platform rendered before and after
    template_versions  the template version each app is at, and the one its fleet needs
    fleet           the orchestration repository: environments, folders, its settings file
    diagram         README.md's picture of a fleet
    infrastructure  the infrastructure layer: components, waves, values, the configs chart
    derive          the rendering context for a set of answers, once per answer set

Nothing here imports Copier: each module is unit-tested on its own. Copier reaches it through
extensions/context.py; a generated orchestration repository's scripts/ carries the same package.
"""

from . import (  # noqa: F401  (loading the package loads every module)
    answers, catalogue, derive, diagram, fleet, formats, grammar, images, infrastructure, names, pins, promotion,
    registry, template_versions, vcs,
)
