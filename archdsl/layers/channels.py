"""Layers that rearrange elements: channel shuffle, permutation of dimensions."""

from __future__ import annotations

from archdsl.layers.registry import LayerArgs, LayerType, Shape, ShapeError, register
from archdsl.records import field


class ShuffleArgs(LayerArgs):
    groups: int = field(ge=1, le=1 << 20)


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
    # torch's order, the batch included (as torchvision's Permute and `concat`'s `dim` count)
    dims: tuple[int, ...] = field(min_length=2, max_length=9)

    @property
    def order(self) -> tuple[int, ...]:
        """The order of the dimensions without the batch: output i is input ``order[i]``."""
        return tuple(d - 1 for d in self.dims[1:])


def _permute_shape(a: PermuteArgs, s: Shape) -> Shape:
    if sorted(a.dims) != list(range(len(s) + 1)) or a.dims[0] != 0:
        order = ", ".join(str(d) for d in range(1, len(s) + 1))
        raise ShapeError(
            f"`permute` needs an order of the input's {len(s) + 1} dimensions with the batch "
            f"first, got {list(a.dims)}",
            "dims",
            help=f"0 (the batch), then each of {order} once, counted as torch counts them: "
            "[0, 2, 3, 1] makes [C, H, W] channels-last",
        )
    return tuple(s[d] for d in a.order)


register(
    LayerType(
        name="permute",
        schema=PermuteArgs,
        shape=_permute_shape,
        count=lambda a, s: (0, 0),
        doc="reorders the dimensions: output dimension i is input dimension `dims[i]`, counted "
        "as torch counts them, the batch 0 and first ([0, 2, 3, 1] turns [C, H, W] into "
        "[H, W, C]; torchvision's Permute)",
        example="permute([0, 2, 3, 1])",
        ranks=None,
        functional=True,
        helpers=("permute",),
        torch_class="Permute",
        axes="permute",
        dim_args=("dims",),
    ),
    weightless=True,
)
