"""Guarantee G4: sizes are checked before the work that depends on them; pathological specs are
refused in well under a second, and specs just under a limit still compile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archdsl.compiler import analyse
from archdsl.errors import ArchError
from archdsl.ir.instantiate import MAX_INSTANCES, MAX_REPEAT


def _spec(tmp_path: Path, outer: int, inner: int) -> Path:
    path = tmp_path / "nest.arch"
    path.write_text(
        "arch A {\n  input [4]\n  body = sequential {\n"
        f"    repeat {outer} {{\n      repeat {inner} {{\n        identity()\n      }}\n    }}\n"
        "  }\n}\n"
    )
    return path


@pytest.mark.parametrize(
    ("outer", "inner"), [(5000, 5000), (MAX_REPEAT, MAX_REPEAT), (1, MAX_REPEAT + 1)]
)
def test_nested_repeats_over_the_limit_are_refused_before_unrolling(
    tmp_path: Path, outer: int, inner: int
) -> None:
    start = time.perf_counter()
    with pytest.raises(ArchError) as info:
        analyse(_spec(tmp_path, outer, inner))
    assert info.value.diagnostics[0].code == "E0406"
    assert time.perf_counter() - start < 1.0


def test_instance_limit_boundary(tmp_path: Path) -> None:
    # the sequential member itself plus outer * inner items
    under = MAX_INSTANCES - 1
    assert analyse(_spec(tmp_path, 1, 1)).model.trainable == 0
    with pytest.raises(ArchError):
        analyse(_spec(tmp_path, 2, MAX_INSTANCES // 2))  # exactly the limit plus the container
    result = analyse(_spec(tmp_path, 7, 1000))
    assert len(result.model.instances()) == 7001 < under


def test_nested_comprehensions_are_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.arch"
    path.write_text(
        "arch A {\n  input [4]\n"
        "  let big = [sum([j for j in range(100000)]) for i in range(100000)]\n"
        "  fc = linear(2)\n}\n"
    )
    start = time.perf_counter()
    with pytest.raises(ArchError) as info:
        analyse(path)
    assert info.value.diagnostics[0].code == "E0602"
    assert time.perf_counter() - start < 2.0


def test_budget_is_per_compilation(tmp_path: Path) -> None:
    path = tmp_path / "ok.arch"
    path.write_text(
        "arch A {\n  input [4]\n  let s = sum([j for j in range(90000)])\n  fc = linear(2)\n}\n"
    )
    for _ in range(15):  # 15 x 90,000 elements in total, each compilation under the limit
        analyse(path)
