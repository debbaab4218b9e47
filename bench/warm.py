"""Warm throughput in one process, per stage: parse, resolve, infer, lower, emit, format."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.common import SPECS, stats

SPECS_MEASURED = ("lenet5", "resnet50", "resnet152", "efficientnet_b7")
STAGES = ("parse", "resolve", "infer", "lower", "emit torch", "format torch", "emit keras")


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def stage_times(path: str) -> dict[str, float]:
    """One pass of the pipeline over ``path``, each stage timed. ``parse`` parses every file the
    spec reads; ``resolve`` is loading the program (reading, parsing, resolving) minus that."""
    from archdsl import compiler
    from archdsl.backends.keras import print_keras
    from archdsl.backends.torch import print_torch
    from archdsl.formatting import format_python
    from archdsl.ir.instantiate import infer
    from archdsl.ir.program import load_program
    from archdsl.syntax.parser import parse

    t_load, program = _time(lambda: load_program(path))
    t_parse = sum(_time(lambda s=src: parse(s))[0] for src in program.sources.values())
    t_select, sel = _time(lambda: compiler.select(program, None, {}))
    t_infer, model = _time(lambda: infer(program, sel.arch, sel.values, sel.spans))
    t_lower, lowered = _time(lambda: compiler._lower(program, sel, model))
    t_torch, text = _time(lambda: print_torch(lowered))
    t_format, _ = _time(lambda: format_python(text))
    t_keras, _ = _time(lambda: print_keras(lowered))
    return {
        "parse": t_parse,
        "resolve": max(0.0, t_load - t_parse),
        "infer": t_select + t_infer,
        "lower": t_lower,
        "emit torch": t_torch,
        "format torch": t_format,
        "emit keras": t_keras,
    }


def run(quick: bool) -> dict[str, Any]:
    specs = ("lenet5", "resnet50") if quick else SPECS_MEASURED
    repeats = 1 if quick else 9
    for name in specs:  # warm-up: parser, templates and imports
        stage_times(str(SPECS / f"{name}.arch"))
    samples: dict[str, dict[str, list[float]]] = {n: {s: [] for s in STAGES} for n in specs}
    for _ in range(repeats):
        for name in specs:
            for stage, t in stage_times(str(SPECS / f"{name}.arch")).items():
                samples[name][stage].append(t)
    out: dict[str, Any] = {}
    for name in specs:
        figs = {stage: stats(s) for stage, s in samples[name].items()}
        total = sum(f["median"] for f in figs.values())
        out[name] = {"stages": figs, "total_median": total, "per_second": 1 / total}
    return {"method": f"in one process after a warm-up, {repeats} rounds interleaved", "specs": out}


def markdown(result: dict[str, Any]) -> str:
    head = "| spec | " + " | ".join(STAGES) + " | total ms | specs/s |"
    lines = [head, "|---|" + "---:|" * (len(STAGES) + 2)]
    for name, fig in result["specs"].items():
        cells = " | ".join(f"{fig['stages'][s]['median'] * 1000:.1f}" for s in STAGES)
        lines.append(
            f"| {name} | {cells} | {fig['total_median'] * 1000:.1f} | {fig['per_second']:.1f} |"
        )
    return "\n".join(lines)
