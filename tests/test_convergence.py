"""The fleet on a fresh cluster, reconciled round by round (support/convergence.py): every app
that can run becomes Ready, whatever else is broken; a broken app holds up no other app and no
later registry change.

Each fleet (conftest FLEETS, PRODUCTION_FLEETS) runs on the cluster profiles of its kind:
homelab (one node, no LoadBalancer, Talos' baseline Pod Security, with and without a raw disk
for Ceph), production (a LoadBalancer, Vault with the secret store's role, the platform team's
issuer), and each once more with one app broken (its database volume names a StorageClass the
cluster lacks).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from gitops_template.catalogue import INFRASTRUCTURE_CONFIGS
from gitops_template.infrastructure import infrastructure_settings
from support.convergence import Cluster, Profile

# Rounds in which everything that can converge has: each round every controller acts once.
ROUNDS = 30
BROKEN_APP = "inventory"  # the app with a database and a bucket
PROFILES = {
    "homelab-disk": Profile("homelab-disk", load_balancer=False, raw_disk=True, vault_role=False, issuer=False,
                            pod_security="baseline"),
    "homelab-no-disk": Profile("homelab-no-disk", load_balancer=False, raw_disk=False, vault_role=False,
                               issuer=False, pod_security="baseline"),
    "production": Profile("production", load_balancer=True, raw_disk=True, vault_role=True, issuer=True,
                          pod_security="privileged"),
    # The fleet's first sync, before the platform team has given Vault the role or made the issuer.
    "production-unprepared": Profile("production-unprepared", load_balancer=True, raw_disk=True, vault_role=False,
                                     issuer=False, pod_security="privileged"),
}
FLEET_PROFILES = {"argocd": ("homelab-disk", "homelab-no-disk"), "fluxcd": ("homelab-disk", "homelab-no-disk"),
                  "applicationset": ("homelab-disk",),
                  "argocd-production": ("production", "production-unprepared"),
                  "fluxcd-production": ("production", "production-unprepared")}
CASES = [pytest.param(fleet, profile, broken, id=f"{fleet}-{profile}{'-broken' if broken else ''}")
         for fleet, profiles in FLEET_PROFILES.items() for profile in profiles for broken in ("", BROKEN_APP)]


def sync_timeout(root: Path) -> int:
    """Argo CD's sync timeout as the fleet's bootstrap sets it, in rounds of a minute (0: none)."""
    params = root / "bootstrap/argocd/argocd-cmd-params-cm.yaml"
    if not params.is_file():
        return 0
    seconds = int(yaml.safe_load(params.read_text())["data"]["controller.sync.timeout.seconds"])
    return math.ceil(seconds / 60)


def cluster(fleet, graph, name: str, profile: str, broken: str) -> Cluster:
    walked, settings = graph(name), fleet(name).settings
    profile_ = Profile(**{**PROFILES[profile].__dict__, "broken": broken})
    return Cluster(walked, settings, infrastructure_settings(fleet(name).answers), profile_,
                   sync_timeout=sync_timeout(fleet(name).root))


def can_run(cluster_: Cluster, app: str) -> bool:
    """Whether what the app needs is there: its database's volume, a disk for its bucket, the
    secret store's backend for its secrets."""
    kinds = {key[0] for key in cluster_.app_objects(app)}
    store = cluster_.graph.of_kind("ClusterSecretStore")
    vault = any("vault" in obj["spec"]["provider"] for obj in store.values())
    return (app != cluster_.profile.broken and ("ObjectBucketClaim" not in kinds or cluster_.profile.raw_disk)
            and ("ExternalSecret" not in kinds or not vault or cluster_.profile.vault_role))


def diagnosis(cluster_: Cluster) -> str:
    """The fleet's own controller objects that are not healthy: where the bootstrap stopped."""
    apps = set().union(*(cluster_.app_objects(app) for app in cluster_.apps()))
    own = [key for key in cluster_.graph.objects if key[0] in ("Application", "Kustomization", "HelmRelease")
           and key not in apps]
    lines = []
    for key in own:
        if key[0] == "Application":
            state = cluster_.argo.get(key)
            failed = state is not None and state.attempted is not None and not state.attempted[1]
            if state is None or state.health != "Healthy":
                lines.append(f"{key[2]}: {state.health if state else 'not created'}"
                             f"{', sync of revision failed' if failed else ''}")
        else:
            state = cluster_.flux.get(key)
            if state is None or not state.ready:
                status = "stalled" if state and state.stalled else "not ready" if state else "not created"
                lines.append(f"{key[2]}: {status}")
    return "; ".join(lines)


@pytest.mark.parametrize("name, profile, broken", CASES)
def test_every_app_that_can_run_becomes_ready(fleet, graph, name, profile, broken):
    cluster_ = cluster(fleet, graph, name, profile, broken)
    cluster_.run(ROUNDS)
    apps = cluster_.apps()
    runnable = [app for app in apps if can_run(cluster_, app)]
    assert runnable, "every app is expected to fail: the profile tests nothing"
    assert [app for app in runnable if not cluster_.app_ready(app)] == [], diagnosis(cluster_)


@pytest.mark.parametrize("name, profile, broken", CASES)
def test_no_app_holds_up_a_later_registry_change(fleet, graph, name, profile, broken):
    """A registry commit after the bootstrap reaches every app's controller object, the broken
    app's included (its fix is such a commit)."""
    cluster_ = cluster(fleet, graph, name, profile, broken)
    cluster_.run(ROUNDS)
    cluster_.commit()
    cluster_.run(ROUNDS)
    apps = cluster_.apps()
    assert [app for app in apps if not cluster_.registry_applied(app)] == [], diagnosis(cluster_)


@pytest.mark.parametrize("name, profile", [(name, profile) for name, profiles in FLEET_PROFILES.items()
                                           for profile in profiles])
def test_the_gateway_is_programmed(fleet, graph, name, profile):
    """A way in on every profile: the Gateway gets an address (a LoadBalancer's, or the nodes')."""
    cluster_ = cluster(fleet, graph, name, profile, "")
    cluster_.run(ROUNDS)
    [gateway] = cluster_.graph.of_kind("Gateway")
    assert gateway in cluster_.live
    assert cluster_.observe(gateway)[0] == "Healthy", cluster_.service_type(cluster_.graph.objects[gateway])


@pytest.mark.parametrize("name", list(FLEET_PROFILES))
def test_a_failing_infrastructure_release_holds_up_no_app(fleet, graph, name):
    """After the bootstrap, an upgrade of an infrastructure release fails (its pods crash): the
    next registry change, an app's rollback say, still reaches every app."""
    cluster_ = cluster(fleet, graph, name, FLEET_PROFILES[name][0], "")
    cluster_.run(ROUNDS)
    cluster_.failing.add("kube-prometheus-stack")
    cluster_.commit()
    cluster_.run(ROUNDS)
    assert [app for app in cluster_.apps() if not cluster_.registry_applied(app)] == [], diagnosis(cluster_)


def infrastructure_revisions(walked, settings: dict) -> set[str]:
    """The revisions of this repository the infrastructure layer and its configs chart follow."""
    names, revisions = settings["names"], set()
    for key, obj in walked.objects.items():
        spec = obj.get("spec", {})
        if key[0] == "Application" and key[2] in (names["infrastructure_layer"], INFRASTRUCTURE_CONFIGS):
            revisions.add(spec["source"]["targetRevision"])
        elif (key[0], key[2]) in (("Kustomization", names["infrastructure_layer"]),
                                  ("HelmRelease", INFRASTRUCTURE_CONFIGS)):
            ref = spec.get("sourceRef") or spec["chart"]["spec"]["sourceRef"]
            source = walked.objects[(ref["kind"], ref.get("namespace", key[1]), ref["name"])]
            revisions.add(next(iter(source["spec"]["ref"].values())))
    return revisions


@pytest.mark.parametrize("name", ["argocd", "fluxcd"])
def test_an_environment_s_infrastructure_changes_only_by_promotion(fleet, name):
    """A merged change (a Renovate bump) reaches the first environment's infrastructure, which
    follows the branch, and another's only when it is promoted there: no two environments follow
    the same revision, and only the first the branch."""
    settings = fleet(name).settings
    revisions = {environment: infrastructure_revisions(fleet(name).walk(environment), settings)
                 for environment in settings["environments"]}
    assert all(revisions.values())
    shared = [(a, b) for a in revisions for b in revisions if a < b and revisions[a] & revisions[b]]
    assert shared == [], revisions
    branch = {settings["orchestration_branch"], f"refs/heads/{settings['orchestration_branch']}"}
    assert [env for env, revs in revisions.items() if revs & branch] == settings["environments"][:1]
