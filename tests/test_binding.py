"""Layer arguments bound without pydantic (archdsl/layers/binding.py): whatever the fast path
accepts, the pydantic model derived from the schema (archdsl/validation.py) accepts as the same
record; the rest goes to pydantic."""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Any

import annotated_types
import pytest
from pydantic import ValidationError

from archdsl.layers.binding import _PLANS, _construct, _plan, bind
from archdsl.layers.registry import LayerArgs, all_layers
from archdsl.records import REQUIRED, Before, field
from archdsl.validation import validate

# Values an argument may have after evaluation, and a few it may not.
_VALUES: list[Any] = [
    *(-1, 0, 1, 2, 3, 7, 64, 512, 513, 1024, 1025, 1_000_000, 1_000_001, 10**7, 10**7 + 1),
    *(0.0, -0.0, 1e-5, 0.1, 0.5, 0.999, 1.0, 1.5, -0.5, math.inf, -math.inf, math.nan),
    True,
    False,
    None,
    "",
    "same",
    (1, 1),
    (3, 5),
    (0, 1),
    (1, 0),
    (1025, 1),
    (1, 2, 3),
    (1,),
    (),
    (1.0, 2),
    (True, 1),
    (2, 0, 1),
    tuple(range(9)),
    "none",
    "tanh",
    [1, 2],
    {"a": 1},
]
_SCHEMAS = sorted({layer.schema for layer in all_layers().values()}, key=lambda s: s.__name__)


def _required(schema: type[LayerArgs]) -> dict[str, Any]:
    """A valid value of each required field: 3, or (3, 1) for a tuple of any length."""
    return {
        n: (3, 1) if schema._annotations[n] == "tuple[int, ...]" else 3
        for n in schema._fields
        if schema.default(n) is REQUIRED
    }


def _same(schema: type[LayerArgs], values: dict[str, Any]) -> bool:
    """Compare the fast path with pydantic for one call; True if the fast path took it."""
    plan = _plan(schema)
    fast = _construct(schema, plan, values) if plan is not None else None
    try:
        slow = validate(schema, values)
    except ValidationError:
        assert fast is None, (schema.__name__, values)
        return False
    if fast is None:
        return False
    assert fast == slow, (schema.__name__, values)
    assert repr(fast) == repr(slow)
    assert type(slow) is schema
    for name in schema._fields:
        assert type(getattr(fast, name)) is type(getattr(slow, name)), (schema.__name__, name)
    assert hash(fast) == hash(slow)
    return True


@pytest.mark.parametrize("schema", _SCHEMAS, ids=lambda s: s.__name__)
def test_the_fast_path_agrees_with_pydantic(schema: type[LayerArgs]) -> None:
    base = _required(schema)
    taken = 0
    taken += _same(schema, base)
    taken += _same(schema, {})
    taken += _same(schema, {**base, "unknown": 1})
    for name in schema._fields:
        for value in _VALUES:
            taken += _same(schema, {**base, name: value})
    names = list(schema._fields)
    for a, b in itertools.combinations(names, 2):
        for va, vb in itertools.product(_VALUES[:15], repeat=2):
            taken += _same(schema, {**base, a: va, b: vb})
    assert taken > 0 or not base  # the plainly valid calls do take it


def test_every_registry_schema_has_a_fast_path() -> None:
    """A schema the fast path does not understand is still correct (pydantic validates every
    call), but slower: a new kind of field is a reason to extend binding.py."""
    assert [s.__name__ for s in _SCHEMAS if _plan(s) is None] == []


def test_bind_gives_pydantic_errors() -> None:
    conv = all_layers()["conv2d"].schema
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        bind(conv, {"out": 0})
    with pytest.raises(ValidationError, match="Field required"):
        bind(conv, {})
    with pytest.raises(ValidationError, match="Extra inputs"):
        bind(conv, {"out": 1, "colour": 2})
    assert bind(conv, {"out": 8, "kernel": (3, 1)}) == conv(out=8, kernel=(3, 1))


class _Lax(LayerArgs):
    validation_config = {"strict": False}
    s: str = ""


class _Unknown(LayerArgs):
    n: Annotated[int, annotated_types.MultipleOf(2)] = 2


class _Both(LayerArgs):
    m: Annotated[int, Before(lambda v: v)] = field(1, ge=1)


@pytest.mark.parametrize("schema", [_Lax, _Unknown, _Both])
def test_schemas_beyond_plain_fields_go_to_pydantic(schema: type[LayerArgs]) -> None:
    assert _plan(schema) is None
    _PLANS.pop(schema, None)
    assert bind(schema, {}) == schema()


def test_what_pydantic_declares_beyond_records_still_applies() -> None:
    with pytest.raises(ValidationError, match="multiple of 2"):
        bind(_Unknown, {"n": 3})
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        bind(_Both, {"m": 0})
    assert bind(_Lax, {"s": "x"}) == _Lax(s="x")
