"""Pooling."""

from __future__ import annotations

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register
from archdsl.layers.spatial import window_out
from archdsl.records import field


class PoolArgs(LayerArgs):
    kernel: int = field(ge=1, le=1024)
    stride: int | None = field(default=None, ge=1, le=1024)
    padding: int = field(default=0, ge=0, le=512)


class MaxPoolArgs(PoolArgs):
    ceil_mode: bool = False


class AdaptivePoolArgs(LayerArgs):
    output: int = field(default=1, ge=1, le=1024)


def _pool_shape(a: PoolArgs, s: Shape) -> Shape:
    if 2 * a.padding > a.kernel:
        raise ShapeError(
            f"padding {a.padding} is more than half the kernel size {a.kernel}", "padding"
        )
    c, h, w = s
    stride = a.stride or a.kernel
    ceil = getattr(a, "ceil_mode", False)
    return (
        c,
        window_out(h, a.kernel, stride, a.padding, "pooling window", ceil),
        window_out(w, a.kernel, stride, a.padding, "pooling window", ceil),
    )


def _adaptive_shape(a: AdaptivePoolArgs, s: Shape) -> Shape:
    # windows [floor(i * n / out), ceil((i + 1) * n / out)), as torch computes them
    return (s[0], a.output, a.output)


register(
    LayerType(
        name="maxpool2d",
        schema=MaxPoolArgs,
        shape=_pool_shape,
        count=lambda a, s: (0, 0),
        doc="max pooling over [C, H, W]; padding counts as -infinity; `ceil_mode` rounds the "
        "output size up",
        example="maxpool2d(3, stride=2, padding=1, ceil_mode=false)",
        torch_class="MaxPool2d",
        kernel_size=lambda a: a.kernel,
        functional=True,
    ),
    weightless=True,
)
register(
    LayerType(
        name="avgpool2d",
        schema=PoolArgs,
        shape=_pool_shape,
        count=lambda a, s: (0, 0),
        doc="average pooling over [C, H, W]; zero padding counts in the average "
        "(torch's `count_include_pad=True`)",
        example="avgpool2d(3, stride=2, padding=1)",
        torch_class="AvgPool2d",
        kernel_size=lambda a: a.kernel,
        functional=True,
    ),
    weightless=True,
)

register(
    LayerType(
        name="adaptive_avgpool2d",
        schema=AdaptivePoolArgs,
        shape=_adaptive_shape,
        count=lambda a, s: (0, 0),
        doc="average pooling to a fixed `output` x `output` size, with torch's windows",
        example="adaptive_avgpool2d(1)",
        torch_class="AdaptiveAvgPool2d",
        functional=True,
    ),
    weightless=True,
)
