"""Flatten and fully connected layers."""

from __future__ import annotations

import math

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register
from archdsl.layers.spatial import flatten_range, sliced
from archdsl.records import field


class NoArgs(LayerArgs):
    pass


class FlattenArgs(LayerArgs):
    # torch's numbering, the batch 0: the default flattens everything but the batch
    start: int = field(default=1, ge=1, le=8)
    end: int = field(default=-1, ge=-8, le=8)


def _flatten_shape(a: FlattenArgs, s: Shape) -> Shape:
    first, last = flatten_range(a.start, a.end, len(s))
    return (*s[:first], math.prod(s[first : last + 1]), *s[last + 1 :])


class UnflattenArgs(LayerArgs):
    dim: int = field(ge=1, le=8)  # torch's numbering, the batch 0
    # the sizes it becomes, one of them -1 at most: what the others leave
    sizes: tuple[int, ...] = field(min_length=1, max_length=8)


def _unflatten_shape(a: UnflattenArgs, s: Shape) -> Shape:
    _check_dim("unflatten", a.dim, s)
    size, sizes = s[a.dim - 1], list(a.sizes)
    if any(n < 1 and n != -1 for n in sizes) or sizes.count(-1) > 1:
        raise ShapeError(
            f"`unflatten` sizes are positive, with one -1 at most, got {sizes}",
            "sizes",
            help="-1 stands for the one size the others leave",
        )
    if len(s) + len(sizes) - 1 > 8:
        raise ShapeError("`unflatten` gives more than 8 dimensions", "sizes")
    known = math.prod(n for n in sizes if n != -1)
    if size % known or (-1 not in sizes and known != size):
        raise ShapeError(
            f"`unflatten` cannot split dim {a.dim} of size {size} into {sizes}",
            "sizes",
            help=f"the sizes multiply to the dim's {size}"
            if -1 not in sizes
            else f"-1 takes what the others leave: the size must be a multiple of {known}",
        )
    filled = tuple(size // known if n == -1 else n for n in sizes)
    return (*s[: a.dim - 1], *filled, *s[a.dim :])


class SelectArgs(LayerArgs):
    dim: int = field(ge=1, le=8)  # torch's numbering, the batch 0
    index: int = field(ge=-(2**31), le=2**31 - 1)


def _check_dim(layer: str, dim: int, s: Shape) -> None:
    if dim > len(s):
        raise ShapeError(
            f"`{layer}` has no dim {dim} in a {len(s) + 1}-d tensor",
            "dim",
            help=f"dims count as torch counts them, 1 to {len(s)} (0 is the batch)",
        )


def _select_shape(a: SelectArgs, s: Shape) -> Shape:
    _check_dim("select", a.dim, s)
    size = s[a.dim - 1]
    if not -size <= a.index < size:
        raise ShapeError(f"`select` index {a.index} is outside dim {a.dim} of size {size}", "index")
    return (*s[: a.dim - 1], *s[a.dim :])


class SliceArgs(LayerArgs):
    dim: int = field(ge=1, le=8)  # torch's numbering, the batch 0
    start: int = field(default=0, ge=-(2**31), le=2**31 - 1)
    end: int | None = field(default=None, ge=-(2**31), le=2**31 - 1)  # None: to the end
    step: int = field(default=1, ge=1, le=2**31 - 1)


def _slice_shape(a: SliceArgs, s: Shape) -> Shape:
    _check_dim("slice", a.dim, s)
    kept = sliced(a.start, a.end, a.step, s[a.dim - 1])
    if not kept:
        raise ShapeError(f"`slice` keeps nothing of dim {a.dim} (size {s[a.dim - 1]})", "start")
    return (*s[: a.dim - 1], kept, *s[a.dim :])


class PadToArgs(LayerArgs):
    dim: int = field(ge=1, le=8)  # torch's numbering, the batch 0
    multiple: int = field(ge=1, le=65536)


def _pad_to_shape(a: PadToArgs, s: Shape) -> Shape:
    _check_dim("pad_to", a.dim, s)
    size = s[a.dim - 1]
    return (*s[: a.dim - 1], -(-size // a.multiple) * a.multiple, *s[a.dim :])


class LinearArgs(LayerArgs):
    out: int = field(ge=1, le=10_000_000)
    bias: bool = True


register(
    LayerType(
        name="flatten",
        schema=FlattenArgs,
        shape=_flatten_shape,
        count=lambda a, s: (0, 0),
        doc="merges dims `start` to `end` (torch's numbering, the batch 0; by default all but "
        "the batch: [C, H, W] to [C * H * W] in channels-first order)",
        example="flatten(start=1, end=-1)",
        ranks=None,
        channels=None,
        functional=True,
        flattens=True,
        torch_class="Flatten",
        axes="order",
        dim_args=("start", "end"),
    ),
    weightless=True,
)

register(
    LayerType(
        name="unflatten",
        schema=UnflattenArgs,
        shape=_unflatten_shape,
        count=lambda a, s: (0, 0),
        doc="splits dim `dim` (torch's numbering, the batch 0) into `sizes`, one of them -1 "
        "for what the others leave: `unflatten(2, [-1, 7])` cuts the height of [C, H, W] "
        "into H / 7 rows of 7 (torch's unflatten)",
        example="unflatten(2, [-1, 2])",
        ranks=None,
        functional=True,
        torch_class="Unflatten",
        axes="split",
        dim_args=("dim",),
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

register(
    LayerType(
        name="select",
        schema=SelectArgs,
        shape=_select_shape,
        count=lambda a, s: (0, 0),
        doc="the slice at `index` along `dim` (torch's numbering, the batch 0), that dimension "
        "removed: `select(dim=1, index=0)` is ViT's class token, `x[:, 0]`",
        example="select(dim=1, index=0)",
        ranks=None,
        functional=True,
        helpers=("select",),
        torch_class="Select",
        axes="select",
        dim_args=("dim", "index"),
    ),
    weightless=True,
)


register(
    LayerType(
        name="slice",
        schema=SliceArgs,
        shape=_slice_shape,
        count=lambda a, s: (0, 0),
        doc="the elements `start:end:step` along `dim` (torch's numbering, the batch 0), as "
        "Python slices them: `slice(dim=1, start=1, step=2)` is `x[:, 1::2]`",
        example="slice(dim=1, start=0, end=4, step=2)",
        ranks=None,
        functional=True,
        helpers=("slice",),
        torch_class="Slice",
        axes="slice",
        dim_args=("dim", "start", "end", "step"),
    ),
    weightless=True,
)


register(
    LayerType(
        name="pad_to",
        schema=PadToArgs,
        shape=_pad_to_shape,
        count=lambda a, s: (0, 0),
        doc="zeros appended along `dim` (torch's numbering, the batch 0) up to a multiple of "
        "`multiple`: Swin's patch merging pads an odd height or width by one",
        example="pad_to(dim=1, multiple=2)",
        ranks=None,
        functional=True,
        helpers=("pad_to",),
        fn_helpers=("pad_to_fn",),
        torch_class="PadTo",
        axes="slice",
        dim_args=("dim", "multiple"),
    ),
    weightless=True,
)


class AttentionArgs(LayerArgs):
    heads: int = field(ge=1, le=4096)
    dropout: float = field(default=0.0, ge=0, lt=1)
    bias: bool = True


def _attention_shape(a: AttentionArgs, s: Shape) -> Shape:
    if s[-1] % a.heads:
        raise ShapeError(
            f"`attention` cannot split {s[-1]} features into {a.heads} equal heads",
            "heads",
            help=f"use a number of heads that divides {s[-1]}",
        )
    return s


def _attention_count(a: AttentionArgs, s: Shape) -> tuple[int, int]:
    d = s[-1]
    return 4 * d * d + (4 * d if a.bias else 0), 0


register(
    LayerType(
        name="attention",
        tensors=(
            ("in_proj_weight", "xavier_uniform"),
            ("in_proj_bias", "zeros"),
            ("out_proj.weight", "torch_weight"),
            ("out_proj.bias", "zeros"),
        ),
        schema=AttentionArgs,
        shape=_attention_shape,
        count=_attention_count,
        doc="multi-head self-attention over the tokens of [L, D] (torch's nn.MultiheadAttention, "
        "batch first, with its parameter layout: in_proj_weight [3D, D], out_proj); `dropout` "
        "on the attention weights in training",
        example="attention(4, dropout=0.0)",
        ranks=(2,),
        channels=None,
        torch_class="MultiheadAttention",
        # torchinfo's row: every parameter once per token (not in its totals: torch_leaf)
        macs=lambda a, s, out: s[0] * _attention_count(a, s)[0],
        torch_leaf=False,
        axes="last",
        torch_call="{m}({x}, {x}, {x}, need_weights=False)[0]",
    )
)
