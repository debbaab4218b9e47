"""What every printer shares: template loading, the template sink, layer arguments."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable
from typing import Any

import jinja2

from archdsl.backends.exprs import format_source
from archdsl.backends.precompiled import PrecompiledLoader
from archdsl.errors import error
from archdsl.ir import lowered as L
from archdsl.layers.registry import LayerType
from archdsl.resources import data_dir


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=PrecompiledLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=_finalize,
    )
    env.globals["most"] = _most
    return env


def _most(value: Any) -> Any:
    """A known size argument's larger dimension (templates compare sizes with ints)."""
    return max(value) if isinstance(value, tuple) else value


def _finalize(value: Any) -> Any:
    # Guarantee G1 at the sink: only strings the printers built, ints, bools and finite floats
    # reach the generated text.
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return value
    raise ValueError(f"refusing to render {type(value).__name__} into generated code")


def layer_macro(backend: str, layer: LayerType, suffix: str = "") -> Any:
    module = environment().get_template(f"{backend}/layers.j2").module
    macro = getattr(module, layer.name + suffix, None)
    if macro is None:
        raise error("E0902", f"internal error: no {backend} template for `{layer.name}{suffix}`")
    return macro


def layer_arguments(
    layer: LayerType, given: tuple[L.Argument, ...], render: Callable[[L.Expr], str]
) -> tuple[dict[str, str], set[str]]:
    """Every argument of a layer call as source (the registry's defaults filled in), and the
    names of those the spec gives a non-default value."""
    values = {
        a.name: size_source(a.value, render) if a.name in layer.sizes else render(a.value)
        for a in given
    }
    out = {
        name: values.get(name, repr(layer.schema.default(name))) for name in layer.schema._fields
    }
    return out, set(values)


def size_source(e: L.Expr, render: Callable[[L.Expr], str]) -> str:
    """A size argument as source: a literal [height, width] as a tuple, as torch prints it."""
    if isinstance(e, L.ListOf):
        return "(" + ", ".join(render(i) for i in e.items) + ")"
    return render(e)


def block_arguments(
    call: L.BlockCall,
    definitions: dict[str, L.Definition],
    render: Callable[[L.Expr], str],
) -> list[str]:
    """A block call's arguments as source (positional, then `name=value`); a literal list given
    to a `size` parameter is a tuple, as a layer's size argument is."""
    d = definitions.get(call.callee.name) if isinstance(call.callee, L.BlockRef) else None
    params = [p.name for p in d.params] if d is not None else []
    sizes = {p.name for p in d.params if p.type == "size"} if d is not None else set()

    def arg(name: str | None, e: L.Expr) -> str:
        return size_source(e, render) if name in sizes else render(e)

    parts = [arg(params[i] if i < len(params) else None, a) for i, a in enumerate(call.args)]
    parts += [f"{k.name}={arg(k.name, k.value)}" for k in call.kwargs]
    return parts


def list_conversions(d: L.Definition) -> list[str]:
    """``name = list(name)`` for each list parameter the definition compares or concatenates:
    list defaults are printed as tuples (no mutable defaults), and a caller may pass either, but
    `[1, 2] == (1, 2)` is false in Python and `(1, 2) + [4]` fails, where the spec has lists."""
    lists = {p.name for p in d.params if p.type == "list"}
    used = {
        side.name
        for node in L.walk((d.body, d.forward))
        if isinstance(node, L.Binary)
        for side in (node.left, node.right)
        if isinstance(side, L.Var) and side.name in lists
    }
    return [f"{name} = list({name})" for name in sorted(used)]


def indent(lines: list[str], n: int = 1) -> list[str]:
    pad = "    " * n
    return [pad + line if line else line for line in lines]


def loop_header(loop: L.Loop, render: Callable[[L.Expr], str]) -> str:
    """The Python `for` line of a lowered loop."""
    index = loop.index or "_"
    if loop.count is not None:
        return f"for {index} in range({render(loop.count)}):"
    assert loop.iterable is not None
    targets = loop.targets[0] if len(loop.targets) == 1 else ", ".join(loop.targets)
    if loop.index is None:
        return f"for {targets} in {render(loop.iterable)}:"
    targets = targets if len(loop.targets) == 1 else f"({targets})"
    return f"for {loop.index}, {targets} in enumerate({render(loop.iterable)}):"


def member_key(name: str, suffix: L.Expr, py: Callable[[L.Expr], str]) -> str:
    """Python for a numbered or quoted member's name (``f"layer{i + 1}"``,
    ``f"block{stage_index}-{i}"``), which the constructor passes to ``add_module``."""
    if isinstance(suffix, L.Format):
        texts = (name + suffix.texts[0], *suffix.texts[1:])
        return format_source(texts, [py(v) for v in suffix.values])
    return format_source((name, ""), [py(suffix)])


def feature_info(model: L.LoweredModel) -> str:
    """The arch's feature stages as the module-level ``FEATURE_INFO`` both printers write
    (timm's `feature_info`: `module`, `num_chs`, `reduction`), or "" without stages. Module
    paths are quoted with ``repr`` (a quoted member name may hold `-`)."""
    arch = model.definition(model.arch)
    if not arch.features or arch.sequential:
        return ""
    rows = "".join(
        f"    {{'module': {s.module!r}, 'num_chs': {s.channels!r}, "
        f"'reduction': {s.reduction!r}}},\n"
        for s in arch.features
    )
    how = "marked with `feature(...)`" if arch.features_marked else "one per reduction"
    comment = (
        f"The feature stages of `{arch.name}` ({how}), shallowest first, as timm's "
        "`feature_info`: the channels and reductions of the configuration compiled."
    )
    lines = "".join(f"# {line}\n" for line in textwrap.wrap(comment, 86))
    return f"{lines}FEATURE_INFO: list[dict[str, Any]] = [\n{rows}]"


def subscript(known: dict[str, Any], axis: int) -> str:
    """A `slice`'s indexing of a tensor whose dimension ``axis`` (the batch 0) it slices:
    ``:, 1::2`` for `slice(dim=1, start=1, step=2)`."""
    start, end, step = known["start"], known["end"], known["step"]
    text = f"{start or ''}:{'' if end is None else end}" + (f":{step}" if step != 1 else "")
    return ", ".join([":"] * axis + [text])
