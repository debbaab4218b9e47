"""Templates compiled ahead of time: jinja2's code for each file of ``templates/``, as modules of
``archdsl/backends/_templates/`` that Python loads from its bytecode cache.

Compiling the two templates a compilation uses cost about 40 ms of every cold process. Each
generated module records the digest of what it was compiled from: jinja2's version, the
environment's options that shape the code and the template's text. A template whose module is
missing or records another digest is compiled from its file as before (the output is the same,
only slower), so editing ``templates/`` needs no step to stay correct; ``tests/test_templates.py``
fails until ``python -m archdsl.backends.regenerate`` writes the modules again.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, MutableMapping
from typing import Any

import jinja2

PACKAGE = "archdsl.backends._templates"


def module_name(template: str) -> str:
    """The generated module of a template: ``torch/module.py.j2`` is ``torch_module_py``."""
    stem = template.removesuffix(".j2")
    return "".join(c if c.isalnum() else "_" for c in stem)


def fingerprint(env: jinja2.Environment) -> str:
    """The environment's settings that change the code jinja2 generates."""
    settings = (
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.autoescape if isinstance(env.autoescape, bool) else "callable",
        env.finalize is not None,
        sorted(env.extensions),
    )
    return f"jinja2 {jinja2.__version__} {settings!r}"


def digest(env: jinja2.Environment, template: str, source: str) -> str:
    text = f"{fingerprint(env)}\0{template}\0{source}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compiled_source(env: jinja2.Environment, template: str, source: str) -> str:
    """jinja2's Python code for ``source``, as ``Environment.compile_templates`` writes it (the
    environment is a global the loader sets, not a default argument)."""
    code = env.compile(source, template, None, raw=True, defer_init=True)
    assert isinstance(code, str)
    return code


class PrecompiledLoader(jinja2.FileSystemLoader):
    """A ``FileSystemLoader`` that takes a template's code from its generated module when the
    module was compiled from the template as it is now."""

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        source, filename, uptodate = self.get_source(environment, name)
        namespace = _namespace(module_name(name))
        if namespace is None or namespace.get("DIGEST") != digest(environment, name, source):
            return super().load(environment, name, globals)
        template = environment.template_class.from_module_dict(
            environment, namespace, {} if globals is None else globals
        )
        # as the template compiled here would be: its file in tracebacks, reloaded when edited
        template.filename = filename
        template._uptodate = uptodate
        return template


def _namespace(module: str) -> dict[str, Any] | None:
    """A fresh namespace of the generated module (each template object owns one: jinja2 sets
    ``environment`` in it), its code from the bytecode cache; None when there is none."""
    try:
        spec = importlib.util.find_spec(f"{PACKAGE}.{module}")
    except ImportError:
        return None
    if spec is None or spec.loader is None:
        return None
    mod = importlib.util.module_from_spec(spec)
    exec_module: Callable[[Any], None] = spec.loader.exec_module  # type: ignore[attr-defined]
    exec_module(mod)
    return mod.__dict__
