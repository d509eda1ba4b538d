"""The registry of apps an environment runs: one entry per app (its file format), every reason
the registry cannot deploy as it is (bad entries, names two objects would share), value
override files, and which revisions a promotion may take.
"""

from __future__ import annotations

import json
import re

from .answers import git_secret_name_error
from .catalogue import INFRASTRUCTURE_CATALOGUE, infrastructure_releases
from .formats import yaml_string
from .vcs import flux_git_ref, git_revision_error, repo_url_error
from .names import REGISTERED_SUFFIX, app_name_error, derived_names, namespace_error, registered_name

# A registry entry: the registered app's own answers, as this cluster deploys it.
REGISTRY_FIELDS = ("app_name", "repo_url", "git_revision", "namespace", "git_secret_name")
REGISTRY_REQUIRED = REGISTRY_FIELDS[:4]
_REGISTRY_LINE = re.compile(r'(?P<key>[a-z_]+): (?P<value>".*")')
_TRAILING_COMMENT = re.compile(r'[a-z_]+: "(?:[^"\\]|\\.)*"\s+#.*')


def _own_objects(settings: dict) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the orchestration's own GitOps objects on its cluster."""
    names = settings["names"]
    if settings["cluster_controller"] == "argocd":
        namespace = settings["argocd_namespace"]
        own = [("AppProject", names["root_project"]), ("Application", names["root_app"]),
               ("Application", names["infrastructure_layer"]), ("Application", names["apps_layer"]),
               ("AppProject", names["apps_project"]), ("AppProject", names["infrastructure_project"])]
        own += [("Application", name) for name in infrastructure_releases()]
        if settings["argocd_applicationset"]:
            own.append(("ApplicationSet", names["apps_layer"]))
    else:
        namespace = settings["flux_namespace"]
        # flux bootstrap and the Flux Operator name the cluster's sync after Flux's namespace.
        own = [("GitRepository", namespace), ("Kustomization", namespace),
               ("GitRepository", names["infrastructure_layer"]), ("Kustomization", names["infrastructure_layer"]),
               ("HelmRelease", names["apps_layer"])]
        own += [("HelmRelease", name) for name in infrastructure_releases()]
        own += [("OCIRepository" if entry["repo"].startswith("oci://") else "HelmRepository", entry["name"])
                for entry in INFRASTRUCTURE_CATALOGUE]
    return [(kind, namespace, name) for kind, name in own]


def _registered_objects(settings: dict, app_name: str) -> list[tuple[tuple[str, str, str], str]]:
    """What one registered app puts on the cluster, GitOps objects only, each with its creator:
    the orchestration's object applying the app's gitops/ folder, and what that folder holds."""
    names = derived_names(app_name)
    ours, theirs = f"the orchestration (for app {app_name})", f"app {app_name}"
    gitops = registered_name(app_name)
    if settings["cluster_controller"] == "argocd":
        namespace = settings["argocd_namespace"]
        objects = [(("Application", gitops), ours), (("AppProject", names["argocd_project"]), theirs),
                   (("Application", names["argocd_base_app"]), theirs),
                   (("Application", names["argocd_platform_app"]), theirs)]
    else:
        namespace = settings["flux_namespace"]
        objects = [(("GitRepository", gitops), ours), (("Kustomization", gitops), ours),
                   (("GitRepository", names["flux_source"]), theirs)]
        objects += [((kind, names[key]), theirs) for key in ("flux_base", "flux_platform")
                    for kind in ("Kustomization", "HelmRelease")]
    return [((kind, namespace, name), creator) for (kind, name), creator in objects]


def reserved_app_names(settings: dict) -> list[str]:
    """App names a registration must not take: their objects would be the orchestration's own."""
    own = set(_own_objects(settings))
    candidates = {name.removesuffix(suffix) for _, _, name in own for suffix in ("", "-base", "-platform")}
    candidates |= {name.removesuffix(REGISTERED_SUFFIX) for _, _, name in own}
    return sorted(name for name in candidates if not app_name_error(name)
                  and any(key in own for key, _ in _registered_objects(settings, name)))


def registry_entry_errors(entry: dict, filename: str, settings: dict) -> list[str]:
    """What is wrong with one registry entry, each message naming the field and the rule."""
    errors = [f"unknown field {key} (the fields are {', '.join(REGISTRY_FIELDS)})"
              for key in entry if key not in REGISTRY_FIELDS]
    missing = [key for key in REGISTRY_REQUIRED if key not in entry]
    errors += [f"{key}: required" for key in missing]
    if missing:
        return errors
    controller = settings["cluster_controller"]
    checks = (app_name_error(entry["app_name"], settings["flux_namespace"]), repo_url_error(entry["repo_url"]),
              git_revision_error(entry["git_revision"]),
              namespace_error(entry["namespace"], settings["platform_namespaces"]),
              git_secret_name_error(entry.get("git_secret_name", ""), entry["repo_url"], controller))
    errors += [error for error in checks if error]
    if not errors and filename != f"{entry['app_name']}.yaml":
        errors.append(f"app_name: the file must be named after it, {entry['app_name']}.yaml")
    return errors


def registry_errors(settings: dict, entries: dict[str, dict]) -> list[str]:
    """Every reason the registry (file name -> entry) cannot be deployed as it is: a bad entry,
    two objects of one kind, namespace and name, or apps whose objects could meet."""
    errors = [f"{filename}: {error}" for filename, entry in sorted(entries.items())
              for error in registry_entry_errors(entry, filename, settings)]
    if errors:
        return errors
    creators: dict[tuple[str, str, str], str] = {key: "the orchestration" for key in _own_objects(settings)}
    for filename, entry in sorted(entries.items()):
        for key, creator in _registered_objects(settings, entry["app_name"]):
            if key in creators:
                kind, namespace, name = key
                errors.append(f"{filename}: {kind} {namespace}/{name} would be created by both "
                              f"{creators[key]} and {creator}: register the app under another name")
            creators.setdefault(key, creator)
    # Each app names its objects <app> and <app>-<suffix>: in one namespace, "a" and "a-db" could meet.
    apps = sorted((entry["namespace"], entry["app_name"]) for entry in entries.values())
    for namespace, first in apps:
        for other_namespace, second in apps:
            if namespace != other_namespace or first >= second:
                continue
            if settings["cluster_controller"] == "fluxcd":
                # Each app's Flux account may do anything in its namespace (registry.fluxTenancy).
                errors.append(f"{second}.yaml: namespace {namespace} already holds app {first}: under Flux each "
                              "app acts with every right in its namespace, so either could change the other's "
                              "objects: use another namespace")
            elif second.startswith(f"{first}-"):
                errors.append(f"{second}.yaml: namespace {namespace} already holds app {first}, and {second} "
                              f"starts with {first}-, so their objects could share names: use another namespace")
    return errors


def registry_entry_text(entry: dict) -> str:
    """A registry entry as `make register` writes it: one double-quoted string per field."""
    lines = ["# A registered app, as this cluster deploys it (`make register` writes this, `make remove` deletes it)."]
    lines += [f"{key}: {yaml_string(entry[key])}" for key in REGISTRY_FIELDS if entry.get(key)]
    return "\n".join(lines) + "\n"


def parse_registry_entry(text: str) -> dict[str, str]:
    """A registry entry: `key: "value"` lines (double-quoted, as YAML and JSON both read them
    alike) and comments. Anything else is refused, naming its line."""
    if text.startswith("\ufeff"):
        raise ValueError("line 1: starts with a byte order mark (U+FEFF): save the file as UTF-8 without one")
    entry: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if _TRAILING_COMMENT.fullmatch(line):
            raise ValueError(f"line {number}: a comment goes on a line of its own, starting with #, not after a value")
        match = _REGISTRY_LINE.fullmatch(line)
        try:
            value = json.loads(match["value"]) if match else None
        except ValueError:
            value = None
        if not isinstance(value, str):
            raise ValueError(f'line {number}: write each field as key: "value", one per line, the value '
                             'double-quoted (\\" and \\\\ inside it)')
        if match["key"] in entry:
            raise ValueError(f"line {number}: {match['key']} is given twice")
        entry[match["key"]] = value
    return entry


def override_errors(settings: dict, filenames: list[str], apps: list[str]) -> list[str]:
    """What is wrong with an environment's values/ folder (its file names), given the apps it
    runs: each file overrides one chart of one of them, <app>-base.yaml or <app>-platform.yaml."""
    expected = {f"{app}-{chart}.yaml" for app in apps for chart in settings["app_charts"]}
    errors = [f"{name}: overrides no chart of an app this environment runs (the files are <app>-"
              f"{{{','.join(settings['app_charts'])}}}.yaml, for a registered app)"
              for name in filenames if name not in expected]
    if filenames and settings["argocd_applicationset"]:
        errors.append(f"{filenames[0]}: value overrides need the App-of-Apps: the ApplicationSet's git "
                      "generator reads the registry entries only (argocd_applicationset: false)")
    return errors


def promotion_error(revision: str, source: str, given: bool) -> str:
    """A revision promoted from `source`: a fixed one (a tag or commit), unless named on purpose."""
    if error := git_revision_error(revision):
        return error
    if not given and (flux_git_ref(revision) == "branch" or revision.startswith("refs/heads/")):
        return (f"git_revision: {source} follows the branch {revision}, which moves: promote the tag or "
                "commit it runs now, named with --git-revision (GIT_REVISION=v1.2.0)")
    return ""


# The lines of clusters/<env>/infrastructure.yaml naming the revision of this repository that the
# environment's infrastructure runs end in this comment; `make promote-infrastructure` rewrites them.
INFRASTRUCTURE_REVISION_MARK = "# infrastructure revision"
_INFRASTRUCTURE_REVISION = re.compile(r'^(?P<indent> *)(?P<key>[A-Za-z]+): (?P<value>"[^"\n]*") '
                                      + re.escape(INFRASTRUCTURE_REVISION_MARK) + "$", re.MULTILINE)
_FLUX_REF_FIELDS = ("branch", "tag", "name", "commit")


def infrastructure_revision(text: str) -> str:
    """The revision an environment's infrastructure runs, from its clusters/<env>/infrastructure.yaml."""
    revisions = {json.loads(match["value"]) for match in _INFRASTRUCTURE_REVISION.finditer(text)}
    if len(revisions) != 1:
        raise ValueError(f"expected one infrastructure revision, found {sorted(revisions) or 'none'}")
    return revisions.pop()


def with_infrastructure_revision(text: str, revision: str) -> str:
    """clusters/<env>/infrastructure.yaml running `revision`: Argo CD's targetRevision as it is,
    Flux's spec.ref under the field that fetches it."""
    def line(match: re.Match) -> str:
        key = flux_git_ref(revision) if match["key"] in _FLUX_REF_FIELDS else match["key"]
        return f'{match["indent"]}{key}: {yaml_string(revision)} {INFRASTRUCTURE_REVISION_MARK}'

    infrastructure_revision(text)
    return _INFRASTRUCTURE_REVISION.sub(line, text)
