"""Shared arithmetic for windowed layers (convolutions and pools) and flattened ranges, and the
size arguments: an int for both spatial dimensions, or ``[height, width]``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic_core import PydanticCustomError

from archdsl.layers.registry import ShapeError
from archdsl.records import Before

Pair = tuple[int, int]


def size(lo: int, hi: int) -> Any:
    """The type of a size argument from ``lo`` to ``hi`` in each dimension: an int, or a list of
    two (a tuple once evaluated). Errors read as pydantic's own for an int out of range."""

    def check(value: Any) -> Any:
        items = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and len(value) != 2:
            raise PydanticCustomError(
                "size", "Input should be an integer or a list of two ([height, width])"
            )
        for v in items:
            if isinstance(v, bool) or not isinstance(v, int):
                raise PydanticCustomError(
                    "size", "Input should be an integer or a list of two ([height, width])"
                )
            if v < lo:
                raise PydanticCustomError(
                    "greater_than_equal", f"Input should be greater than or equal to {lo}"
                )
            if v > hi:
                raise PydanticCustomError(
                    "less_than_equal", f"Input should be less than or equal to {hi}"
                )
        return value

    return Annotated[int | Pair, Before(check)]


def pair(value: int | Pair) -> Pair:
    """A size argument as (height, width)."""
    return value if isinstance(value, tuple) else (value, value)


def window_out(
    size: int, extent: int, stride: int, padding: int, what: str, ceil: bool = False
) -> int:
    padded = size + 2 * padding
    if extent > padded:
        raise ShapeError(
            f"{what} extent {extent} is larger than the padded input size {padded}",
            "kernel",
            help="use a smaller kernel or more padding, or remove a downsampling layer earlier",
        )
    span = padded - extent
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def flatten_range(start: int, end: int, rank: int) -> tuple[int, int]:
    """The dimensions a flatten from ``start`` to ``end`` (torch's numbering) merges in a tensor
    of ``rank`` dimensions besides the batch: positions ``first`` to ``last``, batch excluded."""
    stop = end + rank + 1 if end < 0 else end
    if not 1 <= start <= stop <= rank:
        raise ShapeError(
            f"`flatten` cannot merge dims {start} to {end} of a {rank + 1}-d tensor",
            "start",
            help=f"dims count as torch counts them, 1 to {rank} (0 is the batch); start <= end",
        )
    return start - 1, stop - 1


def sliced(start: int, end: int | None, step: int, size: int) -> int:
    """How many of ``size`` elements ``start:end:step`` keeps (Python's slicing)."""
    return len(range(*slice(start, end, step).indices(size)))
