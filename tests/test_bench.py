"""The benchmark runs (`python -m bench --quick`), so it cannot rot: every section writes its
tables and figures, and the figures hold together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.common import fit_exponent, interleave, stats
from tests.helpers import ROOT


def _bench(tmp_path: Path, sections: str) -> tuple[dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--sections", sections, "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    return results, (tmp_path / "report.md").read_text(encoding="utf-8")


def test_helpers() -> None:
    assert fit_exponent([1_000, 10_000, 100_000], [0.1, 1.0, 10.0]) == pytest.approx(1.0)
    assert fit_exponent([10, 100], [1.0, 100.0]) == pytest.approx(2.0)
    s = stats([3.0, 1.0, 2.0])
    assert (s["median"], s["min"], s["max"], s["n"]) == (2.0, 1.0, 3.0, 3)
    order: list[str] = []
    samples = interleave(
        {"a": lambda: order.append("a") or 1.0, "b": lambda: order.append("b") or 2.0}, 2, warmup=1
    )  # noqa: E501
    assert order == ["a", "b"] * 3 and samples == {"a": [1.0, 1.0], "b": [2.0, 2.0]}


def test_compiler_sections_quick(tmp_path: Path) -> None:
    results, report = _bench(tmp_path, "cold,warm,scaling")
    sections = results["sections"]
    cold = sections["cold"]["commands"]
    assert cold["import lark, pydantic, jinja2, click"]["vs_floor"] == 1.0
    assert "archdsl compile specs/resnet152.arch" in cold
    for fig in sections["warm"]["specs"].values():
        assert set(fig["stages"]) >= {"parse", "resolve", "infer", "lower", "emit torch"}
    for family in sections["scaling"]["families"].values():
        assert all("time" in row and row["peak_mb"] > 0 for row in family["rows"])
        assert family["exponent"] is not None
    for title in ("Cold command-line latency", "Warm throughput", "Scaling"):
        assert f"## {title}" in report
    assert results["machine"]["date"] in report


def _framework_sections_quick(tmp_path: Path) -> None:
    results, report = _bench(tmp_path, "summary,torch,keras")
    sections = results["sections"]
    for fig in sections["summary"]["models"].values():
        assert fig["totals_equal"], (fig["archdsl_totals"], fig["torchinfo_totals"])
        assert fig["in_process_speedup"] > 1
    for fig in sections["torch"]["models"].values():
        assert fig["max_abs_diff"] < 1e-3 and fig["ratio"] > 0
    for fig in sections["keras"]["models"].values():
        assert fig["trainable"][0] == fig["trainable"][1]
    assert "keras.applications" in report


# The framework sections start three processes that import torch, torchvision and TensorFlow
# (half a minute): in the long tier (ARCHDSL_LONG=1, README: Development), not in CI.
if os.environ.get("ARCHDSL_LONG"):
    test_framework_sections_quick = pytest.mark.framework(_framework_sections_quick)
