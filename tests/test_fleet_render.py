"""fleet_graph/render.py: Helm and kustomize run for real, each render remembered by the digest of
everything it reads, so a changed file always renders again."""

from __future__ import annotations

import shutil

import pytest

from fleet_graph import render

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
    "values.yaml": "greeting: hello\n",
    "templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
                                "data:\n  greeting: {{ .Values.greeting | quote }}\n",
}


@pytest.fixture
def runs(monkeypatch, tmp_path):
    """Each test its own cache folder and an empty memory; `runs` counts the tools actually run."""
    monkeypatch.setattr(render, "CACHE", tmp_path / "cache")
    render.CACHE.mkdir()
    monkeypatch.setattr(render, "_renders", {})
    calls = []
    run = render.subprocess.run

    def counted(command, *args, **kwargs):
        calls.append(command[1])
        return run(command, *args, **kwargs)

    monkeypatch.setattr(render.subprocess, "run", counted)
    return calls


def write(root, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def greeting(manifest: str) -> str:
    [configmap] = render.load_all(manifest)
    return configmap["data"]["greeting"]


def test_the_same_chart_and_values_render_once_wherever_they_are(runs, tmp_path):
    first = write(tmp_path / "one", CHART)
    second = shutil.copytree(first, tmp_path / "two")
    values = write(tmp_path, {"values-a.yaml": "greeting: hi\n"}) / "values-a.yaml"

    assert greeting(render.template(first, "probe", "default", [values])) == "hi"
    assert greeting(render.template(second, "probe", "default", [values])) == "hi"
    assert runs == ["template"]
    render.template(first, "other", "default", [values])
    render.template(first, "probe", "elsewhere", [values])
    assert runs == ["template"] * 3


def test_a_changed_template_values_file_or_chart_file_renders_again(runs, tmp_path):
    chart = write(tmp_path / "chart", CHART)
    values = write(tmp_path, {"values.yaml": "greeting: hi\n"}) / "values.yaml"
    assert greeting(render.template(chart, "probe", "default", [values])) == "hi"

    values.write_text("greeting: bonjour\n")
    assert greeting(render.template(chart, "probe", "default", [values])) == "bonjour"
    write(chart, {"templates/configmap.yaml": CHART["templates/configmap.yaml"].replace("quote", "upper | quote")})
    assert greeting(render.template(chart, "probe", "default", [values])) == "BONJOUR"
    write(chart, {"README.md": "# probe\n"})
    render.template(chart, "probe", "default", [values])
    assert runs == ["template"] * 4


def test_a_failed_render_is_not_remembered(runs, tmp_path):
    chart = write(tmp_path / "chart", {**CHART, "templates/broken.yaml": "{{ .Values.missing.field }}\n"})
    for _ in range(2):
        with pytest.raises(render.HelmError):
            render.template(chart, "probe", "default")
    assert runs == ["template", "template"]
    assert list(render.CACHE.iterdir()) == []


def test_another_process_reads_the_render_from_the_cache_folder(runs, tmp_path, monkeypatch):
    chart = write(tmp_path / "chart", CHART)
    made = render.template(chart, "probe", "default")
    monkeypatch.setattr(render, "_renders", {})
    assert render.template(chart, "probe", "default") == made
    assert runs == ["template"]


KUSTOMIZATION = {
    "base/kustomization.yaml": "resources:\n  - configmap.yaml\n",
    "base/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  greeting: hello\n",
    "overlay/kustomization.yaml": "resources:\n  - ../base\nnamespace: shop\n",
}


def test_a_kustomization_is_remembered_by_its_whole_tree(runs, tmp_path):
    tree = write(tmp_path / "tree", KUSTOMIZATION)
    [built] = render.kustomize(tree / "overlay", tree)
    assert (built["metadata"]["namespace"], built["data"]["greeting"]) == ("shop", "hello")
    copy = shutil.copytree(tree, tmp_path / "copy")
    assert render.kustomize(copy / "overlay", copy) == [built]
    assert runs == ["kustomize"]

    # A file the overlay reads through ../base, outside its own folder.
    write(tree, {"base/configmap.yaml": KUSTOMIZATION["base/configmap.yaml"].replace("hello", "hi")})
    [changed] = render.kustomize(tree / "overlay", tree)
    assert changed["data"]["greeting"] == "hi"
    assert render.kustomize(tree / "base", tree)[0]["metadata"].get("namespace") is None
    assert runs == ["kustomize"] * 3


def test_without_its_tree_a_kustomization_is_built_every_time(runs, tmp_path):
    tree = write(tmp_path / "tree", KUSTOMIZATION)
    render.kustomize(tree / "overlay")
    render.kustomize(tree / "overlay")
    assert runs == ["kustomize", "kustomize"]
