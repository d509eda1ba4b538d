"""The gitops layer: both controllers' manifests are valid, agree with each other and with
the answers, point only at what exists, and deploy identical objects in the same order."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ANSWER_SETS, COMBINATIONS, answers_for
from support import helm
from support.gitops import argocd_deployments, chart_for, flux_deployments, gitops_objects, load_all, merge
from support.kube import K8S_VERSIONS, allowed_in, as_stored, by_name, is_builtin, legacy_diff, validation_errors
from gitops_template.vcs import flux_git_ref, parse_repo_url
from gitops_template.names import PLATFORM_FEATURES, PLATFORM_REVIEW_TAG, derived_names

CHARTS = ("base", "platform")
# The named answer sets, and every controller choice with the platform off and on.
CASES = ANSWER_SETS + list(COMBINATIONS)


def make(app: Path, *args: str) -> subprocess.CompletedProcess:
    """The generated app's Makefile, as its CI runs it (not as a sub-make of ours)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=app, env=env, capture_output=True, text=True)


def answers_of(app: Path) -> dict:
    return yaml.safe_load((app / ".copier-answers.yml").read_text())


def deployments(app: Path) -> dict[str, list]:
    """Per chart, every controller's deployment of it (one or two)."""
    argocd, flux = argocd_deployments(app), flux_deployments(app)
    return {chart: [d for d in (argocd.get(chart), flux.get(chart)) if d] for chart in CHARTS}


@pytest.mark.parametrize("name", CASES)
def test_gitops_objects_validate_strictly(app, name, crd_schemas):
    objects = gitops_objects(app(name))
    assert objects
    assert validation_errors(objects, crd_schemas) == []


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("chart", CHARTS)
def test_controllers_deploy_identical_objects(app, name, chart, tmp_path):
    renders = {
        d.controller: helm.template(chart_for(d, tmp_path), d.release, d.namespace, d.values)
        for d in deployments(app(name))[chart]
    }
    assert renders
    if len(renders) == 2:
        assert renders["argocd"] == renders["fluxcd"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("chart", CHARTS)
def test_deployed_objects_validate_strictly(app, name, chart, crd_schemas):
    root = app(name)
    deployment = deployments(root)[chart][0]
    helm.lint(deployment.chart, deployment.values)
    objects = helm.render(deployment.chart, deployment.release, deployment.namespace, deployment.values)
    answers = answers_of(root)
    # A platform with every feature off has nothing to deploy; a base always has the app.
    assert bool(objects) == (chart == "base" or any(answers[f] for f in PLATFORM_FEATURES))
    assert validation_errors(objects, crd_schemas) == []


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("chart", CHARTS)
def test_gitops_values_satisfy_the_chart_schema(app, name, chart):
    root = app(name)
    chart_dir = root / "helm" / chart
    values = merge(yaml.safe_load((chart_dir / "values.yaml").read_text()) or {},
                   yaml.safe_load((root / f"gitops/values-{chart}.yaml").read_text()) or {})
    schema = json.loads((chart_dir / "values.schema.json").read_text())
    jsonschema.validate(values, schema)


@pytest.mark.parametrize("name", CASES)
def test_every_referenced_path_exists(app, name):
    root = app(name)
    referenced: list[Path] = []
    for ds in deployments(root).values():
        for d in ds:
            referenced += [d.chart / "Chart.yaml", *d.values]
            assert d.chart.resolve().is_relative_to(root.resolve())
            assert all(v.is_relative_to(root.resolve()) for v in d.values)
    for path in root.glob("gitops/fluxcd/*-kustomization.yaml"):
        folder = root / load_all(path)[0]["spec"]["path"]
        referenced.append(folder / "kustomization.yaml")
        referenced += [folder / r for r in load_all(folder / "kustomization.yaml")[0]["resources"]]
    assert referenced
    missing = [str(p) for p in referenced if not p.exists()]
    assert missing == []


@pytest.mark.parametrize("name", CASES)
def test_names_repo_revision_and_namespaces_agree(app, name):
    root = app(name)
    answers = answers_of(root)
    app_name, namespace = answers["app_name"], answers["namespace"]
    for chart, ds in deployments(root).items():
        release = app_name if chart == "base" else f"{app_name}-platform"
        chart_yaml = yaml.safe_load((root / "helm" / chart / "Chart.yaml").read_text())
        assert chart_yaml["name"] == release
        assert chart_yaml["home"] == answers["repo_url"]
        for d in ds:
            assert (d.release, d.namespace, d.chart) == (release, namespace, (root / "helm" / chart).resolve())

    objects = by_name(gitops_objects(root))
    if answers["gitops_controller"] != "fluxcd":
        project = objects[("AppProject", app_name)]
        assert project["metadata"]["namespace"] == answers["argocd_namespace"]
        assert project["spec"]["sourceRepos"] == [answers["repo_url"]]
        assert project["spec"]["destinations"] == [{"server": answers["cluster_server"], "namespace": namespace}]
        for chart in CHARTS:
            application = objects[("Application", f"{app_name}-{chart}")]
            assert application["metadata"]["namespace"] == answers["argocd_namespace"]
            assert application["spec"]["project"] == app_name
            assert application["spec"]["source"]["repoURL"] == answers["repo_url"]
            assert application["spec"]["source"]["targetRevision"] == answers["git_revision"]
            assert application["spec"]["destination"]["server"] == answers["cluster_server"]
    if answers["gitops_controller"] != "argocd":
        source = objects[("GitRepository", app_name)]
        assert source["metadata"]["namespace"] == answers["flux_namespace"]
        assert source["spec"]["ref"] == {flux_git_ref(answers["git_revision"]): answers["git_revision"]}
        assert parse_repo_url(source["spec"]["url"]) == parse_repo_url(answers["repo_url"])
        assert source["spec"].get("secretRef", {}).get("name", "") == answers["git_secret_name"]
        reviewed = answers.get("platform_sync") == "manual" and any(answers[f] for f in PLATFORM_FEATURES)
        for chart in CHARTS:
            for kind in ("Kustomization", "HelmRelease"):
                obj = objects[(kind, f"{app_name}-{chart}")]
                assert obj["metadata"]["namespace"] == answers["flux_namespace"]
                source = chart_source(objects, kind, f"{app_name}-{chart}")
                assert source["metadata"]["namespace"] == answers["flux_namespace"]
                assert source["spec"]["url"] == objects[("GitRepository", app_name)]["spec"]["url"]
                expected = f"{app_name}-platform" if chart == "platform" and reviewed else app_name
                assert source["metadata"]["name"] == expected


@pytest.mark.parametrize("name", CASES)
def test_platform_goes_before_base(app, name):
    objects = by_name(gitops_objects(app(name)))
    app_name = answers_of(app(name))["app_name"]
    if ("Application", f"{app_name}-base") in objects:
        wave = {chart: int(objects[("Application", f"{app_name}-{chart}")]["metadata"]["annotations"]
                           ["argocd.argoproj.io/sync-wave"]) for chart in CHARTS}
        assert wave["platform"] < wave["base"]
    if ("HelmRelease", f"{app_name}-base") in objects:
        # On the HelmRelease, not the Kustomization: a Kustomization waits for its dependency to
        # have applied the very same source revision, which a reviewed platform may never do.
        # Without a platform feature there is nothing to wait for.
        has_platform = any(answers_of(app(name))[f] for f in PLATFORM_FEATURES)
        expected = [{"name": f"{app_name}-platform"}] if has_platform else None
        assert objects[("HelmRelease", f"{app_name}-base")]["spec"].get("dependsOn") == expected
        for kind, chart in (("HelmRelease", "platform"), ("Kustomization", "base"), ("Kustomization", "platform")):
            assert "dependsOn" not in objects[(kind, f"{app_name}-{chart}")]["spec"]


def chart_source(objects: dict, kind: str, name: str) -> dict:
    """The GitRepository a Flux Kustomization or HelmRelease takes its files from."""
    spec = objects[(kind, name)]["spec"]
    ref = spec["sourceRef"] if kind == "Kustomization" else spec["chart"]["spec"]["sourceRef"]
    return objects[(ref["kind"], ref["name"])]


@pytest.mark.parametrize("platform_sync", ["manual", "automated"])
def test_platform_sync_choice_under_both_controllers(generate, platform_sync):
    root = generate(platform_sync=platform_sync, postgres=True)
    objects = by_name(gitops_objects(root))
    platform_app = objects[("Application", "demo-platform")]["spec"]["syncPolicy"]
    assert objects[("Application", "demo-base")]["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # Nothing is suspended: a suspended platform held the app back and let newer commits in on resume.
    for kind in ("HelmRelease", "Kustomization"):
        for chart in CHARTS:
            assert "suspend" not in objects[(kind, f"demo-{chart}")]["spec"]
            assert objects[("Kustomization", f"demo-{chart}")]["spec"]["wait"] is True
        assert chart_source(objects, kind, "demo-base")["spec"]["ref"] == {"branch": "main"}
        platform_ref = chart_source(objects, kind, "demo-platform")["spec"]["ref"]
    if platform_sync == "manual":
        assert "automated" not in platform_app
        assert platform_ref == {"tag": PLATFORM_REVIEW_TAG}
    else:
        assert platform_app["automated"] == {"prune": False, "selfHeal": True}
        assert platform_ref == {"branch": "main"}


def commit_of(repo: Path, source: dict) -> str | None:
    """The commit Flux's source-controller fetches for a GitRepository; None while its ref does not exist."""
    (kind, revision), = source["spec"]["ref"].items()
    ref = {"branch": f"refs/heads/{revision}", "tag": f"refs/tags/{revision}^{{commit}}"}[kind]
    result = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=repo, capture_output=True, text=True)
    return result.stdout.strip() or None


def test_flux_deploys_only_the_reviewed_platform(generate, tmp_path):
    """A review covers exactly what Flux deploys: the platform stays at the tagged commit, whatever is
    pushed after it, until the README's command moves the tag."""
    repo = generate(postgres=True)
    objects = by_name(gitops_objects(repo))
    base, platform = (chart_source(objects, "HelmRelease", f"demo-{chart}") for chart in CHARTS)
    assert chart_source(objects, "Kustomization", "demo-platform") is platform
    git = lambda *args: subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    git("init", "--quiet", "--initial-branch=main")
    git("add", "--all")
    git("commit", "--quiet", "--message", "the app")
    assert commit_of(repo, platform) is None  # README: tag the first commit before deploying
    readme = (repo / "README.md").read_text()
    command = re.search(r"`(git tag -f \S+ <commit>) && git push -f origin \S+`", readme)[1]
    subprocess.run(command.replace("<commit>", "HEAD"), shell=True, cwd=repo, check=True)
    reviewed = commit_of(repo, platform)

    values = repo / "gitops/values-platform.yaml"
    values.write_text(values.read_text().replace("postgres:\n  enabled: true\n", "postgres:\n  enabled: true\n  instances: 3\n"))
    git("commit", "--quiet", "--all", "--message", "an unreviewed platform change")
    head = commit_of(repo, base)
    assert head != reviewed and commit_of(repo, platform) == reviewed

    subprocess.run(command.replace("<commit>", head), shell=True, cwd=repo, check=True)
    assert commit_of(repo, platform) == head


@pytest.mark.parametrize("name", CASES)
def test_kubectl_kustomize_builds_every_flux_folder(app, name):
    folders = [p.parent for p in app(name).glob("gitops/fluxcd-releases/*/kustomization.yaml")]
    if answers_of(app(name))["gitops_controller"] == "argocd":
        assert folders == []
    for folder in folders:
        result = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        kinds = ["HelmRelease", "Namespace"] if folder.name == "platform" else ["HelmRelease"]
        assert sorted(o["kind"] for o in yaml.safe_load_all(result.stdout) if o) == kinds


def test_app_project_allows_exactly_the_rendered_kinds(app):
    rendered: set[tuple[str, str]] = set()
    whitelist: set[tuple[str, str]] | None = None
    for name in CASES:
        root = app(name)
        for ds in deployments(root).values():
            d = ds[0]
            rendered |= {(o["apiVersion"].rpartition("/")[0], o["kind"])
                         for o in helm.render(d.chart, d.release, d.namespace, d.values)}
        project = root / "gitops/argocd/project.yaml"
        if project.exists():
            whitelist = {(k["group"], k["kind"]) for k in load_all(project)[0]["spec"]["namespaceResourceWhitelist"]}
    chart_values = Path(__file__).parent / "values"
    root = app(ANSWER_SETS[0])
    for chart in CHARTS:
        for values in sorted((chart_values / chart).glob("*.yaml")):
            if values.name == "extra-objects.yaml":
                continue  # kinds of the app team's choosing: the README says to widen the project for them
            rendered |= {(o["apiVersion"].rpartition("/")[0], o["kind"])
                         for o in helm.render(root / "helm" / chart, "demo", "demo", [values])}
    assert whitelist is not None
    assert rendered == whitelist


def seconds(duration: str) -> int:
    """A Go duration as the gitops files write it (15m, 90s, 1h30m), in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(number) * units[unit] for number, unit in re.findall(r"(\d+)([hms])", duration))


@pytest.mark.parametrize("name", [n for n in CASES if answers_for(n).get("gitops_controller", "both") != "argocd"])
def test_flux_waits_as_long_as_the_chart_lets_a_rollout_take(app, name):
    """Flux's Helm gives up on each step of a rollout (a hook, the pods' readiness) after the
    HelmRelease's timeout, 5m unless set; the chart refuses steps longer than rolloutTimeoutSeconds.
    The Kustomization waits for the whole: a hook, then the rollout."""
    root = app(name)
    [release] = load_all(root / "gitops/fluxcd-releases/base/helm-release.yaml")
    [kustomization] = load_all(root / "gitops/fluxcd/base-kustomization.yaml")
    limit = yaml.safe_load((root / "helm/base/values.yaml").read_text())["rolloutTimeoutSeconds"]
    assert seconds(release["spec"]["timeout"]) == limit
    assert seconds(kustomization["spec"]["timeout"]) >= 2 * limit


@pytest.mark.parametrize("name", CASES)
def test_the_apps_own_checks_render_what_the_controllers_deploy(app, name, tmp_path):
    """The generated Makefile (what the app's CI runs) lints and renders exactly the deployment."""
    root = tmp_path / "app"
    shutil.copytree(app(name), root)
    result = make(root, "lint", "render")
    assert result.returncode == 0, result.stdout + result.stderr
    for chart, ds in deployments(root).items():
        d = ds[0]
        rendered = (root / "rendered" / f"{chart}.yaml").read_text()
        assert rendered == helm.template(d.chart, d.release, d.namespace, d.values)


@pytest.mark.parametrize("values", ["gitops/values-base.yaml", "gitops/values-platform.yaml"])
def test_the_apps_lint_refuses_a_mistyped_value(app, values, tmp_path):
    root = tmp_path / "app"
    shutil.copytree(app(ANSWER_SETS[0]), root)
    (root / values).write_text((root / values).read_text() + "replicaCuont: 2\n")
    result = make(root, "lint")
    assert result.returncode != 0
    assert "replicaCuont" in result.stdout + result.stderr


def rendered(root: Path) -> dict[str, dict[tuple[str, str], dict]]:
    """Per chart, what the first controller deploys, by (kind, name)."""
    result = {}
    for chart, ds in deployments(root).items():
        d = ds[0]
        result[chart] = by_name(helm.render(d.chart, d.release, d.namespace, d.values))
    return result


@pytest.mark.parametrize("name", CASES)
def test_base_consumes_what_the_platform_produces(app, name):
    root = app(name)
    answers = answers_of(root)
    names = derived_names(answers["app_name"])
    objects = rendered(root)
    base, platform = objects["base"], objects["platform"]
    pod = base[("Deployment", names["base_release"])]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    secret_refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e}
    env_from = {(kind, ref["name"]) for e in container.get("envFrom", []) for kind, ref in e.items()}

    assert ((("Cluster", names["database_cluster"]) in platform) == answers["postgres"]
            == (names["database_secret"] in secret_refs))
    assert ((("ObjectBucketClaim", names["bucket_claim"]) in platform) == answers["object_storage"]
            == (("configMapRef", names["bucket_claim"]) in env_from)
            == (("secretRef", names["bucket_claim"]) in env_from))
    kv = platform.get(("ExternalSecret", names["kv_store"]))
    assert (kv is not None) == answers["key_value_store"] == (("secretRef", names["kv_store"]) in env_from)
    if kv:
        assert kv["spec"]["target"]["name"] == names["kv_store"]
        assert platform[("Redis", names["kv_store"])]["spec"]["kubernetesConfig"]["redisSecret"]["name"] == names["kv_store"]
    external_secret = platform.get(("ExternalSecret", names["app_secret"]))
    assert (external_secret is not None) == answers["external_secrets"] == (("secretRef", names["app_secret"]) in env_from)
    if external_secret:
        assert external_secret["spec"]["target"]["name"] == names["app_secret"]

    monitor = platform.get(("ServiceMonitor", answers["app_name"]))
    assert (monitor is not None) == answers["monitoring"]
    if monitor:
        service = base[("Service", names["base_release"])]
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= service["metadata"]["labels"].items()
        # Argo CD before 3.0 overwrites this label with the Application name on what it tracks.
        assert "app.kubernetes.io/instance" not in selector
        ports = {p["name"] for p in service["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports


@pytest.mark.parametrize("name", CASES)
def test_org_defaults_reach_the_rendered_objects(app, name):
    root = app(name)
    answers = answers_of(root)
    app_name = answers["app_name"]
    objects = rendered(root)
    base, platform = objects["base"], objects["platform"]

    route = base[("HTTPRoute", app_name)]["spec"]
    assert route["hostnames"] == [f"{app_name}.{answers['domain']}"]
    assert route["parentRefs"][0]["name"] == answers["gateway_name"]
    assert route["parentRefs"][0]["namespace"] == answers["gateway_namespace"]
    image = base[("Deployment", app_name)]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.rpartition(":")[0] == answers["image_repository"]
    allowed = allowed_in(list(base.values()))
    assert {answers["gateway_proxy_namespace"], answers["gateway_namespace"]} - {""} <= allowed
    assert (answers["prometheus_namespace"] in allowed) == answers["monitoring"]
    if answers["object_storage"]:
        claim = platform[("ObjectBucketClaim", f"{app_name}-bucket")]["spec"]
        assert claim["storageClassName"] == answers["bucket_storage_class"]
    if answers["external_secrets"]:
        store = platform[("ExternalSecret", f"{app_name}-secrets")]["spec"]["secretStoreRef"]
        assert store == {"kind": answers["secret_store_kind"], "name": answers["secret_store_name"]}


@pytest.mark.parametrize("name", CASES)
def test_flux_source_keeps_every_path_flux_reads(app, name, tmp_path):
    """The GitRepository's ignore rules, applied by git itself, keep every referenced path."""
    root = app(name)
    sources = [o for o in gitops_objects(root) if o["kind"] == "GitRepository"]
    if not sources:
        return
    repo = tmp_path / "repo"
    shutil.copytree(root, repo)
    (repo / ".gitignore").write_text(sources[0]["spec"]["ignore"])
    subprocess.run(["git", "init", "--quiet"], cwd=repo, check=True)
    needed = [str(p.relative_to(root)) for p in root.glob("gitops/fluxcd-releases/*/*.yaml")]
    for d in flux_deployments(root).values():
        needed += [str(p.relative_to(root.resolve())) for p in (d.chart / "Chart.yaml", *d.values)]
        needed += [str(p.relative_to(root.resolve())) for p in d.chart.rglob("*") if p.is_file()]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *needed, "Dockerfile", "src/server.py"],
                             cwd=repo, capture_output=True, text=True).stdout.split()
    assert ignored == ["Dockerfile", "src/server.py"]


@pytest.mark.parametrize("name", CASES)
def test_the_apps_kubeconform_reads_exactly_the_kubernetes_objects(app, name, tmp_path):
    """`make validate` (kubeconform, not runnable here) is handed every manifest and nothing else."""
    root = tmp_path / "app"
    shutil.copytree(app(name), root)
    result = make(root, "-n", "validate")
    assert result.returncode == 0, result.stderr
    dry_run = result.stdout
    command = dry_run[dry_run.index("kubeconform"):].replace("\\\n", " ")
    versions = re.search(r"for version in ([\d. ]+); do", dry_run).group(1).split()
    assert [v.rsplit(".", 1)[0] for v in versions] == list(K8S_VERSIONS)
    args = shlex.split(command.split("||")[0])
    not_objects = re.compile(args[args.index("-ignore-filename-pattern") + 1])
    paths = args[args.index("-ignore-filename-pattern") + 2:]
    assert paths[0] == "rendered"
    read = {str(p.relative_to(root)) for path in paths[1:] for p in (root / path).rglob("*.yaml")
            if not not_objects.search(str(p.relative_to(root)))}
    manifests = {str(p.relative_to(root)) for p in root.glob("gitops/*/**/*.yaml") if p.name != "kustomization.yaml"}
    assert read == manifests
    for path in read:
        assert all({"apiVersion", "kind"} <= doc.keys() for doc in load_all(root / path)), path


def test_without_platform_features_nothing_waits_for_review(generate):
    root = generate()  # every platform feature off, platform_sync left at its default
    objects = by_name(gitops_objects(root))
    assert "suspend" not in objects[("HelmRelease", "demo-platform")]["spec"]
    assert [name for kind, name in objects if kind == "GitRepository"] == ["demo"]
    assert "dependsOn" not in objects[("HelmRelease", "demo-base")]["spec"]
    assert objects[("Kustomization", "demo-platform")]["spec"]["wait"] is True
    assert "platform_sync" not in yaml.safe_load((root / ".copier-answers.yml").read_text())


@pytest.mark.parametrize("name", CASES)
def test_readme_commands_name_real_objects(app, name):
    """Every controller command the app README gives acts on an object that exists, as it says."""
    root = app(name)
    readme = (root / "README.md").read_text()
    objects = by_name(gitops_objects(root))
    kinds = {"helmrelease": "HelmRelease", "kustomization": "Kustomization"}
    checked = 0
    for verb, kind, obj_name, namespace in re.findall(r"flux (resume|suspend) (\w+) (\S+) -n ([\w-]+)", readme):
        obj = objects[(kinds[kind], obj_name)]
        assert obj["metadata"]["namespace"] == namespace
        assert obj["spec"].get("suspend") is True  # only a suspended object needs resuming
        checked += 1
    for tag, pushed in re.findall(r"git tag -f (\S+) <commit> && git push -f origin (\S+)`", readme):
        assert tag == pushed
        assert {"tag": tag} in [o["spec"]["ref"] for o in objects.values() if o["kind"] == "GitRepository"]
        checked += 1
    for application in re.findall(r"argocd app sync ([\w-]+)", readme):
        assert "automated" not in objects[("Application", application)]["spec"]["syncPolicy"]
        checked += 1
    for secret, url, namespace in re.findall(r"flux create secret git ([\w-]+) --url=(\S+) .*?-n ([\w-]+)`", readme):
        source = next(o for o in objects.values() if o["kind"] == "GitRepository")
        assert (source["spec"]["secretRef"]["name"], source["spec"]["url"]) == (secret, url)
        assert source["metadata"]["namespace"] == namespace
        checked += 1
    for flag, folder in re.findall(r"kubectl apply (-[fk]) (gitops/\w+/)", readme):
        assert (root / folder).is_dir()
        # -k for a kustomization, whose own file -f would send to the API server as an object.
        assert (flag == "-k") == (root / folder / "kustomization.yaml").is_file()
        checked += 1
    assert checked
    answers = answers_of(root)
    if answers.get("git_secret_name") and answers["gitops_controller"] != "argocd":
        assert "flux create secret git" in readme
    if any(o.get("spec", {}).get("suspend") for o in objects.values()):
        assert "flux resume helmrelease" in readme
    for source in (o for o in objects.values() if o["kind"] == "GitRepository" and "tag" in o["spec"]["ref"]):
        if source["spec"]["ref"]["tag"] == PLATFORM_REVIEW_TAG:
            assert f"git tag -f {PLATFORM_REVIEW_TAG} <commit>" in readme


def flux_identity(obj: dict, default_service_account: str | None) -> str:
    """Whom Flux applies `obj` as: its serviceAccountName; else, on a cluster locked down with
    --default-service-account, that account (Flux's multi-tenancy lockdown); else its own controller."""
    return obj["spec"].get("serviceAccountName") or default_service_account or "the controller"


@pytest.mark.parametrize("lockdown", [None, "default"], ids=["flux-default", "multi-tenancy-lockdown"])
@pytest.mark.parametrize("account", ["", "flux-apps"], ids=["no-org-account", "org-account"])
def test_flux_applies_as_the_org_account(generate, lockdown, account):
    root = generate(flux_service_account=account, postgres=True)
    applied = [o for o in gitops_objects(root) if o["kind"] in ("Kustomization", "HelmRelease")]
    assert len(applied) == 4
    for obj in applied:
        # Locked down, an object naming no account gets `default`, which has no rights.
        assert flux_identity(obj, lockdown) == (account or lockdown or "the controller")
    readme = (root / "README.md").read_text()
    assert ("Flux applies both charts as the ServiceAccount `flux-apps`" in readme) == bool(account)


# Lists the app team fills in, whose items External Secrets defaults differently from one version to
# the next: only server-side diff can tell those defaults from drift.
USER_LISTS = {("ExternalSecret", ".spec.data"), ("ExternalSecret", ".spec.dataFrom")}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("chart", CHARTS)
def test_argocd_sees_no_drift_once_synced(app, name, chart, crd_schemas):
    """What Argo CD compares after a sync: the manifests against what the API server stored."""
    root = app(name)
    d = deployments(root)[chart][0]
    drift = [(obj["kind"], path)
             for obj in helm.render(d.chart, d.release, d.namespace, d.values) if not is_builtin(obj)
             for path in legacy_diff(obj, as_stored(obj, crd_schemas))]
    # Even Argo CD's default diff (before 2.10, or server-side diff turned off) sees none in the lists
    # the charts write themselves.
    assert [(kind, path) for kind, path in drift if (kind, path) not in USER_LISTS] == []
    for application in [o for o in gitops_objects(root) if o["kind"] == "Application"]:
        options = application["metadata"]["annotations"]["argocd.argoproj.io/compare-options"].split(",")
        assert "ServerSideDiff=true" in options


@pytest.mark.parametrize("level", ["restricted", "baseline"])
def test_app_namespace_enforces_the_pod_security_standard(generate, level):
    """Argo CD labels the namespace it creates (managedNamespaceMetadata); Flux's createNamespace
    cannot, so Flux applies a Namespace object: both give the namespace the same labels."""
    root = generate(pod_security_level=level, namespace="shop")
    objects = by_name(gitops_objects(root))
    expected = {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}
    for chart in CHARTS:
        policy = objects[("Application", f"demo-{chart}")]["spec"]["syncPolicy"]
        assert "CreateNamespace=true" in policy["syncOptions"]
        assert policy["managedNamespaceMetadata"]["labels"] == expected
    assert objects[("Namespace", "shop")]["metadata"]["labels"] == expected
    # Applied by the Kustomization that never prunes, so deleting it cannot take the data with it.
    folder = root / "gitops/fluxcd-releases/platform"
    assert "namespace.yaml" in load_all(folder / "kustomization.yaml")[0]["resources"]
    assert objects[("Kustomization", "demo-platform")]["spec"]["prune"] is False


def flux_alerts_for(objects: list[dict], kind: str, name: str, namespace: str, severity: str) -> list[str]:
    """The Providers an event of a Flux object reaches, as notification-controller matches Alerts:
    same namespace, an eventSources entry of its kind and name (or "*"), and a severity the Alert takes."""
    return [alert["spec"]["providerRef"]["name"] for alert in objects
            if alert["kind"] == "Alert" and alert["metadata"]["namespace"] == namespace
            and (alert["spec"].get("eventSeverity", "info") == "info" or severity == "error")
            and any(source["kind"] == kind and source["name"] in (name, "*") for source in alert["spec"]["eventSources"])]


def argocd_subscriptions(application: dict) -> set[tuple[str, str, str]]:
    """(trigger, service, recipient) of an Application, as Argo CD notifications reads its annotations."""
    prefix = "notifications.argoproj.io/subscribe."
    return {(*key.removeprefix(prefix).split(".", 1), recipient)
            for key, value in application["metadata"].get("annotations", {}).items() if key.startswith(prefix)
            for recipient in value.split(";")}


@pytest.mark.parametrize("org", [{}, {"flux_alert_provider": "platform-alerts", "argocd_notify": "slack:apps"}],
                         ids=["no-notifications", "org-notifications"])
def test_deployment_failures_reach_the_org(generate, org):
    root = generate(postgres=True, **org)
    objects = gitops_objects(root)
    flux = [o for o in objects if o["kind"] in ("GitRepository", "Kustomization", "HelmRelease")]
    assert len(flux) == 6  # the app's and the reviewed platform's sources, 2 Kustomizations, 2 HelmReleases
    for obj in flux:
        providers = flux_alerts_for(objects, obj["kind"], obj["metadata"]["name"], obj["metadata"]["namespace"], "error")
        assert providers == ([org["flux_alert_provider"]] if org else [])
        # Routine events (info) stay quiet.
        assert flux_alerts_for(objects, obj["kind"], obj["metadata"]["name"], obj["metadata"]["namespace"], "info") == []
    for application in (o for o in objects if o["kind"] == "Application"):
        expected = {("on-sync-failed", "slack", "apps"), ("on-health-degraded", "slack", "apps")} if org else set()
        assert argocd_subscriptions(application) == expected
