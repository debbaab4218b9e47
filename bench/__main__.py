"""``python -m bench [--quick] [--sections a,b,...] [--out DIR]``: run the benchmark sections and
write ``DIR/report.md`` and ``DIR/results.json`` (default ``bench/results``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import cold, forward, scaling, torchinfo_vs, warm
from bench.common import ROOT, machine

COMPILER = ("cold", "warm", "scaling")
FRAMEWORK = ("summary", "torch", "keras")
SECTIONS: dict[
    str, tuple[str, Callable[[bool], dict[str, Any]], Callable[[dict[str, Any]], str]]
] = {
    "cold": ("Cold command-line latency", cold.run, cold.markdown),
    "warm": ("Warm throughput per stage (ms)", warm.run, warm.markdown),
    "scaling": ("Scaling", scaling.run, scaling.markdown),
    "summary": ("`archdsl summary` against torchinfo", torchinfo_vs.run, torchinfo_vs.markdown),
    "torch": (
        "Generated torch models against torchvision (forward)",
        forward.run_torch,
        lambda r: forward.markdown(r, "torchvision"),
    ),
    "keras": (
        "Generated Keras models against keras.applications (forward)",
        forward.run_keras,
        lambda r: forward.markdown(r, "keras.applications"),
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats, small sizes")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated, from {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "sections": {}}
    report = [
        "# archdsl benchmark" + (" (quick)" if args.quick else ""),
        "",
        _machine_line(results["machine"]),
    ]
    for name in chosen:
        title, run, render = SECTIONS[name]
        start = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        result = run(args.quick)
        result["wall_seconds"] = time.perf_counter() - start
        results["sections"][name] = result
        report += ["", f"## {title}", "", result["method"] + ".", "", render(result)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "report.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"bench: wrote {args.out / 'report.md'} and {args.out / 'results.json'}", file=sys.stderr)
    return 0


def _machine_line(m: dict[str, Any]) -> str:
    load = m.get("load_average")
    return (
        f"{m['date']}; {m['processor']}, {m['cpus']} CPUs"
        + (f" (load average {load[0]} at the start)" if load else "")
        + f"; Python {m['python']}; {m['platform']}."
    )


if __name__ == "__main__":
    sys.exit(main())
