"""extensions/gitops_template: answers written into YAML, Markdown and shell (formats.py), on its own, without Copier."""

from __future__ import annotations

import html
import re
import string

import cmarkgfm
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_template.answers import description_error
from gitops_template.formats import markdown_code, markdown_text, shell_word, yaml_block, yaml_string
from support.goyaml import go_read

NO_SURROGATES = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


TRICKY = ["on", "y", "1e3", "0x1f", "null", "~", "", " ", "🚀", "\\ud83d\\ude80", '"', "\\", "\\n", "\n", "\t",
          "\x00", "\x7f", "\x85", "\xa0", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\U0010ffff", "a: b",
          "- x", "#", "'", "%x", "@", "`", "{{ x }}", "\U000e0001"]


@settings(max_examples=300, deadline=None)
@given(text=NO_SURROGATES)
def test_yaml_string_reads_back_in_python(text):
    assert yaml.safe_load(f"k: {yaml_string(text)}\n") == {"k": text}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(NO_SURROGATES, min_size=30, max_size=30))
def test_yaml_string_reads_back_in_go(texts, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("go")
    texts = TRICKY + texts
    paths = []
    for i, text in enumerate(texts):
        paths.append(scratch / f"{i}.yaml")
        paths[-1].write_text(f"k: {yaml_string(text)}\n", encoding="utf-8")
    assert go_read(paths, scratch) == [{"k": text} for text in texts]


def test_yaml_string_refuses_what_yaml_cannot_hold():
    with pytest.raises(ValueError, match="lone surrogate"):
        yaml_string("\ud800")


ONE_LINE = st.text(min_size=1, max_size=40).filter(lambda text: not description_error(text))


def rendered_text(markdown_html: str, tag: str) -> str:
    inner = markdown_html.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
    return html.unescape(re.sub(r"</?a[^>]*>", "", inner))  # GitHub links bare URLs; the text stays


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.sampled_from(TRICKY + ["1. x", "2024) y", "+ z", "=", "***", "<div>", "&amp;", "[a]: b",
                                                "![i](x)", "~~s~~", "a | b", "`c`", "**b**", "_e_", "\\*"]),
                      ONE_LINE).filter(lambda text: not description_error(text)))
def test_markdown_text_renders_as_typed_on_github(text):
    markup = markdown_text(text)
    assert rendered_text(cmarkgfm.github_flavored_markdown_to_html(f"# Title\n\n{markup}\n"), "p") == text
    table = f"| a | b |\n| --- | --- |\n| x | {markup} |\n"
    cells = re.findall(r"<td>(.*?)</td>", cmarkgfm.github_flavored_markdown_to_html(table), re.S)
    assert [html.unescape(re.sub(r"</?a[^>]*>", "", c)) for c in cells] == ["x", text]


@settings(max_examples=200, deadline=None)
@given(text=st.text(string.ascii_letters + "`-/+.@ ü", min_size=1, max_size=12).filter(
    lambda text: text.strip() == text))
def test_markdown_code_renders_as_typed_on_github(text):
    markup = cmarkgfm.github_flavored_markdown_to_html(f"at {markdown_code(text)} here\n")
    assert html.unescape(markup.split("<code>", 1)[1].split("</code>", 1)[0]) == text


@pytest.mark.parametrize(("value", "word"), [("main", "main"), ("a b", "'a b'"), ("it's", "'it'\"'\"'s'")])
def test_shell_word(value, word):
    assert shell_word(value) == word


def test_yaml_block_reads_back_as_the_value():
    value = {"on": {"y": "1", "list": [{"a": True, "b": [1, 2]}, "x: y"], "empty": {}, "none": []},
             "release": "kube-prometheus-stack", "dotted.key/name": "null"}
    assert yaml.safe_load("top:\n" + yaml_block(value, 2)) == {"top": value}
