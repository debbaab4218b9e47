"""An arch's feature stages (timm's ``features_only``): the outputs a detection or
segmentation neck reads, each with its channels and reduction.

Without `feature(...)` marks in the forward, the stages follow one rule: the last step at each
reduction (the input's height over the step's output's, see ``reduction``) among the forward's
top-level steps before the head, where a step that applies a sequence (`sequential {...}`,
loop-generated items included) or a sequential block (one without its own forward: DenseNet's
`Features`) whose items change the reduction is read item by item (one level down). A loop
group's members are steps of their own (ResNet's `layer1` ... `layer4`). Inline layers and
combinators count as steps (DenseNet's final `relu()`), so the last stage is what
`forward_features` returns, unless that is a permute (Swin's channels-last maps back to
channels-first: the stage is the map before it); conditional steps (`a if c else b`) and
auxiliary taps do not.
With marks, the marked steps are the stages, in forward order. An arch with neither a head nor
marks has no stages: it is not marked as a backbone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from archdsl.errors import Span, error
from archdsl.ir import lowered as L
from archdsl.ir.instantiate import Instance, Model
from archdsl.layers.registry import Arranged, channel_axis

Shape = tuple[int, ...]


@dataclass(frozen=True)
class _Unit:
    """A step (or a group member, or an item inside one) whose output may be a stage."""

    step: int
    member: str | None
    item: int | None
    module: str
    layer: str
    shape: Shape


def reduction(input_shape: Shape, shape: Shape) -> int:
    """The input's height over the stage's: exact where it divides, else the nearest power of
    two (valid convolutions and ceil-mode pooling leave sizes such as 299 / 149; the strides
    multiply to a power of two in every shipped arch)."""
    full, part = input_shape[1], shape[_height_axis(shape)]
    if full % part == 0:
        return full // part
    return int(2 ** round(math.log2(full / part)))


def _height_axis(shape: Shape) -> int:
    """Where a [C, H, W]-ranked shape holds the height, wherever a permute moved it."""
    return shape.order.index(1) if isinstance(shape, Arranged) else 1


def feature_stages(
    forward: L.Flow,
    marked: dict[int, Span],
    model: Model,
    sequential: Callable[[str], bool],
) -> tuple[L.Stage, ...]:
    """The stages of the arch whose lowered forward is ``forward``. ``marked``: the top-level
    steps marked with `feature(...)` (step index -> the mark's span); ``sequential``: whether a
    block applies its members in order (an nn.Sequential in torch, so its items can be read
    one by one)."""
    steps = forward.steps if isinstance(forward, L.Pipe) else (forward,)
    if not marked and not isinstance(steps[-1], L.Head):
        return ()  # not marked as a backbone: no classifier head, no stage marks
    units: list[_Unit] = []
    for i, step in enumerate(steps):
        if isinstance(step, L.Head):
            break
        shape = model.step_shapes[i]
        if isinstance(step, L.UseMember):
            inst = model.root.children.get(step.member)
            if inst is None:  # an optional member this configuration leaves out
                continue
            unit = _Unit(i, step.member, None, inst.path, step.label, shape)
            if i in marked:
                units.append(unit)
            else:
                units += _items(unit, inst, step.optional, sequential, model.input_shape)
        elif isinstance(step, L.UseGroup):
            for name in step.members:
                inst = model.root.children.get(name)
                if inst is None:
                    continue
                unit = _Unit(i, name, None, inst.path, name, inst.out_shapes[-1])
                if i in marked:
                    units.append(unit)
                else:
                    units += _items(unit, inst, False, sequential, model.input_shape)
        elif isinstance(step, L.Operation | L.Combine):
            units.append(_Unit(i, None, None, step.label, step.label, shape))
    spatial = len(model.input_shape)
    if marked:
        chosen = [u for u in units if u.step in marked]
        for u in chosen:
            if spatial < 2 or len(u.shape) != spatial:
                raise error(
                    "E0237",
                    "a feature stage must be a feature map",
                    marked[u.step],
                    f"gives {list(u.shape)} for an input of {list(model.input_shape)}",
                    help="mark steps before the head's pooling and flattening",
                )
    elif spatial < 2:
        chosen = []
    else:
        last: dict[int, _Unit] = {}
        for u in units:
            # a permute moves the values it is given, no more: its input is the stage
            if len(u.shape) == spatial and u.layer != "permute":
                r = reduction(model.input_shape, u.shape)
                last.pop(r, None)  # re-inserted: the dict keeps the stages' order
                last[r] = u
        chosen = list(last.values())
    return tuple(
        L.Stage(
            step=u.step,
            member=u.member,
            item=u.item,
            module=u.module,
            layer=u.layer,
            channels=u.shape[channel_axis(u.shape)],
            reduction=reduction(model.input_shape, u.shape),
        )
        for u in chosen
    )


def _items(
    unit: _Unit,
    inst: Instance,
    optional: bool,
    sequential: Callable[[str], bool],
    input_shape: Shape,
) -> list[_Unit]:
    """``unit`` itself, or, when it applies a sequence whose items change the reduction, its
    items (one level down)."""
    ordered = inst.kind == "sequential" or (inst.kind == "block" and sequential(inst.type))
    items = list(inst.children.items())
    if optional or not ordered or not items:
        return [unit]
    shapes = [child.out_shapes[-1] for _, child in items]
    if any(len(s) != len(input_shape) for s in shapes) or len(input_shape) < 2:
        return [unit]
    if len({reduction(input_shape, s) for s in shapes}) < 2:
        return [unit]
    return [
        _Unit(
            unit.step,
            unit.member,
            position,
            child.path,
            f"{unit.layer}.{key}",
            child.out_shapes[-1],
        )
        for position, (key, child) in enumerate(items)
    ]
