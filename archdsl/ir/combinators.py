"""One definition per combinator of forward flows (``residual``, ``add``, ``concat``, ``chunk``,
``multiply``, ``aux``, ``head``, ``feature``): its branches, its keywords, its shape rule and how
its branches read the input and join (``splits``, ``joins``), from which lowering derives the
channel rule.

The resolver checks calls against these entries (so no keyword is accepted and then ignored),
inference runs the shape rules, lowering the channel rules, and each printer has one rendering
per entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archdsl.errors import Span, error
from archdsl.layers.registry import Arranged
from archdsl.syntax import ast

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Applied:
    """A combinator call as inference sees it: the input, each branch's output, the shortcut's
    output (residual) and the keyword values."""

    call: ast.Call
    shape: Shape
    outs: list[Shape]
    shortcut: Shape | None
    values: dict[str, Any]


@dataclass(frozen=True)
class Combinator:
    name: str
    doc: str
    example: str
    min_branches: int
    max_branches: int | None
    shape: Callable[[Applied], Shape]
    flow_keywords: frozenset[str] = frozenset()  # keywords whose values are flows
    value_keywords: dict[str, Callable[[Any, Shape, Span], Any]] = field(default_factory=dict)
    arch_only: bool = False
    # The branches read consecutive equal parts of the input along `dim` (branch i part i),
    # instead of the whole input each.
    splits: bool = False
    # The branches' outputs are concatenated along `dim` (torch's numbering, 1 the channels).
    joins: bool = False


def _fmt(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _residual(a: Applied) -> Shape:
    out = a.outs[0]
    ident = a.shortcut if a.shortcut is not None else a.shape
    if out != ident:
        raise error(
            "E0402",
            "residual branch and shortcut have different shapes",
            a.call.func_span,
            f"branch gives {_fmt(out)}, shortcut gives {_fmt(ident)}",
            help="add a `shortcut=` member that projects the input to the branch's shape",
        )
    return out


def _add(a: Applied) -> Shape:
    for arg, o in zip(a.call.args[1:], a.outs[1:], strict=True):
        if o != a.outs[0]:
            raise error(
                "E0402",
                "`add` branches have different shapes",
                arg.span,
                f"gives {_fmt(o)}, the first branch gives {_fmt(a.outs[0])}",
            )
    return a.outs[0]


def concat_axis(dim: Any, shape: Shape, span: Span, what: str = "concat") -> int:
    """``dim`` as torch counts it (batch is 0, channels 1), checked against the input rank."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise error("E0414", f"`{what}` needs an integer `dim`", span, f"got {dim!r}")
    rank = len(shape) + 1
    if not -rank < dim < rank or dim % rank == 0:
        verb = "split" if what == "chunk" else "join"
        raise error(
            "E0414",
            f"`{what}` cannot {verb} along dim {dim} of a {rank}-d tensor",
            span,
            "out of range" if not -rank < dim < rank else "dim 0 is the batch",
            help=f"use a dim from 1 to {rank - 1} (1 is the channels)",
        )
    return dim % rank


def _chunk_axis(dim: Any, shape: Shape, span: Span) -> int:
    return concat_axis(dim, shape, span, "chunk")


def split_part(call: ast.Call, shape: Shape, dim: int) -> Shape:
    """The part of ``shape`` each branch of a splitting combinator reads: ``dim`` (torch's
    numbering) divided by the number of branches, which must divide it."""
    n, axis = len(call.args), dim - 1
    if shape[axis] % n:
        where = "channels" if axis == 0 else f"positions along dim {dim}"
        raise error(
            "E0415",
            f"`{call.func}` cannot split {shape[axis]} {where} into {n} equal parts",
            call.func_span,
            f"input is {_fmt(shape)}, {n} branches",
            help=f"give its input a multiple of {n} {where}, or as many branches as divide "
            f"{shape[axis]}",
        )
    part = list(shape)
    part[axis] //= n
    return tuple(part)


def _concat(a: Applied) -> Shape:
    axis = a.values.get("dim", 1) - 1  # position in the shape, batch excluded
    first = a.outs[0]
    where = "the channels" if axis == 0 else f"dim {axis + 1}"
    for arg, o in zip(a.call.args, a.outs, strict=True):
        if len(o) != len(first) or any(
            x != y for i, (x, y) in enumerate(zip(o, first, strict=True)) if i != axis
        ):
            raise error(
                "E0407",
                f"`{a.call.func}` branches differ in size",
                arg.span,
                f"gives {_fmt(o)}, the first branch gives {_fmt(first)}",
                help=f"branches are joined along {where}; their other sizes must match",
            )
    out = list(first)
    out[axis] = sum(o[axis] for o in a.outs)
    orders = {getattr(o, "order", None) for o in a.outs}
    if len(orders) == 1 and None not in orders:  # permuted alike: still so (Swin's merging)
        return Arranged(tuple(out), first.order)  # type: ignore[attr-defined]
    return tuple(out)


def _multiply(a: Applied) -> Shape:
    scale, shape = a.outs[0], a.shape
    if scale != shape and scale != (shape[0],) + (1,) * (len(shape) - 1):
        raise error(
            "E0402",
            "`multiply` branch cannot scale its input",
            a.call.args[0].span,
            f"gives {_fmt(scale)} for an input of {_fmt(shape)}",
            help="the branch must keep the channels and give one value per channel or element",
        )
    return shape


COMBINATORS: dict[str, Combinator] = {
    c.name: c
    for c in (
        Combinator(
            "residual",
            "the branch's output plus the input (or the `shortcut` flow's output)",
            "residual(conv1 -> bn1, shortcut=downsample)",
            1,
            1,
            _residual,
            flow_keywords=frozenset({"shortcut"}),
        ),
        Combinator("add", "the sum of the branches' outputs", "add(a, b)", 1, None, _add),
        Combinator(
            "concat",
            "the branches' outputs joined along `dim` (torch's numbering: 1 is the channels)",
            "concat(branch1, branch2, dim=1)",
            1,
            None,
            _concat,
            value_keywords={"dim": concat_axis},
            joins=True,
        ),
        Combinator(
            "chunk",
            "the input split along `dim` into as many equal parts as there are branches, branch "
            "i applied to part i, the results joined along `dim` (`identity()` keeps a part)",
            "chunk(identity(), conv -> bn -> relu(), dim=1)",
            2,
            None,
            _concat,
            value_keywords={"dim": _chunk_axis},
            splits=True,
            joins=True,
        ),
        Combinator(
            "multiply",
            "the input scaled by the branch's output, broadcast over the spatial dimensions",
            "multiply(avgpool -> fc1 -> relu() -> fc2 -> sigmoid())",
            1,
            1,
            _multiply,
        ),
        Combinator(
            "aux",
            "a training-mode auxiliary output; the flow continues with the input",
            "aux(aux1)",
            1,
            1,
            lambda a: a.shape,
            arch_only=True,
        ),
        Combinator(
            "head",
            "the classifier head the arch's forward ends with: left out of the features "
            "(`forward_features` in torch, `include_top=False` in Keras); its last member is the "
            "classifier, whose last layer gives `num_classes` scores",
            "head(avgpool -> flatten() -> fc)",
            1,
            1,
            lambda a: a.outs[0],
            arch_only=True,
        ),
        Combinator(
            "feature",
            "marks a step of the arch's forward as a feature stage (timm's `features_only`): "
            "its output is one of `forward_stages` in torch and of the outputs of "
            "`features_only=True` in Keras; a loop group marks each of its members",
            "feature(layer1)",
            1,
            1,
            lambda a: a.outs[0],
            arch_only=True,
        ),
    )
}


def get_combinator(name: str) -> Combinator | None:
    return COMBINATORS.get(name)
