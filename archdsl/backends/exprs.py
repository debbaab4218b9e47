"""Spec expressions as Python source, and the small symbolic algebra used for channel counts."""

from __future__ import annotations

from collections.abc import Callable

from archdsl.errors import error
from archdsl.syntax import ast

_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "//": 6, "%": 6,
}  # fmt: skip
_ATOM = 9

NameMap = Callable[[str], str]


def _identity(name: str) -> str:
    return name


def to_python(e: ast.Expr, names: NameMap = _identity) -> str:
    return _render(e, names)[0]


def _render(e: ast.Expr, names: NameMap) -> tuple[str, int]:
    if isinstance(e, ast.Bool):
        return ("True" if e.value else "False"), _ATOM
    if isinstance(e, ast.Num):
        return repr(e.value), (_ATOM if e.value >= 0 else 7)
    if isinstance(e, ast.Str):
        return repr(e.value), _ATOM
    if isinstance(e, ast.Name):
        return names(e.id), _ATOM
    if isinstance(e, ast.Raw):
        return e.source, _ATOM
    if isinstance(e, ast.ListExpr):
        return "[" + ", ".join(to_python(i, names) for i in e.items) + "]", _ATOM
    if isinstance(e, ast.Index):
        return f"{_wrap(e.value, names, _ATOM)}[{to_python(e.index, names)}]", _ATOM
    if isinstance(e, ast.ListComp):
        bound = set(e.targets)
        inner = lambda n: n if n in bound else names(n)  # noqa: E731
        targets = ", ".join(e.targets)
        return (
            f"[{to_python(e.value, inner)} for {targets} in {to_python(e.iterable, names)}]",
            _ATOM,
        )
    if isinstance(e, ast.Call):
        parts = [to_python(a, names) for a in e.args]
        parts += [f"{k.name}={to_python(k.value, names)}" for k in e.kwargs]
        func = {"ceil": "math.ceil", "floor": "math.floor"}.get(e.func, e.func)
        text = f"{func}({', '.join(parts)})"
        if e.func == "zip":  # the spec's zip stops at the shortest list, as Python's does
            text = f"zip({', '.join([*parts, 'strict=False'])})"
        if e.func == "range":
            text = f"range({', '.join(parts)})"
        return text, _ATOM
    if isinstance(e, ast.UnaryOp):
        if e.op == "not":
            return f"not {_wrap(e.operand, names, 3)}", 3
        return f"{e.op}{_wrap(e.operand, names, 7)}", 7
    if isinstance(e, ast.BinOp):
        p = _PREC[e.op]
        left = _wrap(e.left, names, p)
        # comparisons do not chain in the spec language, so parenthesise nested ones
        right = _wrap(e.right, names, p + 1)
        if p == 4:
            left = _wrap(e.left, names, 5)
        return f"{left} {e.op} {right}", p
    if isinstance(e, ast.IfExp):
        then, cond = _wrap(e.then, names, 1), _wrap(e.cond, names, 1)
        return f"{then} if {cond} else {_wrap(e.orelse, names, 0)}", 0
    raise error("E0901", "internal error: cannot render expression", e.span)


def _wrap(e: ast.Expr, names: NameMap, min_prec: int) -> str:
    text, prec = _render(e, names)
    return f"({text})" if prec < min_prec else text


# ---- symbolic channel arithmetic --------------------------------------------------------


def add(a: ast.Expr, b: ast.Expr) -> ast.Expr:
    if isinstance(a, ast.Num) and isinstance(b, ast.Num):
        return ast.Num(a.value + b.value)
    return ast.BinOp("+", a, b)


def mul(a: ast.Expr, b: int) -> ast.Expr:
    if b == 1:
        return a
    if isinstance(a, ast.Num):
        return ast.BinOp("*", a, ast.Num(b))
    return ast.BinOp("*", a, ast.Num(b))


def choose(cond: ast.Expr, then: ast.Expr, orelse: ast.Expr) -> ast.Expr:
    if then == orelse:
        return then
    return ast.IfExp(cond, then, orelse)


def substitute(e: ast.Expr, mapping: dict[str, ast.Expr]) -> ast.Expr:
    """Replace names by expressions (spans dropped; the result only feeds code generation)."""
    if isinstance(e, ast.Name):
        return mapping.get(e.id, e)
    if isinstance(e, ast.BinOp):
        return ast.BinOp(e.op, substitute(e.left, mapping), substitute(e.right, mapping))
    if isinstance(e, ast.UnaryOp):
        return ast.UnaryOp(e.op, substitute(e.operand, mapping))
    if isinstance(e, ast.IfExp):
        return ast.IfExp(
            substitute(e.cond, mapping), substitute(e.then, mapping), substitute(e.orelse, mapping)
        )
    if isinstance(e, ast.Index):
        return ast.Index(substitute(e.value, mapping), substitute(e.index, mapping))
    if isinstance(e, ast.ListExpr):
        return ast.ListExpr(tuple(substitute(i, mapping) for i in e.items))
    if isinstance(e, ast.ListComp):
        inner = {k: v for k, v in mapping.items() if k not in e.targets}
        return ast.ListComp(substitute(e.value, inner), e.targets, substitute(e.iterable, mapping))
    if isinstance(e, ast.Call):
        return ast.Call(
            e.func,
            tuple(substitute(a, mapping) for a in e.args),
            tuple(ast.Keyword(k.name, substitute(k.value, mapping)) for k in e.kwargs),
        )
    return e


def names_in(e: ast.Expr) -> set[str]:
    if isinstance(e, ast.Name):
        return {e.id}
    if isinstance(e, ast.ListComp):
        return names_in(e.iterable) | (names_in(e.value) - set(e.targets))
    out: set[str] = set()
    for child in children(e):
        out |= names_in(child)
    return out


def children(e: ast.Expr) -> list[ast.Expr]:
    if isinstance(e, ast.BinOp):
        return [e.left, e.right]
    if isinstance(e, ast.UnaryOp):
        return [e.operand]
    if isinstance(e, ast.IfExp):
        return [e.cond, e.then, e.orelse]
    if isinstance(e, ast.Index):
        return [e.value, e.index]
    if isinstance(e, ast.ListExpr | ast.Pipe):
        return list(e.items if isinstance(e, ast.ListExpr) else e.stages)
    if isinstance(e, ast.Call):
        return list(e.args) + [k.value for k in e.kwargs]
    if isinstance(e, ast.ListComp):
        return [e.value, e.iterable]
    return []


def functions_in(e: ast.Expr) -> set[str]:
    out = {e.func} if isinstance(e, ast.Call) else set()
    for child in children(e):
        out |= functions_in(child)
    return out
