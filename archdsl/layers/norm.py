"""Normalisation."""

from __future__ import annotations

from archdsl.layers.registry import LayerArgs, LayerType, Shape, register
from archdsl.records import field


class BatchNormArgs(LayerArgs):
    eps: float = field(default=1e-5, gt=0, lt=1)
    momentum: float = field(default=0.1, ge=0, le=1)  # torch takes 0 and 1 as they are


def _bn_count(a: BatchNormArgs, s: Shape) -> tuple[int, int]:
    return 2 * s[0], 2 * s[0]


register(
    LayerType(
        name="batchnorm2d",
        tensors=(("weight", "ones"), ("bias", "zeros")),
        schema=BatchNormArgs,
        shape=lambda a, s: s,
        count=_bn_count,
        doc="batch normalisation over the channels of [C, H, W] (statistics counted apart)",
        example="batchnorm2d(eps=1e-5, momentum=0.1)",
        torch_class="BatchNorm2d",
        # torchinfo: every affine parameter once per sample
        macs=lambda a, s, out: 2 * s[0],
    )
)


class LayerNormArgs(LayerArgs):
    eps: float = field(default=1e-5, gt=0, lt=1)
    bias: bool = True


def _ln_count(a: LayerNormArgs, features: int) -> tuple[int, int]:
    return features * (2 if a.bias else 1), 0


register(
    LayerType(
        name="layernorm",
        tensors=(("weight", "ones"), ("bias", "zeros")),
        schema=LayerNormArgs,
        shape=lambda a, s: s,
        count=lambda a, s: _ln_count(a, s[-1]),
        doc="layer normalisation over the last dimension: [F], or each position of [..., F] "
        "(a token of [L, D], a pixel of a channels-last [H, W, C])",
        example="layernorm(eps=1e-6)",
        ranks=None,
        channels=None,
        torch_class="LayerNorm",
        # torchinfo: every affine parameter once per sample
        macs=lambda a, s, out: _ln_count(a, s[-1])[0],
        axes="last",
    )
)

register(
    LayerType(
        name="layernorm2d",
        tensors=(("weight", "ones"), ("bias", "zeros")),
        schema=LayerNormArgs,
        shape=lambda a, s: s,
        count=lambda a, s: _ln_count(a, s[0]),
        doc="layer normalisation over the channels of [C, H, W] at each position "
        "(torchvision's LayerNorm2d, ConvNeXt's)",
        example="layernorm2d(eps=1e-6)",
        helpers=("layernorm2d",),
        torch_class="LayerNorm2d",
        macs=lambda a, s, out: _ln_count(a, s[0])[0],
    )
)
