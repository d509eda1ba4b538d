"""YAML read as Go reads it: Helm's `fromYaml` (sigs.k8s.io/yaml over go-yaml), the parser
Helm, Argo CD and Flux read manifests, charts and values with, run in a throwaway chart."""

from __future__ import annotations

import base64
import json
import re
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


def _documents(text: str) -> list[str]:
    # A stream's documents, split where a line is `---` alone (the form the template and Helm write).
    return [document for document in re.split(r"(?m)^---\n", text) if document.strip()]


def go_read(paths: list[Path], scratch: Path) -> list[object]:
    """Each file as Go reads it, converted to JSON as Helm does: its document, or the list of
    its documents; a document Go cannot read comes back as {"Error": "<go-yaml's message>"}."""
    chart = scratch / "go-yaml"
    (chart / "files").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "templates" / "read.yaml").write_text(READ)
    names_per_path = []
    for path in paths:
        names_per_path.append([])
        for document in _documents(path.read_bytes().decode("utf-8")):
            name = f"files/{sum(map(len, names_per_path)):04}.yaml"
            (chart / name).write_bytes(document.encode("utf-8"))
            names_per_path[-1].append(name)
    read = yaml.safe_load(helm("template", "read", str(chart)))
    documents = [[json.loads(base64.b64decode(read[name])) for name in names] for names in names_per_path]
    return [docs[0] if len(docs) == 1 else docs for docs in documents]


def python_read(path: Path) -> object:
    """The file as PyYAML reads it: its document, or the list of its documents."""
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    return documents[0] if len(documents) == 1 else documents
