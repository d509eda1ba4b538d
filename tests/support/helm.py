"""Helm, run for real: `helm template` and `helm lint --strict` on generated charts."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

import yaml

# API group/versions of a cluster that has every operator the charts can use. The charts'
# operator checks look these up in .Capabilities.APIVersions; tests pass them explicitly,
# since `helm template` has no cluster to ask.
CLUSTER_API_VERSIONS = (
    "gateway.networking.k8s.io/v1",
    # TCPRoute and TLSRoute are standard since Gateway API 1.6: the chart checks for the kinds.
    "gateway.networking.k8s.io/v1/TCPRoute",
    "gateway.networking.k8s.io/v1/TLSRoute",
    "monitoring.coreos.com/v1",
    "postgresql.cnpg.io/v1",
    "barmancloud.cnpg.io/v1",
    "external-secrets.io/v1",
    "generators.external-secrets.io/v1alpha1",
    "objectbucket.io/v1alpha1",
    "redis.redis.opstreelabs.in/v1beta2",
)


class HelmError(AssertionError):
    """helm exited non-zero; the message is its output."""


def helm(*args: str) -> str:
    result = subprocess.run(["helm", *args], capture_output=True, text=True)
    if result.returncode:
        raise HelmError(f"helm {' '.join(args)}\n{result.stdout}{result.stderr}")
    return result.stdout


def _values_args(values: Sequence[Path]) -> list[str]:
    return [arg for path in values for arg in ("--values", str(path))]


def template(
    chart: Path,
    release: str,
    namespace: str,
    values: Sequence[Path] = (),
    api_versions: Sequence[str] = CLUSTER_API_VERSIONS,
    kube_version: str | None = None,
) -> str:
    """The manifests `helm template` renders, as one YAML stream (for Helm's default Kubernetes
    version unless `kube_version` names another)."""
    args = ["template", release, str(chart), "--namespace", namespace, *_values_args(values)]
    if kube_version:
        args += ["--kube-version", kube_version]
    for api in api_versions:
        args += ["--api-versions", api]
    return helm(*args)


def render(*args, **kwargs) -> list[dict]:
    """The objects `template(...)` renders, parsed, in Helm's order."""
    return [doc for doc in yaml.safe_load_all(template(*args, **kwargs)) if doc]


def lint(chart: Path, values: Sequence[Path] = ()) -> None:
    helm("lint", "--strict", str(chart), *_values_args(values))
