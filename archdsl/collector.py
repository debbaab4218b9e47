"""How often the cyclic garbage collector runs while archdsl compiles.

A compilation allocates many small objects that live until it ends (syntax nodes, instances,
IR records), and frees them together; with the default thresholds the collector rescans them
again and again, its full collections over a growing heap making a large spec slower than
linear (99,997 instances: 7.2 s, against 5.0 s with the collector off, and 0.51 s for 9,997
either way). During a compilation it runs rarely, as in mypy: never more often than the
caller's own thresholds ask for, and not at all if the caller switched collection off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

RARELY = (200_000, 50, 1000)


def collect_rarely() -> None:
    """For the rest of the process (the command line: one compilation a process)."""
    gc.set_threshold(*_raised(gc.get_threshold()))


@contextmanager
def rarely() -> Iterator[None]:
    """For the block (or the function it decorates); the thresholds are restored after."""
    old = gc.get_threshold()
    gc.set_threshold(*_raised(old))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _raised(old: tuple[int, int, int]) -> tuple[int, int, int]:
    if old[0] == 0:  # collection switched off
        return old
    first, second, third = (max(a, b) for a, b in zip(old, RARELY, strict=True))
    return first, second, third
