"""Property tests over each validator's accepted space: every answer is refused naming its
question, or lands exactly as typed where Go (Helm, Argo CD, Flux) reads it, in objects that
validate strictly. Answers include YAML's special words, numbers and text beyond the BMP.

Each example is a real in-process `copier copy` (about 0.1 s) plus Helm: the examples are few
and the template copy is shared, to keep this module to a few tens of seconds.
"""

from __future__ import annotations

import html
import re
import string
from pathlib import Path

import cmarkgfm
import pytest
import yaml
from copier import run_copy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support import helm
from support.gitops import argocd_deployments, flux_deployments, gitops_objects
from support.goyaml import go_read, python_read
from support.kube import validation_errors
from gitops_template.vcs import flux_git_ref, git_revision_error
from gitops_template.images import image_repository_error
from gitops_template.names import APP_NAME_MAX, PLATFORM_FEATURES, app_name_error, namespace_error, platform_namespaces
from gitops_template.answers import description_error

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                         HealthCheck.function_scoped_fixture])

# Words YAML 1.1, YAML 1.2 or Go's go-yaml read as booleans, null, numbers or dates when plain.
YAML_WORDS = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "e1"]
YAML_NUMBERS = ["12", "017", "0x1f", "0o17", "0b11", "1e3", "1e-3", "2001-12-14", "0"]


def label(first: str, max_size: int) -> st.SearchStrategy[str]:
    generated = st.from_regex(rf"\A[{first}]([-a-z0-9]{{0,{max_size - 2}}}[a-z0-9])?\Z")
    words = [w for w in YAML_WORDS + YAML_NUMBERS if w[0] in string.ascii_lowercase + string.digits
             and re.fullmatch(rf"[{first}].*", w)]
    return st.one_of(st.sampled_from(words), generated)


APP_NAMES = label("a-z", APP_NAME_MAX)
LABELS = label("a-z0-9", 20)
DOMAINS = st.lists(label("a-z0-9", 12), min_size=1, max_size=3).map(".".join)
SEGMENTS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,7}\Z")
REPO_URLS = st.one_of(
    st.builds("https://{}/{}/{}.git".format, DOMAINS, SEGMENTS, SEGMENTS),
    st.builds("git@{}:{}/{}.git".format, DOMAINS, SEGMENTS, SEGMENTS),
    st.builds("ssh://git@{}:{}/{}/{}".format, DOMAINS, st.integers(1, 65535), SEGMENTS, SEGMENTS),
)
IMAGE_PATHS = st.from_regex(r"\A[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*){0,2}\Z")
IMAGES = st.builds("{}{}".format, st.sampled_from(["", "ghcr.io/", "localhost:5000/", "registry.example.com:443/"]),
                   IMAGE_PATHS).filter(lambda image: not image_repository_error(image))
# Anything a user could type on one line, accepted or not, and what YAML and Markdown make special.
HOSTILE_TEXT = ["yes", "1e3", "null", "~", "🚀 launches rockets", '"quoted" \\ back\\slash', "# not a heading",
                "- not a list", "1. not a list", "`code` *bold* _em_ <b>html</b> [link](x) | pipe &amp;",
                "key: value #comment", "{not: flow}", "[x]", "&anchor *alias !tag %directive @at",
                "'single'", "nbsp\u00a0inside", "\ufeffbom", "𝒻𝒶𝓃𝒸𝓎 👨‍👩‍👧", "\\ud83d\\ude80 as typed"]
DESCRIPTIONS = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(min_size=1, max_size=30)).filter(
    lambda text: not description_error(text))
REVISIONS = st.one_of(
    st.from_regex(r"\A[0-9a-f]{40}\Z"),
    st.builds("refs/{}/{}".format, st.sampled_from(["heads", "tags", "pull/42"]), SEGMENTS),
    st.sampled_from(["main", "v1.2.0", "v1.2.0+build.7", "1e3", "yes", "release/1.x", "a@b", "ünï"]),
    st.text(string.ascii_letters + string.digits + "./-+@#`!{}$~^:?*[\\ ü🚀", min_size=1, max_size=20),
).filter(lambda revision: not git_revision_error(revision))

ANSWERS = st.fixed_dictionaries(
    {
        "app_name": APP_NAMES,
        "description": DESCRIPTIONS,
        "repo_url": REPO_URLS,
        "namespace": LABELS,
        "git_revision": REVISIONS,
        "container_port": st.one_of(st.integers(1024, 65535), st.integers(1024, 65535).map(str)),
        "domain": DOMAINS,
        "gateway_name": LABELS,
        "gateway_namespace": LABELS,
        "gateway_proxy_namespace": st.one_of(st.just(""), LABELS),
        "argocd_namespace": LABELS,
        "flux_namespace": LABELS,
        "prometheus_namespace": LABELS,
        "bucket_storage_class": LABELS,
        "secret_store_name": LABELS,
        "git_owner": LABELS,
        "default_branch": REVISIONS,
        **{feature: st.booleans() for feature in PLATFORM_FEATURES},
    },
    optional={"image_repository": IMAGES},
).filter(lambda answers: not app_name_error(answers["app_name"], answers["flux_namespace"])
         and not namespace_error(answers["namespace"], platform_namespaces(answers)))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A fresh folder for each example (Hypothesis reruns one test function many times)."""
    count = 0

    def _scratch() -> Path:
        nonlocal count
        count += 1
        return tmp_path_factory.mktemp(f"example{count}")

    return _scratch


def copy(template: Path, dst: Path, answers: dict) -> None:
    run_copy(str(template), dst, data=answers, defaults=True, unsafe=True, quiet=True)


def yaml_files(app: Path) -> list[Path]:
    # The answers file is Copier's own: only Copier (PyYAML) reads it.
    return sorted(p for p in app.rglob("*.y*ml") if "templates" not in p.parts and p.name != ".copier-answers.yml")


def assert_lands_as_typed(app: Path, answers: dict, crd_schemas: Path, scratch: Path) -> None:
    """Go reads every file as Python does; the answers are there as typed; every object is valid."""
    paths = yaml_files(app)
    for path, go in zip(paths, go_read(paths, scratch / "files")):
        assert go == python_read(path), path.relative_to(app)
    read = {str(p.relative_to(app)): python_read(p) for p in paths}
    chart = read["helm/base/Chart.yaml"]
    assert (chart["name"], chart["description"]) == (answers["app_name"], answers["description"])
    assert read["helm/base/values.yaml"]["containerPort"] == int(answers["container_port"])
    assert read["gitops/values-base.yaml"]["httpRoute"]["parentRef"] == {
        "name": answers["gateway_name"], "namespace": answers["gateway_namespace"]}
    revision, namespace = answers["git_revision"], answers["namespace"]
    if answers["gitops_controller"] != "fluxcd":
        project = read["gitops/argocd/project.yaml"]
        assert project["spec"]["description"] == answers["description"]
        source = read["gitops/argocd/base-application.yaml"]["spec"]
        assert (source["source"]["targetRevision"], source["destination"]["namespace"]) == (revision, namespace)
    if answers["gitops_controller"] != "argocd":
        sources = read["gitops/fluxcd/git-repository.yaml"]
        ref = (sources[0] if isinstance(sources, list) else sources)["spec"]["ref"]
        assert ref == {flux_git_ref(revision): revision}
        release = read["gitops/fluxcd-releases/base/helm-release.yaml"]
        assert (release["metadata"]["namespace"], release["spec"]["targetNamespace"]) == (
            answers["flux_namespace"], namespace)
    assert validation_errors(gitops_objects(app), crd_schemas) == []

    # What the charts render from these answers, as the controllers deploy them.
    deployments = {**argocd_deployments(app), **flux_deployments(app)}
    manifests = [doc for d in deployments.values()
                 for doc in helm.template(d.chart, d.release, d.namespace, d.values).split("\n---\n") if doc.strip()]
    rendered = []
    for i, manifest in enumerate(manifests):
        rendered.append(scratch / f"manifest-{i}.yaml")
        rendered[-1].write_text(manifest)
    for path, go in zip(rendered, go_read(rendered, scratch / "manifests")):
        assert go == python_read(path), path.read_text()
    assert validation_errors([python_read(p) for p in rendered], crd_schemas) == []

    # The README shows the description as text, whatever Markdown it looks like.
    readme = cmarkgfm.github_flavored_markdown_to_html((app / "README.md").read_text())
    paragraph = readme.split("<p>", 1)[1].split("</p>", 1)[0]
    assert html.unescape(re.sub(r"</?a[^>]*>", "", paragraph)) == answers["description"]


# Each controller choice on its own (a test each, for the workers to share out).
@pytest.mark.parametrize("controller", ["both", "argocd", "fluxcd"])
@settings(SETTINGS, max_examples=4)
@given(answers=ANSWERS)
def test_accepted_answers_land_as_typed(template_dir, crd_schemas, scratch, controller, answers):
    answers = {**answers, "gitops_controller": controller}
    where = scratch()
    copy(template_dir, where / "app", answers)
    assert_lands_as_typed(where / "app", answers, crd_schemas, where)


# Free-text questions (choices are Copier's to check), each given anything at all.
TEXT_QUESTIONS = ["app_name", "description", "repo_url", "namespace", "image_repository", "container_port",
                  "git_revision", "git_secret_name", "git_host", "git_owner", "default_branch", "image_registry",
                  "domain", "gateway_name", "gateway_namespace", "gateway_proxy_namespace", "argocd_namespace",
                  "cluster_server", "flux_namespace", "prometheus_namespace", "bucket_storage_class",
                  "secret_store_name"]
ANY_TEXT = st.one_of(st.sampled_from(HOSTILE_TEXT + YAML_WORDS + YAML_NUMBERS + ["", " x", "x\n", "\ud800"]),
                     st.text(max_size=20))


@pytest.mark.parametrize("question", TEXT_QUESTIONS)
@settings(SETTINGS, max_examples=2)
@given(value=ANY_TEXT)
def test_every_answer_is_refused_naming_its_question_or_lands(template_dir, crd_schemas, scratch, question, value):
    where = scratch()
    answers = {"app_name": "shop", question: value}
    try:
        copy(template_dir, where / "app", answers)
    except ValueError as refusal:
        event(f"refused {question}")
        assert str(refusal).startswith(f"Validation error for question '{question}': {question}: "), refusal
        assert not (where / "app").exists()
        return
    event(f"accepted {question}")
    recorded = yaml.safe_load((where / "app/.copier-answers.yml").read_text())
    assert recorded[question] == value
    assert_lands_as_typed(where / "app", recorded, crd_schemas, where)
