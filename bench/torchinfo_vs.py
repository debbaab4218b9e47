"""`archdsl summary` against torchinfo's `summary()` on the built torch model: as whole
processes, and in-process (archdsl from the spec file, torchinfo on a model already built), with
the totals of both compared."""

from __future__ import annotations

import sys
from typing import Any

from bench.common import CLI, SPECS, interleave, ratio, run_json, run_process, stats

MODELS = {"resnet50": "resnet50", "efficientnet_b0": "efficientnet_b0"}  # spec -> torchvision

_TORCHINFO_PROCESS = (
    "import sys, torch, torchvision, torchinfo\n"
    "m = getattr(torchvision.models, sys.argv[1])()\n"
    "print(torchinfo.summary(m, input_size=(int(sys.argv[2]), 3, 224, 224), verbose=0))\n"
)

_IN_PROCESS = """
import json, sys, time, statistics
import torch, torchvision, torchinfo
from archdsl.compiler import analyse
from archdsl.summary import summarize
from archdsl.syntax import parser
spec, ref, batch, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(2)
model = getattr(torchvision.models, ref)()
def ours():
    result = analyse(spec)
    return summarize(result.program, result.model, batch).totals
def anew():  # every file parsed again, none of the trees of earlier calls reused
    parser.forget_trees()
    return ours()
def theirs():
    return torchinfo.summary(model, input_size=(batch, 3, 224, 224), verbose=0)
a, b = ours(), theirs()  # warm-up, and the totals compared
t_ours, t_anew, t_theirs = [], [], []
for _ in range(repeats):
    s = time.perf_counter(); ours(); t_ours.append(time.perf_counter() - s)
    s = time.perf_counter(); anew(); t_anew.append(time.perf_counter() - s)
    s = time.perf_counter(); theirs(); t_theirs.append(time.perf_counter() - s)
print(json.dumps({
    "archdsl": t_ours, "archdsl_parsing": t_anew, "torchinfo": t_theirs,
    "archdsl_totals": {"params": a.total_params, "trainable": a.trainable_params,
                       "mult_adds": a.total_mult_adds},
    "torchinfo_totals": {"params": b.total_params, "trainable": b.trainable_params,
                         "mult_adds": b.total_mult_adds},
}))
"""


def run(quick: bool) -> dict[str, Any]:
    # quick: a small model at batch 1, to exercise the code path in seconds
    models = {"squeezenet1_1": "squeezenet1_1"} if quick else MODELS
    batches = (1,) if quick else (1, 32)
    repeats = 1 if quick else 3
    out: dict[str, Any] = {}
    for spec, ref in models.items():
        for batch in batches:
            path = str(SPECS / f"{spec}.arch")
            cases = {
                "archdsl": lambda p=path, b=batch: run_process(
                    [*CLI, "summary", p, "--batch", str(b), "--format", "text"]
                ),
                "torchinfo": lambda r=ref, b=batch: run_process(
                    [sys.executable, "-c", _TORCHINFO_PROCESS, r, str(b)]
                ),
            }
            whole = {k: stats(v) for k, v in interleave(cases, repeats, warmup=1).items()}
            inproc = run_json(_IN_PROCESS, path, ref, str(batch), str(max(3, repeats)))
            inner = {k: stats(inproc[k]) for k in ("archdsl", "archdsl_parsing", "torchinfo")}
            out[f"{spec} batch {batch}"] = {
                "process": whole,
                "process_speedup": ratio(whole["torchinfo"], whole["archdsl"]),
                "in_process": inner,
                "in_process_speedup": ratio(inner["torchinfo"], inner["archdsl"]),
                "in_process_parsing_speedup": ratio(inner["torchinfo"], inner["archdsl_parsing"]),
                "archdsl_totals": inproc["archdsl_totals"],
                "torchinfo_totals": inproc["torchinfo_totals"],
                "totals_equal": inproc["archdsl_totals"] == inproc["torchinfo_totals"],
            }
    return {
        "method": "whole processes interleaved (torchinfo's imports torch and torchvision and "
        "builds the model, as a user's script does); in-process: archdsl reads the spec files "
        "and infers each time (a file whose text is unchanged is parsed once per process; "
        "'parsing anew': every file parsed again each time), torchinfo runs its hooked forward "
        "on a model built once",
        "models": out,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| model | archdsl process ms | torchinfo process ms | speed-up | archdsl in-process ms "
        "| parsing anew ms | torchinfo in-process ms | speed-up (parsing anew) | totals equal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, fig in result["models"].items():
        p, i = fig["process"], fig["in_process"]
        lines.append(
            f"| {name} | {p['archdsl']['median'] * 1000:.0f} | "
            f"{p['torchinfo']['median'] * 1000:.0f} | {fig['process_speedup']:.1f}x | "
            f"{i['archdsl']['median'] * 1000:.1f} | {i['archdsl_parsing']['median'] * 1000:.1f} | "
            f"{i['torchinfo']['median'] * 1000:.0f} | {fig['in_process_speedup']:.0f}x "
            f"({fig['in_process_parsing_speedup']:.0f}x) | "
            f"{'yes' if fig['totals_equal'] else 'NO'} |"
        )
    return "\n".join(lines)
