"""Learnable tensors that are not layers: a class token, a position embedding, a layer scale.

A ``tensor`` member is torch's ``nn.Parameter`` on its module (state_dict key: the member's name
itself). Forward reads it as a value in a combinator: ``multiply(layer_scale)``,
``add(identity(), pos_embedding)``, ``concat(class_token, identity(), dim=1)``. Its shape is
torch's; against an input of rank k (batch excluded) it reads as a value of that rank: the shape
itself when it has k dimensions, or the shape without a leading 1 (the batch, broadcast) when it
has k + 1.
"""

from __future__ import annotations

import math

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register
from archdsl.records import field


class TensorArgs(LayerArgs):
    shape: tuple[int, ...] = field(min_length=1, max_length=8)
    value: float = 0.0  # every element's initial value (`init` rules may draw it instead)


def broadcast_view(shape: tuple[int, ...], s: Shape) -> Shape:
    """The tensor as a value beside an input of shape ``s`` (batch excluded)."""
    if len(shape) == len(s) + 1 and shape[0] == 1:
        return shape[1:]
    if len(shape) == len(s):
        return shape
    raise ShapeError(
        f"a tensor of shape {list(shape)} cannot meet an input of {len(s)} dimensions",
        "shape",
        help=f"give it {len(s)} dimensions, or {len(s) + 1} with a leading 1 for the batch",
    )


def _count(a: TensorArgs, s: Shape) -> tuple[int, int]:
    for d in a.shape:
        if d < 1:
            raise ShapeError(f"a tensor's dimensions are positive, got {list(a.shape)}", "shape")
    return math.prod(a.shape), 0


register(
    LayerType(
        name="tensor",
        tensors=(("value", "value"),),
        schema=TensorArgs,
        shape=lambda a, s: broadcast_view(a.shape, s),
        count=_count,
        doc="a learnable tensor of torch's `shape`, every element `value` at first (a class "
        "token, a position embedding, a layer scale); forward reads it in a combinator: "
        "`multiply(layer_scale)`",
        example="tensor([8, 1, 1], value=1e-6)",
        ranks=None,
        torch_class="Parameter",
        # no row of its own: a parameter of its owner, whose row torchinfo counts as a
        # container's (not in the totals)
        macs=lambda a, s, out: 0,
        axes="value",
    )
)
