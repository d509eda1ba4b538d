"""Answers migration for apps made before 1.0.0 (copier.yml `_migrations`, before the update).

Those versions recorded the Gateway's namespace as `gateway_proxy_namespace`; since 1.0.0 an
empty answer means "the Gateway's namespace" and follows `gateway_namespace` when it changes.
An answer equal to the Gateway's namespace is that old default, so it becomes empty: rendered
the same today, and it keeps following.

Usage: follow_gateway_namespace.py ANSWERS_FILE
"""

import sys
from pathlib import Path

import yaml

answers_file = Path(sys.argv[1])
answers = yaml.safe_load(answers_file.read_text())
proxy, gateway = answers.get("gateway_proxy_namespace"), answers.get("gateway_namespace")
if proxy and proxy == gateway:
    lines = [
        "gateway_proxy_namespace: ''" if line.startswith("gateway_proxy_namespace:") else line
        for line in answers_file.read_text().splitlines()
    ]
    answers_file.write_text("\n".join(lines) + "\n")
    print(f"gateway_proxy_namespace: was the Gateway's namespace ({gateway}); now empty, so it follows it")
