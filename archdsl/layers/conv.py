"""Convolutions."""

from __future__ import annotations

from pydantic import Field

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register
from archdsl.layers.spatial import window_out


class Conv2dArgs(LayerArgs):
    out: int = Field(ge=1, le=1_000_000)
    kernel: int = Field(default=1, ge=1, le=1024)
    stride: int = Field(default=1, ge=1, le=1024)
    padding: int = Field(default=0, ge=0, le=1024)
    dilation: int = Field(default=1, ge=1, le=1024)
    groups: int = Field(default=1, ge=1)
    bias: bool = True


def _conv_shape(a: Conv2dArgs, s: Shape) -> Shape:
    c, h, w = s
    if c % a.groups:
        raise ShapeError(f"`groups={a.groups}` does not divide the {c} input channels", "groups")
    if a.out % a.groups:
        raise ShapeError(
            f"`groups={a.groups}` does not divide the {a.out} output channels", "groups"
        )
    extent = a.dilation * (a.kernel - 1) + 1
    return (
        a.out,
        window_out(h, extent, a.stride, a.padding, "kernel"),
        window_out(w, extent, a.stride, a.padding, "kernel"),
    )


def _conv_count(a: Conv2dArgs, s: Shape) -> tuple[int, int]:
    return a.out * (s[0] // a.groups) * a.kernel * a.kernel + (a.out if a.bias else 0), 0


def _conv_macs(a: Conv2dArgs, s: Shape, out: Shape) -> int:
    # torchinfo: every weight and bias element once per output position (channels excluded)
    weights, _ = _conv_count(a, s)
    return weights * out[1] * out[2]


register(
    LayerType(
        name="conv2d",
        tensors=(("weight", "torch_weight"), ("bias", "torch_bias")),
        schema=Conv2dArgs,
        shape=_conv_shape,
        count=_conv_count,
        channels=lambda args, c: args["out"],
        doc="2-D convolution over [C, H, W]; `groups` equal to the channels makes it depthwise",
        example="conv2d(64, kernel=3, stride=1, padding=1, bias=false)",
        torch_class="Conv2d",
        macs=_conv_macs,
        kernel_size=lambda a: [a.kernel, a.kernel],
    )
)
