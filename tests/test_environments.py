"""One orchestration repository, two environments (staging follows each app's branch, production
pins tags), three apps: each environment's graph, walked from its own bootstrap as its cluster's
controller follows it, resolves on its own, runs its own apps at its own revisions, charts
included, applies its own value overrides and no other environment's, and is the same under Argo
CD and Flux. Promotion is a one-line change that production then deploys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import answers_for, bootstrap, commit_all, git, load_answers, recorded_answers
from conftest import registry_script, serve_orchestration
from support.kube import BUILTIN_GROUPS, validation_errors
from support.orchestration import GitServer, Graph, Walker, ordering_violations, project_violations, unresolved_dependencies
from support.workflow import Workflow
from gitops_template.vcs import flux_repo_url
from gitops_template.names import PLATFORM_REVIEW_TAG, REGISTERED_SUFFIX
from gitops_template.fleet import environment_paths, override_file, platform_review_tag
from gitops_template.infrastructure import infrastructure_components
from gitops_template.derive import derive

# The apps and the environments they run in.
APPS = {"canonical": "shop", "orchestration/inventory": "inventory", "orchestration/ledger": "ledger"}
STAGING, PRODUCTION = "staging", "production"
RUNS = {STAGING: ["shop", "inventory", "ledger"], PRODUCTION: ["shop", "inventory"]}
# Each app's first release; the commit after it, on main, is the next one (tagged, not yet promoted).
FIRST, NEXT = "v1.0.0", "v1.1.0"
NEXT_ANNOTATION = ("example.com/release", NEXT)
# Values an environment gives an app, kept in the orchestration repository.
OVERRIDES = {
    (PRODUCTION, "shop", "base"): {"replicaCount": 3},
    (STAGING, "inventory", "platform"): {"postgres": {"instances": 2}},
}
# The orchestration answers of each variant: the ApplicationSet takes revisions, not overrides.
VARIANTS = {
    "argocd": {"cluster_controller": "argocd"},
    "fluxcd": {"cluster_controller": "fluxcd"},
    "applicationset": {"cluster_controller": "argocd", "argocd_applicationset": True},
}


def app_releases(rendered, scratch: Path) -> dict[str, Path]:
    """Each app's repository: FIRST tagged, then NEXT, whose base values add an annotation."""
    repos = {}
    for answers, app in APPS.items():
        repo = rendered(answers_for(answers), scratch / app)
        git(repo, "init", "--quiet", "--initial-branch", "main")
        commit_all(repo, "generated")
        git(repo, "tag", FIRST)
        if derive(recorded_answers(repo))["platform_needs_review"]:
            git(repo, "tag", PLATFORM_REVIEW_TAG)
        values = repo / "gitops/values-base.yaml"
        values.write_text(values.read_text() + yaml.safe_dump({"podAnnotations": dict([NEXT_ANNOTATION])}))
        commit_all(repo, "annotate the pods")
        git(repo, "tag", NEXT)
        if derive(recorded_answers(repo))["platform_needs_review"]:
            # Staging, which follows main, has its platform reviewed at NEXT; production runs FIRST's.
            git(repo, "tag", platform_review_tag(STAGING))
        repos[app] = repo
    return repos


@dataclass
class Estate:
    root: Path
    settings: dict
    server: GitServer
    scratch: Path

    def walk(self, environment: str) -> Graph:
        scratch = self.scratch / f"walk-{len(list(self.scratch.glob('walk-*')))}"
        scratch.mkdir()
        return Walker(self.server, scratch).walk(bootstrap(self.root, self.settings["cluster_controller"], environment))

    def app_repo(self, app: str) -> Path:
        return next(repo for repo in self.server.urls.values() if repo.name == app)

    def with_app(self, app: str, repo: Path) -> Estate:
        """The estate once `repo`, a changed clone of the app's repository, is pushed."""
        server = self.server.copy(self.scratch / f"server-{len(list(self.scratch.glob('server-*')))}")
        server.scratch.mkdir()
        old = self.app_repo(app)
        server.serve(repo, *(url for url, served in self.server.urls.items() if served == old))
        return Estate(self.root, self.settings, server, server.scratch)

    def git_env(self) -> dict[str, str]:
        """What makes a script's git reach the served repositories by the URLs the registry gives
        (git's GIT_CONFIG_COUNT, url.<local>.insteadOf)."""
        env = {"GIT_CONFIG_COUNT": str(len(self.server.urls))}
        for i, (url, repo) in enumerate(self.server.urls.items()):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = f"url.{repo.as_uri()}.insteadOf", url
        return env

    def republish(self, root: Path) -> Estate:
        """The estate once `root`, a changed clone of its orchestration repository, is pushed."""
        server = self.server.copy(self.scratch / f"server-{len(list(self.scratch.glob('server-*')))}")
        server.scratch.mkdir()
        serve_orchestration(server, root, {"orchestration_repo_url": self.settings["orchestration_repo_url"]})
        return Estate(root, self.settings, server, server.scratch)


@pytest.fixture(scope="module")
def estates(rendered, tmp_path_factory) -> dict[str, Estate]:
    base = tmp_path_factory.mktemp("environments")
    repos = app_releases(rendered, base / "apps")
    result = {}
    for variant, answers in VARIANTS.items():
        scratch = base / variant
        root = rendered({**load_answers("orchestration/argocd"), **answers}, scratch / "orchestration")
        server = GitServer(scratch)
        for environment, apps in RUNS.items():
            for app in apps:
                recorded = recorded_answers(repos[app])
                server.serve(repos[app], recorded["repo_url"], flux_repo_url(recorded["repo_url"]))
                revision = "main" if environment == STAGING else FIRST
                result_ = registry_script(root, "register", app, "--environment", environment, "--git-revision",
                                          revision, "--namespace", recorded["namespace"])
                assert result_.returncode == 0, result_.stderr
        if not answers.get("argocd_applicationset"):
            for (environment, app, chart), values in OVERRIDES.items():
                path = root / override_file(environment, app, chart)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(yaml.safe_dump(values))
        assert registry_script(root, "check").returncode == 0
        git(root, "init", "--quiet", "--initial-branch", "main")
        commit_all(root, "two environments, three apps")
        answers = recorded_answers(root)
        serve_orchestration(server, root, answers)
        settings = json.loads((root / "registry/orchestration.json").read_text())
        result[variant] = Estate(root, settings, server, scratch)
    return result


@pytest.fixture(scope="module")
def graphs(estates):
    """graphs[variant][environment]: each environment's graph, walked once."""
    return {variant: {environment: estate.walk(environment) for environment in RUNS}
            for variant, estate in estates.items()}


def deployment(graph: Graph, app: str) -> dict:
    [found] = [obj for (kind, _, name), obj in graph.objects.items() if kind == "Deployment" and name == app]
    return found


def app_releases_of(graph: Graph) -> dict[tuple[str, str], str]:
    """The apps' Helm releases (the registry chart's aside): (release, namespace) -> manifest."""
    return {(r.name, r.namespace): r.manifest for r in graph.releases if r.name.removesuffix("-platform") in APPS.values()}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("environment", list(RUNS))
def test_each_environment_resolves_on_its_own(estates, graphs, variant, environment, crd_schemas):
    graph = graphs[variant][environment]
    assert graph.duplicates == [] and unresolved_dependencies(graph) == [] and project_violations(graph) == []
    assert validation_errors(list(graph.objects.values()), crd_schemas) == []
    registered = {name.removesuffix(REGISTERED_SUFFIX) for kind, _, name in graph.objects
                  if name.endswith(REGISTERED_SUFFIX) and kind in ("Application", "Kustomization")}
    assert registered == set(RUNS[environment])
    assert {name for name, _ in app_releases_of(graph)} == {
        release for app in RUNS[environment] for release in (app, f"{app}-platform")}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("environment", list(RUNS))
def test_each_environment_installs_the_operators_its_apps_need(estates, graphs, variant, environment):
    """The environment's infrastructure layer is ready before any of its apps, and installs the CRD
    of every custom kind they deploy."""
    graph = graphs[variant][environment]
    assert ordering_violations(graph, estates[variant].settings) == []
    releases = {release.name for release in graph.releases} | {chart.release for chart in graph.charts}
    components = infrastructure_components(recorded_answers(estates[variant].root))
    installed = {(crd["group"], kind) for component in components if component["name"] in releases
                 for crd in component["crds"] for kind in crd["kinds"]}
    custom = {(obj["apiVersion"].rpartition("/")[0], obj["kind"]) for release in graph.releases
              if release.name.removesuffix("-platform") in APPS.values()
              for obj in yaml.safe_load_all(release.manifest) if obj and obj["apiVersion"].rpartition("/")[0]
              not in BUILTIN_GROUPS}
    # Inventory's database and bucket run everywhere; ledger's secrets and monitors in staging only.
    assert {("postgresql.cnpg.io", "Cluster"), ("objectbucket.io", "ObjectBucketClaim")} <= custom
    assert (("monitoring.coreos.com", "ServiceMonitor") in custom) == ("ledger" in RUNS[environment])
    assert sorted(custom - installed) == []


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_environment_deploys_its_revision_charts_included(graphs, variant):
    """Staging follows main, whose values annotate the pods; production runs FIRST, without."""
    for app in RUNS[PRODUCTION]:
        staging, production = (deployment(graphs[variant][e], app) for e in (STAGING, PRODUCTION))
        key, value = NEXT_ANNOTATION
        assert staging["spec"]["template"]["metadata"]["annotations"][key] == value
        assert key not in production["spec"]["template"]["metadata"].get("annotations", {})


@pytest.mark.parametrize("variant", ["argocd", "fluxcd"])
def test_overrides_reach_their_environment_only(graphs, variant):
    staging, production = graphs[variant][STAGING], graphs[variant][PRODUCTION]
    assert deployment(production, "shop")["spec"]["replicas"] == 3
    assert deployment(staging, "shop")["spec"]["replicas"] == 1
    clusters = {environment: graphs[variant][environment].objects[("Cluster", "stock", "inventory-db")]
                for environment in RUNS}
    assert clusters[STAGING]["spec"]["instances"] == 2 and clusters[PRODUCTION]["spec"]["instances"] == 1


@pytest.mark.parametrize("environment", list(RUNS))
def test_argocd_and_flux_deploy_the_same_releases_per_environment(graphs, environment):
    argocd, flux = (app_releases_of(graphs[variant][environment]) for variant in ("argocd", "fluxcd"))
    assert len(argocd) == 2 * len(RUNS[environment])
    assert argocd == flux


def test_without_overrides_the_application_set_deploys_the_same_releases(graphs):
    """Overrides aside (the ApplicationSet takes none), the App-of-Apps and the ApplicationSet agree."""
    for environment in RUNS:
        of_apps, of_set = (app_releases_of(graphs[variant][environment]) for variant in ("argocd", "applicationset"))
        overridden = {(app if chart == "base" else f"{app}-{chart}") for (e, app, chart) in OVERRIDES if e == environment}
        assert {key: manifest for key, manifest in of_apps.items() if key[0] not in overridden} == {
            key: manifest for key, manifest in of_set.items() if key[0] not in overridden}
        assert all(of_apps[key] != of_set[key] for key in of_apps if key[0] in overridden)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_promotion_is_one_line_and_production_deploys_it(estates, graphs, variant, tmp_path):
    estate = estates[variant]
    clone = tmp_path / "orchestration"
    git(tmp_path, "clone", "--quiet", str(estate.root), str(clone))
    result = registry_script(clone, "promote", "shop", "--to", PRODUCTION, "--git-revision", NEXT, env=estate.git_env())
    assert result.returncode == 0, result.stderr
    entry = environment_paths(PRODUCTION)["apps"] + "/shop.yaml"
    assert git(clone, "diff", "--numstat", "--", entry).split() == ["1", "1", entry]
    diff = git(clone, "diff", "--unified=0", "--", entry)
    assert f'-git_revision: "{FIRST}"' in diff and f'+git_revision: "{NEXT}"' in diff
    # The README's generated picture says where NEXT runs now; nothing else changed.
    assert sorted(git(clone, "diff", "--name-only").split()) == sorted([entry, "README.md"])
    assert f"| shop | `main` | `{NEXT}` |" in (clone / "README.md").read_text()
    assert f"| shop | `main` | `{NEXT}` |" in registry_script(clone, "versions").stdout.splitlines()
    commit_all(clone, f"promote shop {NEXT} to production")

    production = estate.republish(clone).walk(PRODUCTION)
    key, value = NEXT_ANNOTATION
    promoted = deployment(production, "shop")
    assert promoted["spec"]["template"]["metadata"]["annotations"][key] == value
    assert promoted["spec"]["replicas"] == (3 if variant != "applicationset" else 1)
    # The other app of production, and staging, are as they were.
    before = app_releases_of(graphs[variant][PRODUCTION])
    after = app_releases_of(production)
    assert {k: v for k, v in after.items() if k[0] != "shop"} == {k: v for k, v in before.items() if k[0] != "shop"}


def test_the_readme_says_which_version_runs_where(estates):
    readme = (estates["argocd"].root / "README.md").read_text()
    assert "| app | staging | production |" in readme
    assert f"| inventory | `main` | `{FIRST}` |" in readme and "| ledger | `main` | - |" in readme


@pytest.mark.parametrize("variant", ["argocd", "fluxcd"])
def test_a_staging_platform_review_never_changes_production(estates, graphs, variant, tmp_path):
    """A platform change on main, reviewed for staging (Flux: its tag moved; Argo CD: the platform
    Application synced in staging's cluster), reaches staging; production, pinned to FIRST, runs
    FIRST's platform still, whatever staging's review."""
    estate = estates[variant]
    clone = tmp_path / "inventory"
    git(tmp_path, "clone", "--quiet", str(estate.app_repo("inventory")), str(clone))
    values = clone / "gitops/values-platform.yaml"
    platform = yaml.safe_load(values.read_text())
    platform["postgres"]["resources"] = {"requests": {"cpu": "300m"}}
    values.write_text(yaml.safe_dump(platform))
    reviewed = commit_all(clone, "more cpu for the database")
    git(clone, "tag", "--force", platform_review_tag(STAGING), reviewed)
    changed = estate.with_app("inventory", clone)
    # The review never reaches the base's GitRepository, nor production's anything.
    production = changed.walk(PRODUCTION)
    assert app_releases_of(production) == app_releases_of(graphs[variant][PRODUCTION])
    staging = changed.walk(STAGING)
    cluster = staging.objects[("Cluster", "stock", "inventory-db")]
    assert cluster["spec"]["resources"]["requests"]["cpu"] == "300m"
    assert cluster["spec"]["instances"] == 2  # staging's own override still applies
    if variant == "fluxcd":
        sources = {name: obj["spec"]["ref"] for (kind, _, name), obj in production.objects.items()
                   if kind == "GitRepository" and name.startswith("inventory")}
        assert sources == {"inventory-gitops": {"tag": FIRST}, "inventory": {"tag": FIRST},
                           "inventory-platform": {"tag": FIRST}}
        assert {name: obj["spec"]["ref"] for (kind, _, name), obj in staging.objects.items()
                if kind == "GitRepository" and name == "inventory-platform"} == {
            "inventory-platform": {"tag": platform_review_tag(STAGING)}}


def inventory_release(estate: Estate, tmp_path: Path, platform: dict, tag: str) -> Estate:
    """The estate once inventory's main has a commit, tagged `tag`, with these platform values."""
    clone = tmp_path / f"inventory-{tag}"
    git(tmp_path, "clone", "--quiet", str(estate.app_repo("inventory")), str(clone))
    values = clone / "gitops/values-platform.yaml"
    values.write_text(yaml.safe_dump({**yaml.safe_load(values.read_text()), **platform}))
    commit_all(clone, f"platform {platform}")
    git(clone, "tag", tag)
    return estate.with_app("inventory", clone)


@pytest.mark.parametrize(("platform", "loss"), [
    pytest.param({"objectStorage": {"enabled": False}}, "ObjectBucketClaim inventory-bucket: the bucket is removed",
                 id="bucket"),
    pytest.param({"postgres": {"enabled": True, "storage": {"size": "512Mi"}}},
                 "Cluster inventory-db: spec.storage.size shrinks from 1Gi to 512Mi", id="volume"),
])
def test_the_promotion_gate_refuses_a_data_losing_platform(estates, tmp_path, platform, loss):
    """make promote renders the platform at production's revision and the promoted one (helm, from
    the app's repository), refuses what could lose data, and writes it only when allowed."""
    estate = inventory_release(estates["fluxcd"], tmp_path, platform, "v2.0.0")
    clone = tmp_path / "orchestration"
    git(tmp_path, "clone", "--quiet", str(estate.root), str(clone))
    promote = ("promote", "inventory", "--to", PRODUCTION, "--git-revision", "v2.0.0")
    refused = registry_script(clone, *promote, env=estate.git_env())
    assert refused.returncode == 1 and f"  {loss}" in refused.stderr, refused.stderr
    assert "inventory at v2.0.0 could lose data in production" in refused.stderr
    assert git(clone, "status", "--porcelain") == ""
    allowed = registry_script(clone, *promote, "--allow-data-loss", env=estate.git_env())
    assert allowed.returncode == 0, allowed.stderr
    assert '+git_revision: "v2.0.0"' in git(clone, "diff", "--unified=0")


def test_the_promotion_gate_refuses_what_the_source_does_not_run(estates, tmp_path):
    """Staging runs main; a tag behind it is not what staging runs, unless named on purpose."""
    estate = inventory_release(estates["argocd"], tmp_path, {"postgres": {"enabled": True, "instances": 1}}, "v2.0.0")
    clone = tmp_path / "orchestration"
    git(tmp_path, "clone", "--quiet", str(estate.root), str(clone))
    refused = registry_script(clone, "promote", "inventory", "--to", PRODUCTION, "--git-revision", NEXT,
                              env=estate.git_env())
    assert refused.returncode == 1 and f"{NEXT} is commit" in refused.stderr and "which staging does not run" \
        in refused.stderr, refused.stderr
    untested = registry_script(clone, "promote", "inventory", "--to", PRODUCTION, "--git-revision", NEXT,
                               "--allow-untested", env=estate.git_env())
    assert untested.returncode == 0, untested.stderr
    # What staging runs, main's newest commit, passes: its platform loses nothing.
    passed = registry_script(clone, "promote", "inventory", "--to", PRODUCTION, "--git-revision", "v2.0.0",
                             env=estate.git_env())
    assert passed.returncode == 0, passed.stderr


def with_template_versions(estate: Estate, tmp_path: Path, versions: dict[str, str]) -> Estate:
    """The estate once each app's main records the template version `versions` gives it."""
    for app, version in versions.items():
        clone = tmp_path / f"{app}-template"
        git(tmp_path, "clone", "--quiet", str(estate.app_repo(app)), str(clone))
        answers = clone / ".copier-answers.yml"
        answers.write_text(answers.read_text() + f"_commit: {version}\n")
        commit_all(clone, f"copier update to {version}")
        estate = estate.with_app(app, clone)
    return estate


@pytest.mark.parametrize("variant", ["argocd", "fluxcd"])
def test_the_fleet_knows_each_apps_template_version(estates, tmp_path, variant):
    """`make templates` (in `make check`) reads each app's template version at each environment's
    revision: an Argo CD fleet refuses one below 1.1.0, or unknown, saying how to update it."""
    estate = with_template_versions(estates[variant], tmp_path, {"shop": "v1.0.0", "inventory": "v1.1.0",
                                                                 "ledger": "v1.1.0-2-g1a2b3c4"})
    checked = registry_script(estate.root, "templates", env=estate.git_env())
    shown = registry_script(estate.root, "versions", "--templates", env=estate.git_env())
    assert shown.returncode == 0, shown.stderr
    assert f"| shop | `main` (template `v1.0.0`) | `{FIRST}` (template unknown) |" in shown.stdout.splitlines()
    assert "| ledger | `main` (template `v1.1.0-2-g1a2b3c4`) | - |" in shown.stdout.splitlines()
    if variant == "fluxcd":
        assert checked.returncode == 0, checked.stderr
        return
    assert checked.returncode == 1
    refused = checked.stderr.splitlines()
    assert [line.split(":")[0] for line in refused] == ["inventory in production", "shop in production",
                                                        "shop in staging"]
    assert refused[2] == ("shop in staging: main has template v1.0.0; an argocd fleet needs v1.1.0 or later. In the "
                          "app's repository: copier update --trust --defaults --vcs-ref v1.1.0 (or newer), then "
                          "register or promote the revision that has it")


@pytest.mark.parametrize("variant", ["argocd", "fluxcd"])
def test_a_code_change_reaches_staging_by_itself_and_production_by_a_tag(estates, graphs, variant, tmp_path):
    """Through the app's generated CI (its release job's steps): a push to main publishes the code's
    image and deploys it on main, which staging follows; tagging the deploy commit and promoting the
    tag gives production exactly that image."""
    estate = estates[variant]
    clone = tmp_path / "shop"
    git(tmp_path, "clone", "--quiet", str(estate.app_repo("shop")), str(clone))
    server_py = clone / "src/server.py"
    server_py.write_text(server_py.read_text() + "# a change of code\n")
    code = commit_all(clone, "a change of code")
    workflow = Workflow(clone, tmp_path / "ci", branch="main")
    before = deployment(graphs[variant][STAGING], "shop")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert workflow.deploy()["tag"] == code
    pushed = estate.with_app("shop", workflow.origin)
    image = f"ghcr.io/acme/shop:{code}"
    staging = deployment(pushed.walk(STAGING), "shop")
    assert (before, staging["spec"]["template"]["spec"]["containers"][0]["image"]) == ("ghcr.io/acme/shop:0.1.0", image)

    assert workflow.release("v2.0.0") == {"tag": code, "alias": "2.0.0"}
    fleet = tmp_path / "orchestration"
    git(tmp_path, "clone", "--quiet", str(estate.root), str(fleet))
    promoted = registry_script(fleet, "promote", "shop", "--to", PRODUCTION, "--git-revision", "v2.0.0",
                               env=pushed.git_env())
    assert promoted.returncode == 0, promoted.stderr
    commit_all(fleet, "promote shop v2.0.0 to production")
    production = deployment(pushed.republish(fleet).walk(PRODUCTION), "shop")
    assert production["spec"]["template"]["spec"]["containers"][0]["image"] == image
