"""Binding a layer's argument values to its schema, without pydantic when the values are plainly
valid.

Deriving a schema's pydantic model and building its validator costs a cold process tens of
milliseconds (pydantic's model machinery, then its plugins: every installed distribution's entry
points), and nearly every layer call of a spec gives exact ints, floats, bools and sizes inside
their ranges. ``bind`` checks such values itself against what the schema declares (its types,
bounds and ``Before`` functions) and constructs the record directly; anything it does not
recognise, in the values or in the schema, goes to pydantic (``archdsl.validation``), which
validates it and words any error. ``tests/test_binding.py`` checks that whatever it accepts,
pydantic accepts as the same record.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

from archdsl.layers.registry import LayerArgs
from archdsl.records import REQUIRED, Before

# A field's check: the value to store, or _REFUSE to leave the whole call to pydantic.
_REFUSE: Any = object()
_Check = Callable[[Any], Any]
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "ge": lambda v, b: v >= b,
    "gt": lambda v, b: v > b,
    "le": lambda v, b: v <= b,
    "lt": lambda v, b: v < b,
}
_LENGTHS: dict[str, Callable[[Any, Any], bool]] = {
    "min_length": lambda v, b: len(v) >= b,
    "max_length": lambda v, b: len(v) <= b,
}
_EXACT = (int, float, bool, str)
# The field types bounds are checked on here (pydantic applies them to the number, not to None).
_NUMBERS = (int, float, int | None, float | None)
# The validation settings the checks here account for (LayerArgs's).
_CONFIG = {"strict": True}


class _Plan:
    """A schema's fields in order, each with its default (REQUIRED: none) and its check."""

    def __init__(self, fields: list[tuple[str, Any, _Check]]) -> None:
        self.fields = fields
        self.names = {name for name, _, _ in fields}


_PLANS: dict[type[LayerArgs], _Plan | None] = {}  # None: every call goes to pydantic


def bind(schema: type[LayerArgs], values: dict[str, Any]) -> LayerArgs:
    """``values`` validated as a ``schema``: the record, or pydantic's ``ValidationError``."""
    try:
        plan = _PLANS[schema]
    except KeyError:
        plan = _PLANS[schema] = _plan(schema)
    if plan is not None:
        bound = _construct(schema, plan, values)
        if bound is not None:
            return bound
    from archdsl.validation import validate

    out = validate(schema, values)
    assert isinstance(out, schema)
    return out


def _construct(schema: type[LayerArgs], plan: _Plan, values: dict[str, Any]) -> LayerArgs | None:
    if not plan.names.issuperset(values):
        return None  # an unknown argument: pydantic's error
    out: dict[str, Any] = {}
    for name, default, check in plan.fields:
        if name in values:
            value = check(values[name])
            if value is _REFUSE:
                return None
            out[name] = value
        elif default is REQUIRED:
            return None  # missing: pydantic's error
        else:
            out[name] = default
    return schema(**out)


def _plan(schema: type[LayerArgs]) -> _Plan | None:
    """How to check each field of ``schema``; None if the schema declares anything beyond plain
    fields, so that every call goes to pydantic."""
    if schema.validation_config != _CONFIG:
        return None
    hints = typing.get_type_hints(schema, include_extras=True)
    fields = []
    for name in schema._fields:
        spec = schema._specs[name]
        annotation, metadata = hints[name], ()
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata = tuple(extra)
        check = _field_check(annotation, metadata, spec.bounds())
        if check is None:
            return None
        fields.append((name, spec.default, check))
    return _Plan(fields)


def _field_check(
    annotation: Any, metadata: tuple[Any, ...], declared: dict[str, Any]
) -> _Check | None:
    """The check of one field, from its type, its bounds and its ``Before`` functions; None for
    anything else."""
    before = [item.func for item in metadata if type(item) is Before]
    if len(before) != len(metadata) or not declared.keys() <= {*_BOUNDS, *_LENGTHS}:
        return None
    bounds = [(_BOUNDS[n], b) for n, b in declared.items() if n in _BOUNDS]
    lengths = [(_LENGTHS[n], b) for n, b in declared.items() if n in _LENGTHS]
    if lengths:  # a tuple of ints of any length within bounds (a permutation, a tensor shape)
        if before or bounds or annotation != tuple[int, ...]:
            return None

        def sized(value: Any) -> Any:
            ints = type(value) is tuple and all(type(i) is int for i in value)
            if not ints or not all(test(value, bound) for test, bound in lengths):
                return _REFUSE
            return value

        return sized
    if bounds and annotation not in _NUMBERS:
        return None  # bounds on a union or a list: left to pydantic
    kind = _type_check(annotation, bounded=bool(bounds))
    if kind is None or (bounds and before):
        return None

    def check(value: Any) -> Any:
        try:
            for func in before:
                value = func(value)
        except Exception:  # noqa: BLE001 - pydantic runs it again and reports its error
            return _REFUSE
        if not kind(value):
            return _REFUSE
        if value is not None:
            for test, bound in bounds:
                if not test(value, bound):
                    return _REFUSE
        return value

    return check


def _type_check(annotation: Any, bounded: bool) -> Callable[[Any], bool] | None:
    """Whether a value is, exactly, of the type pydantic's strict mode validates ``annotation``
    as, unchanged: ``int``, ``float``, ``bool``, ``str``, ``tuple[int, int]``, a ``Literal`` of
    strings, unions of these and ``X | None``. Bounds apply to scalars only."""
    if annotation in _EXACT:
        return lambda v, t=annotation: type(v) is t
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal and not bounded:
        if not all(type(a) is str for a in args):
            return None
        return lambda v: type(v) is str and v in args
    if origin is tuple and not bounded:
        if not args or Ellipsis in args or any(a not in _EXACT for a in args):
            return None
        return lambda v: (
            type(v) is tuple
            and len(v) == len(args)
            and all(type(i) is t for i, t in zip(v, args, strict=True))
        )
    if origin in (types.UnionType, typing.Union):
        if type(None) in args:
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1 or rest[0] not in _EXACT:
                return None
            inner = rest[0]
            return lambda v: v is None or type(v) is inner
        if bounded:
            return None
        checks = [_type_check(a, bounded=False) for a in args]
        if any(c is None for c in checks) or sum(a in (int, bool) for a in args) > 1:
            return None
        return lambda v: any(c(v) for c in checks)  # type: ignore[misc]
    return None
