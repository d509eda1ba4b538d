"""The orchestration repository's graph, walked as the controllers walk it.

Each fleet (conftest FLEETS) is an orchestration repository generated from this template with
three apps registered by its own `make register` script, every repository a local git
repository served under the URLs the manifests give. From the root a person applies, the walk
(support/orchestration.py) follows the registry to each app's gitops/ folder and its charts,
rendered by Helm with the values each controller passes.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import FLEETS, PRODUCTION_FLEETS, ROOT, bootstrap, commit_all, git, recorded_answers, registry_script, serve_orchestration
from support.kube import validation_errors
from support.orchestration import (CLUSTER_SCOPED, GitServer, Walker, deployed_kinds, describe, ordering_violations,
                                   project_violations, removed, unresolved_dependencies)
from gitops_template.names import REGISTERED_SUFFIX, registered_name
from gitops_template.registry import parse_registry_entry, registry_entry_text
from gitops_template.diagram import registry_diagram, versions_table

FLEET_NAMES = list(FLEETS)


def apps_of(fleet) -> set[str]:
    return set(fleet.apps)


@pytest.mark.parametrize("name", FLEET_NAMES)
def test_every_reference_resolves(fleet, graph, name):
    """The walk reaches every registered app's charts: every repository URL, revision, path,
    source and project a manifest names exists (else the walk raises GraphError)."""
    walked = graph(name)
    assert unresolved_dependencies(walked) == []
    rendered = {(release.name, release.namespace) for release in walked.releases}
    for app, repo in fleet(name).apps.items():
        namespace = yaml.safe_load((repo / ".copier-answers.yml").read_text())["namespace"]
        assert {(app, namespace), (f"{app}-platform", namespace)} <= rendered


@pytest.mark.parametrize("name", FLEET_NAMES)
def test_no_object_has_two_parents_or_shares_a_name(fleet, graph, name):
    walked = graph(name)
    assert walked.duplicates == []
    # Each app's own GitRepositories (its source, and its reviewed platform's `<app>-platform`)
    # have one parent: the Kustomization applying its gitops/fluxcd. (The infrastructure's is the
    # orchestration's own.)
    infrastructure = fleet(name).settings["names"]["infrastructure_layer"]
    for key, parent in walked.parents.items():
        if key[0] == "GitRepository" and parent and parent[0] == "Kustomization" and key[2] != infrastructure:
            owners = {key[2], key[2].removesuffix("-platform")}
            assert parent[2] in {registered_name(app) for app in owners}, describe(key)


@pytest.mark.parametrize("name", FLEET_NAMES)
def test_every_object_validates_strictly(graph, name, crd_schemas):
    assert validation_errors(list(graph(name).objects.values()), crd_schemas) == []


@pytest.mark.parametrize("name", ["argocd", "applicationset"])
def test_app_projects_admit_exactly_what_they_deploy(fleet, graph, name):
    walked, settings = graph(name), fleet(name).settings
    assert project_violations(walked) == []
    # The orchestration's own projects admit no more than what their Applications deploy.
    for project in (settings["names"]["root_project"], settings["names"]["apps_project"]):
        spec = walked.objects[("AppProject", settings["argocd_namespace"], project)]["spec"]
        applications = [app for app in walked.of_kind("Application").values() if app["spec"]["project"] == project]
        kinds = deployed_kinds(walked, project)
        cluster_wide = {(group, kind) for group, kind in kinds if kind in CLUSTER_SCOPED}
        assert {(e["group"], e["kind"]) for e in spec["namespaceResourceWhitelist"]} == kinds - cluster_wide
        # The root's: the apps' namespaces, which the registry writes.
        assert {(e["group"], e["kind"]) for e in spec.get("clusterResourceWhitelist", [])} == cluster_wide
        assert sorted(spec["sourceRepos"]) == sorted({app["spec"]["source"]["repoURL"] for app in applications})
        deployed = {child[1] for key, app in walked.of_kind("Application").items() if app["spec"]["project"] == project
                    for child in walked.children[key] if child[1]}
        assert spec["destinations"] == [{"server": settings["cluster_server"], "namespace": namespace}
                                        for namespace in [settings["argocd_namespace"]] + sorted(deployed - {settings["argocd_namespace"]})]


def releases_by_name(walked, apps: set[str]) -> dict[tuple[str, str], str]:
    return {(r.name, r.namespace): r.manifest for r in walked.releases
            if r.name.removesuffix("-platform") in apps}


def test_argocd_and_flux_deploy_the_same_releases_with_the_same_values(fleet, graph):
    """Apps registered under both controllers: the same Helm releases, rendered the same."""
    both = apps_of(fleet("argocd")) & apps_of(fleet("fluxcd"))
    assert len(both) >= 2
    argocd, flux = releases_by_name(graph("argocd"), both), releases_by_name(graph("fluxcd"), both)
    assert len(argocd) == 2 * len(both)
    assert argocd == flux


def test_app_of_apps_and_applicationset_make_the_same_applications(fleet, graph):
    """Both Argo CD variants create the same Application per registered app (the orchestration
    names aside), with the same children."""
    def applications(name):
        settings = fleet(name).settings
        walked = graph(name)
        result = {}
        for key, app in walked.of_kind("Application").items():
            if key[2].endswith(REGISTERED_SUFFIX):
                app = yaml.safe_load(yaml.safe_dump(app).replace(settings["names"]["apps_project"], "<apps>"))
                result[key] = (app, sorted(walked.children[key]))
        return result

    of_apps, of_set = applications("argocd"), applications("applicationset")
    assert len(of_apps) == len(FLEETS["argocd"])
    assert of_apps == of_set


def test_infrastructure_is_ready_before_any_app(fleet, graph):
    """On every fleet, the production profile's too (`make prove` checks the same)."""
    for name, apps in {**FLEETS, **PRODUCTION_FLEETS}.items():
        walked, settings = graph(name), fleet(name).settings
        assert ordering_violations(walked, settings) == [], name
        gitops = [key for key in walked.objects if key[2].endswith(REGISTERED_SUFFIX)
                  and key[0] in ("Application", "Kustomization")]
        assert len(gitops) == len(apps)


@pytest.mark.parametrize("name", FLEET_NAMES)
def test_removing_an_app_prunes_its_base_and_keeps_its_data(fleet, graph, name, tmp_path):
    """`make remove`, committed: the controller deletes the app, but not its database or bucket."""
    original = fleet(name)
    clone = tmp_path / "orchestration"
    subprocess.run(["git", "clone", "--quiet", str(original.root), str(clone)], check=True)
    result = registry_script(clone, "remove", "inventory")
    assert result.returncode == 0, result.stderr
    commit_all(clone, "remove inventory")
    server = original.server.copy(tmp_path)
    serve_orchestration(server, clone, original.answers)
    after = Walker(server, tmp_path).walk(original.bootstrap())
    before = graph(name)

    gone = removed(before, after)

    namespace = "stock"
    for kind in ("Deployment", "Service", "HTTPRoute"):
        assert (kind, namespace, "inventory") in gone
    for kind, data in (("Cluster", "inventory-db"), ("ObjectBucketClaim", "inventory-bucket")):
        assert (kind, namespace, data) in before.objects
        assert (kind, namespace, data) not in gone
    # Nothing of another app, nor of the orchestration's layers, goes.
    assert all("inventory" in key[2] or key[1] == namespace for key in gone)
    assert all(key in before.objects for key in after.objects)


def test_replacing_the_application_set_deletes_no_app(fleet, graph, tmp_path):
    """The ApplicationSet variant turned into the App-of-Apps: the apps layer prunes the
    ApplicationSet and creates the same Applications itself; none of them, nor what they
    deployed, is deleted on the way."""
    original = fleet("applicationset")
    clone = tmp_path / "orchestration"
    subprocess.run(["git", "clone", "--quiet", str(original.root), str(clone)], check=True)
    settings_file = clone / "registry/orchestration.json"
    settings_file.write_text(json.dumps({**original.settings, "argocd_applicationset": False}, indent=2))
    commit_all(clone, "the App-of-Apps")
    server = original.server.copy(tmp_path)
    serve_orchestration(server, clone, original.answers)
    after = Walker(server, tmp_path).walk(original.bootstrap())
    before = graph("applicationset")
    assert set(before.of_kind("Application")) == set(after.of_kind("Application"))

    assert removed(before, after) == {("ApplicationSet", original.settings["argocd_namespace"],
                                       original.settings["names"]["apps_layer"])}


def test_registering_an_app_is_one_file(fleet, tmp_path):
    for name in FLEET_NAMES:
        clone = tmp_path / name
        subprocess.run(["git", "clone", "--quiet", str(fleet(name).root), str(clone)], check=True)
        result = registry_script(clone, "register", "orders", "--git-revision", "v2.0.0")
        assert result.returncode == 0, result.stderr
        status = git(clone, "status", "--porcelain").splitlines()
        entry = str(fleet(name).entry_path("orders").relative_to(fleet(name).root))
        assert sorted(status) == sorted([f"?? {entry}", " M README.md"]), name
        assert parse_registry_entry((clone / entry).read_text()) == {
            "app_name": "orders", "repo_url": "https://github.com/acme/orders.git", "git_revision": "v2.0.0",
            "namespace": "orders"}
        assert registry_script(clone, "check").returncode == 0


@pytest.mark.parametrize("name", FLEET_NAMES)
def test_the_readme_diagram_is_the_registry(fleet, name, tmp_path):
    f = fleet(name)
    root = f.root
    registries = {environment: [parse_registry_entry(p.read_text())
                                for p in sorted(f.entry_path("*", environment).parent.glob("*.yaml"))]
                  for environment in f.settings["environments"]}
    diagram = registry_diagram(f.settings, registries)
    readme = (root / "README.md").read_text()
    assert f"```mermaid\n{diagram}```" in readme
    assert versions_table(f.settings, registries) in readme
    for entry in registries[f.environment]:
        assert registered_name(entry["app_name"]) in diagram
        assert f"| {entry['app_name']} | `{entry['git_revision']}` |" in readme
    assert registry_script(root, "check").returncode == 0
    # A registry entry added by hand, without `make diagram`, fails the check.
    clone = tmp_path / "clone"
    shutil.copytree(root, clone)
    (clone / f.entry_path("orders").relative_to(root)).write_text(registry_entry_text(
        {"app_name": "orders", "repo_url": "https://github.com/acme/orders.git", "git_revision": "main",
         "namespace": "orders"}))
    result = registry_script(clone, "check")
    assert result.returncode != 0 and "make diagram" in result.stderr
    assert registry_script(clone, "diagram").returncode == 0
    assert registry_script(clone, "check").returncode == 0


@pytest.mark.parametrize(("name", "args", "message"), [
    ("argocd", ["register", "fleet"], "AppProject argocd/fleet would be created by both the orchestration and app fleet"),
    ("argocd", ["register", "fleet-apps"], "AppProject argocd/fleet-apps would be created by both"),
    ("fluxcd", ["register", "flux-system"], "flux-system.yaml: app_name: flux-system is Flux's own GitRepository"),
    ("argocd", ["register", "orders", "--namespace", "argocd"], "orders.yaml: namespace: argocd is Argo CD's"),
    ("fluxcd", ["register", "shop-gitops"], "GitRepository flux-system/shop-gitops would be created by both"),
    ("argocd", ["register", "shop"], "shop is registered in staging already"),
    ("argocd", ["register", "orders", "--environment", "qa"], "--environment: no environment qa (the environments are staging, production"),
    ("argocd", ["promote", "shop", "--to", "staging"], "--to staging: the first environment has none before it"),
    ("argocd", ["promote", "shop", "--to", "production"], "git_revision: staging follows the branch main, which moves"),
    ("argocd", ["promote", "orders", "--to", "production"], "orders is not registered in staging"),
    ("argocd", ["promote", "shop", "--to", "production", "--git-revision", "a..b"], "git_revision: must be"),
    ("argocd", ["register", "shop-x", "--namespace", "shop"], "namespace shop already holds app shop"),
    ("argocd", ["register", "Orders"], "app_name: must be a DNS-1035 label"),
    ("argocd", ["register", "orders", "--git-revision", "a..b"], "git_revision: must be a branch, tag"),
    ("argocd", ["register", "orders", "--repo-url", "https://u:p@github.com/acme/orders.git"], "repo_url: must not contain credentials"),
    ("argocd", ["remove", "orders"], "no such registered app"),
])
def test_registry_refuses_naming_the_rule(fleet, tmp_path, name, args, message):
    clone = tmp_path / "clone"
    shutil.copytree(fleet(name).root, clone)
    result = registry_script(clone, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert git(clone, "status", "--porcelain") == ""


def test_flux_registry_refuses_an_ssh_app_without_credentials(fleet, tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(fleet("fluxcd").root, clone)
    result = registry_script(clone, "register", "orders", "--repo-url", "git@github.com:acme/orders.git",
                             "--git-secret-name", "")
    assert result.returncode != 0 and "git_secret_name: required for an ssh repo_url" in result.stderr
    assert registry_script(clone, "register", "orders", "--repo-url", "git@github.com:acme/orders.git").returncode == 0
    entry = clone / fleet("fluxcd").entry_path("orders").relative_to(fleet("fluxcd").root)
    assert parse_registry_entry(entry.read_text())["git_secret_name"] == "orders-git"


def test_the_example_fleet_resolves(template_dir, tmp_path, monkeypatch, crd_schemas):
    """`make example`'s orchestration repository and three apps: registered, and its graph whole."""
    spec = importlib.util.spec_from_file_location("example", ROOT / "scripts/example_orchestration.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    # From the plain template copy, as every test copies.
    monkeypatch.setattr(example, "ROOT", template_dir)
    monkeypatch.setattr(example, "OPTIONS", {"defaults": True, "unsafe": True, "quiet": True})
    monkeypatch.setattr(sys, "argv", ["example", str(tmp_path / "example")])
    example.main()
    fleet_root = tmp_path / "example/fleet"
    server = GitServer(tmp_path)
    for app in example.APPS:
        repo = tmp_path / "example/apps" / app
        git(repo, "init", "--quiet", "--initial-branch", "main")
        commit_all(repo, "generated")
        git(repo, "tag", "v1.0.0")
        server.serve(repo, recorded_answers(repo)["repo_url"])
    answers = recorded_answers(fleet_root)
    git(fleet_root, "init", "--quiet", "--initial-branch", answers["orchestration_branch"])
    commit_all(fleet_root, "generated")
    serve_orchestration(server, fleet_root, answers)
    for environment, apps in (("staging", set(example.APPS)), ("production", {"shop"})):
        (tmp_path / environment).mkdir()
        walked = Walker(server, tmp_path / environment).walk(bootstrap(fleet_root, "argocd", environment))
        assert {key[2] for key in walked.of_kind("Application") if key[2].endswith("-base")} == {
            f"{app}-base" for app in apps}
        assert walked.duplicates == [] and project_violations(walked) == []
        assert validation_errors(list(walked.objects.values()), crd_schemas) == []
