"""Layers that rearrange the channels."""

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
