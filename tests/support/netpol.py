"""NetworkPolicy semantics, as the Kubernetes API documents them, to ask whether a rendered
policy lets a given peer in or out. Only what the charts use: label selectors, ipBlock, ports."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Peer:
    """The other end of a connection: a pod (namespace and labels) or a bare IP address."""

    namespace: str = ""
    labels: dict = field(default_factory=dict)
    ip: str = ""


def selects(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector; {} selects everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if not {"In": key in labels and labels[key] in values,
                "NotIn": key not in labels or labels[key] not in values,
                "Exists": key in labels,
                "DoesNotExist": key not in labels}[op]:
            return False
    return True


def _peer_matches(rule_peer: dict, peer: Peer, policy_namespace: str) -> bool:
    if "ipBlock" in rule_peer:
        if not peer.ip:
            return False
        block = rule_peer["ipBlock"]
        address = ipaddress.ip_address(peer.ip)
        return (address in ipaddress.ip_network(block["cidr"])
                and not any(address in ipaddress.ip_network(e) for e in block.get("except", [])))
    if peer.ip:
        return False
    namespace_labels = {"kubernetes.io/metadata.name": peer.namespace}
    if "namespaceSelector" in rule_peer:
        in_namespace = selects(rule_peer["namespaceSelector"], namespace_labels)
    else:
        in_namespace = peer.namespace == policy_namespace
    return in_namespace and selects(rule_peer.get("podSelector"), peer.labels)


def _port_matches(ports: list | None, port: int, protocol: str, port_names: dict) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None or wanted == port or port_names.get(wanted) == port:
            return True
    return False


def allows(policy: dict, direction: str, peer: Peer, port: int, protocol: str = "TCP",
           port_names: dict | None = None) -> bool:
    """Whether `policy` lets `peer` reach the selected pods (direction "ingress") or the selected
    pods reach `peer` (direction "egress") on port/protocol. `port_names` resolves named ports."""
    spec = policy["spec"]
    kind = direction.capitalize()
    if kind not in spec.get("policyTypes", ["Ingress"]):
        return True
    side = "from" if direction == "ingress" else "to"
    namespace = policy["metadata"]["namespace"]
    return any(
        (not rule.get(side) or any(_peer_matches(p, peer, namespace) for p in rule[side]))
        and _port_matches(rule.get("ports"), port, protocol, port_names or {})
        for rule in spec.get(direction) or []
    )
