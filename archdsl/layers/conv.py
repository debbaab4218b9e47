"""Convolutions."""

from __future__ import annotations

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register
from archdsl.layers.spatial import pair, size, window_out
from archdsl.records import field


class Conv2dArgs(LayerArgs):
    # kernel, stride, padding and dilation: an int for both dimensions or [height, width]
    out: int = field(ge=1, le=1_000_000)
    kernel: size(1, 1024) = 1  # type: ignore[valid-type]
    stride: size(1, 1024) = 1  # type: ignore[valid-type]
    padding: size(0, 1024) = 0  # type: ignore[valid-type]
    dilation: size(1, 1024) = 1  # type: ignore[valid-type]
    groups: int = field(default=1, ge=1)
    bias: bool = True


def _conv_shape(a: Conv2dArgs, s: Shape) -> Shape:
    c, h, w = s
    if c % a.groups:
        raise ShapeError(f"`groups={a.groups}` does not divide the {c} input channels", "groups")
    if a.out % a.groups:
        raise ShapeError(
            f"`groups={a.groups}` does not divide the {a.out} output channels", "groups"
        )
    out = [a.out]
    for n, dim in enumerate((h, w)):
        extent = pair(a.dilation)[n] * (pair(a.kernel)[n] - 1) + 1
        out.append(window_out(dim, extent, pair(a.stride)[n], pair(a.padding)[n], "kernel"))
    return tuple(out)


def _conv_count(a: Conv2dArgs, s: Shape) -> tuple[int, int]:
    kh, kw = pair(a.kernel)
    return a.out * (s[0] // a.groups) * kh * kw + (a.out if a.bias else 0), 0


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
        doc="2-D convolution over [C, H, W]; `groups` equal to the channels makes it depthwise; "
        "`kernel`, `stride`, `padding` and `dilation` take an int or `[height, width]`",
        example="conv2d(64, kernel=3, stride=1, padding=1, bias=false)",
        torch_class="Conv2d",
        macs=_conv_macs,
        kernel_size=lambda a: list(pair(a.kernel)),
        sizes=("kernel", "stride", "padding", "dilation"),
    )
)
