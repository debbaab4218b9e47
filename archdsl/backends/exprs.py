"""IR expressions as Python source: one printer for every backend, which differ only in how
they spell names, block references and run-time channel counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archdsl import functions
from archdsl.errors import error
from archdsl.ir import lowered as L

_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "//": 6, "%": 6,
    "**": 8,
}  # fmt: skip
_ATOM = 9
_NEGATED = {"==": "!=", "!=": "=="}


def _same(name: str) -> str:
    return name


def _no_channels(e: L.OutChannels) -> str:
    raise error("E0903", "internal error: a run-time channel count reached this backend")


@dataclass(frozen=True)
class Spelling:
    """How one backend spells what expressions refer to."""

    var: Callable[[str], str] = _same
    block: Callable[[str], str] = _same
    channels: Callable[[L.OutChannels], str] = _no_channels


PLAIN = Spelling()


def python(e: L.Expr, s: Spelling = PLAIN) -> str:
    return _render(e, s)[0]


def _render(e: L.Expr, s: Spelling) -> tuple[str, int]:
    if isinstance(e, L.Const):
        if isinstance(e.value, bool):
            return ("True" if e.value else "False"), _ATOM
        if isinstance(e.value, int | float):
            return repr(e.value), (_ATOM if e.value >= 0 else 7)
        return repr(e.value), _ATOM
    if isinstance(e, L.Var):
        return s.var(e.name), _ATOM
    if isinstance(e, L.BlockRef):
        return s.block(e.name), _ATOM
    if isinstance(e, L.OutChannels):
        return s.channels(e), _ATOM
    if isinstance(e, L.ListOf):
        return "[" + ", ".join(python(i, s) for i in e.items) + "]", _ATOM
    if isinstance(e, L.Subscript):
        return f"{_wrap(e.value, s, _ATOM)}[{python(e.index, s)}]", _ATOM
    if isinstance(e, L.Slice):
        bounds = [python(b, s) if b is not None else "" for b in (e.start, e.end)]
        if e.step is not None:
            bounds.append(python(e.step, s))
        return f"{_wrap(e.value, s, _ATOM)}[{':'.join(bounds)}]", _ATOM
    if isinstance(e, L.Comprehension):
        bound = set(e.targets)
        inner = Spelling(lambda n: n if n in bound else s.var(n), s.block, s.channels)
        targets = ", ".join(e.targets)
        cond = f" if {_wrap(e.cond, inner, 1)}" if e.cond is not None else ""
        return (
            f"[{python(e.value, inner)} for {targets} in {_wrap(e.iterable, s, 1)}{cond}]",
            _ATOM,
        )
    if isinstance(e, L.Format):
        return format_source(e.texts, [python(v, s) for v in e.values]), _ATOM
    if isinstance(e, L.FunctionCall):
        parts = [python(a, s) for a in e.args]
        parts += [f"{k.name}={python(k.value, s)}" for k in e.kwargs]
        if e.strict:
            parts.append("strict=True")
        func = functions.python_name(e.func)
        return f"{func}({', '.join(parts)})", _ATOM
    if isinstance(e, L.Unary):
        inner = e.operand
        if e.op == "not" and isinstance(inner, L.Binary) and inner.op in _NEGATED:
            # `not a == b` as `a != b` (ruff's SIM201, SIM202)
            return _render(inner.replace(op=_NEGATED[inner.op]), s)
        if e.op == "not":
            return f"not {_wrap(e.operand, s, 3)}", 3
        return f"{e.op}{_wrap(e.operand, s, 7)}", 7
    if isinstance(e, L.Binary) and e.op == "**":  # right-associative, tighter than unary
        return f"{_wrap(e.left, s, _ATOM)} ** {_wrap(e.right, s, 7)}", 8
    if isinstance(e, L.Binary):
        p = _PREC[e.op]
        # comparisons do not chain in the spec language, so nested ones are parenthesised
        left = _wrap(e.left, s, 5 if p == 4 else p)
        right = _wrap(e.right, s, p + 1)
        return f"{left} {e.op} {right}", p
    if isinstance(e, L.Choice):
        then, cond = _wrap(e.then, s, 1), _wrap(e.cond, s, 1)
        return f"{then} if {cond} else {_wrap(e.orelse, s, 0)}", 0
    raise error("E0901", "internal error: cannot render expression")


def format_source(texts: Sequence[str], values: Sequence[str]) -> str:
    """Python for ``texts[0] + str(values[0]) + texts[1] + ...``: an f-string, or ``str()``
    concatenation where a value's source could not stand in one (a quote or a backslash in it:
    Python 3.11's f-strings refuse both)."""
    if not values:
        return repr(texts[0])
    if any(ch in v for v in values for ch in "\\\"'{}#\n"):
        parts = [repr(t) for t in texts[:1] if t]
        for value, text in zip(values, texts[1:], strict=True):
            parts.append(f"str({value})")
            if text:
                parts.append(repr(text))
        return "(" + " + ".join(parts) + ")"
    body = texts[0].replace("{", "{{").replace("}", "}}")
    for value, text in zip(values, texts[1:], strict=True):
        body += "{" + value + "}" + text.replace("{", "{{").replace("}", "}}")
    return 'f"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrap(e: L.Expr, s: Spelling, min_prec: int) -> str:
    text, prec = _render(e, s)
    return f"({text})" if prec < min_prec else text


def default_value(e: L.Expr, s: Spelling = PLAIN) -> str:
    """A parameter default: lists become tuples, which are immutable."""
    if isinstance(e, L.ListOf):
        items = [python(i, s) for i in e.items]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return python(e, s)


def requirements(node: object) -> set[str]:
    """The imports and helpers the built-in functions called below ``node`` need."""
    out: set[str] = set()
    for n in L.walk(node):
        if isinstance(n, L.FunctionCall):
            needs = functions.requirements(n.func)
            out |= set(needs.imports) | set(needs.helpers)
    return out
