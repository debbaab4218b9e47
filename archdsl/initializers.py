"""Weight initialisation: the functions an arch's `init` rules call, one entry each.

``init conv2d.weight = kaiming_normal(mode="fan_out", nonlinearity="relu")`` re-initialises a
tensor of every selected layer once the model is built, as torchvision's constructors do in their
``for m in self.modules()`` loops. Each function here is ``torch.nn.init``'s of the same name
(arguments in its order, with its defaults); its distribution is fixed by its arguments and the
layer's fans, so every backend draws from the same one. Without a rule, a tensor starts as torch's
layers start (``default``): weights kaiming-uniform with ``a = sqrt(5)``, biases uniform in
``+-1 / sqrt(fan_in)``, norms' scale 1 and shift 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

Value = float | str
_T = TypeVar("_T")

# torch.nn.init.calculate_gain's nonlinearities (`a` is leaky ReLU's negative slope)
NONLINEARITIES = ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
MODES = ("fan_in", "fan_out")


@dataclass(frozen=True)
class InitParam:
    name: str
    default: Value | None  # None: required
    choices: tuple[str, ...] = ()  # a string argument's values; empty: a number
    positive: bool = False


@dataclass(frozen=True)
class InitFunction:
    name: str
    params: tuple[InitParam, ...]
    doc: str
    torch: str  # the torch.nn.init function


_KAIMING = (
    InitParam("a", 0.0),
    InitParam("mode", "fan_in", MODES),
    InitParam("nonlinearity", "leaky_relu", NONLINEARITIES),
)

FUNCTIONS: dict[str, InitFunction] = {
    f.name: f
    for f in (
        InitFunction("zeros", (), "every element 0", "zeros_"),
        InitFunction("ones", (), "every element 1", "ones_"),
        InitFunction("constant", (InitParam("value", None),), "every element `value`", "constant_"),
        InitFunction(
            "normal",
            (InitParam("mean", 0.0), InitParam("std", 1.0, positive=True)),
            "normal with `mean` and `std`",
            "normal_",
        ),
        InitFunction(
            "uniform", (InitParam("a", 0.0), InitParam("b", 1.0)), "uniform in [a, b)", "uniform_"
        ),
        InitFunction(
            "trunc_normal",
            (
                InitParam("mean", 0.0),
                InitParam("std", 1.0, positive=True),
                InitParam("a", -2.0),
                InitParam("b", 2.0),
            ),
            "normal with `mean` and `std`, redrawn outside [a, b]",
            "trunc_normal_",
        ),
        InitFunction(
            "kaiming_normal",
            _KAIMING,
            "normal, std = gain / sqrt(fan) (He et al., 2015)",
            "kaiming_normal_",
        ),
        InitFunction(
            "kaiming_uniform",
            _KAIMING,
            "uniform in +-gain * sqrt(3 / fan)",
            "kaiming_uniform_",
        ),
        InitFunction(
            "xavier_uniform",
            (InitParam("gain", 1.0, positive=True),),
            "uniform in +-gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)",
            "xavier_uniform_",
        ),
        InitFunction(
            "xavier_normal",
            (InitParam("gain", 1.0, positive=True),),
            "normal, std = gain * sqrt(2 / (fan_in + fan_out))",
            "xavier_normal_",
        ),
    )
}


def gain(nonlinearity: str, a: float) -> float:
    """torch.nn.init.calculate_gain."""
    if nonlinearity in ("linear", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + a**2))
    return 3.0 / 4  # selu


def bind(fn: InitFunction, args: list[Value], kwargs: dict[str, Value]) -> dict[str, Value]:
    """Every argument of ``fn`` by name, defaults filled in; ValueError says what is wrong."""
    names = [p.name for p in fn.params]
    if len(args) > len(names):
        raise ValueError(f"`{fn.name}` takes {len(names)} arguments, {len(args)} given")
    out: dict[str, Value] = dict(zip(names, args, strict=False))
    for k, v in kwargs.items():
        if k not in names:
            raise ValueError(f"`{fn.name}` has no argument `{k}`")
        if k in out:
            raise ValueError(f"`{fn.name}` got `{k}` twice")
        out[k] = v
    for p in fn.params:
        if p.name not in out:
            if p.default is None:
                raise ValueError(f"`{fn.name}` needs `{p.name}`")
            out[p.name] = p.default
        v = out[p.name]
        if p.choices:
            if v not in p.choices:
                raise ValueError(f"`{p.name}` is one of {', '.join(map(repr, p.choices))}")
        elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"`{p.name}` is a finite number")
        else:
            out[p.name] = float(v)
            if p.positive and v <= 0:
                raise ValueError(f"`{p.name}` must be positive")
    if fn.name in ("uniform", "trunc_normal") and not out["a"] < out["b"]:  # type: ignore[operator]
        raise ValueError(f"`{fn.name}` needs a < b")
    return {n: out[n] for n in names}


def non_default(fn: InitFunction, args: Mapping[str, _T]) -> dict[str, _T]:
    """The arguments that differ from the function's defaults (a required one always does, and
    so does one that is not a value: an expression the generated code computes)."""
    return {p.name: args[p.name] for p in fn.params if args[p.name] != p.default}
