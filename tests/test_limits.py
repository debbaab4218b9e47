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


# ---- every limit at its maximum: accepted, within 10 s and 1 GB for either backend ------------

_HEAD = "arch Net {\n  input [8, 8, 8]\n"
_LINE = "    conv2d(8, kernel=1)\n"


def _at_the_limit(name: str, tmp_path: Path) -> Path:
    """A spec that takes limit ``name`` to its maximum, still accepted."""
    from archdsl.ir.budget import MAX_ELEMENTS, MAX_LIST
    from archdsl.ir.instantiate import MAX_DEPTH
    from archdsl.source import MAX_SOURCE_BYTES, MAX_TOTAL_SOURCE_BYTES

    def flat(size: int, tail: str) -> str:
        head = _HEAD + "  body = sequential {\n"
        end = "  }\n" + tail + "}\n"
        return head + _LINE * ((size - len(head) - len(end)) // len(_LINE)) + end

    root = tmp_path / "spec.arch"
    if name == "instances":  # nested repeats: the container and the arch count too
        outer = 200
        inner = (MAX_INSTANCES - 2) // outer
        root.write_text(
            _HEAD
            + f"  body = sequential {{\n    repeat {outer} {{\n      repeat {inner} {{\n"
            + _LINE.replace("    ", "        ")
            + "      }\n    }\n  }\n  forward: body\n}\n"
        )
    elif name == "file_size":  # written-out layers up to the byte limit
        root.write_text(flat(MAX_SOURCE_BYTES, "  forward: body\n"))
    elif name == "total_source":  # the root and an import, together at the limit
        rest = MAX_TOTAL_SOURCE_BYTES - MAX_SOURCE_BYTES
        block = "block Lib {\n  c = conv2d(8, kernel=1)\n  forward: c\n}\n"
        (tmp_path / "lib.arch").write_text(block + "#" * (rest - len(block) - 2) + "\n")
        imported = 'import "lib.arch"\n\n'
        tail = "  lib = Lib()\n  forward: body -> lib\n"
        root.write_text(imported + flat(MAX_SOURCE_BYTES - len(imported), tail))
    elif name == "list_elements":  # lists built by expressions up to the element budget
        lets = "".join(
            f"  let l{i} = range({MAX_LIST})\n" for i in range(MAX_ELEMENTS // MAX_LIST - 1)
        )
        root.write_text(_HEAD + lets + "  c = conv2d(8, kernel=1)\n  forward: c\n}\n")
    elif name == "block_depth":
        blocks = "block B0 {\n  c = conv2d(8, kernel=1)\n  forward: c\n}\n" + "".join(
            f"block B{i} {{\n  inner = B{i - 1}()\n  forward: inner\n}}\n"
            for i in range(1, MAX_DEPTH - 1)
        )
        root.write_text(blocks + _HEAD + f"  b = B{MAX_DEPTH - 2}()\n  forward: b\n}}\n")
    return root


# The peak RSS of this process alone: ru_maxrss would include the parent's at fork (the test
# session holds torch and TensorFlow), VmHWM is the exec'd process's own high-water mark.
_RUN = """
import sys, time
from archdsl.cli import main
sys.argv = ["archdsl", "compile", sys.argv[1], "--backend", sys.argv[2], "-o", sys.argv[3]]
start = time.perf_counter()
code = 0
try:
    main()
except SystemExit as e:
    code = e.code
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(code, time.perf_counter() - start, status)
"""


@pytest.mark.framework  # compiler only, but seconds per case
@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.parametrize(
    "limit", ["instances", "file_size", "total_source", "list_elements", "block_depth"]
)
def test_each_limit_at_its_maximum_compiles_in_10_s_and_1_gb(
    limit: str, backend: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    spec = _at_the_limit(limit, tmp_path)
    out = tmp_path / "out.py"
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(spec), backend, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    code, seconds, rss_kb = proc.stdout.split()[-3:]
    assert code in ("0", "None"), proc.stderr[-2000:]
    assert out.stat().st_size > 0
    assert float(seconds) < 10, f"{limit} at its maximum took {float(seconds):.1f} s"
    assert int(rss_kb) < 1024 * 1024, f"{limit} at its maximum used {int(rss_kb) // 1024} MB"
