"""Element-wise activations and dropout: no parameters, shape unchanged."""

from __future__ import annotations

from typing import Literal

from archdsl.layers.registry import LayerArgs, LayerType, register
from archdsl.records import field


class NoArgs(LayerArgs):
    pass


class DropoutArgs(LayerArgs):
    p: float = field(default=0.5, ge=0, lt=1)


_ACTIVATIONS = {
    "relu": ("rectified linear unit, max(x, 0)", "ReLU"),
    "relu6": ("min(max(x, 0), 6), as in MobileNetV2", "ReLU6"),
    "sigmoid": ("logistic sigmoid", "Sigmoid"),
    "tanh": ("hyperbolic tangent", "Tanh"),
    "silu": ("x * sigmoid(x) (swish)", "SiLU"),
    "hardswish": ("x * relu6(x + 3) / 6", "Hardswish"),
    "hardsigmoid": ("relu6(x + 3) / 6", "Hardsigmoid"),
}

for _name, (_doc, _class) in _ACTIVATIONS.items():
    register(
        LayerType(
            name=_name,
            schema=NoArgs,
            shape=lambda a, s: s,
            count=lambda a, s: (0, 0),
            doc=_doc,
            example=f"{_name}()",
            ranks=None,
            functional=True,
            torch_class=_class,
            axes="any",
        ),
        weightless=True,
    )


class GeluArgs(LayerArgs):
    approximate: Literal["none", "tanh"] = "none"


register(
    LayerType(
        name="gelu",
        schema=GeluArgs,
        shape=lambda a, s: s,
        count=lambda a, s: (0, 0),
        doc='Gaussian error linear unit, x * Phi(x); `approximate="tanh"` its tanh approximation',
        example='gelu(approximate="none")',
        ranks=None,
        functional=True,
        torch_class="GELU",
        axes="any",
    ),
    weightless=True,
)

register(
    LayerType(
        name="dropout",
        schema=DropoutArgs,
        shape=lambda a, s: s,
        count=lambda a, s: (0, 0),
        doc="zeroes elements with probability `p` in training, identity in eval",
        example="dropout(0.2)",
        ranks=None,
        torch_class="Dropout",
        axes="any",
    ),
    weightless=True,
)

register(
    LayerType(
        name="identity",
        schema=NoArgs,
        shape=lambda a, s: s,
        count=lambda a, s: (0, 0),
        doc="passes its input through (inline in forward: the input itself, e.g. in `concat`)",
        example="identity()",
        ranks=None,
        torch_class="Identity",
        axes="any",
        functional=True,
    ),
    weightless=True,
)


register(
    LayerType(
        name="stochastic_depth",
        schema=DropoutArgs,
        shape=lambda a, s: s,
        count=lambda a, s: (0, 0),
        doc="drops a whole residual branch per sample with probability `p` in training, scaling "
        "the kept ones by 1 / (1 - p) (torchvision's StochasticDepth, row mode); identity in eval",
        example="stochastic_depth(0.2)",
        ranks=None,
        helpers=("stochastic_depth",),
        torch_class="StochasticDepth",
        axes="any",
    ),
    weightless=True,
)
