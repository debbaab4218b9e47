"""Self-attention within windows of a channels-last map [H, W, C] (Swin, Liu et al. 2021).

The map is cut into `window` x `window` windows (padded at the bottom and right to a multiple),
first rolled up and left by `shift` where `shift` is not 0 (the shifted windows, their positions
from different sides of the roll masked from each other), and each window's positions attend to
each other with a learned bias per relative position and head. `window_attention` is Swin's
(torchvision's ShiftedWindowAttention: a table of (2 window - 1)^2 biases per head);
`cosine_window_attention` is Swin V2's (ShiftedWindowAttentionV2: cosine similarity scaled by a
learned per-head temperature, the biases from a small MLP of log-spaced relative coordinates).
Both keep torchvision's parameter layout and buffers, so its state_dict loads as it is.
`relative_attention` is the attention of MaxViT's partitions (torchvision's
RelativePositionalMultiHeadAttention): the map is already cut into groups of `window` x `window`
tokens ([..., window^2, C], by `unflatten`, `permute` and `flatten`), and the tokens of each
group attend to each other with the same table of biases per relative position and head.
"""

from __future__ import annotations

import math

from archdsl.layers.registry import (
    InnerCall,
    LayerArgs,
    LayerType,
    Shape,
    ShapeError,
    register,
)
from archdsl.records import field

# the hidden width of Swin V2's continuous position bias MLP (torchvision's, fixed)
CPB_HIDDEN = 512


class WindowAttentionArgs(LayerArgs):
    heads: int = field(ge=1, le=4096)
    window: int = field(ge=1, le=1024)
    shift: int = field(default=0, ge=0, le=1023)
    dropout: float = field(default=0.0, ge=0, lt=1)  # on the output, in training
    attention_dropout: float = field(default=0.0, ge=0, lt=1)  # on the attention weights
    bias: bool = True  # the query/key/value and output projections' biases


def _shape(a: WindowAttentionArgs, s: Shape) -> Shape:
    if s[-1] % a.heads:
        raise ShapeError(
            f"window attention cannot split {s[-1]} channels into {a.heads} equal heads",
            "heads",
            help=f"use a number of heads that divides {s[-1]}",
        )
    if a.shift >= a.window:
        raise ShapeError(
            f"a shift of {a.shift} is not less than the window ({a.window})",
            "shift",
            help=f"Swin shifts by half the window: {a.window // 2}",
        )
    return s


def _cosine_shape(a: WindowAttentionArgs, s: Shape) -> Shape:
    if a.window < 2:
        raise ShapeError(
            "cosine window attention needs a window of at least 2",
            "window",
            help="its relative coordinates are scaled by the window's size minus one",
        )
    return _shape(a, s)


def _projections(a: WindowAttentionArgs, c: int) -> int:
    return 4 * c * c + (4 * c if a.bias else 0)


def _count(a: WindowAttentionArgs, s: Shape) -> tuple[int, int]:
    return _projections(a, s[-1]) + (2 * a.window - 1) ** 2 * a.heads, 0


def _cpb_params(a: WindowAttentionArgs) -> tuple[int, int]:
    """The position bias MLP's Linear(2, 512) and Linear(512, heads, bias=False)."""
    return 3 * CPB_HIDDEN, CPB_HIDDEN * a.heads


def _cosine_count(a: WindowAttentionArgs, s: Shape) -> tuple[int, int]:
    return a.heads + _projections(a, s[-1]) + sum(_cpb_params(a)), 0


def _macs(a: WindowAttentionArgs, s: Shape, out: Shape) -> int:
    # torchinfo counts no mult-adds for it: its projections are applied as functions
    return 0


def _cpb_calls(a: WindowAttentionArgs, s: Shape) -> tuple[InnerCall, ...]:
    """Swin V2's position bias MLP, applied to the (1, 2w - 1, 2w - 1, 2) coordinate table."""
    span, (first, out) = 2 * a.window - 1, _cpb_params(a)
    table = (1, span, span)
    mlp = first + out
    return (
        InnerCall("cpb_mlp", "Sequential", 1, (*table, 2), (*table, a.heads), mlp, leaf=False),
        InnerCall("0", "Linear", 2, (*table, 2), (*table, CPB_HIDDEN), first),
        InnerCall("1", "ReLU", 2, (*table, CPB_HIDDEN), (*table, CPB_HIDDEN), 0),
        InnerCall("2", "Linear", 2, (*table, CPB_HIDDEN), (*table, a.heads), out),
    )


_PROJECTIONS = (
    ("qkv.weight", "torch_weight"),
    ("qkv.bias", "torch_bias"),
    ("proj.weight", "torch_weight"),
    ("proj.bias", "torch_bias"),
)

register(
    LayerType(
        name="window_attention",
        tensors=(("relative_position_bias_table", "trunc_normal:0.02"), *_PROJECTIONS),
        schema=WindowAttentionArgs,
        shape=_shape,
        count=_count,
        doc="Swin's multi-head self-attention within `window` x `window` windows of a "
        "channels-last [H, W, C], rolled by `shift` first (0: not shifted), with a learned "
        "bias per relative position and head (torchvision's ShiftedWindowAttention)",
        example="window_attention(3, window=7, shift=3)",
        ranks=(3,),
        channels=None,
        helpers=("window_attention",),
        torch_class="ShiftedWindowAttention",
        macs=_macs,
        torch_leaf=False,
        axes="torch",
    )
)

register(
    LayerType(
        name="cosine_window_attention",
        tensors=(
            ("logit_scale", f"constant:{math.log(10.0)!r}"),
            *_PROJECTIONS,
            ("cpb_mlp.0.weight", "torch_weight"),
            ("cpb_mlp.0.bias", "torch_bias:2"),
            ("cpb_mlp.2.weight", "torch_weight"),
        ),
        unflagged=("cpb_mlp.0.bias",),
        schema=WindowAttentionArgs,
        shape=_cosine_shape,
        count=_cosine_count,
        doc="Swin V2's window attention: `window_attention` with cosine similarity scaled by a "
        "learned temperature per head, and the relative position biases from an MLP of "
        "log-spaced coordinates (torchvision's ShiftedWindowAttentionV2)",
        example="cosine_window_attention(3, window=8, shift=4)",
        ranks=(3,),
        channels=None,
        helpers=("window_attention",),
        torch_class="ShiftedWindowAttentionV2",
        macs=_macs,
        inner_calls=_cpb_calls,
        torch_leaf=False,
        axes="torch",
    )
)


class RelativeAttentionArgs(LayerArgs):
    heads: int = field(ge=1, le=4096)
    window: int = field(ge=1, le=1024)  # a group's tokens are a window x window square


def _relative_shape(a: RelativeAttentionArgs, s: Shape) -> Shape:
    if len(s) < 2:
        raise ShapeError(
            f"`relative_attention` reads groups of tokens [..., tokens, C], got {list(s)}",
            help="cut the map into windows first: `unflatten`, `permute`, `flatten`",
        )
    if s[-2] != a.window * a.window:
        raise ShapeError(
            f"`relative_attention` over {a.window} x {a.window} windows reads groups of "
            f"{a.window * a.window} tokens, got {s[-2]}",
            "window",
            help="the second-to-last dimension holds each group's tokens",
        )
    if s[-1] % a.heads:
        raise ShapeError(
            f"`relative_attention` cannot split {s[-1]} channels into {a.heads} equal heads",
            "heads",
            help=f"use a number of heads that divides {s[-1]}",
        )
    return s


def _relative_count(a: RelativeAttentionArgs, s: Shape) -> tuple[int, int]:
    c = s[-1]
    return 4 * c * c + 4 * c + (2 * a.window - 1) ** 2 * a.heads, 0


def _relative_calls(a: RelativeAttentionArgs, s: Shape) -> tuple[InnerCall, ...]:
    """Its two Linear modules, each a row of torchinfo's, on the batch's tokens."""
    c = s[-1]
    qkv = (*s[:-1], 3 * c)
    return (
        InnerCall("to_qkv", "Linear", 1, s, qkv, 3 * c * c + 3 * c, batched=True),
        InnerCall("merge", "Linear", 1, s, s, c * c + c, batched=True),
    )


register(
    LayerType(
        name="relative_attention",
        tensors=(
            ("relative_position_bias_table", "trunc_normal:0.02"),
            ("to_qkv.weight", "torch_weight"),
            ("to_qkv.bias", "torch_bias"),
            ("merge.weight", "torch_weight"),
            ("merge.bias", "torch_bias"),
        ),
        schema=RelativeAttentionArgs,
        shape=_relative_shape,
        count=_relative_count,
        doc="multi-head self-attention among the `window` x `window` tokens of each group of "
        "[..., window^2, C], with a learned bias per relative position and head, the keys "
        "scaled by 1 / sqrt(C) (torchvision's MaxViT RelativePositionalMultiHeadAttention)",
        example="relative_attention(2, window=2)",
        ranks=None,
        channels=None,
        helpers=("relative_attention",),
        torch_class="RelativePositionalMultiHeadAttention",
        macs=_macs,
        inner_calls=_relative_calls,
        torch_leaf=False,
        axes="torch",
    )
)
