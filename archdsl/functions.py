"""The built-in spec functions, one registry entry each (like the layer registry).

An entry declares the function's arguments (positional names, how many are required, which may be
given by keyword, or a variadic list), validates its arguments with diagnostics at the offending
argument, evaluates within the bounds of ``archdsl.ir.budget`` (no call can run for long or build
a large value), and says how it is written in generated Python: ``python_name`` gives the
spelling (``math.ceil``), ``python_keywords`` the keywords Python needs to mean the same thing
(``strict=True`` for ``zip``), ``requirements`` the imports and helper functions the generated
module must then contain. Adding a function is one entry here; the resolver and the evaluator
read the registry.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archdsl.errors import ArchError, Span, error
from archdsl.ir.budget import MAX_INT, check_list_length, check_num, spend
from archdsl.syntax import ast

MAX_NDIGITS = 24  # `round(x, n)`: |n| at most this (the longest number literal has 24 digits)


@dataclass(frozen=True)
class Requirements:
    """What a generated module needs for a function: modules to import, helpers to define."""

    imports: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Arg:
    """An evaluated argument and the span of the expression it came from."""

    value: Any
    span: Span


@dataclass(frozen=True)
class Bound:
    """A call's arguments after binding: ``items`` for a variadic function, else ``named``."""

    call: ast.Call
    named: Mapping[str, Arg] = field(default_factory=dict)
    items: tuple[Arg, ...] = ()

    def get(self, name: str) -> Arg | None:
        return self.named.get(name)


@dataclass(frozen=True)
class Function:
    name: str
    summary: str
    impl: Callable[[Bound], Any]
    params: tuple[str, ...] = ()  # positional-or-keyword parameters, in order
    required: int = 0  # how many of ``params`` must be given
    variadic: int | None = None  # minimum number of positional arguments of a variadic function
    python: str = ""  # spelling in generated Python; default: the spec name
    python_keywords: tuple[str, ...] = ()  # extra `name=value` arguments Python needs
    requires: Requirements = Requirements()

    @property
    def signature(self) -> str:
        if self.variadic is not None:
            return f"{self.name}(a, b, ...)"
        shown = [p if i < self.required else f"{p}=..." for i, p in enumerate(self.params)]
        return f"{self.name}({', '.join(shown)})"


# ---- argument checks ---------------------------------------------------------------------


def kind_of(v: Any) -> str:
    """How a diagnostic names a value's type: `this is a list`."""
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
    return "a block" if type(v).__name__ == "BlockRef" else type(v).__name__


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(a: Arg, fn: str) -> int | float:
    if not _is_number(a.value):
        raise error(
            "E0603",
            f"`{fn}` expects a number",
            a.span,
            f"this is {kind_of(a.value)}",
            help=f"see `{FUNCTIONS[fn].signature}`",
        )
    return a.value  # type: ignore[no-any-return]


def _integer(a: Arg, fn: str, what: str) -> int:
    if not _is_int(a.value):
        raise error(
            "E0603",
            f"`{fn}` expects an integer {what}",
            a.span,
            f"this is {kind_of(a.value)}",
            help=f"see `{FUNCTIONS[fn].signature}`",
        )
    return a.value  # type: ignore[no-any-return]


def _list(a: Arg, fn: str) -> tuple[Any, ...]:
    if not isinstance(a.value, tuple):
        raise error(
            "E0603",
            f"`{fn}` expects a list",
            a.span,
            f"this is {kind_of(a.value)}",
            help=f"see `{FUNCTIONS[fn].signature}`",
        )
    return a.value


def _to_int(v: float, b: Bound) -> int:
    try:
        return check_num(int(v), b.call)  # type: ignore[no-any-return]
    except (OverflowError, ValueError):
        raise error("E0602", "value is not finite", b.call.span, f"evaluates to {v}") from None


def _req(b: Bound, name: str) -> Arg:
    a = b.get(name)
    assert a is not None, name  # binding checked the required arguments
    return a


# ---- the functions -----------------------------------------------------------------------


def _extremum(b: Bound) -> Any:
    fn = b.call.func
    if len(b.items) == 1:
        values = _list(b.items[0], fn)
        if not values:
            raise error(
                "E0606",
                f"`{fn}` of an empty list",
                b.items[0].span,
                "this list is empty",
                help=f"give `{fn}` a non-empty list, or two or more numbers",
            )
        for v in values:
            if not _is_number(v):
                raise error(
                    "E0603",
                    f"`{fn}` expects numbers",
                    b.items[0].span,
                    f"this list holds {kind_of(v)}",
                    help=f"`{fn}` compares numbers",
                )
    else:
        values = tuple(_number(a, fn) for a in b.items)
    return min(values) if fn == "min" else max(values)


def _ceil(b: Bound) -> int:
    return _to_int(math.ceil(_number(_req(b, "x"), "ceil")), b)


def _floor(b: Bound) -> int:
    return _to_int(math.floor(_number(_req(b, "x"), "floor")), b)


def _round(b: Bound) -> int | float:
    x = _number(_req(b, "x"), "round")
    nd = b.get("ndigits")
    if nd is None:
        return _to_int(round(x), b)
    n = _integer(nd, "round", "number of digits")
    if not -MAX_NDIGITS <= n <= MAX_NDIGITS:
        raise error(
            "E0606",
            f"`round` takes a number of digits between {-MAX_NDIGITS} and {MAX_NDIGITS}",
            nd.span,
            f"this is {n}",
            help="a channel count or a width needs a few digits at most",
        )
    return check_num(round(x, n), b.call)  # type: ignore[no-any-return]


def _int(b: Bound) -> int:
    a = _req(b, "x")
    if isinstance(a.value, bool):
        return int(a.value)
    return _to_int(_number(a, "int"), b)


def _float(b: Bound) -> float:
    a = _req(b, "x")
    if isinstance(a.value, bool):
        return float(a.value)
    return float(_number(a, "float"))


def _abs(b: Bound) -> int | float:
    return abs(_number(_req(b, "x"), "abs"))


def _len(b: Bound) -> int:
    a = _req(b, "x")
    if not isinstance(a.value, tuple | str):
        raise error(
            "E0603",
            "`len` expects a list or a string",
            a.span,
            f"this is {kind_of(a.value)}",
            help="see `len(x)`",
        )
    return len(a.value)


def _zip(b: Bound) -> tuple[tuple[Any, ...], ...]:
    lists = [_list(a, "zip") for a in b.items]
    first = len(lists[0])
    for a, values in zip(b.items[1:], lists[1:], strict=True):
        if len(values) != first:
            raise error(
                "E0612",
                f"`zip` of lists of different lengths ({', '.join(str(len(v)) for v in lists)})",
                a.span,
                f"this list has {len(values)} element{'s' if len(values) != 1 else ''}",
                secondary=((b.items[0].span, f"the first has {first}"),),
                help="give every list the same length: `zip` never drops entries",
            )
    spend(first, b.call)
    return tuple(zip(*lists, strict=True))


def _range(b: Bound) -> tuple[int, ...]:
    first = _integer(_req(b, "start"), "range", "bound")
    stop = b.get("stop")
    lo, hi = (0, first) if stop is None else (first, _integer(stop, "range", "bound"))
    n = max(0, hi - lo)
    check_list_length(n, b.call)
    spend(n, b.call)
    return tuple(range(lo, hi))


def _sum(b: Bound) -> Any:
    items_arg = _req(b, "items")
    items = _list(items_arg, "sum")
    start = b.get("start")
    if (start is not None and isinstance(start.value, tuple)) or (
        start is None and items and all(isinstance(i, tuple) for i in items)
    ):
        head: tuple[Any, ...] = start.value if start is not None else ()
        for i in items:
            if not isinstance(i, tuple):
                raise error(
                    "E0603",
                    "`sum` of lists expects a list of lists",
                    items_arg.span,
                    f"this list holds {kind_of(i)}",
                    help="see `sum(items, start=...)`",
                )
        total = len(head) + sum(len(i) for i in items)
        check_list_length(total, b.call)
        spend(total, b.call)
        return tuple(itertools.chain(head, *items))
    acc: int | float = 0 if start is None else _number(start, "sum")
    for i in items:
        if not isinstance(i, int | float):
            raise error(
                "E0603",
                "`sum` expects a list of numbers",
                items_arg.span,
                f"this list holds {kind_of(i)}",
                help="see `sum(items, start=...)`",
            )
        acc += i
        if isinstance(acc, int) and abs(acc) > MAX_INT:
            break  # reported below, before the sum gets any larger
    return check_num(acc, b.call)


def _domain(message: str, span: Span, label: str, help: str) -> ArchError:
    return error("E0613", message, span, label, help=help)


def _log(b: Bound) -> float:
    xa = _req(b, "x")
    x = _number(xa, "log")
    if x <= 0:
        raise _domain(
            "`log` of a number that is not positive",
            xa.span,
            f"this is {x}",
            "the logarithm is defined for positive numbers",
        )
    base = b.get("base")
    if base is None:
        return math.log(x)
    k = _number(base, "log")
    if k <= 0 or k == 1:
        raise _domain(
            "`log` to a base that is not positive or is 1",
            base.span,
            f"this is {k}",
            "a logarithm's base is positive and not 1",
        )
    return math.log(x, k)


def power(a: Any, b: Any, node: ast.BinOp) -> int | float:
    """``a ** b`` as Python computes it, refused where Python's result would be huge (before it
    is computed), complex (a negative number to a fractional power) or a division by zero."""
    if a == 0 and b < 0:
        raise _domain(
            "zero to a negative power",
            node.right.span,
            f"this is {b}",
            "a negative power divides by the base, which is zero",
        )
    if a < 0 and isinstance(b, float) and not b.is_integer():
        raise _domain(
            "a negative number to a fractional power",
            node.left.span,
            f"this is {a}",
            "the result would be a complex number",
        )
    if _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
        if b * math.log2(abs(a)) > math.log2(MAX_INT) + 1:
            raise error(
                "E0602",
                "value is too large",
                node.span,
                f"{a} ** {b} is past the limit",
                help=f"the limit is {MAX_INT}",
            )
    try:
        result = a**b
    except OverflowError:
        raise error("E0602", "value is not finite", node.span, f"{a} ** {b} overflows") from None
    return result  # type: ignore[no-any-return]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round channels to a multiple of ``divisor``, never going more than 10% down (MobileNet)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _make_divisible(b: Bound) -> int:
    v = _number(_req(b, "v"), "make_divisible")
    d = b.get("divisor")
    divisor = 8 if d is None else _integer(d, "make_divisible", "divisor")
    if d is not None and divisor < 1:
        raise error(
            "E0606",
            "`make_divisible` needs a positive divisor",
            d.span,
            f"this is {divisor}",
            help="channel counts are rounded to a multiple of a positive number, usually 8",
        )
    m = b.get("min_value")
    min_value = None if m is None else _integer(m, "make_divisible", "minimum")
    return check_num(make_divisible(v, divisor, min_value), b.call)  # type: ignore[no-any-return]


def _entries() -> tuple[Function, ...]:
    x = ("x",)
    return (
        Function("min", "the smallest of some numbers or of a list", _extremum, variadic=1),
        Function("max", "the largest of some numbers or of a list", _extremum, variadic=1),
        Function(
            "ceil",
            "round up to an integer",
            _ceil,
            params=x,
            required=1,
            python="math.ceil",
            requires=Requirements(imports=("math",)),
        ),
        Function(
            "floor",
            "round down to an integer",
            _floor,
            params=x,
            required=1,
            python="math.floor",
            requires=Requirements(imports=("math",)),
        ),
        Function(
            "round",
            "round half to even, to an integer or to `ndigits` digits",
            _round,
            params=("x", "ndigits"),
            required=1,
        ),
        Function(
            "log",
            "the natural logarithm, or to `base`",
            _log,
            params=("x", "base"),
            required=1,
            python="math.log",
            requires=Requirements(imports=("math",)),
        ),
        Function("int", "a number truncated to an integer", _int, params=x, required=1),
        Function("float", "a number as a float", _float, params=x, required=1),
        Function("abs", "the absolute value", _abs, params=x, required=1),
        Function("len", "the length of a list or a string", _len, params=x, required=1),
        Function(
            "zip",
            "rows of lists of the same length",
            _zip,
            variadic=1,
            python_keywords=("strict=True",),
        ),
        Function(
            "range",
            "the integers from `start` (default 0) below `stop`",
            _range,
            params=("start", "stop"),
            required=1,
        ),
        Function(
            "sum",
            "the sum of a list of numbers, or the concatenation of a list of lists",
            _sum,
            params=("items", "start"),
            required=1,
        ),
        Function(
            "make_divisible",
            "channels rounded to a multiple of `divisor`, never more than 10% down",
            _make_divisible,
            params=("v", "divisor", "min_value"),
            required=1,
            requires=Requirements(helpers=("make_divisible",)),
        ),
    )


FUNCTIONS: dict[str, Function] = {f.name: f for f in _entries()}


def get_function(name: str) -> Function | None:
    return FUNCTIONS.get(name)


def _entry(fn: str | Function) -> Function:
    return fn if isinstance(fn, Function) else FUNCTIONS[fn]


def python_name(fn: str | Function) -> str:
    """How generated Python spells the function (``math.ceil`` for ``ceil``)."""
    f = _entry(fn)
    return f.python or f.name


def python_keywords(fn: str | Function) -> tuple[str, ...]:
    """Keyword arguments to append in generated Python (``strict=True`` for ``zip``)."""
    return _entry(fn).python_keywords


def requirements(fn: str | Function) -> Requirements:
    """The imports and helpers a generated module needs to call the function."""
    return _entry(fn).requires


def check_call(f: Function, call: ast.Call) -> None:
    """Check a call's arity and keywords against the entry (needs no values, so the resolver
    runs it); E0606 at the offending argument."""
    if f.variadic is not None:
        if call.kwargs:
            raise _bad(f, f"`{f.name}` takes no keyword arguments", call.kwargs[0].span)
        if len(call.args) < f.variadic:
            raise _bad(f, f"`{f.name}` needs at least {f.variadic} argument", call.span)
        return
    if len(call.args) > len(f.params):
        n = len(f.params)
        raise _bad(
            f,
            f"`{f.name}` takes at most {n} argument{'s' if n != 1 else ''}, {len(call.args)} given",
            call.args[n].span,
            "extra argument",
        )
    given = set(f.params[: len(call.args)])
    for kw in call.kwargs:
        if kw.name not in f.params:
            raise _bad(f, f"`{f.name}` has no argument `{kw.name}`", kw.span, "unknown argument")
        if kw.name in given:
            raise _bad(f, f"argument `{kw.name}` given twice", kw.span, "given again here")
        given.add(kw.name)
    missing = [p for p in f.params[: f.required] if p not in given]
    if missing:
        raise _bad(f, f"missing argument `{missing[0]}` for `{f.name}`", call.span, "incomplete")


def bind(f: Function, call: ast.Call, args: list[Any], kwargs: dict[str, Any]) -> Bound:
    """Bind evaluated arguments to the entry's parameters (after ``check_call``)."""
    check_call(f, call)
    pos = [Arg(v, a.span) for v, a in zip(args, call.args, strict=True)]
    if f.variadic is not None:
        return Bound(call, items=tuple(pos))
    bound: dict[str, Arg] = dict(zip(f.params, pos, strict=False))
    bound.update({kw.name: Arg(kwargs[kw.name], kw.span) for kw in call.kwargs})
    return Bound(call, named=bound)


def _bad(f: Function, message: str, span: Span, label: str = "cannot evaluate") -> ArchError:
    return error("E0606", message, span, label, help=f"the function is `{f.signature}`")


def call(f: Function, call_node: ast.Call, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Evaluate a call of ``f`` on evaluated arguments."""
    return f.impl(bind(f, call_node, args, kwargs))


__all__ = [
    "FUNCTIONS",
    "Function",
    "Requirements",
    "call",
    "check_call",
    "get_function",
    "make_divisible",
    "power",
    "python_keywords",
    "python_name",
    "requirements",
]
