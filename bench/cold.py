"""Cold command-line latency: whole processes, next to the interpreter alone and to the import
of the compiler's dependencies (the floor a Python tool built on them cannot go below)."""

from __future__ import annotations

import sys
from typing import Any

from bench.common import CLI, SPECS, interleave, ratio, run_process, stats

SPECS_MEASURED = ("lenet5", "resnet50", "resnet152", "efficientnet_b7")
BASELINES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import lark, pydantic, jinja2, click": [
        sys.executable,
        "-c",
        "import lark, pydantic, jinja2, click",
    ],
}
FLOOR = "import lark, pydantic, jinja2, click"


def run(quick: bool) -> dict[str, Any]:
    specs = ("resnet152",) if quick else SPECS_MEASURED
    commands = dict(BASELINES)
    for name in specs:
        path = str(SPECS / f"{name}.arch")
        commands[f"archdsl compile specs/{name}.arch"] = [*CLI, "compile", path]
        commands[f"archdsl check specs/{name}.arch"] = [*CLI, "check", path]
    cases = {label: (lambda args=args: run_process(args)) for label, args in commands.items()}
    samples = interleave(cases, repeats=1 if quick else 11, warmup=1)
    figures = {label: stats(s) for label, s in samples.items()}
    floor = figures[FLOOR]
    return {
        "method": "whole processes, the commands taking turns; a warm-up round first writes "
        "the bytecode cache, as an installed package has one",
        "floor": FLOOR,
        "commands": {
            label: {**fig, "vs_floor": ratio(fig, floor)} for label, fig in figures.items()
        },
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| command | median ms | min-max ms | vs the import floor |",
        "|---|---:|---:|---:|",
    ]
    for label, fig in result["commands"].items():
        lines.append(
            f"| `{label}` | {fig['median'] * 1000:.0f} | {fig['min'] * 1000:.0f}-"
            f"{fig['max'] * 1000:.0f} | {fig['vs_floor']:.2f}x |"
        )
    return "\n".join(lines)
