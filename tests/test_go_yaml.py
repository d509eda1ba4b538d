"""Every generated YAML file reads the same in Go (what Helm, Argo CD and Flux use) as in
Python, and the answers in it read back exactly as they were typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ANSWER_SETS, ROOT
from support import helm
from support.gitops import argocd_deployments, flux_deployments
from support.goyaml import go_read, python_read

# Copier's own file: only Copier (PyYAML) reads it.
COPIER_ONLY = {".copier-answers.yml"}


def yaml_files(app: Path) -> list[Path]:
    return sorted(p for p in app.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and "templates" not in p.relative_to(app).parts and p.name not in COPIER_ONLY)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_go_reads_every_yaml_file_as_python_does(app, name, tmp_path):
    root = app(name)
    paths = yaml_files(root)
    assert len(paths) >= 8
    for path, go in zip(paths, go_read(paths, tmp_path)):
        assert go == python_read(path), path.relative_to(root)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_go_reads_every_rendered_manifest_as_python_does(app, name, tmp_path):
    # What the charts render from the answers (names, namespaces, labels) is read by Go too.
    root = app(name)
    deployments = {**argocd_deployments(root), **flux_deployments(root)}.values()
    manifests = [doc for d in deployments for doc in helm.template(d.chart, d.release, d.namespace, d.values)
                 .split("\n---\n") if doc.strip()]
    paths = []
    for i, manifest in enumerate(manifests):
        paths.append(tmp_path / f"manifest-{i}.yaml")
        paths[-1].write_text(manifest)
    assert len(paths) >= 4
    for path, go in zip(paths, go_read(paths, tmp_path)):
        assert go == python_read(path), path.read_text()


@pytest.mark.parametrize(("chart", "values"), [("base", "routes"), ("platform", "key-value-store"),
                                              ("platform", "key-value-store-replication")])
def test_go_reads_the_rendered_values_cases_as_python_does(app, chart, values, tmp_path):
    # The TCP/TLS routes and the key-value store, with External Secrets' own braces in the template.
    manifests = [doc for doc in helm.template(app("canonical") / "helm" / chart, "demo", "demo",
                                              [ROOT / "tests" / "values" / chart / f"{values}.yaml"])
                 .split("\n---\n") if doc.strip()]
    paths = []
    for i, manifest in enumerate(manifests):
        paths.append(tmp_path / f"manifest-{i}.yaml")
        paths[-1].write_text(manifest)
    assert len(paths) >= 3
    for path, go in zip(paths, go_read(paths, tmp_path)):
        assert go == python_read(path), path.read_text()


def test_go_reader_sees_what_python_does_not(tmp_path):
    # The reader is go-yaml for real: these read differently, or not at all, in Go.
    cases = {"y.yaml": "k: y\n", "exp.yaml": "k: 1e3\n", "surrogates.yaml": 'k: "\\ud83d\\ude80"\n'}
    paths = []
    for file, text in cases.items():
        (tmp_path / file).write_text(text)
        paths.append(tmp_path / file)
    y, exponent, surrogates = go_read(paths, tmp_path)
    assert y == {"k": True} and python_read(paths[0]) == {"k": "y"}
    assert exponent == {"k": 1000} and python_read(paths[1]) == {"k": "1e3"}
    assert "invalid Unicode character escape" in surrogates["Error"]


# Answers that are not strings: booleans and the port, and Flux's ref field, one of four words.
TYPED = re.compile(r"\{\{ (\w+ \| lower|container_port \| int|flux_git_ref) \}\}")


def test_every_answer_in_a_yaml_template_is_written_by_yaml_string():
    checked = 0
    for path in sorted((ROOT / "template").rglob("*.y*ml.jinja")):
        if "_copier_conf" in path.name:
            continue  # Copier's own answers file
        block_indent = None  # inside a block scalar (a shell script), YAML does not resolve words
        raw = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            indent = len(line) - len(line.lstrip())
            if block_indent is not None and (indent > block_indent or not line.strip()):
                continue
            block_indent = indent if re.search(r": [|>][-+]?$", line) else None
            raw = (raw or bool(re.search(r"\{%-? raw", line))) and "endraw" not in line
            if raw or line.lstrip().startswith("#"):
                continue
            for expression in re.findall(r"\{\{.*?\}\}", line):
                assert expression.endswith("| yaml_string }}") or TYPED.fullmatch(expression), \
                    f"{path.relative_to(ROOT)}:{number}: {expression}"
                checked += 1
    assert checked > 50
