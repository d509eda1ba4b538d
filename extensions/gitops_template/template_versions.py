"""The template versions a fleet's apps are at: each app's `.copier-answers.yml` records the
template release it was last generated or updated from (`_commit`), and a fleet needs its apps
at a version its controller can deploy.
"""

from __future__ import annotations

import re

from .formats import markdown_code

# The oldest template release whose apps each controller's fleet deploys: Argo CD patches an app per
# environment through the kustomization gitops/argocd/ has from 1.1.0 (CHANGELOG.md, 1.1.0).
FLEET_NEEDS = {"argocd": (1, 1, 0)}
# Copier records `git describe --tags` of the template: v1.1.0, or v1.1.0-3-g1a2b3c4 for a later commit.
_RELEASE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+.].*)?")
_COMMIT_LINE = re.compile(r"_commit: *(?P<value>.*?) *$", re.MULTILINE)


def recorded_template_version(answers_text: str) -> str:
    """The `_commit` an app's .copier-answers.yml records ("" when none: a template copied from a
    folder, not a git repository)."""
    match = _COMMIT_LINE.search(answers_text)
    return match["value"].strip("'\"") if match else ""


def _release(version: str) -> tuple[int, ...] | None:
    match = _RELEASE.fullmatch(version)
    return tuple(int(part) for part in match.groups()) if match else None


def template_version_error(controller: str, app: str, environment: str, revision: str, version: str) -> str:
    """Why a fleet on `controller` cannot deploy the app at this template version, with the
    `copier update` that fixes it; "" when it can."""
    needed = FLEET_NEEDS.get(controller)
    if needed is None:
        return ""
    release = _release(version)
    if release is not None and release >= needed:
        return ""
    at_least = "v" + ".".join(str(part) for part in needed)
    found = f"template {version}" if version else "no template version (_commit) in its .copier-answers.yml"
    return (f"{app} in {environment}: {revision} has {found}; an {controller} fleet needs {at_least} or later. "
            f"In the app's repository: copier update --trust --defaults --vcs-ref {at_least} (or newer), "
            "then register or promote the revision that has it")


def template_versions_table(environments: list[str], versions: dict[tuple[str, str], tuple[str, str]]) -> str:
    """Each app's revision and template version per environment, as a Markdown table; `versions`
    maps (app, environment) to (revision, template version)."""
    apps = sorted({app for app, _ in versions})
    rows = [["app", *environments], ["---"] * (len(environments) + 1)]
    for app in apps:
        cells = []
        for environment in environments:
            if (app, environment) not in versions:
                cells.append("-")
                continue
            revision, version = versions[app, environment]
            cells.append(f"{markdown_code(revision)} (template {markdown_code(version) if version else 'unknown'})")
        rows.append([app, *cells])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"
