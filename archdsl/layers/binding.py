"""Binding a layer's argument values to its schema, without building pydantic's validator when
the values are plainly valid.

Building a schema's validator costs a cold process about 30 ms for the first (pydantic loads its
plugins: every installed distribution's entry points) and a few for each other, and nearly every
layer call of a spec gives exact ints, floats, bools and sizes inside their ranges. ``bind``
checks such values itself against what the schema declares (strict types, ``Ge``/``Gt``/``Le``/
``Lt`` bounds, size validators) and constructs the model directly; anything it does not
recognise, in the values or in the schema, goes to pydantic, which validates it and words any
error as before. ``tests/test_binding.py`` checks that whatever it accepts, pydantic accepts as
the same model.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

import annotated_types as at
from pydantic import BeforeValidator
from pydantic_core import PydanticUndefined

from archdsl.layers.registry import LayerArgs

# A field's check: the value to store, or _REFUSE to leave the whole call to pydantic.
_REFUSE: Any = object()
_Check = Callable[[Any], Any]
_BOUNDS: dict[type, Callable[[Any, Any], bool]] = {
    at.Ge: lambda v, b: v >= b.ge,
    at.Gt: lambda v, b: v > b.gt,
    at.Le: lambda v, b: v <= b.le,
    at.Lt: lambda v, b: v < b.lt,
}
_EXACT = (int, float, bool, str)
_LENGTHS: dict[type, Callable[[Any, Any], bool]] = {
    at.MinLen: lambda v, b: len(v) >= b.min_length,
    at.MaxLen: lambda v, b: len(v) <= b.max_length,
}
# The field types bounds are checked on here (pydantic applies them to the number, not to None).
_NUMBERS = (int, float, int | None, float | None)
# Settings of a schema's model_config the checks here account for (LayerArgs sets these).
_CONFIG = frozenset({"extra", "frozen", "strict", "defer_build"})


class _Plan:
    """A schema's fields in order, each with its default (PydanticUndefined: required) and its
    check."""

    def __init__(self, fields: list[tuple[str, Any, _Check]]) -> None:
        self.fields = fields
        self.names = {name for name, _, _ in fields}


_PLANS: dict[type[LayerArgs], _Plan | None] = {}  # None: every call goes to pydantic


def bind(schema: type[LayerArgs], values: dict[str, Any]) -> LayerArgs:
    """``schema(**values)``: the same model, or the same ``ValidationError``."""
    try:
        plan = _PLANS[schema]
    except KeyError:
        plan = _PLANS[schema] = _plan(schema)
    if plan is not None:
        bound = _construct(schema, plan, values)
        if bound is not None:
            return bound
    return schema(**values)


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
        elif default is PydanticUndefined:
            return None  # missing: pydantic's error
        else:
            out[name] = default
    return schema.model_construct(_fields_set=set(values), **out)


def _plan(schema: type[LayerArgs]) -> _Plan | None:
    """How to check each field of ``schema``; None if the schema declares anything beyond plain
    fields, so that every call goes to pydantic."""
    config = schema.model_config
    if (
        not _CONFIG.issuperset(config)
        or config.get("strict") is not True
        or config.get("extra") != "forbid"
        or schema.__pydantic_root_model__
        or schema.__pydantic_post_init__ is not None
        or schema.__private_attributes__
    ):
        return None
    decorators = schema.__pydantic_decorators__
    if (
        decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
    ):
        return None
    fields = []
    for name, info in schema.model_fields.items():
        if (
            info.default_factory is not None
            or info.alias is not None
            or info.validation_alias is not None
            or info.validate_default
        ):
            return None
        check = _field_check(info.annotation, info.metadata)
        if check is None:
            return None
        fields.append((name, info.default, check))
    return _Plan(fields)


def _field_check(annotation: Any, metadata: list[Any]) -> _Check | None:
    """The check of one field, from its type and pydantic's metadata (bounds, a validator run
    before the type); None for anything else."""
    before: list[Callable[[Any], Any]] = []
    bounds: list[tuple[Callable[[Any, Any], bool], Any]] = []
    lengths: list[tuple[Callable[[Any, Any], bool], Any]] = []
    for item in metadata:
        if isinstance(item, BeforeValidator):
            if getattr(item, "json_schema_input_type", PydanticUndefined) is not PydanticUndefined:
                return None
            before.append(item.func)  # type: ignore[arg-type]
        elif type(item) in _BOUNDS:
            bounds.append((_BOUNDS[type(item)], item))
        elif type(item) in _LENGTHS:
            lengths.append((_LENGTHS[type(item)], item))
        else:
            return None
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
