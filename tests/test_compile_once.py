"""extensions/compile_once.py: each template string compiled once, with what Copier's extensions
do per string kept."""

from __future__ import annotations

import importlib.util

from copier._jinja_ext import YieldExtension, get_yield_context
from jinja2 import Environment

from conftest import ROOT

spec = importlib.util.spec_from_file_location("compile_once", ROOT / "extensions/compile_once.py")
compile_once = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compile_once)


def environment(*extensions) -> Environment:
    env = Environment(extensions=[*extensions, compile_once.CompileOnce])
    compiled = []
    compile_ = Environment.compile

    def counting(self, source, *args, **kwargs):
        compiled.append(source)
        return compile_(self, source, *args, **kwargs)

    env.compiled = compiled
    env.compile = counting.__get__(env)
    # CompileOnce wraps whatever compile the environment has when it loads: load it again over the counter.
    compile_once.CompileOnce(env)
    return env


def test_a_string_is_compiled_once_and_renders_as_before():
    env = environment()
    for _ in range(3):
        assert env.from_string("{{ name | upper }}-{{ 1 + 1 }}").render(name="shop") == "SHOP-2"
    assert env.from_string("{{ name }}").render(name="shop") == "shop"
    assert env.compiled == ["{{ name | upper }}-{{ 1 + 1 }}", "{{ name }}"]


def test_copiers_yield_tag_renders_each_time():
    """Copier resets the yield tag's state when the string is preprocessed, before each render."""
    env = environment(YieldExtension)
    source = "{% yield environment from environments %}{{ environment }}{% endyield %}"
    for _ in range(2):
        env.from_string(source).render(environments=["staging", "production"])
        assert get_yield_context(env).yield_name == "environment"
    assert env.compiled == [source]
