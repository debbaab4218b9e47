"""Flatten and fully connected layers."""

from __future__ import annotations

import math

from pydantic import Field

from archdsl.layers.registry import LayerArgs, LayerType, register


class NoArgs(LayerArgs):
    pass


class LinearArgs(LayerArgs):
    out: int = Field(ge=1, le=10_000_000)
    bias: bool = True


register(
    LayerType(
        name="flatten",
        schema=NoArgs,
        shape=lambda a, s: (math.prod(s),),
        count=lambda a, s: (0, 0),
        doc="flattens [C, H, W] to [C * H * W] in channels-first order",
        example="flatten()",
        channels=None,
        functional=True,
        flattens=True,
        torch_class="Flatten",
        axes="order",
    ),
    weightless=True,
)

register(
    LayerType(
        name="linear",
        tensors=(("weight", "torch_weight"), ("bias", "torch_bias")),
        schema=LinearArgs,
        shape=lambda a, s: (*s[:-1], a.out),
        count=lambda a, s: (s[-1] * a.out + (a.out if a.bias else 0), 0),
        doc="fully connected layer over the last dimension: [F], or each position of [..., F]",
        example="linear(1000, bias=true)",
        ranks=None,
        channels=lambda args, c: args["out"],
        torch_class="Linear",
        # torchinfo: every parameter once per sample, whatever the positions
        macs=lambda a, s, out: s[-1] * a.out + (a.out if a.bias else 0),
        axes="last",
    )
)
