#!/usr/bin/env python3
"""Time `copier copy` and `copier update` of the full app against two baselines.

Run it from the repository root:

    .venv/bin/python scripts/benchmark.py [--rounds 7] [--template PATH]

Three throwaway templates, each a git repo tagged v1 and v2 (v2 adds one file):
- full: this template (its working tree, uncommitted work included), every yes/no
  question on and gitops_controller=both;
- one-file: a template with one file;
- same-files: no questions, and exactly the files the full app generates, copied
  verbatim: Copier's own per-file floor for the full app's output.
And the plain-Jinja floor: the full template's files rendered by Jinja alone, with the same
answers, filters and derived context, and no Copier (copy only; there is no update).
Each round copies every case at v1 and updates it to v2, case after case, so machine
noise hits all cases alike. It prints medians and ratios and says whether the full app
is within the target of the same-files template. It never fails on a slow result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TARGET = 1.3
ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATHS = ("copier.yml", "extensions/", "migrations/", "template/")
ANSWERS_TEMPLATE = "{{ _copier_conf.answers_file }}.jinja"
BASELINE_COPIER_YML = "_subdirectory: template\n_templates_suffix: .jinja\n"
OPTIONS = {"quiet": True, "defaults": True, "unsafe": True}
GITCONFIG = """\
[user]
\tname = Benchmark
\temail = benchmark@example.invalid
[init]
\tdefaultBranch = main
[commit]
\tgpgsign = false
[tag]
\tgpgsign = false
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs per case (default 7)")
    parser.add_argument(
        "--template", type=Path, default=ROOT, help="template root (default: this repo)"
    )
    return parser.parse_args()


def isolate(sandbox: Path) -> None:
    """Keep the machine's git and Copier settings out of the measurement."""
    (sandbox / "gitconfig").write_text(GITCONFIG)
    # An empty settings file rather than a missing one: Copier warns on every run about
    # a COPIER_SETTINGS_PATH that does not exist.
    (sandbox / "copier-settings.yml").write_text("{}\n")
    os.environ.update(
        GIT_CONFIG_GLOBAL=str(sandbox / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        COPIER_SETTINGS_PATH=str(sandbox / "copier-settings.yml"),
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def tag_versions(repo: Path) -> Path:
    """Commit repo as v1, then add one file as v2, so an update has something to do."""
    git(repo, "init", "-q")
    commit(repo, "v1")
    git(repo, "tag", "v1")
    (repo / "template" / "benchmark-v2.txt").write_text("added in v2\n")
    commit(repo, "v2")
    git(repo, "tag", "v2")
    return repo


def copy_tree(src: Path, dst: Path, relpaths: list[str]) -> None:
    for rel in relpaths:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)


def full_template(root: Path, repo: Path) -> Path:
    # Listed by git, not walked, so caches and ignored files stay out while
    # uncommitted work is measured too.
    listed = git(root, "ls-files", "-co", "--exclude-standard").splitlines()
    relpaths = [p for p in listed if p.startswith(TEMPLATE_PATHS) and (root / p).is_file()]
    copy_tree(root, repo, relpaths)
    return tag_versions(repo)


def baseline_template(repo: Path, files: Path | None, answers_template: str) -> Path:
    """A question-free template writing `files` verbatim (or one file), plus the answers file."""
    subdir = repo / "template"
    subdir.mkdir(parents=True)
    (repo / "copier.yml").write_text(BASELINE_COPIER_YML)
    (subdir / ANSWERS_TEMPLATE).write_text(answers_template)
    if files is None:
        (subdir / "README.md").write_text("one file\n")
    else:
        # No file here ends in .jinja, so Copier copies every one of them raw.
        relpaths = [
            str(p.relative_to(files))
            for p in files.rglob("*")
            if p.is_file() and p.name != ".copier-answers.yml"
        ]
        copy_tree(files, subdir, relpaths)
    return tag_versions(repo)


def full_app_data(root: Path) -> dict:
    # Every yes/no question is a platform feature: turning them all on keeps the
    # benchmark on the full app as features are added.
    questions = yaml.safe_load((root / "copier.yml").read_text())
    data = {
        name: True
        for name, spec in questions.items()
        if not name.startswith("_") and isinstance(spec, dict) and spec.get("type") == "bool"
    }
    return {**data, "app_name": "bench", "gitops_controller": "both"}


def copy(src: Path, dst: Path, data: dict) -> float:
    """Copy v1 of src into dst; return the seconds it took."""
    # Imported late, after isolate(): Copier runs git through plumbum, which copies
    # os.environ when it is first imported.
    from copier import run_copy

    start = time.perf_counter()
    run_copy(str(src), dst, data=data, vcs_ref="v1", **OPTIONS)
    return time.perf_counter() - start


def update(dst: Path) -> float:
    """Commit dst as copied, update it to v2; return the seconds the update took."""
    from copier import run_update  # late: see copy()

    git(dst, "init", "-q")
    commit(dst, "copied")
    start = time.perf_counter()
    run_update(dst, vcs_ref="v2", overwrite=True, **OPTIONS)
    return time.perf_counter() - start


def plain_jinja(src: Path, answers: dict, dst: Path) -> float:
    """Render src's app template into dst with Jinja alone; return the seconds it took.

    What a template costs without Copier: each path and each .jinja file rendered once, with the
    template's own filters and derived context (its extensions, loaded before the clock starts)."""
    from jinja2 import Environment
    from jinja2_ansible_filters import AnsibleCoreFiltersExtension

    sys.path.insert(0, str(src / "extensions"))
    from context import NamingFilters, logic  # noqa: PLC0415  (this template's own extensions)

    env = Environment(keep_trailing_newline=True, extensions=[AnsibleCoreFiltersExtension, NamingFilters])
    base = {"_copier_conf": {"answers_file": ".copier-answers.yml"}, "_copier_answers": answers}
    start = time.perf_counter()
    context = {**answers, **base, **logic.derive.derive(answers)}
    for path in (src / "template").rglob("*"):
        if not path.is_file():
            continue
        parts = [env.from_string(part).render(context) for part in path.relative_to(src / "template").parts]
        parts[-1] = parts[-1].removesuffix(".jinja")
        if not all(parts):
            continue  # a folder or file a question switched off
        target = dst.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".jinja":
            target.write_text(env.from_string(path.read_text()).render(context))
        else:
            shutil.copy2(path, target)
    elapsed = time.perf_counter() - start
    sys.path.remove(str(src / "extensions"))
    return elapsed


def measure(
    cases: dict[str, tuple[Path, dict]], rounds: int, work: Path, answers: dict
) -> dict[str, tuple[float, float]]:
    """Median copy and update seconds per case, the cases interleaved round by round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    times["plain-jinja"] = []
    for n in range(rounds):
        for name, (src, data) in cases.items():
            dst = work / f"{name}-{n}"
            times[name].append((copy(src, dst, data), update(dst)))
            shutil.rmtree(dst)
        dst = work / f"plain-jinja-{n}"
        times["plain-jinja"].append((plain_jinja(cases["full"][0], answers, dst), float("nan")))
        shutil.rmtree(dst)
    return {
        name: (statistics.median(c for c, _ in runs), statistics.median(u for _, u in runs))
        for name, runs in times.items()
    }


def report(medians: dict[str, tuple[float, float]], files: int, rounds: int) -> None:
    one, same = medians["one-file"], medians["same-files"]
    print(f"medians of {rounds} rounds; the full app writes {files} files (answers file included)")
    header = ("case", "copy ms", "update ms", "copy/one", "upd/one", "copy/same", "upd/same")
    print("".join(f"{h:>11}" for h in header))
    for name, (c, u) in medians.items():
        ratios = (c / one[0], u / one[1], c / same[0], u / same[1])
        cells = [name, f"{c * 1000:.0f}", f"{u * 1000:.0f}", *(f"{r:.2f}x" for r in ratios)]
        print("".join(f"{cell:>11}" for cell in cells))
    full = medians["full"]
    verdicts = [
        f"{step} {ratio:.3f}x {'met' if ratio <= TARGET else 'NOT met'}"
        for step, ratio in (("copy", full[0] / same[0]), ("update", full[1] / same[1]))
    ]
    print(f"\ntarget: full app within {TARGET}x of same-files: " + "; ".join(verdicts))
    print(f"full app copy against the plain-Jinja floor: {full[0] / medians['plain-jinja'][0]:.2f}x")


def main() -> int:
    args = parse_args()
    root = args.template.resolve()
    with tempfile.TemporaryDirectory(prefix="copier-benchmark-") as tmp:
        sandbox = Path(tmp)
        isolate(sandbox)
        data = full_app_data(root)
        full = full_template(root, sandbox / "full")
        generated = sandbox / "generated"
        copy(full, generated, data)
        answers_template = (root / "template" / ANSWERS_TEMPLATE).read_text()
        one_file = baseline_template(sandbox / "one-file", None, answers_template)
        same_files = baseline_template(sandbox / "same-files", generated, answers_template)
        cases = {"full": (full, data), "one-file": (one_file, {}), "same-files": (same_files, {})}
        files = sum(1 for p in generated.rglob("*") if p.is_file())
        answers = {k: v for k, v in yaml.safe_load((generated / ".copier-answers.yml").read_text()).items()
                   if not k.startswith("_")}
        report(measure(cases, args.rounds, sandbox / "work", answers), files, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
