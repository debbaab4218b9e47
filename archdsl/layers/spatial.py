"""Shared arithmetic for windowed layers (convolutions and pools)."""

from __future__ import annotations

from archdsl.layers.registry import ShapeError


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
