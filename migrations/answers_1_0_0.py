"""Answers migration to 1.0.0 (copier.yml `_migrations`, before the update), for apps made from
the untagged commits before it.

- `gateway_proxy_namespace`: earlier versions recorded their default, the Gateway's namespace
  or "", as if it were an answer; an app that kept it takes this version's default instead.
- `container_port`: recorded as a number; it is a string now, so that any text typed for it
  reaches its validator.

Usage: answers_1_0_0.py ANSWERS_FILE COPIER_YML (this version's copier.yml, for its defaults)
"""

import sys
from pathlib import Path

import yaml

answers_file, copier_yml = Path(sys.argv[1]), Path(sys.argv[2])
header = "".join(line for line in answers_file.read_text().splitlines(True) if line.startswith("#"))
answers = yaml.safe_load(answers_file.read_text())
proxy_default = yaml.safe_load(copier_yml.read_text())["gateway_proxy_namespace"]["default"]

if "gateway_proxy_namespace" in answers and answers["gateway_proxy_namespace"] in ("", answers.get("gateway_namespace")):
    answers["gateway_proxy_namespace"] = proxy_default
if isinstance(answers.get("container_port"), int):
    answers["container_port"] = str(answers["container_port"])
answers_file.write_text(header + yaml.safe_dump(answers, sort_keys=False))
