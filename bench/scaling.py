"""Scaling: generated specs of 10 to 100,000 module instances in four shapes, each compiled in
a fresh process; time and peak memory per size, and the exponent fitted from 1,000 up."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import PEAK_MB, fit_exponent, run_json, stats
from bench.specs import FAMILIES

SIZES = (10, 100, 1_000, 10_000, 100_000)
QUICK_SIZES = (100, 300)
FIT_FROM = 1_000  # full runs; a quick run fits what it has

_CHILD = (
    PEAK_MB
    + """
import json, sys, time
from archdsl.compiler import compile_spec
from archdsl.errors import ArchError
compile_spec("specs/lenet5.arch", sys.argv[2])  # imports, parser and templates: not measured
base = peak_mb()
start = time.perf_counter()
try:
    result = compile_spec(sys.argv[1], sys.argv[2])
except ArchError as err:
    print(json.dumps({"refused": err.diagnostics[0].code, "message": err.diagnostics[0].message,
                      "seconds": time.perf_counter() - start}))
    sys.exit(0)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "peak_mb": peak_mb(),
    "base_mb": base,
    "instances": len(result.model.instances()),
    "generated_lines": result.source.count("\\n"),
}))
"""
)


def run(quick: bool, backends: tuple[str, ...] | None = None) -> dict[str, Any]:
    sizes = QUICK_SIZES if quick else SIZES
    backends = backends or ("torch",)
    repeats = 1 if quick else 3
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family, make in FAMILIES.items():
            for backend in backends:
                rows = []
                for n in sizes:
                    path = Path(tmp) / f"{family}_{n}.arch"
                    path.write_text(make(n), encoding="utf-8")
                    runs = [run_json(_CHILD, str(path), backend) for _ in range(repeats)]
                    row: dict[str, Any] = {"requested": n, "bytes": path.stat().st_size}
                    if "refused" in runs[0]:
                        row.update(refused=runs[0]["refused"], message=runs[0]["message"])
                        row["refused_in"] = max(r["seconds"] for r in runs)
                    else:
                        row.update(
                            instances=runs[0]["instances"],
                            generated_lines=runs[0]["generated_lines"],
                            time=stats([r["seconds"] for r in runs]),
                            peak_mb=max(r["peak_mb"] for r in runs),
                            base_mb=min(r["base_mb"] for r in runs),
                        )
                    rows.append(row)
                fit_from = min(sizes) if quick else FIT_FROM
                fit = [r for r in rows if "time" in r and r["instances"] >= fit_from * 0.9]
                exponent = (
                    fit_exponent([r["instances"] for r in fit], [r["time"]["median"] for r in fit])
                    if len(fit) >= 2
                    else None
                )
                out[f"{family} ({backend})"] = {"rows": rows, "exponent": exponent}
    return {
        "method": f"each size in a fresh process after a warm-up compile; {repeats} run(s) per "
        "size; peak memory is the process's resident high-water mark, imports included",
        "fit_from": min(sizes) if quick else FIT_FROM,
        "families": out,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| family | layers | spec bytes | median s | peak MB | exponent (from "
        f"{result['fit_from']:,}) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for family, fig in result["families"].items():
        exp = f"{fig['exponent']:.3f}" if fig["exponent"] is not None else "-"
        for i, row in enumerate(fig["rows"]):
            label = exp if i == len(fig["rows"]) - 1 else ""
            if "refused" in row:
                lines.append(
                    f"| {family} | {row['requested']:,} (requested) | {row['bytes']:,} | "
                    f"refused {row['refused']} in {row['refused_in']:.2f} s | - | {label} |"
                )
                continue
            lines.append(
                f"| {family} | {row['instances']:,} | {row['bytes']:,} | "
                f"{row['time']['median']:.3f} | {row['peak_mb']:.0f} | {label} |"
            )
    return "\n".join(lines)
