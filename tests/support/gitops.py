"""What the generated gitops manifests tell each controller to deploy, read the way each
controller reads them, so tests can render exactly that with Helm."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml
from fleet_graph import objects


@dataclass(frozen=True)
class Deployment:
    """One chart as one controller deploys it: `helm template` arguments, in effect."""

    controller: str
    chart: Path
    release: str
    namespace: str
    values: tuple[Path, ...]
    # Flux's valuesFiles replace the chart's values.yaml; Argo CD's layer over it.
    chart_defaults: bool


def load_all(path: Path) -> list[dict]:
    return objects.load_all(path.read_text())


def gitops_objects(app: Path) -> list[dict]:
    """Every Kubernetes object under gitops/ (kustomize's own config files excluded)."""
    return [
        obj
        for path in sorted(app.glob("gitops/*/**/*.yaml"))
        if path.name != "kustomization.yaml"
        for obj in load_all(path)
    ]


def argocd_deployments(app: Path) -> dict[str, Deployment]:
    deployments = {}
    for chart in ("base", "platform"):
        path = app / f"gitops/argocd/{chart}-application.yaml"
        if not path.exists():
            continue
        spec = load_all(path)[0]["spec"]
        chart_dir = app / spec["source"]["path"]
        helm = spec["source"]["helm"]
        deployments[chart] = Deployment(
            controller="argocd",
            chart=chart_dir,
            release=helm["releaseName"],
            namespace=spec["destination"]["namespace"],
            values=tuple((chart_dir / f).resolve() for f in helm.get("valueFiles", [])),
            chart_defaults=True,
        )
    return deployments


def flux_deployments(app: Path) -> dict[str, Deployment]:
    deployments = {}
    for chart in ("base", "platform"):
        path = app / f"gitops/fluxcd-releases/{chart}/helm-release.yaml"
        if not path.exists():
            continue
        release = load_all(path)[0]
        spec = release["spec"]
        chart_spec = spec["chart"]["spec"]
        namespace = spec.get("targetNamespace", release["metadata"]["namespace"])
        deployments[chart] = Deployment(
            controller="fluxcd",
            chart=(app / chart_spec["chart"]).resolve(),
            # Flux's default release name is <targetNamespace>-<name>.
            release=spec.get("releaseName", f"{namespace}-{release['metadata']['name']}"),
            namespace=namespace,
            values=tuple((app / f).resolve() for f in chart_spec.get("valuesFiles", [])),
            chart_defaults=False,
        )
    return deployments


def chart_for(deployment: Deployment, scratch: Path) -> Path:
    """The chart as the controller sees it: for Flux, one whose own values.yaml is empty."""
    if deployment.chart_defaults:
        return deployment.chart
    chart = scratch / f"{deployment.controller}-{deployment.chart.name}"
    shutil.copytree(deployment.chart, chart)
    (chart / "values.yaml").write_text("{}\n")
    return chart


def merge(base: dict, override: dict) -> dict:
    """Helm's values merge: maps merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def as_flux_builds_it(chart: Path, scratch: Path, commit: str = "abcdef1234567890", builds: int = 1) -> Path:
    """The chart as Flux's source-controller packages it with `reconcileStrategy: Revision`: its
    version becomes <version>+<the commit's first 12 characters>.<build number>."""
    built = scratch / f"{chart.name}-{commit[:12]}.{builds}"
    shutil.copytree(chart, built)
    chart_yaml = built / "Chart.yaml"
    meta = yaml.safe_load(chart_yaml.read_text())
    chart_yaml.write_text(chart_yaml.read_text().replace(
        f"version: {meta['version']}\n", f"version: {meta['version']}+{commit[:12]}.{builds}\n", 1))
    assert yaml.safe_load(chart_yaml.read_text())["version"] == f"{meta['version']}+{commit[:12]}.{builds}"
    return built
