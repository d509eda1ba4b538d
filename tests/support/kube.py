"""Strict validation of Kubernetes objects, built-in kinds and custom resources alike.

Built-in kinds go to kubernetes-validate in strict mode (unknown fields fail) at each
supported Kubernetes version. Custom resources go to the offline mirror of strict CRD
schemas, `<group>/<kind>_<version>.json`, and then, defaulted as the API server stores them,
to those schemas' CEL rules (tests/support/cel.py); a custom kind without a schema is an
error, never a pass.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import kubernetes_validate
from kubernetes_validate import utils as _kubernetes_validate_utils

from fleet_graph.objects import BUILTIN_GROUPS  # noqa: F401 (API groups Kubernetes itself serves)

from . import cel

# kubernetes-validate parses its schema files, definitions of several megabytes included, on
# every call: ten times the cost of validating. They never change, and nothing writes to them.
_kubernetes_validate_utils.schema_contents = lru_cache(maxsize=None)(_kubernetes_validate_utils.schema_contents)

# Oldest and newest Kubernetes versions the generated charts support (Chart.yaml kubeVersion).
K8S_VERSIONS = ("1.29", "1.37")

def group_version(obj: dict) -> tuple[str, str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    return group, version


def is_builtin(obj: dict) -> bool:
    return group_version(obj)[0] in BUILTIN_GROUPS


def describe(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('apiVersion')} {obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"


@lru_cache(maxsize=None)
def _crd_validator(schema_file: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_file.read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def _builtin_errors(obj: dict) -> list[str]:
    errors = []
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            errors.append(f"{describe(obj)} (Kubernetes {version}) at {path or '/'}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{describe(obj)}: Kubernetes {version} does not serve this kind")
    return errors


# The mirror's schemas are strict below the top level only (generated from CRDs, whose
# root and metadata the API server owns, and some omit those entirely); these close the gap
# so a typo there fails too.
OBJECT_META_FIELDS = {"name", "namespace", "labels", "annotations", "finalizers", "generateName"}


def _crd_errors(obj: dict, crd_schemas: Path) -> list[str]:
    group, version = group_version(obj)
    schema_file = crd_schemas / group / f"{obj['kind'].lower()}_{version}.json"
    if not schema_file.is_file():
        return [f"{describe(obj)}: no schema at {schema_file} (a kind without a schema fails)"]
    validator = _crd_validator(schema_file)
    errors = [
        f"{describe(obj)} at {'/'.join(str(p) for p in err.absolute_path) or '/'}: {err.message}"
        for err in validator.iter_errors(obj)
    ]
    unknown = set(obj) - set(validator.schema["properties"]) - {"apiVersion", "kind", "metadata"}
    unknown |= {f"metadata.{key}" for key in set(obj.get("metadata") or {}) - OBJECT_META_FIELDS}
    errors += [f"{describe(obj)}: unknown field {field}" for field in sorted(unknown)]
    if errors:
        # The API server skips the CEL rules of an object whose shape is wrong (hasBlockingErr in
        # kubernetes/kubernetes staging/src/k8s.io/apiextensions-apiserver/pkg/registry/
        # customresource/strategy.go); it is refused either way.
        return errors
    return [f"{describe(obj)} at {'/'.join(path) or '/'}: {message}"
            for path, message in cel.rule_errors(_defaulted(obj, validator.schema), validator.schema)]


def allowed_in(objects: list[dict]) -> set[str]:
    """Namespaces the (one) NetworkPolicy among `objects` lets in, besides the app's own."""
    [policy] = [o for o in objects if o["kind"] == "NetworkPolicy"]
    peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    return {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for peer in peers if "namespaceSelector" in peer}


def by_name(objects: list[dict]) -> dict[tuple[str, str], dict]:
    """Objects by (kind, name)."""
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def validation_errors(objects: list[dict], crd_schemas: Path | None) -> list[str]:
    """Every way `objects` fail strict validation; [] when all are valid.

    Without the schema mirror (crd_schemas None) custom resources cannot be checked, which
    is an error too: callers skip with a reason before they get here.
    """
    errors: list[str] = []
    for obj in objects:
        if is_builtin(obj):
            errors += _builtin_errors(obj)
        elif crd_schemas is None:
            errors.append(f"{describe(obj)}: custom resource and no CRD schema mirror to check it")
        else:
            errors += _crd_errors(obj, crd_schemas)
    return errors


def _defaulted(node, schema: dict):
    if isinstance(node, dict) and isinstance(schema.get("properties"), dict):
        node = dict(node)
        for key, sub in schema["properties"].items():
            if key not in node and "default" in sub:
                node[key] = copy.deepcopy(sub["default"])
            if key in node:
                node[key] = _defaulted(node[key], sub)
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        node = [_defaulted(item, schema["items"]) for item in node]
    return node


def as_stored(obj: dict, crd_schemas: Path) -> dict:
    """A custom resource as the API server stores it: with its CRD schema's defaults filled in."""
    group, version = group_version(obj)
    schema = json.loads((crd_schemas / group / f"{obj['kind'].lower()}_{version}.json").read_text())
    return _defaulted(obj, schema)


def legacy_diff(desired, live, path: str = "") -> list[str]:
    """Where Argo CD's default (legacy, client-side) diff sees drift in a custom resource. Fields the
    server adds to a map are not drift, but a list has no merge keys there: it is compared whole, so
    a default filled into one of its items is drift, and self-heal re-applies it forever."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return [p for key, value in desired.items() for p in legacy_diff(value, live.get(key), f"{path}.{key}")]
    return [] if desired == live else [path]
