"""Each template string compiled once per copy.

Copier renders every path, every question's default, `when`, help and validator, and the answers
file's name from a string, and Jinja compiles a string anew each time it is given one: a copy of
the full app compiled 180 distinct strings some 900 times, a third of its time. Compiling is a
pure function of the string and the environment, so the environment keeps what it compiled.
Extensions still preprocess every string: Copier's `yield` tag resets its state there. Templates
Jinja loads from files are compiled once by Jinja itself and pass through.
"""

from __future__ import annotations

from jinja2.ext import Extension


class CompileOnce(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        compile_ = environment.compile
        compiled: dict[tuple[str, bool, bool], object] = {}

        def compile_once(source, name=None, filename=None, raw=False, defer_init=False):
            if not isinstance(source, str) or name is not None or filename is not None:
                return compile_(source, name, filename, raw, defer_init)
            key = (source, raw, defer_init)
            if key not in compiled:
                compiled[key] = compile_(source, name, filename, raw, defer_init)
            else:
                environment.preprocess(source)
            return compiled[key]

        environment.compile = compile_once
