"""Concrete evaluation of spec expressions; every failure is a diagnostic at the expression."""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from archdsl.errors import error
from archdsl.syntax import ast

MAX_INT = 2**40
MAX_LIST = 100_000
MAX_ELEMENTS = 1_000_000  # list elements one compilation may build, all expressions together

_built = ContextVar("archdsl_elements_built", default=0)


def reset_budget() -> None:
    """Start a new compilation's element budget."""
    _built.set(0)


def _spend(n: int, e: ast.Expr) -> None:
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


@dataclass(frozen=True)
class BlockRef:
    """A block used as a value (the `block` parameter of ResNet)."""

    name: str

    def __repr__(self) -> str:
        return self.name


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round channels to a multiple of ``divisor``, never going more than 10% down (MobileNet)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _check_num(v: Any, e: ast.Expr) -> Any:
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


_FUNCS: dict[str, Any] = {
    "min": min,
    "max": max,
    "ceil": math.ceil,
    "floor": math.floor,
    "round": round,
    "int": int,
    "float": float,
    "len": len,
    "abs": abs,
    "sum": sum,
    "make_divisible": make_divisible,
}


def evaluate(e: ast.Expr, env: Mapping[str, Any]) -> Any:
    if isinstance(e, ast.Num | ast.Bool | ast.Str):
        return e.value
    if isinstance(e, ast.Name):
        if e.id not in env:
            raise error("E0220", f"unknown name `{e.id}`", e.span, "not defined here")
        return env[e.id]
    if isinstance(e, ast.ListExpr):
        return tuple(evaluate(i, env) for i in e.items)
    if isinstance(e, ast.ListComp):
        rows = evaluate(e.iterable, env)
        if not isinstance(rows, tuple):
            raise error("E0603", "a comprehension iterates over a list", e.iterable.span)
        _spend(len(rows), e)
        out = []
        for row in rows:
            inner = dict(env)
            if len(e.targets) == 1:
                inner[e.targets[0]] = row
            elif not isinstance(row, tuple) or len(row) != len(e.targets):
                raise error(
                    "E0608",
                    f"a row does not have {len(e.targets)} values",
                    e.iterable.span,
                    f"expected rows of ({', '.join(e.targets)}), got {row!r}",
                )
            else:
                inner.update(zip(e.targets, row, strict=True))
            out.append(evaluate(e.value, inner))
        return tuple(out)
    if isinstance(e, ast.UnaryOp):
        v = evaluate(e.operand, env)
        if e.op == "not":
            return not _truth(v, e.operand)
        _need_number(v, e.operand)
        return -v if e.op == "-" else v
    if isinstance(e, ast.BinOp):
        if e.op == "and":
            return _truth(evaluate(e.left, env), e.left) and _truth(evaluate(e.right, env), e.right)
        if e.op == "or":
            return _truth(evaluate(e.left, env), e.left) or _truth(evaluate(e.right, env), e.right)
        return _check_num(_binop(e, evaluate(e.left, env), evaluate(e.right, env)), e)
    if isinstance(e, ast.IfExp):
        return (
            evaluate(e.then, env)
            if _truth(evaluate(e.cond, env), e.cond)
            else evaluate(e.orelse, env)
        )
    if isinstance(e, ast.Index):
        seq = evaluate(e.value, env)
        idx = evaluate(e.index, env)
        if not isinstance(seq, tuple):
            raise error("E0603", "only lists can be indexed", e.value.span, f"this is {_kind(seq)}")
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise error(
                "E0603", "list index must be an integer", e.index.span, f"this is {_kind(idx)}"
            )
        if not -len(seq) <= idx < len(seq):
            raise error(
                "E0604",
                f"index {idx} is out of range for a list of {len(seq)}",
                e.index.span,
                "out of range",
            )
        return seq[idx]
    if isinstance(e, ast.Call):
        return _call(e, env)
    raise error("E0219", "not a value", e.span, "flows are only allowed in forward")


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "a bool"
    if isinstance(v, int):
        return "an int"
    if isinstance(v, float):
        return "a float"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, tuple):
        return "a list"
    if isinstance(v, BlockRef):
        return "a block"
    return type(v).__name__


def _truth(v: Any, e: ast.Expr) -> bool:
    if not isinstance(v, bool):
        raise error("E0603", "condition must be a bool", e.span, f"this is {_kind(v)}")
    return v


def _need_number(v: Any, e: ast.Expr) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise error("E0603", "expected a number", e.span, f"this is {_kind(v)}")


def _binop(e: ast.BinOp, a: Any, b: Any) -> Any:
    op = e.op
    if op in ("==", "!="):
        return (a == b) if op == "==" else (a != b)
    if op == "+" and isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) + len(b) > MAX_LIST:
            raise error("E0602", "list is too long", e.span)
        _spend(len(a) + len(b), e)
        return a + b
    _need_number(a, e.left)
    _need_number(b, e.right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "//", "%") and b == 0:
        raise error("E0605", "division by zero", e.right.span, "this is zero")
    if op == "/":
        return a / b
    if op == "//":
        return a // b
    if op == "%":
        return a % b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    raise AssertionError(op)


def _call(e: ast.Call, env: Mapping[str, Any]) -> Any:
    args = [evaluate(a, env) for a in e.args]
    kwargs = {kw.name: evaluate(kw.value, env) for kw in e.kwargs}
    if e.func == "zip":
        if kwargs or not args or not all(isinstance(a, tuple) for a in args):
            raise error("E0606", "`zip` takes lists", e.span, "expected lists")
        _spend(min(len(a) for a in args), e)
        return tuple(zip(*args, strict=False))
    if e.func == "range":
        if kwargs or not 1 <= len(args) <= 2 or not all(isinstance(a, int) for a in args):
            raise error("E0606", "`range` takes one or two integers", e.span)
        lo, hi = (0, args[0]) if len(args) == 1 else args
        if hi - lo > MAX_LIST:
            raise error("E0602", "range is too long", e.span, f"the limit is {MAX_LIST}")
        _spend(max(0, hi - lo), e)
        return tuple(range(lo, hi))
    fn = _FUNCS.get(e.func)
    if fn is None:
        raise error("E0221", f"unknown function `{e.func}`", e.func_span)
    try:
        return _check_num(fn(*args, **kwargs), e)
    except (TypeError, ValueError) as exc:
        raise error(
            "E0606", f"bad arguments to `{e.func}`: {exc}", e.span, "cannot evaluate"
        ) from None
