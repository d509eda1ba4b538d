"""Bad answers through Copier: refused with a message naming the question and the rule,
and nothing left behind in the destination."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_copy

BAD_ANSWERS = [
    pytest.param({"app_name": "MyApp"}, "app_name: must be a DNS-1035 label", id="uppercase"),
    pytest.param({"app_name": "a" * 45}, "app_name: at most 44 characters", id="too-long"),
    pytest.param({"app_name": "-shop"}, "app_name: must be a DNS-1035 label", id="leading-dash"),
    pytest.param({"app_name": "shop-"}, "app_name: must be a DNS-1035 label", id="trailing-dash"),
    pytest.param({"app_name": "my shop"}, "app_name: must be a DNS-1035 label", id="space"),
    pytest.param({"app_name": "acme/shop"}, "app_name: must be a DNS-1035 label", id="path-separator"),
    pytest.param({"app_name": "{{ name }}"}, "app_name: must not contain template syntax", id="template-syntax"),
    pytest.param({"app_name": "shop\nx"}, "app_name: must be a single line", id="newline"),
    pytest.param({"app_name": ""}, "app_name: a value is required", id="empty"),
    pytest.param(
        {"repo_url": "https://bob:hunter2@github.com/acme/shop.git"},
        "repo_url: must not contain credentials",
        id="url-credentials",
    ),
    pytest.param({"repo_url": "https://ghp_abc@github.com/acme/shop.git"}, "repo_url: must not contain credentials",
                 id="url-token"),
    pytest.param({"namespace": "Shop"}, "namespace: must be a DNS-1123 label", id="namespace-uppercase"),
    pytest.param({"namespace": ""}, "namespace: a value is required", id="namespace-empty"),
    pytest.param({"description": "{% raw %}"}, "description: must not contain template syntax",
                 id="description-template"),
    pytest.param({"container_port": 80}, "container_port: must be between 1024 and 65535", id="privileged-port"),
    pytest.param({"git_revision": "a..b"}, "git_revision: must be a git branch or tag", id="revision"),
    pytest.param({"image_registry": "Registry Example"}, "image_registry: must be a lowercase DNS name",
                 id="org-default"),
    pytest.param({"repo_url": "git@github.com:acme/shop.git", "git_secret_name": ""},
                 "git_secret_name: required for an ssh repo_url", id="ssh-without-flux-credentials"),
    pytest.param({"git_revision": "HEAD"}, "git_revision: must be a git branch or tag", id="revision-head"),
    pytest.param({"domain": "example.com:8443"}, "domain: must be a lowercase DNS name such as example.com",
                 id="domain-with-port"),
    pytest.param({"dns_ip_blocks": "kube-dns"}, "dns_ip_blocks: 'kube-dns' is not a CIDR block",
                 id="dns-ip-block"),
    pytest.param({"prometheus_labels": "release"}, "prometheus_labels: must be comma-separated labels", id="labels"),
    pytest.param({"argocd_notify": "slack"}, "argocd_notify: must be service:recipient", id="notify"),
    pytest.param({"gitops_controller": "jenkins"}, "Invalid choice for 'gitops_controller'", id="unknown-controller"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_refused_and_nothing_written(template_dir, tmp_path, answers, message):
    dst = tmp_path / "app"
    with pytest.raises(ValueError) as refusal:
        run_copy(str(template_dir), dst, data={"app_name": "shop", **answers}, defaults=True, unsafe=True,
                 quiet=True)
    assert message in str(refusal.value)
    assert not dst.exists()


def test_existing_destination_is_left_as_it_was(template_dir, tmp_path):
    dst = tmp_path / "app"
    dst.mkdir()
    (dst / "keep.txt").write_text("mine")
    with pytest.raises(ValueError):
        run_copy(str(template_dir), dst, data={"app_name": "Bad"}, defaults=True, unsafe=True, quiet=True)
    assert [p.name for p in dst.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("via", ["data", "data-file"])
def test_cli_error_ends_with_the_validator_message(template_dir, tmp_path, via):
    dst = tmp_path / "app"
    if via == "data":
        source = ["--data", "app_name=Bad_Name"]
    else:
        answers = tmp_path / "answers.yml"
        answers.write_text(yaml.safe_dump({"app_name": "Bad_Name"}))
        source = ["--data-file", str(answers)]
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", *source, str(template_dir), str(dst)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stderr.rstrip().endswith(
        "app_name: must be a DNS-1035 label: lowercase letters, digits and '-', "
        "starting with a letter and ending with a letter or digit"
    )
    assert not dst.exists()


def test_required_app_name_with_defaults(template_dir, tmp_path):
    with pytest.raises(ValueError, match='Question "app_name" is required'):
        run_copy(str(template_dir), tmp_path / "app", defaults=True, unsafe=True, quiet=True)
    assert not (tmp_path / "app").exists()
