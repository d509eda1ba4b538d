"""The release job of an app's generated workflow (.github/workflows/ci.yaml), its steps run as
GitHub's runner runs them (bash -eo pipefail, GITHUB_* in the environment), each in a fresh full
checkout (actions/checkout, fetch-depth 0) of a local origin. Docker's steps are not run: the
suite has no registry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


class Workflow:
    def __init__(self, repo: Path, scratch: Path, branch: str):
        """The workflow of `repo` (a git repository of a generated app), run on a bare clone of it,
        `origin`, where its pushes go."""
        self.job = yaml.safe_load((repo / ".github/workflows/ci.yaml").read_text())["jobs"]["release"]
        self.scratch, self.branch = scratch, branch
        self.origin = scratch / "origin.git"
        scratch.mkdir(parents=True, exist_ok=True)
        _git(scratch, "clone", "--quiet", "--bare", str(repo), str(self.origin))
        self.runs = 0

    def step(self, name: str) -> dict:
        [step] = [s for s in self.job["steps"] if s.get("name") == name]
        return step

    def run(self, ref: str, step: str, outputs: dict | None = None) -> subprocess.CompletedProcess:
        """One step at `ref` of origin; `outputs` are the tag step's, for ${{ steps.tag.outputs.tag }}.
        The result's `outputs` are what the step wrote to $GITHUB_OUTPUT."""
        self.runs += 1
        checkout = self.scratch / f"checkout-{self.runs}"
        _git(self.scratch, "clone", "--quiet", str(self.origin), str(checkout))
        _git(checkout, "checkout", "--quiet", ref)
        output = self.scratch / f"output-{self.runs}"
        kind, _, name = ref.removeprefix("refs/").partition("/")
        env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "GITHUB_OUTPUT": str(output), "GITHUB_REF": ref,
               "GITHUB_REF_NAME": name, "GITHUB_REF_TYPE": {"heads": "branch", "tags": "tag"}[kind]}
        for key, value in self.step(step).get("env", {}).items():
            env[key] = value.replace("${{ steps.tag.outputs.tag }}", (outputs or {}).get("tag", ""))
        result = subprocess.run(["bash", "-eo", "pipefail", "-c", self.step(step)["run"]], cwd=checkout, env=env,
                                capture_output=True, text=True)
        result.outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
        return result

    def deploy(self) -> dict:
        """A push's run on the branch: the image tag, then the deploy commit; the tag step's outputs."""
        ref = f"refs/heads/{self.branch}"
        tagged = self.run(ref, "Image tag")
        assert tagged.returncode == 0, tagged.stderr
        deployed = self.run(ref, "Deploy the image on the branch", tagged.outputs)
        assert deployed.returncode == 0, deployed.stderr
        return tagged.outputs

    def release(self, tag: str) -> dict:
        """A pushed tag's run, on the branch's newest commit: the tag step's outputs."""
        _git(self.origin, "tag", tag, self.branch)
        released = self.run(f"refs/tags/{tag}", "Image tag")
        assert released.returncode == 0, released.stderr
        return released.outputs
