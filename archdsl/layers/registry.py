"""One definition per layer type.

A ``LayerType`` carries the spec-visible name, a schema for its arguments (a record whose
positional arguments bind in field order, validated as ``archdsl.validation`` derives), a shape
rule, a count rule (trainable parameters and batch-norm statistics apart), the out-channel rule
used to write channel expressions into generated code, and the names of its torch and keras
template macros (``templates/<backend>/layers.j2``), and the static rules of ``archdsl
summary``: the torch class the layer becomes (torchinfo's row name), its kernel size as
torchinfo reads it, and its multiply-accumulates per sample as torchinfo 1.8 counts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archdsl.records import Record
from archdsl.syntax import ast

Shape = tuple[int, ...]


class LayerArgs(Record):
    """A layer's arguments, bound by ``archdsl.layers.binding``; validated in pydantic's strict
    mode (a bool is not an int, a float not an int, a list not a size)."""

    validation_config = {"strict": True}


class Arranged(tuple[int, ...]):
    """The shape of a [C, H, W] tensor whose dimensions a `permute` reordered: ``order[i]`` is
    the [C, H, W] dimension at position i ((1, 2, 0): [H, W, C], channels last). Inference
    carries it through the layers that keep the positions (element-wise, last-dimension), so
    that a layer reading the last dimension can tell channels from a width."""

    order: tuple[int, ...]

    def __new__(cls, dims: tuple[int, ...], order: tuple[int, ...]) -> Arranged:
        out = super().__new__(cls, dims)
        out.order = order
        return out


class Carried(tuple[int, ...]):
    """A shape whose block-input channels (what the generated code's channel expressions
    count) a rearrangement left away from where layers read channels: at ``chan``, or gone
    (None: split or selected). [C, H, W] flattened from dim 2 is [C, H * W], read by a linear
    layer as H * W features while its C channels are dim 0. Equal to the plain tuple."""

    chan: int | None

    def __new__(cls, dims: tuple[int, ...], chan: int | None) -> Carried:
        out = super().__new__(cls, dims)
        out.chan = chan
        return out


def carried(shape: Shape) -> int | None:
    """Where ``shape`` holds its block-input channels (None: no longer one dimension)."""
    if isinstance(shape, Carried):
        return shape.chan
    return channel_axis(shape)


def channels_at(dims: tuple[int, ...], chan: int | None) -> Shape:
    """``dims`` holding their block-input channels at ``chan``: a [C, H, W]-ranked tensor
    whose channels moved is read with them there (a permuted map), any other shape where
    its rank says, tagged where the two differ."""
    if len(dims) == 3 and chan in (1, 2):
        rest = iter((1, 2))
        return Arranged(dims, tuple(0 if i == chan else next(rest) for i in range(3)))
    plain = tuple(dims)
    return plain if chan == channel_axis(plain) else Carried(plain, chan)


def channel_axis(shape: Shape) -> int:
    """Where a shape holds what layers read as its channels (a block's `in_channels`): a
    [C, H, W] tensor's first wherever a permute moved it, the last of any other rank (the
    features of [F], of each token of [L, D])."""
    if isinstance(shape, Arranged):
        return shape.order.index(0)
    return 0 if len(shape) == 3 else len(shape) - 1


def channels_last(shape: Shape) -> bool:
    """Whether a [C, H, W]-ranked shape holds its channels last (a `permute` put them there)."""
    return isinstance(shape, Arranged) and shape.order[-1] == 0


class ShapeError(Exception):
    """Raised by a shape rule; ``arg`` names the argument to point at, if any."""

    def __init__(self, message: str, arg: str | None = None, help: str | None = None) -> None:
        super().__init__(message)
        self.arg = arg
        self.help = help


@dataclass(frozen=True)
class InnerCall:
    """A module inside a layer's torch module that its forward calls: a row of its own in
    torchinfo. On a tensor of its own, not the batch (Swin V2's position bias MLP on its
    coordinate table), its mult-adds counted once per forward; with ``batched``, on the
    batch's values (MaxViT attention's projections), its sizes without the batch.
    ``depth``: below the layer's row."""

    name: str
    torch_class: str
    depth: int
    input_size: tuple[int, ...]  # batch-first, as torchinfo prints them (unless batched)
    output_size: tuple[int, ...]
    params: int
    leaf: bool = True
    batched: bool = False


@dataclass(frozen=True)
class LayerType:
    name: str
    schema: type[LayerArgs]
    shape: Callable[[Any, Shape], Shape]
    count: Callable[[Any, Shape], tuple[int, int]]
    doc: str
    example: str
    ranks: tuple[int, ...] | None = (3,)  # accepted input ranks (batch excluded); None: any
    channels: Callable[[dict[str, ast.Expr], ast.Expr], ast.Expr] | None = None
    functional: bool = False  # usable inline in a forward flow (it has no parameters)
    flattens: bool = False  # output features are channels x height x width
    helpers: tuple[str, ...] = ()  # helper definitions the generated module needs
    fn_helpers: tuple[str, ...] = ()  # those its inline form in forward needs (torch)
    # The generated torch module's class name (what torchinfo shows in its rows).
    torch_class: str = ""
    # Multiply-accumulates for one sample, as torchinfo 1.8 counts them, from the arguments and
    # the input and output shapes (batch excluded); None: the layer has no parameters (0).
    macs: Callable[[Any, Shape, Shape], int] | None = None
    # Whether torchinfo takes the torch module for a leaf: nn.MultiheadAttention has a child
    # (out_proj) and is counted as a container (its mult-adds and outputs not in the totals).
    torch_leaf: bool = True
    # The modules its torch module calls on tensors of their own (``InnerCall``), from the
    # arguments and the input shape.
    inner_calls: Callable[[Any, Shape], tuple[InnerCall, ...]] | None = None
    # The module's ``kernel_size`` attribute in the generated torch code, if it has one.
    kernel_size: Callable[[Any], int | list[int]] | None = None
    # The parameter tensors `init` rules may set, each with its initial value when no rule
    # does (torch's): "torch_weight" (kaiming-uniform, a = sqrt(5)), "torch_bias" (uniform in
    # +-1 / sqrt(fan_in); "torch_bias:2" with fan_in 2), "ones", "zeros", "xavier_uniform",
    # "trunc_normal:<std>" or "constant:<value>". A tensor named like a bool argument (`bias`)
    # exists only where that argument is true.
    tensors: tuple[tuple[str, str], ...] = ()
    # Tensors named like a bool argument that exist whatever its value (Swin V2's position
    # bias MLP has its `cpb_mlp.0.bias` with `bias=false` too).
    unflagged: tuple[str, ...] = ()
    # Size arguments: an int for both spatial dimensions or a list [height, width], which the
    # printers spell as a tuple.
    sizes: tuple[str, ...] = ()
    # The dimensions the layer reads, which decides how a backend that holds tensors in
    # another layout (Keras: channels last) must arrange its input: "channels" a [C, H, W]
    # layer's channels and positions, "last" the last dimension (a linear layer over
    # [..., F]), "any" every element alike, "order" the elements in torch's order (flatten),
    # "permute" the layer only reorders dimensions, "select" and "slice" the layer takes
    # from one dimension, "split" it splits one dimension into several (unflatten), "torch"
    # every dimension in torch's order (window attention over [H, W, C]), "value" a learnable
    # tensor (its use is its value, whatever the input).
    axes: str = "channels"
    # Arguments that name dimensions (a permutation, a flatten's range): one constant in every
    # instance (E0241), so that a printer holding tensors in another layout can map them.
    dim_args: tuple[str, ...] = ()
    # How torch applies the module to `x` where it is not a plain call, as a format string
    # (`{m}` the module, `{x}` the input): attention reads its input three times. Such a layer
    # is a named member applied in forward, not an item of a sequence.
    torch_call: str | None = None

    def flag_of(self, tensor: str) -> str | None:
        """The bool argument that decides whether ``tensor`` exists (`bias` for `bias` and
        `qkv.bias`), if one does."""
        name = tensor.rsplit(".", 1)[-1]
        if tensor in self.unflagged or self.schema._annotations.get(name) not in ("bool", bool):
            return None
        return name

    @property
    def has_weights(self) -> bool:
        return self.functional is False and self.name not in _WEIGHTLESS

    def out_channels(self, args: dict[str, ast.Expr], in_channels: ast.Expr) -> ast.Expr:
        return self.channels(args, in_channels) if self.channels else in_channels


_WEIGHTLESS: set[str] = set()
REGISTRY: dict[str, LayerType] = {}


def register(layer: LayerType, *, weightless: bool = False) -> LayerType:
    if layer.name in REGISTRY:
        raise ValueError(f"layer {layer.name!r} registered twice")
    REGISTRY[layer.name] = layer
    if weightless:
        _WEIGHTLESS.add(layer.name)
    return layer


def get_layer(name: str) -> LayerType | None:
    _load_families()
    return REGISTRY.get(name)


def all_layers() -> dict[str, LayerType]:
    _load_families()
    return REGISTRY


def _load_families() -> None:
    if not REGISTRY:
        from archdsl.layers import (  # noqa: F401
            activation,
            channels,
            conv,
            linear,
            norm,
            pool,
            tensor,
            window,
        )
