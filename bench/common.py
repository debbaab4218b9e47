"""Timing helpers shared by the benchmark sections: interleaved repeats, robust statistics, child
processes with a warm bytecode cache, peak memory, and the fitted scaling exponent."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
# What the `archdsl` console script runs (pip writes exactly this entry point); calling it with
# this interpreter measures archdsl, not a version manager's shim in front of it.
CLI = [sys.executable, "-c", "import sys; from archdsl.cli import main; sys.exit(main())"]
_CACHE = Path(tempfile.gettempdir()) / "archdsl-bench-pycache"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process: bytecode cached (under a private prefix, so
    the checkout is not written to) as an installed package has it, archdsl importable."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(_CACHE)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def run_process(args: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one whole process, in seconds; a failure is an error, not a figure."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(args),
        cwd=ROOT,
        env=env or child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{args} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return elapsed


def run_json(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> Any:
    """Run ``code`` in a fresh interpreter; it prints one JSON document as its last line."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def interleave(
    cases: dict[str, Callable[[], float]], repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Each case ``repeats`` times, the cases taking turns (ABCABC...), so that a slow spell of
    a shared machine falls on all of them alike; ``warmup`` rounds first are not kept."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(warmup + repeats):
        for name, case in cases.items():
            value = case()
            if round_ >= warmup:
                samples[name].append(value)
    return samples


def stats(samples: Sequence[float]) -> dict[str, Any]:
    """Median and spread: minimum, maximum and the quartiles (seconds unless said otherwise)."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "q1": q1,
        "q3": q3,
        "n": len(ordered),
        "samples": list(samples),
    }


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Ratio of medians."""
    return float(a["median"] / b["median"])


def fit_exponent(sizes: Sequence[float], times: Sequence[float]) -> float:
    """The slope of log(time) against log(size), least squares: 1 is linear."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def machine() -> dict[str, Any]:
    """Where and when the figures were taken."""
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": _cpu_model(),
    }
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    versions = {}
    for name in ("lark", "pydantic", "jinja2", "click"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is simply not listed
            continue
    info["versions"] = versions
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# Printed by a child to report its own peak memory (VmHWM: the high-water mark of its resident
# set; ru_maxrss would include the parent's size at the fork).
PEAK_MB = """
def peak_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
