"""Layers that rearrange elements: channel shuffle, permutation of dimensions."""

from __future__ import annotations

from pydantic import Field

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register


class ShuffleArgs(LayerArgs):
    groups: int = Field(ge=1, le=1 << 20)


def _shuffle_shape(a: ShuffleArgs, s: Shape) -> Shape:
    if s[0] % a.groups:
        raise ShapeError(
            f"`channel_shuffle` cannot split {s[0]} channels into {a.groups} equal groups",
            "groups",
            help=f"give its input a multiple of {a.groups} channels, or use groups that divide "
            f"{s[0]}",
        )
    return s


register(
    LayerType(
        name="channel_shuffle",
        schema=ShuffleArgs,
        shape=_shuffle_shape,
        count=lambda a, s: (0, 0),
        doc="interleaves the channels of `groups` equal groups (ShuffleNet): the channels seen "
        "as a `groups` x `C / groups` table are read column by column",
        example="channel_shuffle(2)",
        functional=True,
        torch_class="ChannelShuffle",
    ),
    weightless=True,
)


class PermuteArgs(LayerArgs):
    dims: tuple[int, ...] = Field(min_length=1, max_length=8)


def _permute_shape(a: PermuteArgs, s: Shape) -> Shape:
    if sorted(a.dims) != list(range(len(s))):
        order = ", ".join(str(d) for d in range(len(s)))
        raise ShapeError(
            f"`permute` needs an order of the input's {len(s)} dimensions, got {list(a.dims)}",
            "dims",
            help=f"list each of {order} once (the batch is not counted: [1, 2, 0] makes "
            "[C, H, W] channels-last)",
        )
    return tuple(s[d] for d in a.dims)


register(
    LayerType(
        name="permute",
        schema=PermuteArgs,
        shape=_permute_shape,
        count=lambda a, s: (0, 0),
        doc="reorders the dimensions: output dimension i is input dimension `dims[i]` (batch "
        "not counted; [1, 2, 0] turns [C, H, W] into [H, W, C]; torchvision's Permute)",
        example="permute([1, 2, 0])",
        ranks=None,
        functional=True,
        helpers=("permute",),
        torch_class="Permute",
        axes="permute",
    ),
    weightless=True,
)
