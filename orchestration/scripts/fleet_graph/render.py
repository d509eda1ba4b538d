"""The tools a controller renders with, run for real: Helm (`helm template`) and kustomize
(`kubectl kustomize`; `kubectl kustomize --enable-helm` fails with Helm 4, so charts go to helm).

A render depends on nothing but its arguments and the files it reads (a chart's folder and values
files; the source tree a kustomization lives in): each is remembered by their digest, so the
same chart with the same values renders once per process, and once per folder `CACHE` while it is
set (the template's test suite shares one between its workers for a run). A changed file is a new
digest, never a stale render; a failed render is not remembered.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

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


# Where renders are kept across processes (None: in this process only). Keep one folder to one
# Helm and kubectl: their versions are not part of the digest.
CACHE: Path | None = None
_renders: dict[str, str] = {}


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
    digest = _digest("helm template", release, namespace, kube_version or "", *api_versions,
                     _tree_digest(chart), *(_file_digest(path) for path in values))
    return _remembered(digest, lambda: helm(*args))


def kustomize(folder: Path, tree: Path | None = None) -> list[dict]:
    """The objects `kubectl kustomize folder` builds. `tree` is the whole of what the build may
    read (the source's files, as the controller has them); without it, nothing is remembered."""

    def build() -> str:
        result = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True)
        if result.returncode:
            raise GraphError(f"kustomize build {folder}: {result.stderr}")
        return result.stdout

    if tree is None:
        return load_all(build())
    digest = _digest("kustomize", str(folder.relative_to(tree)), _tree_digest(tree))
    return load_all(_remembered(digest, build))


def _remembered(digest: str, run: Callable[[], str]) -> str:
    if digest not in _renders:
        kept = CACHE / digest if CACHE else None
        if kept and kept.is_file():
            _renders[digest] = kept.read_text()
        else:
            _renders[digest] = run()
            if kept:
                partial = kept.with_suffix(f".{os.getpid()}")
                partial.write_text(_renders[digest])
                partial.replace(kept)
    return _renders[digest]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(root: Path) -> str:
    """Every file below root (symbolic links followed), by path and content."""
    digest = hashlib.sha256()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = sorted(name for name in subfolders if name != ".git")
        for name in sorted(files):
            path = Path(folder, name)
            digest.update(f"{path.relative_to(root)}\0".encode())
            digest.update(_file_digest(path).encode())
    return digest.hexdigest()
