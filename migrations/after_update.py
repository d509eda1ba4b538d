"""After every `copier update` (copier.yml `_migrations`): keep the team's work, and say what needs a person.

Copier merges the team's edits into every file the new template version still generates. A file
the template stopped generating, though, is deleted even when the team edited it, and files the
team added beside it stay in a folder nothing reads any more. So, in the updated app:
- for each `--move OLD:NEW` (a file or folder the template moved), the team's edits to each file
  the update deleted under OLD are merged into its new place (3-way, conflicts inline like
  Copier's), and files the team added under OLD move there too: no stale copy stays behind;
- every other edited file the update deleted is named, with the command that brings it back, and
  so is every file the team added in a folder the update removed (it stays, and nothing reads it);
- a conflict between the template's and the repository's own (Renovate's) bump of one pin is
  resolved to the newer pin;
- an orchestration's README.md pictures its registry as the new version draws it;
- every file holding conflict markers or a rejected hunk is named;
- each platform feature holding data that the update turned off is named: its data stays on the
  cluster (the platform chart keeps it), with the command that deletes it.
Last, it removes the mark before_update.py left: the update finished.

What the team edited is measured against the old template version, rendered again here from
the answers the app recorded before the update (git's HEAD: `copier update` needs a clean tree).
That render happens only when the update deleted a file, which is rare.

Usage: after_update.py ANSWERS_FILE [--move OLD:NEW ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

CONFLICT_MARKERS = r"^(<<<<<<<|>>>>>>>)( |$)"
# Written by before_update.py, removed here, the update's last step: left, it says the update was stopped.
UPDATE_MARK = ".copier-update-unfinished"


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, check=check)


def deleted_by_update() -> list[str]:
    """Tracked files the update deleted (HEAD is the app before it)."""
    out = git("diff", "--relative", "--name-only", "--no-renames", "--diff-filter=D", "HEAD").stdout
    return out.decode().splitlines()


def render_old_version(answers_file: str, dst: Path) -> None:
    """The app as the template version it was last generated from made it, untouched by the team."""
    from copier import run_copy  # only when needed: importing Copier costs more than the rest

    answers = yaml.safe_load(git("show", f"HEAD:./{answers_file}").stdout)
    run_copy(answers["_src_path"], dst, data={k: v for k, v in answers.items() if not k.startswith("_")},
             vcs_ref=answers["_commit"], answers_file=answers_file, defaults=True, unsafe=True, quiet=True,
             skip_tasks=True)


def new_place(path: str, moves: dict[str, str]) -> str | None:
    for old, new in moves.items():
        if path == old or path.startswith(f"{old}/"):
            return new + path[len(old):]
    return None


def merge_into(target: Path, ours: bytes, base: bytes) -> bool:
    """Merge the team's edits (base -> ours) into target, as Copier merges; True if it conflicts."""
    with tempfile.TemporaryDirectory() as tmp:
        current, ancestor = Path(tmp, "current"), Path(tmp, "base")
        current.write_bytes(ours)
        ancestor.write_bytes(base)
        result = git("merge-file", "-L", "before updating", "-L", "last update", "-L", "after updating",
                     str(current), str(ancestor), str(target), check=False)
        target.write_bytes(current.read_bytes())
    return result.returncode != 0


def stranded(deleted: list[str], old_app: Path, moves: dict[str, str]) -> list[str]:
    """The files the team added in a folder the update removed: a folder that held a file the update
    deleted, which no move explains, and where no file of the old version is left (the new version
    would have kept one it still generates; Copier deletes the others)."""
    folders = {parent for path in deleted for parent in Path(path).parents if parent != Path(".")}
    files = set()
    for folder in folders:
        left = [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []
        if left and new_place(folder.as_posix(), moves) is None and not any((old_app / path).exists() for path in left):
            files.update(path.as_posix() for path in left)
    return sorted(files)


def carry_moves(moves: dict[str, str], answers_file: str) -> tuple[list[str], list[str], list[str]]:
    """Returns (lines saying what moved, edited files the update deleted that no move explains,
    files the team added in a folder the update removed)."""
    report, dropped, left = [], [], []
    deleted = deleted_by_update()
    if deleted:
        with tempfile.TemporaryDirectory() as old_app:
            render_old_version(answers_file, Path(old_app))
            left = stranded(deleted, Path(old_app), moves)
            for path in deleted:
                ours = git("show", f"HEAD:./{path}").stdout
                base_file = Path(old_app, path)
                base = base_file.read_bytes() if base_file.is_file() else b""
                if base_file.is_file() and ours == base:
                    continue  # the template's own file, unedited: its deletion or move is the update's
                target = new_place(path, moves)
                if target is None:
                    dropped.append(path)
                elif Path(target).is_file():
                    conflict = merge_into(Path(target), ours, base)
                    report.append(f"{path} -> {target}: your edits merged{' WITH CONFLICTS' if conflict else ''}")
                else:
                    Path(target).parent.mkdir(parents=True, exist_ok=True)
                    Path(target).write_bytes(ours)
                    report.append(f"{path} -> {target}: your version kept")
    # What the team added under a moved folder moves with it.
    for old, new in moves.items():
        for file in sorted(p for p in Path(old).rglob("*") if p.is_file()) if Path(old).is_dir() else ():
            target = Path(new, file.relative_to(old))
            if target.exists():
                dropped.append(f"{file} (its new place {target} exists: merge by hand)")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            file.rename(target)
            report.append(f"{file} -> {target}: moved")
        for folder in sorted((p for p in [Path(old), *Path(old).rglob("*")] if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    return report, dropped, left


def resolve_pin_conflicts(files: list[str]) -> list[str]:
    """Conflicts between the template's and the repository's own (Renovate's) bump of a pin, resolved
    to the newer pin; the files that had them. Copier marked each conflicted file unmerged in git's
    index: one without conflicts left gets its plain entry back."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
    from gitops_template.pins import resolve_pin_conflicts as resolve

    resolved = []
    for name in files:
        path = Path(name)
        if path.suffix == ".rej":
            continue
        text, count = resolve(path.read_text(encoding="utf-8"))
        if count:
            path.write_text(text, encoding="utf-8")
            resolved.append(name)
            if not re.search(CONFLICT_MARKERS, text, re.MULTILINE):
                git("reset", "--quiet", "--", name)
    return resolved


def redraw_fleet_picture() -> None:
    """An orchestration's README.md pictures its registry as this template version draws it."""
    if Path("scripts/registry.py").is_file() and Path("registry/orchestration.json").is_file():
        drawn = subprocess.run([sys.executable, "scripts/registry.py", "diagram"], capture_output=True, text=True)
        if drawn.returncode:
            print(f"README.md: its registry picture is not redrawn ({drawn.stderr.strip()}): run `make diagram` "
                  "once it is fixed", file=sys.stderr)


# The platform features that hold data: the objects (resource/name, the name from
# gitops_template.names.derived_names) the platform chart keeps when the feature is turned off.
DATA_OF_FEATURES = {
    "postgres": [("clusters.postgresql.cnpg.io", "database_cluster"),
                 ("objectstores.barmancloud.cnpg.io", "database_backup")],
    "object_storage": [("objectbucketclaims.objectbucket.io", "bucket_claim")],
    "key_value_store": [("redis.redis.redis.opstreelabs.in", "kv_store"),
                        ("redisreplications.redis.redis.opstreelabs.in", "kv_store")],
}


def data_left_behind(answers_file: str) -> list[str]:
    """A line per data-holding platform feature the update turned off, with how to delete its data."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
    from gitops_template.names import derived_names

    before = yaml.safe_load(git("show", f"HEAD:./{answers_file}").stdout) or {}
    after = yaml.safe_load(Path(answers_file).read_text()) or {}
    if after.get("project_kind", "app") != "app":
        return []
    names = derived_names(after["app_name"])
    return [f"{feature} is off: its data stays on the cluster until you delete it: kubectl delete -n "
            f"{after['namespace']} --ignore-not-found " + " ".join(f"{kind}/{names[name]}" for kind, name in objects)
            for feature, objects in DATA_OF_FEATURES.items() if before.get(feature) and not after.get(feature)]


def conflicted_files() -> list[str]:
    markers = git("grep", "--untracked", "-l", "-E", CONFLICT_MARKERS, "--", ".", check=False).stdout.decode()
    rejects = git("ls-files", "--others", "--", "*.rej").stdout.decode()
    return sorted(set(markers.splitlines()) | set(rejects.splitlines()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers_file")
    parser.add_argument("--move", action="append", default=[], metavar="OLD:NEW")
    args = parser.parse_args()
    report, dropped, left = carry_moves(dict(move.split(":", 1) for move in args.move), args.answers_file)
    if report:
        print("Moved by this template version, with your work:", *report, sep="\n  ", file=sys.stderr)
    if dropped:
        print("The template no longer generates these files you had edited; the update deleted them.",
              "Bring one back with `git checkout HEAD -- <file>`:", *dropped, sep="\n  ", file=sys.stderr)
    if left:
        print("These files you added are in folders the template no longer generates, which nothing reads now:",
              "move them where they are read, or delete them:", *left, sep="\n  ", file=sys.stderr)
    redraw_fleet_picture()
    if pins := resolve_pin_conflicts(conflicted_files()):
        print("Pins both the template and this repository (Renovate) bumped, resolved to the newer version:",
              *pins, sep="\n  ", file=sys.stderr)
    if data := data_left_behind(args.answers_file):
        print("Turned off, its data kept:", *data, sep="\n  ", file=sys.stderr)
    if conflicts := conflicted_files():
        print("CONFLICTS: resolve the markers (<<<<<<< before updating ... >>>>>>> after updating) or .rej "
              "hunks in these files before you commit; `make lint` fails until you do:",
              *conflicts, sep="\n  ", file=sys.stderr)
    Path(UPDATE_MARK).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
