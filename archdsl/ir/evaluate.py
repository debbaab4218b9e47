"""Concrete evaluation of spec expressions; every failure is a diagnostic at the expression."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archdsl import functions
from archdsl.errors import error
from archdsl.ir.budget import (
    MAX_ELEMENTS,
    MAX_INT,
    MAX_LIST,
    check_list_length,
    check_num,
    reset_budget,
    spend,
)
from archdsl.syntax import ast

make_divisible = functions.make_divisible


@dataclass(frozen=True)
class BlockRef:
    """A block used as a value (the `block` parameter of ResNet)."""

    name: str

    def __repr__(self) -> str:
        return self.name


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
        spend(len(rows), e)
        out = []
        for row in rows:
            inner: dict[str, Any] = {}
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
            scope = ChainMap(inner, env)  # no copy of env per row
            if e.cond is not None and not _truth(evaluate(e.cond, scope), e.cond):
                continue
            out.append(evaluate(e.value, scope))
        return tuple(out)
    if isinstance(e, ast.Format):
        pieces = [e.texts[0]]
        for value, text in zip(e.values, e.texts[1:], strict=True):
            v = evaluate(value, env)
            if isinstance(v, bool) or not isinstance(v, int | str):
                raise error(
                    "E0603",
                    "a name holds integers and strings",
                    value.span,
                    f"this is {functions.kind_of(v)}",
                )
            pieces += [str(v), text]
        return "".join(pieces)
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
        return check_num(_binop(e, evaluate(e.left, env), evaluate(e.right, env)), e)
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
            raise error(
                "E0603",
                "only lists can be indexed",
                e.value.span,
                f"this is {functions.kind_of(seq)}",
            )
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise error(
                "E0603",
                "list index must be an integer",
                e.index.span,
                f"this is {functions.kind_of(idx)}",
            )
        if not -len(seq) <= idx < len(seq):
            raise error(
                "E0604",
                f"index {idx} is out of range for a list of {len(seq)}",
                e.index.span,
                "out of range",
            )
        return seq[idx]
    if isinstance(e, ast.Slice):
        return _slice(e, env)
    if isinstance(e, ast.Call):
        return _call(e, env)
    raise error("E0219", "not a value", e.span, "flows are only allowed in forward")


def _truth(v: Any, e: ast.Expr) -> bool:
    if not isinstance(v, bool):
        raise error("E0603", "condition must be a bool", e.span, f"this is {functions.kind_of(v)}")
    return v


def _need_number(v: Any, e: ast.Expr) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise error("E0603", "expected a number", e.span, f"this is {functions.kind_of(v)}")


def _binop(e: ast.BinOp, a: Any, b: Any) -> Any:
    op = e.op
    if op in ("==", "!="):
        return (a == b) if op == "==" else (a != b)
    if op == "+" and isinstance(a, tuple) and isinstance(b, tuple):
        check_list_length(len(a) + len(b), e)
        spend(len(a) + len(b), e)
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
    if op == "**":
        return functions.power(a, b, e)
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
    fn = functions.get_function(e.func)
    if fn is None:
        raise error("E0221", f"unknown function `{e.func}`", e.func_span, "not a built-in function")
    args = [evaluate(a, env) for a in e.args]
    kwargs = {kw.name: evaluate(kw.value, env) for kw in e.kwargs}
    return check_num(functions.call(fn, e, args, kwargs), e)


__all__ = [
    "MAX_ELEMENTS",
    "MAX_INT",
    "MAX_LIST",
    "BlockRef",
    "evaluate",
    "make_divisible",
    "reset_budget",
]


def _slice(e: ast.Slice, env: dict[str, Any]) -> tuple[Any, ...]:
    """`xs[start:end:step]` of a list, as Python slices it."""
    seq = evaluate(e.value, env)
    if not isinstance(seq, tuple):
        raise error(
            "E0603", "only lists can be sliced", e.value.span, f"this is {functions.kind_of(seq)}"
        )
    bounds = []
    for bound in (e.start, e.end, e.step):
        value = None if bound is None else evaluate(bound, env)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            assert bound is not None
            raise error(
                "E0603",
                "slice bounds must be integers",
                bound.span,
                f"this is {functions.kind_of(value)}",
            )
        bounds.append(value)
    if bounds[2] == 0:
        assert e.step is not None
        raise error("E0603", "a slice's step cannot be zero", e.step.span, "zero")
    return seq[bounds[0] : bounds[1] : bounds[2]]
