"""Validation of records (``archdsl.records``) by pydantic models derived from their declarations.

Made on first use, once per module of record classes: each record class gets a frozen pydantic
model with its fields, defaults, bounds and ``Before`` functions, and the pydantic settings it
names (``validation_config``); a module-level union of records whose members all have a
``kind`` literal (the IR's ``Expr``, ``Stmt``, ``Flow``) is a discriminated union. What is
validated comes back as the record classes themselves, so the compiler never sees a pydantic
model: ``validate`` and ``validate_json`` raise pydantic's ``ValidationError`` for what they
refuse, ``json_schema`` is pydantic's JSON Schema.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

from archdsl.records import REQUIRED, Record

_MODELS: dict[type[Record], Any] = {}
_RECORDS: dict[type, type[Record]] = {}  # a derived model's record class


def validate(cls: type[Record], data: dict[str, Any]) -> Record:
    """``data`` validated as a ``cls``."""
    return _to_record(model(cls).model_validate(data))


def validate_json(cls: type[Record], text: str | bytes) -> Record:
    """JSON text validated as a ``cls``."""
    return _to_record(model(cls).model_validate_json(text))


def json_schema(cls: type[Record]) -> dict[str, Any]:
    out: dict[str, Any] = model(cls).model_json_schema()
    return out


def model(cls: type[Record]) -> Any:
    """The pydantic model derived from ``cls``."""
    if cls not in _MODELS:
        _derive(cls)
    return _MODELS[cls]


def _derive(cls: type[Record]) -> None:
    import pydantic

    module = sys.modules[cls.__module__]
    scope = vars(module)
    records = [
        v
        for v in scope.values()
        if isinstance(v, type) and issubclass(v, Record) and v.__module__ == module.__name__
    ]
    if cls not in records:
        records.append(cls)
    made = {r: _create(pydantic, r) for r in records if r not in _MODELS}
    models = {**_MODELS, **made}
    namespace = dict(scope)
    namespace.update((r.__name__, m) for r, m in made.items())
    for name, value in scope.items():
        members = _union_members(value)
        if members and all(m in models for m in members):
            union = typing.Union[tuple(models[m] for m in members)]  # noqa: UP007
            if all("kind" in m._fields and m.default("kind") is not REQUIRED for m in members):
                union = typing.Annotated[union, pydantic.Field(discriminator="kind")]
            namespace[name] = union
    for r, m in made.items():
        m.model_rebuild(force=True, _types_namespace=namespace)
        _MODELS[r] = m
        _RECORDS[m] = r


def _create(pydantic: Any, _record: type[Record]) -> Any:
    """The pydantic model of ``_record``, its annotations unresolved (the names this function
    sees are those of any model pydantic makes in it: none a spec's type could mean)."""
    _fields = {
        n: (
            _record._annotations[n],
            pydantic.Field(
                ... if _record._specs[n].default is REQUIRED else _record._specs[n].default,
                **_record._specs[n].bounds(),
            ),
        )
        for n in _record._fields
    }
    return pydantic.create_model(
        _record.__name__,
        __config__=pydantic.ConfigDict(
            frozen=True, extra="forbid", defer_build=True, **_record.validation_config
        ),
        __doc__=_record.__doc__,
        __module__=__name__,
        **_fields,
    )


def _union_members(value: Any) -> tuple[type[Record], ...]:
    """The record classes a module-level union alias joins, if it is one of records only."""
    if typing.get_origin(value) not in (types.UnionType, typing.Union):
        return ()
    args = typing.get_args(value)
    if all(isinstance(a, type) and issubclass(a, Record) for a in args):
        return args
    return ()


def _to_record(value: Any) -> Any:
    record = _RECORDS.get(type(value))
    if record is not None:
        return record(**{n: _to_record(getattr(value, n)) for n in record._fields})
    if isinstance(value, tuple):
        return tuple(_to_record(v) for v in value)
    return value
