"""Kubernetes RBAC, as the API server's authorizer decides a request, over the Roles, ClusterRoles
and bindings a graph holds (https://kubernetes.io/docs/reference/access-authn-authz/rbac/).

A subject is a user name as the API server sees it; a ServiceAccount is
`system:serviceaccount:<namespace>:<name>`, also in the groups `system:serviceaccounts` and
`system:serviceaccounts:<namespace>`. Rules only add rights (there is no deny). A ClusterRoleBinding
grants its ClusterRole everywhere; a RoleBinding grants its Role, or a ClusterRole, in its own
namespace only, never on cluster-scoped objects. `resourceNames` restricts get, patch, update and
delete to those names, never create (the name is not known when it is authorized).
"""

from __future__ import annotations

from dataclasses import dataclass

# Built-in ClusterRoles the API server bootstraps (only cluster-admin is modelled: the aggregated
# admin, edit and view depend on the CRDs installed).
BUILTIN_CLUSTER_ROLES = {"cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}


def service_account(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def resource_of(kind: str) -> str:
    """A kind's resource name, as Kubernetes guesses it for a CRD that names none
    (k8s.io/apimachinery pkg/api/meta/restmapper.go, UnsafeGuessKindToResource)."""
    lower = kind.lower()
    if lower.endswith("s"):
        return f"{lower}es"
    if lower.endswith("y"):
        return f"{lower[:-1]}ies"
    return f"{lower}s"


@dataclass(frozen=True)
class Request:
    """One API request: `namespace` is "" for a cluster-scoped object."""

    user: str
    verb: str
    group: str
    resource: str
    namespace: str
    name: str

    def describe(self) -> str:
        where = f"in {self.namespace}" if self.namespace else "cluster-wide"
        name = f" {self.name}" if self.name else ""
        return f"{self.user} cannot {self.verb} {self.resource}.{self.group or 'core'}{name} {where}"


def _subjects_match(subjects: list[dict], user: str) -> bool:
    for subject in subjects or []:
        kind = subject.get("kind")
        if kind == "ServiceAccount" and user == service_account(subject.get("namespace", ""), subject["name"]):
            return True
        if kind == "User" and subject["name"] == user:
            return True
        if kind == "Group" and user.startswith("system:serviceaccount:"):
            namespace = user.split(":")[2]
            if subject["name"] in ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                   "system:authenticated"):
                return True
    return False


def _rule_allows(rule: dict, request: Request) -> bool:
    def has(field: str, value: str) -> bool:
        values = rule.get(field) or []
        return "*" in values or value in values

    names = rule.get("resourceNames") or []
    return (has("apiGroups", request.group) and has("resources", request.resource) and has("verbs", request.verb)
            and (not names or (request.verb != "create" and request.name in names)))


def allowed(objects: dict[tuple[str, str, str], dict], request: Request) -> bool:
    """Whether the Roles, ClusterRoles and bindings among `objects` (keyed kind, namespace, name)
    allow the request."""
    def rules(ref: dict, namespace: str) -> list[dict]:
        if ref["kind"] == "ClusterRole":
            role = objects.get(("ClusterRole", "", ref["name"]))
            return role.get("rules") or [] if role else BUILTIN_CLUSTER_ROLES.get(ref["name"], [])
        role = objects.get(("Role", namespace, ref["name"]))
        return role.get("rules") or [] if role else []

    for (kind, namespace, _), binding in objects.items():
        if kind == "ClusterRoleBinding":
            granted = rules(binding["roleRef"], "")
        elif kind == "RoleBinding" and request.namespace == namespace:
            granted = rules(binding["roleRef"], namespace)
        else:
            continue
        if _subjects_match(binding.get("subjects"), request.user) and any(_rule_allows(r, request) for r in granted):
            return True
    return False
