"""Re-point an app at another template source (a fork) or at new org defaults, all at once.

Run in the app repository, with a clean git tree, using this template checkout's copy:

    python <template>/migrations/repoint.py --template https://git.example/acme/app-template.git
    python <template>/migrations/repoint.py --data image_registry=registry.example.com

`copier update` alone keeps every recorded answer, so an app would stay on the old org defaults
(and on `repo_url`/`image_repository` derived from them). Here an answer that still held the
old template's default takes the new template's default, an answer derived from others
follows them (extensions/gitops_template/answers.py `rederive`), and an answer the team chose stays. With
--template, `_src_path` is changed and committed first (Copier reads the source from there);
then `copier update` runs with the changed answers, and you review and commit its result.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from copier import Worker

ANSWERS_FILE = Path(".copier-answers.yml")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
from gitops_template import answers as template_answers  # noqa: E402  (this checkout's own package)


def defaults(src_path: str, vcs_ref: str | None) -> dict:
    """The literal defaults of a template version's questions (derived ones are left to rederive)."""
    with Worker(src_path=src_path, vcs_ref=vcs_ref, unsafe=True, quiet=True) as worker:
        questions = worker.template.questions_data
    return {key: q["default"] for key, q in questions.items()
            if "default" in q and not (isinstance(q["default"], str) and "{{" in q["default"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", help="the template source to use from now on (URL or absolute path)")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="an answer to change")
    args = parser.parse_args()
    if bad := [pair for pair in args.data if "=" not in pair]:
        sys.exit(f"repoint: --data {bad[0]}: give an answer as KEY=VALUE")
    status = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
    if status.returncode or not ANSWERS_FILE.is_file():
        sys.exit(f"repoint: run it at the root of an app repository under git, beside its {ANSWERS_FILE}")
    if status.stdout:
        sys.exit("repoint: commit or stash your changes first (copier update needs a clean tree)")
    answers = yaml.safe_load(ANSWERS_FILE.read_text())
    source = args.template or answers["_src_path"]

    try:
        old, new = defaults(answers["_src_path"], answers["_commit"]), defaults(source, None)
    except Exception as exc:  # Copier's and git's errors alike: what could not be read, said in one line
        sys.exit(f"repoint: cannot read the template at {source}: {str(exc).strip() or type(exc).__name__}")
    changes = {key: value for key, value in new.items() if key in old and answers.get(key) == old[key] != value}
    changes.update(pair.split("=", 1) for pair in args.data)
    updated = template_answers.rederive(answers, changes)
    data = {key: value for key, value in updated.items() if not key.startswith("_") and value != answers.get(key)}

    before = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    if args.template and args.template != answers["_src_path"]:
        lines = [f"_src_path: {args.template}" if line.startswith("_src_path:") else line
                 for line in ANSWERS_FILE.read_text().splitlines()]
        ANSWERS_FILE.write_text("\n".join(lines) + "\n")
        subprocess.run(["git", "commit", "--quiet", "--message", f"Template source: {args.template}", "--",
                        str(ANSWERS_FILE)], check=True)
    for key, value in sorted(data.items()):
        print(f"{key}: {answers.get(key)!r} -> {value!r}", file=sys.stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as data_file:
        yaml.safe_dump(data, data_file)
        data_file.flush()
        update = [sys.executable, "-m", "copier", "update", "--trust", "--skip-answered", "--defaults",
                  "--data-file", data_file.name]
        if subprocess.run(update).returncode:
            # Nothing half-made stays: the source's commit and whatever the update wrote go.
            subprocess.run(["git", "reset", "--quiet", "--hard", before], check=True)
            subprocess.run(["git", "clean", "--quiet", "-d", "--force"], check=True)
            sys.exit("repoint: copier update failed (above); the repository is as it was")


if __name__ == "__main__":
    main()
