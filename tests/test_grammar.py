"""extensions/gitops_template: the one-line checks validators share (grammar.py), on its own, without Copier."""

from __future__ import annotations

import pytest

from gitops_template.grammar import (
    cidr_list,
    cidr_list_error,
    hostname_error,
    label_map,
    label_map_error,
    notification_target_error,
)


@pytest.mark.parametrize(
    ("question", "value", "allow_port", "rule"),
    [("git_host", "Git Hub", True, "must be a lowercase DNS name"),
     ("image_registry", "ghcr.io:abc", True, "the port must be a number from 1 to 65535"),
     ("image_registry", "ghcr.io:0", True, "the port must be a number from 1 to 65535"),
     ("image_registry", "ghcr.io:65536", True, "the port must be a number from 1 to 65535"),
     ("domain", "-x.example.com", False, "must be a lowercase DNS name"),
     ("domain", "example.com:8443", False, "must be a lowercase DNS name"),
     ("domain", "a" * 64 + ".com", False, "must be a lowercase DNS name")],
)
def test_hostname_refused(question, value, allow_port, rule):
    assert hostname_error(question, value, allow_port).startswith(f"{question}: {rule}")


def test_hostname_port_only_where_allowed():
    assert hostname_error("image_registry", "registry.example.com:5000", allow_port=True) == ""
    assert hostname_error("domain", "example.com") == ""


@pytest.mark.parametrize(("value", "blocks"), [("", []), ("169.254.20.10/32", ["169.254.20.10/32"]),
                                               ("169.254.20.10/32, fd00::10/128", ["169.254.20.10/32", "fd00::10/128"])])
def test_cidr_list_accepted(value, blocks):
    assert cidr_list_error("dns_ip_blocks", value) == ""
    assert cidr_list(value) == blocks


@pytest.mark.parametrize("value", ["169.254.20.10/33", "dns", "10.0.0.1/32;10.0.0.2/32", None, ["10.0.0.1/32"],
                                   "10.0.0.1", "10.0.0.1/24", "fd00::10"])
def test_cidr_list_refused(value):
    assert cidr_list_error("dns_ip_blocks", value).startswith("dns_ip_blocks: ")


@pytest.mark.parametrize(("value", "labels"), [("", {}), ("release=kps", {"release": "kps"}),
                                               ("a=1, example.com/team=", {"a": "1", "example.com/team": ""})])
def test_label_map_accepted(value, labels):
    assert label_map_error("prometheus_labels", value) == ""
    assert label_map(value) == labels


@pytest.mark.parametrize("value", ["release", "release=kube prometheus", "-x=1", "Example.com/x=1", "x=" + "a" * 64, None,
                                   "a=b,a=c", "a=b, a=b"])
def test_label_map_refused(value):
    assert label_map_error("prometheus_labels", value).startswith("prometheus_labels: ")


@pytest.mark.parametrize("value", ["", "slack:platform-alerts", "email:ops@example.com", "teams:#ops"])
def test_notification_target_accepted(value):
    assert notification_target_error("argocd_notify", value) == ""


@pytest.mark.parametrize("value", ["slack", "slack:", ":ops", "Slack:ops", "slack:two words", None])
def test_notification_target_refused(value):
    assert notification_target_error("argocd_notify", value).startswith("argocd_notify: must be service:recipient")


def test_label_map_required_and_each_key_once():
    assert label_map_error("grafana_dashboard_labels", "", required=True) == (
        "grafana_dashboard_labels: at least one label, such as grafana_dashboard=1")
    assert label_map_error("prometheus_labels", "a=b,a=c") == "prometheus_labels: a is given twice; a label has one value"
