"""Migration of an orchestration repository to 1.1.0 (copier.yml `_migrations`), where one
repository serves several environments instead of one cluster.

    environments_1_1_0.py answers ANSWERS_FILE    before the update: the `cluster_name` answer
                                                  becomes the one environment, `environments`
    environments_1_1_0.py registry ANSWERS_FILE   after it: registry/apps/<app>.yaml, the apps of
                                                  that cluster, move to its environment's registry,
                                                  and README.md's picture is redrawn

An app repository is left as it is.
"""

import subprocess
import sys
from pathlib import Path

import yaml

stage, answers_file = sys.argv[1], Path(sys.argv[2])
answers = yaml.safe_load(answers_file.read_text())
if answers.get("project_kind") != "orchestration":
    sys.exit(0)

if stage == "answers":
    if "cluster_name" in answers:
        header = "".join(line for line in answers_file.read_text().splitlines(True) if line.startswith("#"))
        answers["environments"] = answers.pop("cluster_name")
        answers_file.write_text(header + yaml.safe_dump(answers, sort_keys=False))
elif stage == "registry":
    old = Path("registry/apps")
    if old.is_dir():
        environment = answers["environments"].split(",")[0].strip()
        new = Path("registry/environments", environment, "apps")
        new.mkdir(parents=True, exist_ok=True)
        for entry in sorted(old.glob("*.yaml")):
            entry.rename(new / entry.name)
        if not any(old.iterdir()):
            old.rmdir()
        subprocess.run([sys.executable, "scripts/registry.py", "diagram"], check=False)
