"""Before every `copier update` (copier.yml `_migrations`): mark the app as being updated.

after_update.py, the update's last step, removes the mark. An update stopped before it (Ctrl-C,
kill) leaves the mark, and the app's `make lint` refuses to pass while it is there: the files may
hold a partial update, the team's edits not merged back yet, and no conflict markers to show it.

Usage: before_update.py
"""

from __future__ import annotations

from pathlib import Path

from after_update import UPDATE_MARK

UPDATE_MARK_TEXT = """\
`copier update` did not finish: this repository may hold a partial update, without your own edits
and without conflict markers. Go back to the commit you updated from, keeping what is here in a
stash, then run the update again:
  git stash push --include-untracked --message "interrupted copier update"
(`git stash show -p` shows it; `git stash drop` once you are sure.)
"""


def main() -> None:
    Path(UPDATE_MARK).write_text(UPDATE_MARK_TEXT)


if __name__ == "__main__":
    main()
