"""The precompiled templates (archdsl/backends/precompiled.py): generated from templates/ as
it is now, used when current, and never used for a template that changed since."""

from __future__ import annotations

from pathlib import Path

import jinja2

from archdsl.backends import regenerate
from archdsl.backends.base import environment
from archdsl.backends.precompiled import PACKAGE, PrecompiledLoader


def test_precompiled_templates_are_generated_from_the_templates() -> None:
    """After a change to templates/: `python -m archdsl.backends.regenerate`."""
    stale = regenerate.stale()
    assert not stale, f"stale: {', '.join(stale)}; run `{regenerate.COMMAND}`"
    assert regenerate.main(["--check"]) == 0


def test_the_printers_use_the_precompiled_code() -> None:
    names = regenerate.templates()
    assert {"torch/module.py.j2", "torch/layers.j2", "keras/module.py.j2"} <= set(names)
    for name in names:
        template = environment().get_template(name)
        assert _precompiled(template), name
        assert Path(template.filename or "").name == Path(name).name


def _precompiled(template: jinja2.Template) -> bool:
    return (template.root_render_func.__module__ or "").startswith(PACKAGE + ".")


def _env(root: Path) -> jinja2.Environment:
    base = environment()
    env = base.overlay(loader=PrecompiledLoader(str(root)))
    env.cache = None  # type: ignore[assignment]  # no template shared with the overlaid one
    return env


def test_a_changed_template_is_compiled_from_its_file(tmp_path: Path) -> None:
    for name, text in regenerate.templates().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = _env(tmp_path)
    assert _precompiled(env.get_template("torch/module.py.j2"))
    module = tmp_path / "torch" / "module.py.j2"
    module.write_text("edited {{ title }}\n", encoding="utf-8")
    template = _env(tmp_path).get_template("torch/module.py.j2")
    assert not _precompiled(template)
    assert template.render(title="t") == "edited t\n"
    new = tmp_path / "torch" / "new.j2"  # a template without a module
    new.write_text("{{ 1 + 1 }}", encoding="utf-8")
    assert _env(tmp_path).get_template("torch/new.j2").render() == "2"


def test_each_template_object_has_its_own_namespace() -> None:
    """jinja2 sets `environment` in a template's namespace: two environments loading the same
    module must not share one."""
    first = environment().get_template("torch/module.py.j2")
    other = _env(Path(environment().loader.searchpath[0]))  # type: ignore[union-attr]
    second = other.get_template("torch/module.py.j2")
    assert first.root_render_func.__globals__ is not second.root_render_func.__globals__
    assert first.root_render_func.__globals__["environment"] is environment()
    assert second.root_render_func.__globals__["environment"] is other
