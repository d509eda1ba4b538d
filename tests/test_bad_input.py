"""Bad answers through Copier: refused with a message naming the question and the rule,
and nothing left behind in the destination."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from copier import run_copy, run_update

from conftest import git, refusal

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
    pytest.param({"container_port": 80}, "container_port: must be a number from 1024 to 65535", id="privileged-port"),
    pytest.param({"container_port": "http"}, "container_port: must be a number from 1024 to 65535", id="port-not-a-number"),
    pytest.param({"git_revision": "a..b"}, "git_revision: must be a branch, tag, full ref", id="revision"),
    pytest.param({"git_revision": "a b"}, "git_revision: must be a branch, tag, full ref", id="revision-space"),
    pytest.param({"default_branch": "a:b"}, "default_branch: must be a branch, tag, full ref", id="default-branch"),
    pytest.param({"repo_url": "ssh://git@git.example.com:99999/acme/shop.git"},
                 "repo_url: the port must be a number from 1 to 65535", id="url-port-range"),
    pytest.param({"repo_url": "https://git.example.com:git/acme/shop.git"},
                 "repo_url: the port must be a number from 1 to 65535", id="url-port-name"),
    pytest.param({"image_repository": "ghcr.io/acme/-shop"}, "image_repository: must be a lowercase image name",
                 id="image-grammar"),
    pytest.param({"domain": "a." * 105 + "com"}, "domain: at most 208 characters", id="domain-too-long"),
    pytest.param({"description": "🚀\u2028two lines"}, "description: must be a single line", id="line-separator"),
    pytest.param({"description": "bell\a"}, "description: must not contain control characters", id="control"),
    pytest.param({"image_registry": "Registry Example"}, "image_registry: must be a lowercase DNS name",
                 id="org-default"),
    pytest.param({"repo_url": "git@github.com:acme/shop.git", "git_secret_name": ""},
                 "git_secret_name: required for an ssh repo_url", id="ssh-without-flux-credentials"),
    pytest.param({"git_revision": "HEAD"}, "git_revision: must be a branch, tag, full ref", id="revision-head"),
    pytest.param({"domain": "example.com:8443"}, "domain: must be a lowercase DNS name such as example.com",
                 id="domain-with-port"),
    pytest.param({"dns_ip_blocks": "kube-dns"}, "dns_ip_blocks: 'kube-dns' is not a CIDR block",
                 id="dns-ip-block"),
    pytest.param({"prometheus_labels": "release"}, "prometheus_labels: must be comma-separated labels", id="labels"),
    pytest.param({"argocd_notify": "slack"}, "argocd_notify: must be service:recipient", id="notify"),
    pytest.param({"gitops_controller": "jenkins"}, "Invalid choice for 'gitops_controller'", id="unknown-controller"),
    # Names the platform already owns: the app's objects would overwrite them.
    pytest.param({"app_name": "default"}, "app_name: default is Argo CD's built-in AppProject", id="name-default"),
    pytest.param({"app_name": "flux-system"}, "app_name: flux-system is Flux's own GitRepository and Kustomization",
                 id="name-flux-system"),
    pytest.param({"app_name": "gitops", "flux_namespace": "gitops"},
                 "app_name: gitops is Flux's own GitRepository and Kustomization", id="name-flux-namespace"),
    *(pytest.param({"namespace": namespace}, f"namespace: {namespace} is {owner}", id=f"namespace-{namespace}")
      for namespace, owner in [("kube-system", "Kubernetes' own"), ("kube-anything", "Kubernetes' own"),
                               ("default", "Kubernetes' own"), ("argocd", "Argo CD's"), ("flux-system", "Flux's"),
                               ("rook-ceph", "the infrastructure's (rook-ceph)"),
                               ("cert-manager", "the infrastructure's (cert-manager)"),
                               ("monitoring", "the infrastructure's (Prometheus)"),
                               ("gateway-system", "the infrastructure's (the Gateway)"),
                               ("envoy-gateway-system", "the infrastructure's (the Gateway's proxies)"),
                               ("secrets", "the infrastructure's (the secret store)")]),
    # Org defaults, validated like the app's answers.
    pytest.param({"dns_ip_blocks": "10.0.0.1"}, "dns_ip_blocks: '10.0.0.1' is not a CIDR block", id="dns-ip-no-prefix"),
    pytest.param({"argocd_notify": "slack-:ops"}, "argocd_notify: the service must fit an annotation key",
                 id="notify-key"),
    pytest.param({"argocd_notify": "s" * 35 + ":ops"}, "argocd_notify: the service must fit an annotation key",
                 id="notify-key-length"),
    pytest.param({"prometheus_labels": "a=b,a=c"}, "prometheus_labels: a is given twice", id="labels-twice"),
    pytest.param({"grafana_dashboard_labels": ""}, "grafana_dashboard_labels: at least one label",
                 id="dashboard-labels-empty"),
    pytest.param({"image_registry": "registry"}, "image_registry: registry is read as a path on Docker Hub",
                 id="registry-without-dot"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_refused_and_nothing_written(template_dir, tmp_path, answers, message):
    assert message in refusal(template_dir, tmp_path / "app", {"app_name": "shop", **answers})


def test_existing_destination_is_left_as_it_was(template_dir, tmp_path):
    dst = tmp_path / "app"
    dst.mkdir()
    (dst / "keep.txt").write_text("mine")
    with pytest.raises(ValueError):
        run_copy(str(template_dir), dst, data={"app_name": "Bad"}, defaults=True, unsafe=True, quiet=True)
    assert [p.name for p in dst.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("mine", [".gitignore", "README.md", "notes.txt"])
def test_copy_into_a_non_empty_folder_is_refused_up_front(template_dir, tmp_path, mine):
    # Without the refusal, Copier writes files until the first that exists, then stops (or,
    # with --overwrite, replaces the user's README and .gitignore).
    dst = tmp_path / "app"
    dst.mkdir()
    (dst / mine).write_text("mine")
    with pytest.raises(ValueError, match=f"destination: not empty \\({re.escape(mine)}\\)"):
        run_copy(str(template_dir), dst, data={"app_name": "shop"}, defaults=True, unsafe=True, quiet=True)
    assert [(p.name, p.read_text()) for p in dst.iterdir()] == [(mine, "mine")]


def test_copy_into_a_fresh_clone_or_with_overwrite(template_dir, tmp_path):
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    run_copy(str(template_dir), clone, data={"app_name": "shop"}, defaults=True, unsafe=True, quiet=True)
    assert (clone / "helm/base/Chart.yaml").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("mine")
    (mine / "notes.txt").write_text("mine")
    run_copy(str(template_dir), mine, data={"app_name": "shop"}, defaults=True, overwrite=True, unsafe=True,
             quiet=True)
    assert (mine / "README.md").read_text().startswith("# shop") and (mine / "notes.txt").read_text() == "mine"


def test_cli_refuses_a_non_empty_folder_naming_it(template_dir, tmp_path):
    dst = tmp_path / "app"
    dst.mkdir()
    (dst / "README.md").write_text("mine")
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--data", "app_name=shop",
         str(template_dir), str(dst)],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert result.stderr.rstrip().endswith(
        "destination: not empty (README.md): copy into a new or empty folder, or pass "
        f"--overwrite to let the template replace files of the same name ({dst})")
    assert [p.name for p in dst.iterdir()] == ["README.md"]


def test_update_still_renders_into_the_existing_app(template_repo, tmp_path):
    app = tmp_path / "app"
    run_copy(str(template_repo), app, data={"app_name": "shop"}, vcs_ref="v1", defaults=True, unsafe=True,
             quiet=True)
    git(app, "init", "--quiet")
    git(app, "add", "--all")
    git(app, "commit", "--quiet", "--message", "generated")
    chart = template_repo / "template/helm/base/Chart.yaml.jinja"
    chart.write_text(chart.read_text() + "keywords:\n  - gitops\n")
    git(template_repo, "commit", "--quiet", "--all", "--message", "v2")
    git(template_repo, "tag", "v2")
    run_update(app, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="v2")
    assert yaml.safe_load((app / "helm/base/Chart.yaml").read_text())["keywords"] == ["gitops"]


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
