"""Frozen records: the lowered IR's nodes and the layers' argument schemas.

A record class declares its fields as annotations, in order, after its bases'; a default is a
plain value or ``field(default, ge=..., ...)`` with bounds. Constructing a record checks only
that every required field is given and no unknown one is (the compiler builds them from values
it has checked); lists become tuples. Validation of data from outside, JSON Schema and the
wording of validation errors come from pydantic models derived from the same declarations on
first use (``archdsl.validation``): pydantic's model machinery and the creation of a model
class per record cost a cold compile more than everything the compiler itself does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

_R = TypeVar("_R", bound="Record")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class FieldSpec:
    """A field's default (``REQUIRED``: none) and the bounds validation checks, pydantic's
    ``Field`` arguments of the same names."""

    __slots__ = ("default", "ge", "gt", "le", "lt", "min_length", "max_length")

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        lt: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
    ) -> None:
        self.default = default
        self.ge, self.gt, self.le, self.lt = ge, gt, le, lt
        self.min_length, self.max_length = min_length, max_length

    def bounds(self) -> dict[str, Any]:
        """The bounds set, by name."""
        return {n: getattr(self, n) for n in self.__slots__[1:] if getattr(self, n) is not None}


def field(default: Any = REQUIRED, **bounds: Any) -> Any:
    """A field's default with bounds (``ge``, ``gt``, ``le``, ``lt``, ``min_length``,
    ``max_length``)."""
    return FieldSpec(default, **bounds)


class Before:
    """``Annotated`` metadata: a function validation applies to the value before its type is
    checked (it raises ``pydantic_core.PydanticCustomError`` to refuse it)."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic import BeforeValidator

        return BeforeValidator(self.func).__get_pydantic_core_schema__(source, handler)


class FrozenRecordError(AttributeError):
    """A record was assigned to: records are immutable."""


class Record:
    """The base of record classes; see the module's docstring."""

    # per class: field names in order, their annotations as written, their specs
    _fields: ClassVar[tuple[str, ...]] = ()
    _annotations: ClassVar[dict[str, str]] = {}
    _specs: ClassVar[dict[str, FieldSpec]] = {}
    _plan: ClassVar[tuple[tuple[str, Any], ...]] = ()  # (name, default) in order
    # pydantic settings for the derived model beyond frozen and extra="forbid" (strict=True)
    validation_config: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = [
            n
            for n, a in cls.__dict__.get("__annotations__", {}).items()
            if not str(a).startswith("ClassVar")
        ]
        annotations = {**cls._annotations}
        specs = {**cls._specs}
        for name in own:
            annotations[name] = cls.__dict__["__annotations__"][name]
            value = cls.__dict__.get(name, REQUIRED)
            spec = value if isinstance(value, FieldSpec) else FieldSpec(value)
            specs[name] = spec
            if spec.default is REQUIRED:
                if name in cls.__dict__:
                    delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        cls._fields = tuple(dict.fromkeys((*cls._fields, *own)))
        cls._annotations = annotations
        cls._specs = specs
        cls._plan = tuple((n, specs[n].default) for n in cls._fields)

    def __init__(self, **values: Any) -> None:
        data = {}
        for name, default in self._plan:
            if name in values:
                value = values[name]
                data[name] = _frozen(value) if type(value) is list else value
            elif default is REQUIRED:
                raise TypeError(f"{type(self).__name__} needs `{name}`")
            else:
                data[name] = default
        if len(values) > len(data) or not values.keys() <= data.keys():
            unknown = sorted(set(values) - set(data))
            raise TypeError(f"{type(self).__name__} has no field {', '.join(unknown)}")
        object.__setattr__(self, "__dict__", data)

    @classmethod
    def unchecked(cls: type[_R], **values: Any) -> _R:
        """A record of ``values`` and the defaults of the rest, required fields left unset
        (a shape rule reading only some arguments)."""
        out = cls.__new__(cls)
        data = {n: d for n, d in cls._plan if d is not REQUIRED}
        data.update(values)
        object.__setattr__(out, "__dict__", data)
        return out

    @classmethod
    def default(cls, name: str) -> Any:
        """Field ``name``'s default (``REQUIRED``: none)."""
        return cls._specs[name].default

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes``."""
        return type(self)(**{**self.__dict__, **changes})

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self.__dict__ == other.__dict__
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.__class__, *self.__dict__.values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in self.__dict__.items())
        return f"{type(self).__name__}({shown})"


def _frozen(value: Any) -> Any:
    """Lists as the tuples records hold (validation converts them too)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def to_data(value: Any) -> Any:
    """A record, or a tuple of them, as JSON-ready data: records as objects of their fields in
    order, tuples as lists."""
    if isinstance(value, Record):
        return {n: to_data(v) for n, v in value.__dict__.items()}
    if isinstance(value, tuple):
        return [to_data(v) for v in value]
    return value
