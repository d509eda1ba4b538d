"""The tools a controller renders with, run for real: Helm (`helm template`) and kustomize
(`kubectl kustomize`; `kubectl kustomize --enable-helm` fails with Helm 4, so charts go to helm)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

from .objects import GraphError, load_all

# The APIs of the operators the infrastructure layer installs, which the app charts' operator
# checks look up in .Capabilities.APIVersions (the app template's OPERATOR_APIS): `helm template`
# has no cluster to ask. TCPRoute and TLSRoute are standard since Gateway API 1.6: the chart checks
# for the kinds.
CLUSTER_API_VERSIONS = (
    "gateway.networking.k8s.io/v1",
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


class HelmError(GraphError):
    """helm exited non-zero; the message is the command and its output."""

    def __init__(self, args: tuple[str, ...], output: str):
        super().__init__(f"helm {' '.join(args)}\n{output}")
        self.output = output


def helm(*args: str) -> str:
    result = subprocess.run(["helm", *args], capture_output=True, text=True)
    if result.returncode:
        raise HelmError(args, f"{result.stdout}{result.stderr}")
    return result.stdout


def values_args(values: Sequence[Path]) -> list[str]:
    return [arg for path in values for arg in ("--values", str(path))]


def template(chart: Path, release: str, namespace: str, values: Sequence[Path] = (),
             api_versions: Sequence[str] = CLUSTER_API_VERSIONS, kube_version: str | None = None) -> str:
    """The manifests `helm template` renders, as one YAML stream (for Helm's default Kubernetes
    version unless `kube_version` names another)."""
    args = ["template", release, str(chart), "--namespace", namespace, *values_args(values)]
    if kube_version:
        args += ["--kube-version", kube_version]
    for api in api_versions:
        args += ["--api-versions", api]
    return helm(*args)


def kustomize(folder: Path) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True)
    if result.returncode:
        raise GraphError(f"kustomize build {folder}: {result.stderr}")
    return load_all(result.stdout)
