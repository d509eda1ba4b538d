"""Vault, as it decides what the fleet's secret store may read: from the commands a fleet's
README.md has a person run ("Production prerequisites"), the Kubernetes auth role and the ACL
policy it writes, never a copy of them.

A login through Kubernetes auth passes the role only for a ServiceAccount whose name and
namespace the role binds, each a list of globs or "*" (vault-plugin-auth-kubernetes v0.24
path_login.go, strutil.StrListContainsGlob). The token's alias carries the account's
`service_account_namespace` (path_login.go, metadataKeySANamespace), which a templated policy
reads as `{{identity.entity.aliases.<mount accessor>.metadata.service_account_namespace}}`
(vault website/content/docs/concepts/policies.mdx, "Templated policies"). A policy path is
exact, or ends in `*` (any suffix), and `+` stands for one path segment (same page, "Policy
syntax"); a path no rule grants `read` is denied.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass

_POLICY = re.compile(r"^vault policy write \S+ - <<'?EOF'?\n(.*?)^EOF$", re.M | re.S)
_RULE = re.compile(r'^path "([^"]+)" \{ capabilities = \[([^\]]*)\] \}$', re.M)
_ROLE = re.compile(r"^vault write auth/\S+/role/\S+ .*$", re.M)
_NAMESPACE = "{{identity.entity.aliases.$accessor.metadata.service_account_namespace}}"


@dataclass
class Vault:
    rules: list[tuple[str, set[str]]]  # path (templated), capabilities
    names: list[str]  # bound_service_account_names
    namespaces: list[str]  # bound_service_account_namespaces

    @classmethod
    def from_readme(cls, text: str) -> Vault:
        [policy] = _POLICY.findall(text)
        [role] = _ROLE.findall(text)
        fields = dict(word.split("=", 1) for word in shlex.split(role)[3:])
        rules = [(path, {c.strip().strip('"') for c in capabilities.split(",")})
                 for path, capabilities in _RULE.findall(policy)]
        return cls(rules, fields["bound_service_account_names"].split(","),
                   fields["bound_service_account_namespaces"].split(","))

    def denial(self, namespace: str, account: str, path: str) -> str | None:
        """Why Vault refuses the ServiceAccount `namespace`/`account` a read of `path`, or None."""
        if not any(fnmatch.fnmatchcase(account, name) for name in self.names):
            return f"Vault's role does not bind the ServiceAccount name {account}"
        if "*" not in self.namespaces and not any(fnmatch.fnmatchcase(namespace, n) for n in self.namespaces):
            return f"Vault's role does not bind the namespace {namespace}"
        for rule, capabilities in self.rules:
            pattern = rule.replace(_NAMESPACE, namespace)
            expression = re.escape(pattern.removesuffix("*")).replace(r"\+", "[^/]+")
            if "read" in capabilities and re.fullmatch(expression + (".*" if pattern.endswith("*") else ""), path):
                return None
        return f"Vault's policy lets namespace {namespace} read no {path}"

