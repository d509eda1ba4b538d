"""YAML read as Go reads it: Helm's `fromYaml` (sigs.k8s.io/yaml over go-yaml), the parser
Helm, Argo CD and Flux read manifests, charts and values with, run in a throwaway chart."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import yaml

from support.helm import helm

CHART = "apiVersion: v2\nname: go-yaml\nversion: 0.1.0\n"
# Base64 keeps Helm from parsing the JSON it prints (raw control characters would fail it).
READ = """\
{{- range $path, $_ := .Files.Glob "files/*" }}
{{ $path | quote }}: {{ $.Files.Get $path | fromYaml | toJson | b64enc | quote }}
{{- end }}
"""


def go_read(paths: list[Path], scratch: Path) -> list[object]:
    """Each file's single document as Go reads it, converted to JSON as Helm does; a file
    Go cannot read comes back as {"Error": "<go-yaml's message>"}."""
    chart = scratch / "go-yaml"
    (chart / "files").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "templates" / "read.yaml").write_text(READ)
    names = [f"files/{i:04}.yaml" for i in range(len(paths))]
    for name, path in zip(names, paths):
        (chart / name).write_bytes(path.read_bytes())
    read = yaml.safe_load(helm("template", "read", str(chart)))
    return [json.loads(base64.b64decode(read[name])) for name in names]


def python_read(path: Path) -> object:
    """The file's single document as PyYAML reads it (a second document would go unchecked)."""
    [document] = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    return document
