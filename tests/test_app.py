"""The generated tree over the answer matrix: the right files, valid YAML, honest README."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from conftest import ANSWER_SETS, ROOT, commit_all, git, load_answers
from support.lint import yamllint
from support.helm import CLUSTER_API_VERSIONS, render
from support.kube import K8S_VERSIONS
from support.workflow import Workflow
from gitops_template.images import split_image_repository

ARGOCD_FILES = {"gitops/argocd/kustomization.yaml", "gitops/argocd/project.yaml", "gitops/argocd/base-application.yaml",
                "gitops/argocd/platform-application.yaml"}
FLUXCD_FILES = {
    "gitops/fluxcd/git-repository.yaml",
    "gitops/fluxcd/base-kustomization.yaml",
    "gitops/fluxcd/platform-kustomization.yaml",
    "gitops/fluxcd-releases/base/helm-release.yaml",
    "gitops/fluxcd-releases/base/kustomization.yaml",
    "gitops/fluxcd-releases/platform/helm-release.yaml",
    "gitops/fluxcd-releases/platform/kustomization.yaml",
    "gitops/fluxcd-releases/platform/namespace.yaml",
}
COMMON_FILES = {
    ".copier-answers.yml", ".yamllint.yaml", "README.md", "Dockerfile", ".dockerignore", "renovate.json",
    "helm/base/Chart.yaml", "helm/base/values.yaml", "helm/base/values.schema.json",
    "helm/platform/Chart.yaml", "helm/platform/values.yaml", "helm/platform/values.schema.json",
    "gitops/values-base.yaml", "gitops/values-platform.yaml",
}


def files(app: Path) -> set[str]:
    return {str(p.relative_to(app)) for p in app.rglob("*") if p.is_file()}


@pytest.mark.parametrize("controller", ["both", "argocd", "fluxcd"])
def test_only_the_chosen_controllers_files(generate, controller):
    generated = files(generate(gitops_controller=controller))
    assert COMMON_FILES <= generated
    gitops = {f for f in generated if f.startswith(("gitops/argocd", "gitops/fluxcd"))}
    expected = (ARGOCD_FILES if controller != "fluxcd" else set()) | (FLUXCD_FILES if controller != "argocd" else set())
    assert gitops == expected


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_nothing_left_unrendered(app, name):
    root = app(name)
    for path in root.rglob("*"):
        assert not path.name.endswith(".jinja"), path
        assert "{%" not in str(path) and "{{" not in str(path), path
        if path.is_dir():
            assert any(path.iterdir()), f"empty folder {path}"


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_answers_file_records_every_answer(app, name):
    recorded = yaml.safe_load((app(name) / ".copier-answers.yml").read_text())
    assert load_answers(name).items() <= recorded.items()
    # Org defaults are not asked, but recorded: `copier update` must not lose them.
    for org_default in ("git_host", "image_registry", "argocd_namespace", "flux_namespace", "cluster_server"):
        assert org_default in recorded


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_yamllint(app, name):
    problems, checked = yamllint(app(name))
    assert not problems, "\n".join(problems)
    assert checked >= 8


@pytest.mark.parametrize("controller", ["both", "argocd", "fluxcd"])
def test_readme_deploy_section_matches_the_controller(generate, controller):
    readme = (generate(gitops_controller=controller) / "README.md").read_text()
    assert ("kubectl apply -k gitops/argocd/" in readme) == (controller != "fluxcd")
    assert ("kubectl apply -f gitops/fluxcd/" in readme) == (controller != "argocd")
    assert ("### With Argo CD" in readme) == (controller != "fluxcd")
    assert ("### With Flux" in readme) == (controller != "argocd")


def test_org_defaults_from_copier_settings_file(template_dir, tmp_path, monkeypatch):
    settings = tmp_path / "settings.yml"
    settings.write_text(yaml.safe_dump({"defaults": {"image_registry": "registry.example.org",
                                                     "git_owner": "platform"}}))
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))
    from copier import run_copy

    run_copy(str(template_dir), tmp_path / "app", data={"app_name": "shop"}, defaults=True, unsafe=True, quiet=True)
    answers = yaml.safe_load((tmp_path / "app/.copier-answers.yml").read_text())
    assert answers["repo_url"] == "https://github.com/platform/shop.git"
    assert answers["image_repository"] == "registry.example.org/platform/shop"


def test_org_defaults_from_data(generate):
    recorded = yaml.safe_load((generate(domain="k8s.example.net", flux_namespace="flux") / ".copier-answers.yml")
                              .read_text())
    assert (recorded["domain"], recorded["flux_namespace"]) == ("k8s.example.net", "flux")


@pytest.mark.parametrize(("repo_url", "expected"), [("https://github.com/acme/shop.git", True),
                                                      ("https://gitlab.example.com/acme/shop.git", False),
                                                      ("https://github.example.com/acme/shop.git", False)])
def test_github_workflow_only_for_github(generate, repo_url, expected):
    root = generate(repo_url=repo_url)
    assert (root / ".github/workflows/ci.yaml").is_file() == expected


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_image_and_port_agree_everywhere(app, name):
    root = app(name)
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    image, port = answers["image_repository"], int(answers["container_port"])
    values = yaml.safe_load((root / "helm/base/values.yaml").read_text())
    assert (values["image"]["repository"], values["containerPort"]) == (image, port)
    dockerfile = (root / "Dockerfile").read_text()
    assert f"EXPOSE {port}\n" in dockerfile
    readme = (root / "README.md").read_text()
    assert f"`{image}`" in readme and f"port {port}" in readme
    workflow = root / ".github/workflows/ci.yaml"
    if workflow.exists():
        jobs = yaml.safe_load(workflow.read_text())["jobs"]
        [env] = [step["env"] for step in jobs["release"]["steps"] if step.get("name") == "Build and push the image"]
        assert (env["IMAGE"], env["REGISTRY"]) == (image, split_image_repository(image)[0])


def test_charts_declare_the_oldest_kubernetes_version_tested(app):
    root = app(ANSWER_SETS[0])
    for chart in ("base", "platform"):
        chart_yaml = yaml.safe_load((root / "helm" / chart / "Chart.yaml").read_text())
        assert chart_yaml["kubeVersion"] == f">={K8S_VERSIONS[0]}.0-0"


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_readme_render_commands_work(app, name):
    root = app(name)
    readme = (root / "README.md").read_text()
    section = readme[readme.index("### Render locally"):]
    commands = section[section.index("```sh\n") + 6:section.index("```", section.index("```sh\n") + 6)]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "kind: Deployment" in result.stdout


def test_help_names_the_question_and_fits_80_columns():
    # Copier prints the help as the prompt ("🎤 " first, 3 columns) and cuts nothing but the
    # terminal does; errors name the question by its key, which the first line shows.
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    questions = {key: q for key, q in config.items() if not key.startswith("_")}
    for key, question in questions.items():
        first, *details = question["help"].split("\n")
        assert first.startswith(f"{key}: ") and len(first) <= 77, key
        assert all(line.startswith("  ") and len(line) <= 80 for line in details), key
        assert all(len(label) <= 76 for label in question.get("choices", {})), key


def test_an_image_without_a_registry_logs_in_to_docker_hub(generate):
    # Docker's rule: `team/app` is docker.io/team/app, not an image on a registry called "team".
    workflow = yaml.safe_load((generate(image_repository="team/app") / ".github/workflows/ci.yaml").read_text())
    [env] = [step["env"] for step in workflow["jobs"]["release"]["steps"] if step.get("name") == "Build and push the image"]
    assert (env["IMAGE"], env["REGISTRY"]) == ("team/app", "docker.io")


def test_an_app_name_with_a_double_dash_gets_its_default_image(generate):
    answers = yaml.safe_load((generate(app_name="my--app") / ".copier-answers.yml").read_text())
    assert answers["image_repository"] == "ghcr.io/acme/my--app"
def test_readme_tells_how_the_gateway_must_admit_the_route(generate):
    """Gateway API listeners admit routes of their own namespace only unless allowedRoutes says more."""
    readme = (generate(namespace="shop-prod") / "README.md").read_text()
    deploy = readme[readme.index("## Deploy"):readme.index("### Render locally")]
    assert "Gateway `gateway-system/public`" in deploy
    assert "allowedRoutes.namespaces.from" in deploy and "`Same`" in deploy
    assert "kubernetes.io/metadata.name: shop-prod" in deploy


def deployed_image(repo: Path, revision: str) -> str:
    """The image both controllers deploy at `revision`: the chart with gitops/values-base.yaml."""
    tree = Path(tempfile.mkdtemp(dir=repo.parent))
    subprocess.run(f"git archive {revision} | tar -x -C {tree}", shell=True, cwd=repo, check=True)
    objects = render(tree / "helm/base", "demo", "demo", [tree / "gitops/values-base.yaml"], CLUSTER_API_VERSIONS)
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def test_ci_delivers_each_push_to_the_branch_and_a_tag_releases_it(generate, tmp_path):
    """A push publishes its code's image, then deploys it on the branch in a commit of its own, on
    which a run changes nothing; a tag releases a commit whose values deploy its own code's image."""
    root = generate(default_branch="trunk")
    git(root, "init", "--quiet", "--initial-branch", "trunk")
    commit_all(root, "generated")
    workflow = Workflow(root, tmp_path, branch="trunk")
    assert workflow.job["if"] == "github.ref == 'refs/heads/trunk' || startsWith(github.ref, 'refs/tags/v')"
    generated = git(root, "rev-parse", "HEAD").strip()
    # Before CI's first run, the chart's appVersion deploys: the run publishes it too.
    assert deployed_image(workflow.origin, "trunk") == "ghcr.io/acme/demo:0.1.0"
    assert workflow.deploy() == {"tag": generated, "alias": "0.1.0"}
    assert deployed_image(workflow.origin, "trunk") == f"ghcr.io/acme/demo:{generated}"
    deploy_commit = git(workflow.origin, "rev-parse", "trunk").strip()
    assert git(workflow.origin, "log", "-1", "--format=%an %s", "trunk").strip() == \
        f"github-actions[bot] Deploy ghcr.io/acme/demo:{generated}"
    # A run on the deploy commit publishes nothing new and commits nothing: no loop.
    assert workflow.deploy() == {"tag": generated, "alias": "0.1.0"}
    assert git(workflow.origin, "rev-parse", "trunk").strip() == deploy_commit

    # A code change: its own image, deployed by the next commit.
    git(root, "pull", "--quiet", "--rebase", str(workflow.origin), "trunk")
    (root / "src/server.py").write_text((root / "src/server.py").read_text() + "# new code\n")
    code = commit_all(root, "new code")
    git(root, "push", "--quiet", str(workflow.origin), "HEAD:trunk")
    assert deployed_image(workflow.origin, "trunk") == f"ghcr.io/acme/demo:{generated}"
    assert workflow.deploy()["tag"] == code
    assert deployed_image(workflow.origin, "trunk") == f"ghcr.io/acme/demo:{code}"

    # A release tags the deploy commit: it names the image the branch runs, and only that.
    assert workflow.release("v1.0.0") == {"tag": code, "alias": "1.0.0"}
    assert deployed_image(workflow.origin, "v1.0.0") == f"ghcr.io/acme/demo:{code}"
    # A tag on the code commit would deploy the previous image: refused.
    git(workflow.origin, "tag", "v1.0.1", code)
    refused = workflow.run("refs/tags/v1.0.1", "Image tag")
    assert refused.returncode == 1 and f"not its code's, {code}: tag the commit CI wrote" in refused.stderr


@pytest.mark.parametrize("secret", ["", "registry-credentials"])
def test_pods_pull_with_the_org_registry_secret(generate, secret):
    root = generate(image_pull_secret=secret)
    objects = render(root / "helm/base", "demo", "demo", [root / "gitops/values-base.yaml"], CLUSTER_API_VERSIONS)
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    expected = [{"name": secret}] if secret else None
    assert deployment["spec"]["template"]["spec"].get("imagePullSecrets") == expected
