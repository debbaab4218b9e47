"""Bounds on the values spec expressions compute (guarantee G4), shared by the evaluator and the
built-in functions: integer size, list length, and a per-compilation budget of list elements."""

from __future__ import annotations

import math
from contextvars import ContextVar
from typing import Any

from archdsl.errors import error
from archdsl.syntax import ast

MAX_INT = 2**40
MAX_LIST = 100_000
MAX_ELEMENTS = 1_000_000  # list elements one compilation may build, all expressions together

_built: ContextVar[int] = ContextVar("archdsl_elements_built", default=0)


def reset_budget() -> None:
    """Start a new compilation's element budget."""
    _built.set(0)


def spend(n: int, e: ast.Expr) -> None:
    """Count ``n`` list elements about to be built by ``e``; refuse past the budget."""
    total = _built.get() + n
    _built.set(total)
    if total > MAX_ELEMENTS:
        raise error(
            "E0602",
            f"expressions build more than {MAX_ELEMENTS:,} list elements",
            e.span,
            "this list goes over the limit",
            help="stage tables and loops in a spec are small; look for nested comprehensions",
        )


def check_list_length(n: int, e: ast.Expr) -> None:
    if n > MAX_LIST:
        raise error(
            "E0602",
            f"list is too long ({n:,} elements)",
            e.span,
            "this list goes over the limit",
            help=f"a list has at most {MAX_LIST:,} elements",
        )


def check_num(v: Any, e: ast.Expr) -> Any:
    """``v`` if it is a bounded number (or not a number at all); an E0602 diagnostic otherwise."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and abs(v) > MAX_INT:
        raise error(
            "E0602",
            "value is too large",
            e.span,
            f"evaluates to {v}",
            help=f"the limit is {MAX_INT}",
        )
    if isinstance(v, float) and not math.isfinite(v):
        raise error("E0602", "value is not finite", e.span, f"evaluates to {v}")
    return v
