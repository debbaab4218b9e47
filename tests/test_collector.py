"""The collector runs rarely during a compilation and as the caller had it afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from archdsl import compiler
from archdsl.collector import RARELY, rarely
from tests.helpers import SPECS


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[None]:
    old = gc.get_threshold()
    yield
    gc.set_threshold(*old)


def test_a_compilation_raises_the_thresholds_and_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.set_threshold(700, 10, 10)
    seen = []
    infer = compiler.infer

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold())
        return infer(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compiler, "infer", spy)
    compiler.compile_spec(SPECS / "lenet5.arch", "torch")
    assert seen == [RARELY]
    assert gc.get_threshold() == (700, 10, 10)


def test_higher_thresholds_and_collection_switched_off_are_kept() -> None:
    gc.set_threshold(500_000, 5, 5000)
    with rarely():
        assert gc.get_threshold() == (500_000, 50, 5000)
    gc.set_threshold(0, 10, 10)
    with rarely():
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)
