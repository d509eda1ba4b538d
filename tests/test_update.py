"""`copier update` across template versions, on tagged throwaway copies of the template."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from copier import run_copy, run_update

from conftest import commit_all, copier_cli, git
from support.helm import render
from support.kube import allowed_in


def generate_at_v1(template_repo: Path, dst: Path, **answers) -> Path:
    run_copy(str(template_repo), dst, data={"app_name": "shop", **answers}, vcs_ref="v1", defaults=True,
             unsafe=True, quiet=True)
    git(dst, "init", "--quiet")
    commit_all(dst, "generated from v1")
    return dst


def release_v2(template_repo: Path, change) -> None:
    change(template_repo / "template")
    commit_all(template_repo, "template v2")
    git(template_repo, "tag", "v2")


def update(app: Path) -> None:
    run_update(app, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="v2")


def test_template_change_arrives_and_user_edit_survives(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app", postgres=True)
    chart = app / "helm/base/Chart.yaml"
    chart.write_text(chart.read_text() + "keywords:\n  - shop\n")
    commit_all(app, "user edit")

    def bump_kube_version(template: Path) -> None:
        chart_template = template / "helm/base/Chart.yaml.jinja"
        chart_template.write_text(chart_template.read_text().replace('">=1.29.0-0"', '">=1.30.0-0"'))

    release_v2(template_repo, bump_kube_version)
    update(app)

    content = yaml.safe_load(chart.read_text())
    assert content["kubeVersion"] == ">=1.30.0-0"
    assert content["keywords"] == ["shop"]
    answers = yaml.safe_load((app / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v2"
    assert answers["postgres"] is True
    assert not list(app.rglob("*.rej"))


def test_org_defaults_given_at_copy_are_kept_by_update(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app", image_registry="registry.example.com",
                         argocd_namespace="gitops")
    release_v2(template_repo, lambda template: None)
    update(app)
    answers = yaml.safe_load((app / ".copier-answers.yml").read_text())
    assert answers["image_registry"] == "registry.example.com"
    assert answers["image_repository"] == "registry.example.com/acme/shop"
    application = yaml.safe_load((app / "gitops/argocd/base-application.yaml").read_text())
    assert application["metadata"]["namespace"] == "gitops"


def test_new_question_gets_its_default_on_update(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")

    def add_question(template: Path) -> None:
        copier_yml = template.parent / "copier.yml"
        copier_yml.write_text(copier_yml.read_text() + "\nteam:\n  type: str\n  default: payments\n  help: Owning team\n")
        (template / "OWNERS.jinja").write_text("{{ team }}\n")

    release_v2(template_repo, add_question)
    update(app)
    assert (app / "OWNERS").read_text() == "payments\n"


def test_users_deployment_values_survive_a_template_change_to_them(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")
    values = app / "gitops/values-base.yaml"
    values.write_text(values.read_text() + "\nreplicaCount: 3\n")
    commit_all(app, "scale out")

    def document_values(template: Path) -> None:
        values_template = template / "gitops/values-base.yaml.jinja"
        values_template.write_text("# Reviewed by the platform team.\n" + values_template.read_text())

    release_v2(template_repo, document_values)
    update(app)
    content = values.read_text()
    assert content.startswith("# Reviewed by the platform team.\n")
    assert yaml.safe_load(content)["replicaCount"] == 3


def test_file_the_user_deleted_stays_deleted(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app", gitops_controller="argocd")
    (app / "Makefile").unlink()
    commit_all(app, "we use our own CI")
    release_v2(template_repo, lambda template: (template / "Makefile.jinja").write_text(
        (template / "Makefile.jinja").read_text() + "\n# v2\n"))
    update(app)
    assert not (app / "Makefile").exists()


def test_changing_the_controller_on_update_swaps_the_gitops_folders(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app", gitops_controller="argocd")
    release_v2(template_repo, lambda template: None)
    run_update(app, data={"gitops_controller": "fluxcd"}, defaults=True, overwrite=True, unsafe=True, quiet=True,
               vcs_ref="v2")
    assert not (app / "gitops/argocd").exists()
    assert (app / "gitops/fluxcd-releases/base/helm-release.yaml").is_file()
    assert "kubectl apply -f gitops/fluxcd/" in (app / "README.md").read_text()


def test_gateway_proxies_follow_a_changed_gateway_namespace(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")
    release_v2(template_repo, lambda template: None)
    run_update(app, data={"gateway_namespace": "gw2"}, defaults=True, overwrite=True, unsafe=True, quiet=True,
               vcs_ref="v2")
    objects = render(app / "helm/base", "shop", "shop", [app / "gitops/values-base.yaml"])
    allowed = allowed_in(objects)
    assert "gw2" in allowed and "gateway-system" not in allowed


def test_the_teams_own_app_code_is_never_overwritten(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")
    (app / "Dockerfile").write_text("FROM golang:1.25 AS build\n")
    (app / "src/server.py").write_text("# ours now\n")
    commit_all(app, "our own app")

    def bump_base_image(template: Path) -> None:
        dockerfile = template / "Dockerfile.jinja"
        dockerfile.write_text(dockerfile.read_text().replace("python:3.13.7", "python:3.13.9"))
        (template / "src/server.py").write_text((template / "src/server.py").read_text() + "\n# v2\n")

    release_v2(template_repo, bump_base_image)
    update(app)
    assert (app / "Dockerfile").read_text() == "FROM golang:1.25 AS build\n"
    assert (app / "src/server.py").read_text() == "# ours now\n"
    assert "UU" not in git(app, "status", "--porcelain")


def cli_update(app: Path) -> subprocess.CompletedProcess:
    """README's non-interactive `copier update --trust --defaults`, through Copier's CLI."""
    return copier_cli("update", "--trust", "--defaults", cwd=app)


def test_cli_update_as_documented(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")
    release_v2(template_repo, lambda template: (template / "NOTICE").write_text("v2\n"))
    result = cli_update(app)
    assert result.returncode == 0, result.stderr
    assert (app / "NOTICE").read_text() == "v2\n"


def test_conflicts_are_named_and_fail_the_apps_lint(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")
    config = app / ".yamllint.yaml"
    config.write_text(config.read_text().replace("max: 120", "max: 100"))
    commit_all(app, "shorter lines")
    release_v2(template_repo, lambda template: (template / ".yamllint.yaml").write_text(
        (template / ".yamllint.yaml").read_text().replace("max: 120", "max: 140")))

    result = cli_update(app)

    assert result.returncode == 0, result.stderr
    assert re.search(r"CONFLICTS.*\n  \.yamllint\.yaml\n", result.stderr)
    lint = subprocess.run(["make", "--no-print-directory", "conflicts"], cwd=app, capture_output=True, text=True)
    assert lint.returncode != 0
    assert "./.yamllint.yaml:" in lint.stdout and "Resolve the conflicts above" in lint.stdout
    resolved = re.sub(r"<<<<<<< before updating\n.*?=======\n(.*?)>>>>>>> after updating\n", r"\1",
                      config.read_text(), flags=re.DOTALL)
    config.write_text(resolved)
    assert "max: 140" in resolved
    assert subprocess.run(["make", "conflicts"], cwd=app, capture_output=True).returncode == 0


def test_an_edited_file_the_template_drops_is_named_not_silently_deleted(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app")
    (app / ".yamllint.yaml").write_text((app / ".yamllint.yaml").read_text() + "# our rule\n")
    commit_all(app, "our yamllint rule")
    release_v2(template_repo, lambda template: (template / ".yamllint.yaml").unlink())

    result = cli_update(app)

    assert result.returncode == 0, result.stderr
    assert re.search(r"no longer generates these files you had edited.*\n.*\n  \.yamllint\.yaml\n", result.stderr)
    git(app, "checkout", "HEAD", "--", ".yamllint.yaml")
    assert (app / ".yamllint.yaml").read_text().endswith("# our rule\n")


def test_files_the_team_added_in_a_folder_the_template_drops_are_named(template_repo, tmp_path):
    """The update removes the template's files of a folder it no longer generates; what the team
    added there stays, read by nothing: it is named, and so is a file the team edited there."""
    app = generate_at_v1(template_repo, tmp_path / "app", gitops_controller="argocd")
    (app / "gitops/argocd/notes.md").write_text("# how we deploy\n")
    (app / "gitops/argocd/project.yaml").write_text((app / "gitops/argocd/project.yaml").read_text() + "# ours\n")
    commit_all(app, "our notes")
    release_v2(template_repo, lambda template: shutil.rmtree(template / "gitops/{% if use_argocd %}argocd{% endif %}"))

    result = cli_update(app)

    assert result.returncode == 0, result.stderr
    assert re.search(r"no longer generates these files you had edited.*\n.*\n  gitops/argocd/project\.yaml\n", result.stderr)
    assert re.search(r"folders the template no longer generates.*\n.*\n  gitops/argocd/notes\.md\n", result.stderr)
    assert (app / "gitops/argocd/notes.md").is_file()


def test_renovate_proposes_each_template_release(generate):
    """Renovate's copier manager finds the answers file and may run Copier with --trust."""
    renovate = json.loads((generate() / "renovate.json").read_text())
    assert renovate["copier"]["enabled"] is True
    assert renovate["ignoreScripts"] is False  # the template's extensions and migrations need --trust
    # The manager's own file pattern (Renovate's lib/modules/manager/copier/index.ts).
    assert re.search(r"(^|/)\.copier-answers(\..+)?\.ya?ml", ".copier-answers.yml")


def test_a_platform_feature_turned_off_says_its_data_stays_and_how_to_delete_it(template_repo, tmp_path):
    app = generate_at_v1(template_repo, tmp_path / "app", namespace="store", postgres=True, object_storage=True,
                         key_value_store=True, monitoring=True)
    release_v2(template_repo, lambda template: None)

    result = copier_cli("update", "--trust", "--defaults", "--data", "postgres=false", "--data", "object_storage=false",
                        "--data", "key_value_store=false", "--data", "monitoring=false", cwd=app)

    assert result.returncode == 0, result.stderr
    assert "postgres is off: its data stays on the cluster" in result.stderr
    assert ("kubectl delete -n store --ignore-not-found clusters.postgresql.cnpg.io/shop-db "
            "objectstores.barmancloud.cnpg.io/shop-db-backup") in result.stderr
    assert "kubectl delete -n store --ignore-not-found objectbucketclaims.objectbucket.io/shop-bucket" in result.stderr
    assert ("kubectl delete -n store --ignore-not-found redis.redis.redis.opstreelabs.in/shop-kv "
            "redisreplications.redis.redis.opstreelabs.in/shop-kv") in result.stderr
    # Monitoring holds no data.
    assert "monitoring is off" not in result.stderr


def test_an_interrupted_update_is_refused_by_lint_until_undone(template_repo, tmp_path, monkeypatch):
    app = generate_at_v1(template_repo, tmp_path / "app")
    values = app / "gitops/values-base.yaml"
    values.write_text(values.read_text() + "# our tuning\n")
    commit_all(app, "our tuning")

    def interrupting(template: Path) -> None:
        # A person stopping the update (kill) while its last steps run. (Not SIGINT: a process
        # started in the background inherits SIGINT ignored, and Python keeps ignoring it.)
        copier_yml = template.parent / "copier.yml"
        copier_yml.write_text(copier_yml.read_text().replace(
            "_migrations:\n", "_migrations:\n  - when: \"{{ _stage == 'after' }}\"\n    command: kill -TERM $PPID\n", 1))
        (template / "NOTICE").write_text("v2\n")

    release_v2(template_repo, interrupting)
    # A killed Copier leaves its clones of the template behind: here, not in the machine's TMPDIR.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    result = cli_update(app)
    assert result.returncode != 0, result.stderr

    lint = subprocess.run(["make", "--no-print-directory", "conflicts"], cwd=app, capture_output=True, text=True)
    assert lint.returncode != 0
    assert "`copier update` did not finish" in lint.stdout
    undo = re.search(r"^  (git stash push .*)$", lint.stdout, re.MULTILINE)[1]
    subprocess.run(undo, shell=True, cwd=app, check=True, capture_output=True)
    assert git(app, "status", "--porcelain") == ""
    assert values.read_text().endswith("# our tuning\n")
    assert subprocess.run(["make", "conflicts"], cwd=app, capture_output=True).returncode == 0
