"""The shared one-line checks every validator is built from: free text, DNS names and labels,
ports, CIDR blocks, Kubernetes labels. Each `*_error` returns "" for a good value, else one
sentence naming the question and the rule it breaks.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

# Kubernetes limits: most object names and every label value are DNS-1123 labels (63);
# Helm keeps release names to 53 so that its own suffixes still fit.
LABEL_MAX = 63
RELEASE_MAX = 53
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A whole DNS name, and the domain every app's hostname `<app>.<domain>` is built on.
DNS_NAME_MAX = 253
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}|\$\{")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_NOTIFICATION_TARGET = re.compile(r"[a-z0-9][-a-z0-9]*:[A-Za-z0-9_#@.-]+")


def text_error(question: str, value: object) -> str:
    """The checks every free-text answer shares."""
    if not isinstance(value, str) or not value.strip():
        return f"{question}: a value is required"
    if value.splitlines() != [value]:
        return f"{question}: must be a single line"
    if value != value.strip():
        return f"{question}: must not start or end with spaces"
    # Never meant in a one-line answer; a lone surrogate (undecodable input) has no form in YAML at all.
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        return f"{question}: must not contain control characters"
    if _TEMPLATE_SYNTAX.search(value):
        return f"{question}: must not contain template syntax ({{{{ }}}}, {{% %}}, ${{ }})"
    return ""


def derived_name_error(question: str, value: object, limit: int) -> str:
    """A name that names objects with suffixes after it: a DNS-1035 label of at most `limit`."""
    if error := text_error(question, value):
        return error
    if len(value) > limit:
        return (
            f"{question}: at most {limit} characters so that every derived name "
            f"fits Kubernetes limits (got {len(value)})"
        )
    if not _DNS1035_LABEL.fullmatch(value):
        return (
            f"{question}: must be a DNS-1035 label: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return ""


def dns_label_error(question: str, value: object) -> str:
    if error := text_error(question, value):
        return error
    if len(value) > LABEL_MAX or not _DNS1123_LABEL.fullmatch(value):
        return (
            f"{question}: must be a DNS-1123 label: at most {LABEL_MAX} lowercase letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return ""


def hostname_error(question: str, value: object, allow_port: bool = False) -> str:
    """A DNS name such as a domain; a git host or a registry may add a port."""
    if error := text_error(question, value):
        return error
    host, colon, port = value.partition(":") if allow_port else (value, "", "")
    if colon and not port_is_valid(port):
        return f"{question}: the port must be a number from 1 to 65535"
    if not is_dns_name(host):
        example = "example.com (optionally :port)" if allow_port else "example.com"
        return (f"{question}: must be a lowercase DNS name such as {example}, at most {DNS_NAME_MAX} "
                f"characters, {LABEL_MAX} per label")
    return ""


def is_dns_name(host: str) -> bool:
    return (len(host) <= DNS_NAME_MAX and bool(_DNS1123_SUBDOMAIN.fullmatch(host))
            and all(len(label) <= LABEL_MAX for label in host.split(".")))


def port_is_valid(port: str) -> bool:
    """A TCP port as URLs and image references write it: decimal digits, 1-65535."""
    return port.isascii() and port.isdigit() and 1 <= int(port) <= 65535


def url_port_error(parts) -> str:
    """The port of a split URL, if it names one, must be 1-65535 in decimal digits."""
    _, colon, port = parts.netloc.rpartition("@")[2].rpartition(":")
    if colon and not port_is_valid(port):
        return "the port must be a number from 1 to 65535"
    return ""


def cidr_list_error(question: str, value: object) -> str:
    """Comma-separated IP blocks in CIDR notation (10.0.0.10/32), as NetworkPolicy ipBlock takes them;
    empty for none."""
    if not isinstance(value, str):
        return f"{question}: must be comma-separated CIDR blocks such as 169.254.20.10/32"
    for block in cidr_list(value):
        try:
            # A bare address is a /32 to Python, but not to the chart's schema nor to NetworkPolicy.
            ipaddress.ip_network(block if "/" in block else "no prefix")
        except ValueError:
            return f"{question}: {block!r} is not a CIDR block such as 169.254.20.10/32"
    return ""


def cidr_list(value: str) -> list[str]:
    return [block.strip() for block in value.split(",") if block.strip()]


def label_map_error(question: str, value: object, required: bool = False) -> str:
    """Comma-separated Kubernetes labels, key=value (key optionally prefixed, as in example.com/team),
    each key once; `required`: at least one."""
    if not isinstance(value, str) or any("=" not in pair for pair in _pairs(value)):
        return f"{question}: must be comma-separated labels such as release=kube-prometheus-stack"
    if required and not _pairs(value):
        return f"{question}: at least one label, such as grafana_dashboard=1"
    keys = [pair.split("=", 1)[0] for pair in _pairs(value)]
    if repeated := sorted({key for key in keys if keys.count(key) > 1}):
        return f"{question}: {', '.join(repeated)} is given twice; a label has one value"
    for key, label in label_map(value).items():
        prefix, _, name = key.rpartition("/")
        if (not label_name_is_valid(name) or (prefix and not _DNS1123_SUBDOMAIN.fullmatch(prefix))
                or not _LABEL_VALUE.fullmatch(label)):
            return f"{question}: {key}={label} is not a valid Kubernetes label"
    return ""


def label_name_is_valid(name: str) -> bool:
    """The name part of a label or annotation key (after any prefix/)."""
    return bool(_LABEL_NAME.fullmatch(name))


def _pairs(value: str) -> list[str]:
    return [pair.strip() for pair in value.split(",") if pair.strip()]


def label_map(value: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in _pairs(value))


def notification_target_error(question: str, value: object) -> str:
    """service:recipient, as Argo CD notifications subscribe (slack:platform-alerts); empty for none."""
    if value == "":
        return ""
    if not isinstance(value, str) or not _NOTIFICATION_TARGET.fullmatch(value):
        return f"{question}: must be service:recipient, such as slack:platform-alerts"
    return ""
