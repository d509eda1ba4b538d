"""The orchestration repository as generated: the right files for its controller, the app kind
left as it was, bad answers refused, an honest README, Argo CD's bootstrap with its health
check, the registry chart applying the template's rules (and refusing what could not deploy), and
`copier update` keeping the registry."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update

from test_workflows import ZIZMOR
from conftest import (FLEETS, ROOT, commit_all, git, load_answers, recorded_answers, refusal,
                      registry_script)
from support import helm
from support.lint import yamllint
from support.goyaml import go_read
from support.kube import validation_errors
from gitops_template.vcs import flux_git_ref, flux_repo_url
from gitops_template.names import registered_name
from gitops_template.catalogue import INFRASTRUCTURE_CONFIGS
from gitops_template.registry import parse_registry_entry, registry_entry_text
from gitops_template.fleet import ORCHESTRATION_ANSWERS, environment_names
from gitops_template.infrastructure import infrastructure_settings

COMMON_FILES = {
    ".copier-answers.yml", ".gitignore", ".yamllint.yaml", "Makefile", "README.md", "renovate.json",
    "infrastructure/kustomization.yaml", "infrastructure/components.yaml", "infrastructure/configs/Chart.yaml",
    "infrastructure/configs/values.yaml", "infrastructure/configs/values.schema.json",
    *(f"infrastructure/configs/templates/{name}.yaml" for name in ("gateway", "namespaces", "object-store",
                                                                    "secret-store")),
    "registry/Chart.yaml", "registry/values.yaml", "registry/values.schema.json",
    "registry/orchestration.json", "registry/environments/README.md", "registry/templates/_helpers.tpl",
    "registry/templates/argocd.yaml", "registry/templates/fluxcd.yaml", "scripts/registry.py",
    "scripts/prove.py", "scripts/requirements.txt",
    *(f"scripts/gitops_template/{path.name}" for path in (ROOT / "extensions/gitops_template").iterdir()
      if path.suffix in (".py", ".json")),
    *(f"scripts/fleet_graph/{path.name}" for path in (ROOT / "orchestration/scripts/fleet_graph").glob("*.py")),
}
# The fleet's CI, where GitHub runs it (every fleet here is on github.com).
FLEET_CI = ".github/workflows/ci.yaml"
CONTROLLER_FILES = {
    "argocd": {"bootstrap/argocd/kustomization.yaml", "bootstrap/argocd/namespace.yaml", "bootstrap/argocd/argocd-cm.yaml",
               "bootstrap/argocd/argocd-cmd-params-cm.yaml"},
    "fluxcd": set(),
}
# Each environment's: its bootstrap root and its entry point.
ENVIRONMENT_FILES = {
    "argocd": {"bootstrap/argocd/root-{}.yaml", "clusters/{}/infrastructure.yaml", "clusters/{}/apps.yaml"},
    "fluxcd": {"bootstrap/flux/flux-instance-{}.yaml", "clusters/{}/infrastructure.yaml", "clusters/{}/apps.yaml"},
}
# Argo CD's Application health check, as its documentation gives it (operator-manual/health.md).
ARGOCD_APPLICATION_HEALTH = """\
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""
APP_ANSWER_KEYS = {
    "project_kind", "app_name", "description", "repo_url", "namespace", "image_repository", "container_port",
    "git_revision", "gitops_controller", "git_secret_name", "postgres", "object_storage", "key_value_store",
    "external_secrets", "monitoring",
}
ORCHESTRATION_ANSWER_KEYS = {"project_kind", *ORCHESTRATION_ANSWERS} - {"git_host", "git_owner",
                                                                               "default_branch", "argocd_namespace",
                                                                               "flux_namespace", "cluster_server",
                                                                               "pod_security_level", "secret_store_kind",
                                                                               "secret_store_name"}
# The infrastructure's questions (vault_server only with the vault provider).
ORCHESTRATION_ANSWER_KEYS |= {"infrastructure_profile", "secret_store_provider", "gateway_tls"}


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


@pytest.fixture(scope="session")
def orchestration(rendered, tmp_path_factory):
    """orchestration(name, **answers) -> a fresh copy from tests/answers/orchestration/<name>.yml."""
    def _copy(name: str, **answers) -> Path:
        return rendered({**load_answers(f"orchestration/{name}"), **answers},
                        tmp_path_factory.mktemp(f"orchestration-{name}") / "repo")

    return _copy


@pytest.mark.parametrize("name", list(FLEETS))
def test_only_the_controllers_files(orchestration, name):
    root = orchestration(name)
    answers = recorded_answers(root)
    controller = answers["cluster_controller"]
    environments = environment_names(answers["environments"])
    assert files(root) == COMMON_FILES | CONTROLLER_FILES[controller] | {FLEET_CI} | {
        path.format(environment) for environment in environments for path in ENVIRONMENT_FILES[controller]}
    # The orchestration ships the template's logic as it is: one source of every rule.
    for path in (ROOT / "extensions/gitops_template").glob("*.[pj][ys]*"):
        assert (root / "scripts/gitops_template" / path.name).read_text() == path.read_text(), path.name


def test_the_app_stays_what_it_was(rendered, orchestration):
    default, explicit = rendered({"app_name": "shop"}), rendered({"app_name": "shop", "project_kind": "app"})
    assert files(default) == files(explicit)
    assert all((default / f).read_bytes() == (explicit / f).read_bytes() for f in files(default))
    app_answers = recorded_answers(default)
    assert app_answers["project_kind"] == "app"
    org_defaults = set(app_answers) - APP_ANSWER_KEYS
    # Only the app's questions and the org defaults: nothing of the orchestration.
    assert not org_defaults & ORCHESTRATION_ANSWER_KEYS
    orchestration_answers = recorded_answers(orchestration("argocd"))
    assert set(orchestration_answers) == ORCHESTRATION_ANSWER_KEYS | org_defaults
    # Both kinds record the same org defaults, from the one block of copier.yml.
    assert {k: orchestration_answers[k] for k in org_defaults} == {k: app_answers[k] for k in org_defaults}


@pytest.mark.parametrize(("answers", "message"), [
    ({"orchestration_name": "Fleet"}, "orchestration_name: must be a DNS-1035 label"),
    ({"orchestration_name": "f" * 49}, "orchestration_name: at most 48 characters"),
    ({"orchestration_repo_url": "ftp://git.example.com/acme/fleet.git"}, "orchestration_repo_url: must be an https://"),
    ({"orchestration_branch": "v1.2.0"}, "orchestration_branch: must be a branch, such as main"),
    ({"orchestration_branch": "a..b"}, "orchestration_branch: must be a branch, tag, full ref"),
    ({"environments": "Prod"}, "environments: must be a DNS-1123 label"),
    ({"environments": "staging,,production"}, "environments: no empty name between commas"),
    ({"environments": "staging,production,staging"}, "environments: each environment is named once; staging is repeated"),
    ({"cluster_controller": "both"}, "Invalid choice for 'cluster_controller'"),
    ({"secret_store_provider": "vault", "vault_server": "vault:8200"}, "vault_server: must be an http:// or https://"),
    ({"gateway_tls": "cluster-issuer", "gateway_cluster_issuer": "Lets_Encrypt"}, "gateway_cluster_issuer: must be a DNS-1123 label"),
    ({"infrastructure_profile": "huge"}, "Invalid choice for 'infrastructure_profile'"),
    ({"project_kind": "library"}, "Invalid choice for 'project_kind'"),
    # The root would be one object with Argo CD's default AppProject, or with an infrastructure release.
    ({"orchestration_name": "default"}, "orchestration_name: default is Argo CD's built-in AppProject"),
    *(({"orchestration_name": name}, f"orchestration_name: {name} is an infrastructure release")
      for name in ("cert-manager", "external-secrets", "infrastructure-configs")),
    ({"grafana_dashboard_labels": "a=1,a=2"}, "grafana_dashboard_labels: a is given twice"),
])
def test_bad_orchestration_answers_are_refused(template_dir, tmp_path, answers, message):
    assert message in refusal(template_dir, tmp_path / "repo", {"project_kind": "orchestration", **answers})


def test_a_non_empty_destination_is_refused_for_an_orchestration(template_dir, tmp_path):
    dst = tmp_path / "repo"
    dst.mkdir()
    (dst / "README.md").write_text("mine")
    with pytest.raises(ValueError, match=r"destination: not empty \(README.md\)"):
        run_copy(str(template_dir), dst, data={"project_kind": "orchestration"}, defaults=True, unsafe=True,
                 quiet=True)
    assert [p.name for p in dst.iterdir()] == ["README.md"]


@pytest.mark.parametrize("answers", [{"secret_store_kind": "SecretStore"}, {"infrastructure_profile": "production"}])
def test_a_fresh_repository_passes_its_own_lint(orchestration, answers):
    root = orchestration("fluxcd", **answers)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", "--no-print-directory", "lint", "registry"], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", list(FLEETS))
def test_yamllint(fleet, name):
    problems, checked = yamllint(fleet(name).root)
    assert not problems, "\n".join(problems)
    assert checked >= 6


@pytest.mark.parametrize("name", list(FLEETS))
def test_the_repositorys_own_checks_pass(fleet, graph, name, tmp_path):
    """`make lint registry render`, as the orchestration's CI runs them (kubeconform aside),
    rendering what the controller's apps layer installs."""
    root = tmp_path / "repo"
    shutil.copytree(fleet(name).root, root)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", "--no-print-directory", "lint", "registry", "render"], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    [apps_layer] = [r for r in graph(name).releases if r.name == fleet(name).settings["names"]["apps_layer"]]
    assert (root / f"rendered/registry-{fleet(name).environment}.yaml").read_text() == apps_layer.manifest
    assert {p.name for p in (root / "rendered").iterdir()} == {
        f"registry-{environment}.yaml" for environment in fleet(name).settings["environments"]} | {
        "infrastructure-configs.yaml"}
    [configs] = [r for r in graph(name).releases if r.name == INFRASTRUCTURE_CONFIGS]
    assert (root / "rendered/infrastructure-configs.yaml").read_text() == configs.manifest


@pytest.mark.parametrize(("url", "expected"), [("git@github.com:acme/fleet.git", True),
                                                ("https://fleet.ghe.com/acme/fleet.git", True),
                                                ("https://gitlab.example.com/acme/fleet.git", False)])
def test_the_fleet_ci_runs_make_check_and_prove_where_github_runs_it(orchestration, url, expected):
    """The same hosting rule as an app's CI: GitHub (github.com, <name>.ghe.com) runs it: `make
    check`, `make prove` on the whole history, and on a pull request `make diff` against its base."""
    root = orchestration("argocd", orchestration_repo_url=url)
    workflow = root / FLEET_CI
    assert workflow.is_file() == expected
    if not expected:
        return
    [job] = yaml.safe_load(workflow.read_text())["jobs"].values()
    runs = [step.get("run") for step in job["steps"]]
    assert runs[-3:] == ["make check", "make prove", 'make diff BASE="origin/$BASE_REF" >> "$GITHUB_STEP_SUMMARY"']
    assert job["steps"][-1]["if"] == "github.event_name == 'pull_request'"
    assert job["steps"][-1]["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    [checkout] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"] == {"persist-credentials": False, "fetch-depth": 0}
    # make templates and make prove clone the apps: with a token where one is given, else over https,
    # for https and ssh URLs alike (Flux's ssh:// form too).
    host = url.split("@")[-1].split(":")[0] if url.startswith("git@") else url.split("/")[2]
    [token] = [step["run"] for step in job["steps"] if step.get("if") == "env.APPS_TOKEN != ''"]
    assert f'with_token="https://x-access-token:${{APPS_TOKEN}}@{host}/"' in token
    [public] = [step["run"] for step in job["steps"] if step.get("if") == "env.APPS_TOKEN == ''"]
    for step, rewritten, forms in ((token, "$with_token", ("https://{}/", "git@{}:", "ssh://git@{}/")),
                                   (public, f"https://{host}/", ("git@{}:", "ssh://git@{}/"))):
        for form in forms:
            assert f'url."{rewritten}".insteadOf "{form.format(host)}"' in step
    assert job["env"]["APPS_TOKEN"] == "${{ secrets.APPS_TOKEN }}"


def test_zizmor_finds_nothing_in_the_fleet_ci(orchestration, tmp_path):
    """Linted as this repository's workflows are (tests/test_workflows.py), but for the pins: the
    generated workflows pin each action by its tag, which Renovate bumps."""
    config = tmp_path / "zizmor.yml"
    config.write_text(yaml.safe_dump({"rules": {"unpinned-uses": {"config": {"policies": {"*": "ref-pin"}}}}}))
    result = subprocess.run([ZIZMOR, "--offline", "--pedantic", "--config", str(config),
                             orchestration("argocd") / FLEET_CI], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("namespace", ["argocd", "gitops"])
def test_argocd_bootstrap_installs_the_application_health_check(orchestration, tmp_path, namespace, crd_schemas):
    """bootstrap/argocd built as `kubectl apply -k` builds it, with a local stand-in for Argo CD's
    install.yaml: argocd-cm carries the documented check, and everything lands in the namespace."""
    root = orchestration("argocd", argocd_namespace=namespace)
    bootstrap = tmp_path / "bootstrap"
    shutil.copytree(root / "bootstrap/argocd", bootstrap)
    kustomization = (bootstrap / "kustomization.yaml").read_text()
    [remote] = re.findall(r"https://raw\.githubusercontent\.com/argoproj/argo-cd/v[0-9.]+/manifests/install\.yaml",
                          kustomization)
    (bootstrap / "kustomization.yaml").write_text(kustomization.replace(remote, "install.yaml"))
    (bootstrap / "install.yaml").write_text(ARGOCD_INSTALL_STAND_IN)
    built = subprocess.run(["kubectl", "kustomize", str(bootstrap)], capture_output=True, text=True, check=True).stdout
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built) if o}
    config = objects[("ConfigMap", "argocd-cm")]
    assert config["metadata"]["namespace"] == namespace
    assert config["data"]["resource.customizations.health.argoproj.io_Application"] == ARGOCD_APPLICATION_HEALTH
    assert objects[("ClusterRoleBinding", "argocd-server")]["subjects"][0]["namespace"] == namespace
    assert objects[("ConfigMap", "argocd-cmd-params-cm")]["data"] == {"controller.sync.timeout.seconds": "1800"}
    assert validation_errors(list(objects.values()), crd_schemas) == []
    root_objects = list(yaml.safe_load_all((root / "bootstrap/argocd/root-production.yaml").read_text()))
    assert {o["metadata"]["namespace"] for o in root_objects} == {namespace}
    assert validation_errors(root_objects, crd_schemas) == []


# What the kustomization patches and re-namespaces, as Argo CD's install.yaml has it.
ARGOCD_INSTALL_STAND_IN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
  name: argocd-cm
---
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/name: argocd-cmd-params-cm
    app.kubernetes.io/part-of: argocd
  name: argocd-cmd-params-cm
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: argocd-server
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: argocd-server
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: argocd-server
subjects:
  - kind: ServiceAccount
    name: argocd-server
    namespace: argocd
"""


def sh_block(readme: str, after: str) -> list[list[str]]:
    """The commands of the first ```sh block after a heading, as shell words."""
    section = readme[readme.index(after):]
    block = section[section.index("```sh\n") + 6:]
    return [shlex.split(line) for line in block[:block.index("```")].splitlines() if line.strip()]


def test_argocd_readme_commands_name_the_objects(fleet):
    f = fleet("argocd")
    readme = (f.root / "README.md").read_text()
    commands = sh_block(readme, "## Bootstrap")
    assert commands[0] == ["kubectl", "create", "namespace", f.settings["argocd_namespace"]]
    assert commands[1][-2:] == ["-k", "bootstrap/argocd"]
    assert commands[-1] == ["kubectl", "apply", "-f", f"bootstrap/argocd/root-{f.environment}.yaml"]
    project, root = f.bootstrap()
    assert root["spec"]["source"] == {"repoURL": f.settings["orchestration_repo_url"],
                                      "targetRevision": f.settings["orchestration_branch"],
                                      "path": f"clusters/{f.environment}"}
    assert root["spec"]["project"] == project["metadata"]["name"]
    for command in sh_block(readme, "## Register an app"):
        assert command[:2] == ["make", "register"]
    for command, target in zip(sh_block(readme, "## Environments"), ("promote", "versions")):
        assert command[:2] == ["make", target]


def test_flux_readme_commands_name_the_objects(fleet):
    f = fleet("fluxcd")
    readme = (f.root / "README.md").read_text()
    [instance] = f.bootstrap()
    sync = instance["spec"]["sync"]
    helm_install, secret, apply = sh_block(readme, "## Bootstrap")
    assert helm_install[:3] == ["helm", "install", "flux-operator"] and "--namespace" in helm_install
    assert helm_install[helm_install.index("--namespace") + 1] == instance["metadata"]["namespace"]
    assert secret[:4] == ["flux", "create", "secret", "git"] and secret[4] == sync["pullSecret"]
    assert f"--url={sync['url']}" in secret
    assert apply == ["kubectl", "apply", "-f", f"bootstrap/flux/flux-instance-{f.environment}.yaml"]
    [bootstrap] = sh_block(readme, "with the\n`flux` CLI alone")
    assert bootstrap[:3] == ["flux", "bootstrap", "git"]
    assert f"--url={sync['url']}" in bootstrap and f"--path={sync['path']}" in bootstrap
    assert f"--branch={f.settings['orchestration_branch']}" in bootstrap
    assert sync["ref"] == f"refs/heads/{f.settings['orchestration_branch']}"
    # An ssh URL in the scp form is what Flux cannot take: it gets the ssh:// form.
    assert f.settings["orchestration_repo_url"].startswith("git@") and sync["url"].startswith("ssh://")


@pytest.mark.parametrize("name", ["argocd-production", "fluxcd-production"])
def test_production_readme_bootstraps_every_prerequisite(orchestration, name):
    """The production profile's prerequisites, each an exact step of "Bootstrap": Vault's
    policy and role for the secret store's ServiceAccount of every namespace (what each may read,
    tests/test_tenancy.py), the platform team's issuer once cert-manager's CRDs are there; and the
    store's line names what it reads."""
    root = orchestration(name)
    readme = (root / "README.md").read_text()
    vault = infrastructure_settings(recorded_answers(root))["configs_values"]["secretStore"]["vault"]
    commands = sh_block(readme, "### Production prerequisites")
    assert ["accessor=$(vault", "read", "-field=accessor", f"sys/auth/{vault['auth_mount']})"] in commands
    assert ["vault", "policy", "write", vault["role"], "-", "<<EOF"] in commands
    assert ["vault", "write", f"auth/{vault['auth_mount']}/role/{vault['role']}",
            f"bound_service_account_names={vault['service_account']}",
            "bound_service_account_namespaces=*", f"policies={vault['role']}", "ttl=1h"] in commands
    assert ["kubectl", "wait", "--for", "condition=established", "--timeout=600s",
            "crd/clusterissuers.cert-manager.io"] in commands
    line = next(line for line in readme.splitlines() if "with Vault's Kubernetes auth (" in line)
    assert "``" not in line and f"(`{vault['auth_mount']}`)" in line
    assert f"`{vault['path']}/<namespace>`" in readme


@pytest.mark.parametrize("name", ["argocd", "fluxcd-production"])
def test_readme_says_what_disk_the_object_store_needs(orchestration, name):
    """Without an unused raw disk Ceph starts no OSD (Rook's prerequisites): the README says so,
    and how to tell one, next to the Ceph cluster."""
    readme = (orchestration(name) / "README.md").read_text()
    ceph = readme[readme.index("- a Ceph cluster"):]
    assert "`lsblk -f`" in ceph[:ceph.index("\n\n")] and "no filesystem" in ceph[:ceph.index("\n\n")]


def test_app_readme_says_one_controller_per_cluster(app):
    readme = (app("canonical") / "README.md").read_text()
    assert "never both" in readme and "orchestration" in readme


def registry_copy(fleet, name: str, tmp_path: Path) -> Path:
    """The fleet's registry chart, its first environment without apps."""
    chart = tmp_path / "registry"
    shutil.copytree(fleet(name).root / "registry", chart)
    for entry in (chart / "environments" / fleet(name).environment / "apps").glob("*.yaml"):
        entry.unlink()
    return chart


def write_entries(chart: Path, entries: list[dict], environment: str = "staging") -> None:
    for entry in entries:
        path = chart / "environments" / environment / "apps" / f"{entry['app_name']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(registry_entry_text(entry))


REVISIONS = ["main", "v1", "v1.2.3", "1.2", "v2.0.0-rc.1", "1e3", "release-1.0", "refs/heads/release+2",
             "refs/tags/v1.0.0", "0123456789abcdef0123456789abcdef01234567", "feature/x"]
URLS = ["https://github.com/acme/a.git", "git@github.com:Acme-Corp/Ledger.git", "ssh://git@git.example.com:2222/a/b.git",
        "git@gitlab.example.com:group/sub/app"]


def test_registry_chart_applies_the_flux_rules_of_naming(fleet, tmp_path):
    chart = registry_copy(fleet, "fluxcd", tmp_path)
    entries = [{"app_name": f"app{i}", "repo_url": URLS[i % len(URLS)], "git_revision": revision,
                "namespace": f"ns{i}", "git_secret_name": "git-credentials"} for i, revision in enumerate(REVISIONS)]
    write_entries(chart, entries)
    sources = {o["metadata"]["name"]: o["spec"]
               for o in helm.render(chart, "fleet-apps", "flux-system", [environment_values(tmp_path, "staging")])
               if o["kind"] == "GitRepository"}
    for entry in entries:
        spec = sources[registered_name(entry["app_name"])]
        assert spec["ref"] == {flux_git_ref(entry["git_revision"]): entry["git_revision"]}
        assert spec["url"] == flux_repo_url(entry["repo_url"])


HAND_WRITTEN = [
    pytest.param("fluxcd", "shop.yaml", 'app_name: "shop"\nrepo_url: "https://github.com/acme/shop.git"\n'
                 'git_revision: 1.10\nnamespace: "shop"\n', "git_revision must be a string", id="number"),
    pytest.param("fluxcd", "shop.yaml", 'app_name: "shop"\nrepo_url: "https://github.com/acme/shop.git"\n'
                 'git_revision: "main"\n', "namespace must be a string", id="missing"),
    pytest.param("fluxcd", "store.yaml", registry_entry_text(
        {"app_name": "shop", "repo_url": "https://github.com/acme/shop.git", "git_revision": "main",
         "namespace": "shop"}), "name the file after its app_name, shop.yaml", id="file-name"),
    pytest.param("fluxcd", "flux-system.yaml", registry_entry_text(
        {"app_name": "flux-system", "repo_url": "https://github.com/acme/f.git", "git_revision": "main",
         "namespace": "f"}), "register it under another name", id="reserved-flux"),
    pytest.param("argocd", "fleet.yaml", registry_entry_text(
        {"app_name": "fleet", "repo_url": "https://github.com/acme/f.git", "git_revision": "main",
         "namespace": "f"}), "register it under another name", id="reserved-argocd"),
    pytest.param("fluxcd", "shop-gitops.yaml", registry_entry_text(
        {"app_name": "shop-gitops", "repo_url": "https://github.com/acme/s.git", "git_revision": "main",
         "namespace": "s"}), "the objects applying shop are named shop-gitops", id="gitops-clash"),
    pytest.param("fluxcd", "shop.yaml", "app_name: [\n", "not YAML", id="not-yaml"),
]


@pytest.mark.parametrize(("name", "filename", "text", "message"), HAND_WRITTEN)
def test_registry_refuses_a_hand_written_entry_that_cannot_deploy(fleet, tmp_path, name, filename, text, message):
    """The chart (what the controller renders) fails naming the file; `make check` refuses it too."""
    root = tmp_path / "repo"
    shutil.copytree(fleet(name).root, root)
    entry = fleet(name).entry_path(filename.removesuffix(".yaml"))
    (root / entry.relative_to(fleet(name).root)).write_text(text)
    with pytest.raises(helm.HelmError, match=re.escape(str(entry.relative_to(fleet(name).root)))) as failure:
        helm.template(root / "registry", "fleet-apps", "flux-system", [environment_values(tmp_path, fleet(name).environment)])
    assert message in str(failure.value)
    check = registry_script(root, "check")
    assert check.returncode != 0 and filename.removesuffix(".yaml") in check.stderr


def environment_values(scratch: Path, environment: str) -> Path:
    """The registry chart's values, as an environment's apps layer passes them."""
    path = scratch / f"values-{environment}.yaml"
    path.write_text(yaml.safe_dump({"environment": environment}))
    return path


def test_registry_entries_read_the_same_in_go(tmp_path):
    entries = [{"app_name": "rocket", "repo_url": "https://github.example.com/space/rocket.git",
                "git_revision": revision, "namespace": "12", "git_secret_name": "on"}
               for revision in ["refs/heads/release+2", 'say-"hi"', "back\\slash", "ünïcödé-𝒻", "1e3", "null", "y"]]
    paths = []
    for i, entry in enumerate(entries):
        paths.append(tmp_path / f"{i}.yaml")
        paths[-1].write_text(registry_entry_text(entry))
    assert go_read(paths, tmp_path / "go") == entries
    assert [parse_registry_entry(p.read_text()) for p in paths] == entries


def test_update_keeps_the_registry(template_repo, tmp_path):
    root = tmp_path / "repo"
    run_copy(str(template_repo), root, data={"project_kind": "orchestration"}, vcs_ref="v1", defaults=True,
             unsafe=True, quiet=True)
    git(root, "init", "--quiet")
    commit_all(root, "generated from v1")
    assert registry_script(root, "register", "shop").returncode == 0
    commit_all(root, "register shop")
    entry = (root / "registry/environments/staging/apps/shop.yaml").read_text()

    readme = template_repo / "orchestration/README.md.jinja"
    readme.write_text(readme.read_text() + "\nOwned by the platform team.\n")
    commit_all(template_repo, "template v2")
    git(template_repo, "tag", "v2")
    run_update(root, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="v2")

    assert (root / "registry/environments/staging/apps/shop.yaml").read_text() == entry
    text = (root / "README.md").read_text()
    assert text.endswith("\nOwned by the platform team.\n") and "shop-gitops" in text
    assert recorded_answers(root)["project_kind"] == "orchestration"
    assert registry_script(root, "check").returncode == 0
    assert not list(root.rglob("*.rej"))


def yaml_documents(root: Path, scratch: Path) -> list[Path]:
    """Every YAML document of a repository (Helm templates aside), one per file in scratch."""
    documents = []
    for path in sorted(root.rglob("*.yaml")):
        if "templates" in path.parts:
            continue
        for i, text in enumerate(path.read_text().split("\n---\n")):
            documents.append(scratch / f"{len(documents):03}.yaml")
            documents[-1].write_text(text)
    return documents


@pytest.mark.parametrize("name", list(FLEETS))
def test_every_yaml_file_reads_the_same_in_go(fleet, name, tmp_path):
    """As Argo CD, Flux and kubectl read them (Go's YAML), every document is what Python reads."""
    documents = yaml_documents(fleet(name).root, tmp_path)
    assert len(documents) >= 8
    assert go_read(documents, tmp_path / "go") == [yaml.safe_load(p.read_text()) for p in documents]


# Answers YAML reads as booleans, numbers or null unless quoted.
YAML_WORDS = {"orchestration_name": "on", "environments": "12", "orchestration_branch": "null",
              "argocd_namespace": "no", "flux_namespace": "off", "git_owner": "0x1f"}


@pytest.mark.parametrize("controller", ["argocd", "fluxcd"])
def test_yaml_words_land_as_typed(orchestration, controller, tmp_path, crd_schemas):
    root = orchestration("argocd", cluster_controller=controller, **YAML_WORDS)
    documents = yaml_documents(root, tmp_path)
    read = go_read(documents, tmp_path / "go")
    assert read == [yaml.safe_load(p.read_text()) for p in documents]
    # Kubernetes objects, not kustomize's own files.
    objects = [doc for doc in read if "metadata" in doc and not doc["apiVersion"].startswith(("kustomize.config", "builtin"))]
    names = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects}
    if controller == "argocd":
        assert ("Application", "no", "on") in names and ("Application", "no", "on-apps") in names
    else:
        [instance] = [o for o in objects if o["kind"] == "FluxInstance"]
        assert instance["metadata"]["namespace"] == "off"
        assert instance["spec"]["sync"] == {"kind": "GitRepository", "url": "https://github.com/0x1f/on.git",
                                            "ref": "refs/heads/null", "path": "clusters/12", "pullSecret": "off"}
    assert validation_errors(objects, crd_schemas) == []
