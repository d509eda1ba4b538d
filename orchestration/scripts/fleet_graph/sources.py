"""Git repositories as the controllers fetch them: by the URL a manifest gives, at the revision it
names. A repository can be served from a local path under a URL (git's `url.<local>.insteadOf`);
every other URL is cloned as git's own configuration says (the network, or the user's insteadOf).
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path

from .objects import GraphError

class GitServer:
    """Local git repositories, served under the URLs the manifests give."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.urls: dict[str, Path] = {}
        self._mirrors: dict[str, Path] = {}
        self._trees: dict[tuple[str, str, tuple[str, ...]], Path] = {}

    def copy(self, scratch: Path) -> GitServer:
        """Another server of the same repositories (serve() then replaces some)."""
        server = GitServer(scratch)
        server.urls = dict(self.urls)
        return server

    def serve(self, repo: Path, *urls: str) -> None:
        for url in urls:
            self.urls[url] = repo

    @staticmethod
    def _git(*args: str, cwd: Path | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        if result.returncode:
            raise GraphError(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def mirror(self, url: str) -> Path:
        """The repository at `url`, cloned by that URL (once). Git rewrites the URL it is given
        by the longest `insteadOf` it starts with, so a served URL reaches its repository."""
        if url not in self._mirrors:
            destination = self.scratch / f"mirror-{len(self._mirrors)}"
            rewrites = [arg for served, repo in self.urls.items() if url.startswith(served)
                        for arg in ("-c", f"url.{repo.as_uri()}.insteadOf={served}")]
            self._git(*rewrites, "clone", "--quiet", "--mirror", url, str(destination))
            self._mirrors[url] = destination
        return self._mirrors[url]

    def commit(self, url: str, revision: str) -> str:
        """The commit a git revision (branch, tag, full ref or SHA) names in the repository at `url`."""
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", cwd=self.mirror(url)).strip()
        except GraphError:
            raise GraphError(f"{url}: no revision {revision!r}") from None

    def flux_commit(self, url: str, ref: dict) -> str:
        """What a Flux GitRepository's spec.ref fetches: exactly the field it names."""
        [(field_, value)] = ref.items()
        revision = {"branch": f"refs/heads/{value}", "tag": f"refs/tags/{value}", "name": value,
                    "commit": value}.get(field_)
        if revision is None:
            raise GraphError(f"{url}: spec.ref.{field_} is not emulated here")
        commit = self.commit(url, revision)
        if field_ == "commit" and commit != value:
            raise GraphError(f"{url}: spec.ref.commit must be a full SHA, got {value!r}")
        return commit

    def tree(self, url: str, commit: str, include: tuple[str, ...] = ()) -> Path:
        """The files of a commit; with `include`, only those top-level folders (Flux's ignore)."""
        cache = (url, commit, include)
        if cache not in self._trees:
            destination = self.scratch / f"tree-{len(self._trees)}"
            destination.mkdir()
            archive = subprocess.run(["git", "archive", commit, *include], cwd=self.mirror(url), capture_output=True,
                                     check=True).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(destination, filter="data")
            self._trees[cache] = destination
        return self._trees[cache]


def flux_included(ignore: str | None) -> tuple[str, ...]:
    """The top-level folders a GitRepository's `ignore` keeps; only the form `/*` then `!/dir/`
    lines is emulated (re-including below an excluded folder does not work in .gitignore)."""
    if ignore is None:
        return ()
    lines = [line.strip() for line in ignore.splitlines() if line.strip() and not line.startswith("#")]
    kept = [re.fullmatch(r"!/([^/*]+)/", line) for line in lines[1:]]
    if not lines or lines[0] != "/*" or not all(kept):
        raise GraphError(f"GitRepository ignore rules not emulated here: {ignore!r}")
    return tuple(match[1] for match in kept)