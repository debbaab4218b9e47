"""Generated models against the reference implementations: eval-mode forward time of the
generated torch model and torchvision's (the same weights, loaded with ``strict=True``; the same
input; 2 threads), and of the generated Keras model and keras.applications' (TensorFlow
backend, both called inside one ``tf.function``)."""

from __future__ import annotations

from typing import Any

from bench.common import SPECS, child_env, run_json

TORCH_MODELS = {
    "resnet50": "resnet50",
    "mobilenet_v2": "mobilenet_v2",
    "efficientnet_b0": "efficientnet_b0",
    "vit_b_16": "vit_b_16",
    "convnext_tiny": "convnext_tiny",
}
NOT_YET: dict[str, str] = {}
KERAS_MODELS = {"mobilenet_v2": "MobileNetV2", "efficientnet_b0": "EfficientNetB0"}

_TORCH = """
import json, sys, time, types
import torch, torchvision
from archdsl.compiler import compile_spec
spec, ref, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
repeats, budget = int(sys.argv[4]), float(sys.argv[5])
torch.set_num_threads(2)
torch.manual_seed(0)
result = compile_spec(spec, "torch")
module = types.ModuleType("generated")
exec(compile(result.source, "<generated>", "exec"), module.__dict__)
reference = getattr(torchvision.models, ref)().eval()
ours = getattr(module, result.lowered.entry)().eval()
ours.load_state_dict(reference.state_dict(), strict=True)
control = getattr(torchvision.models, ref)().eval()  # torchvision against itself: the noise
control.load_state_dict(reference.state_dict(), strict=True)
x = torch.randn(batch, 3, 224, 224)
def timed(m):
    with torch.inference_mode():
        s = time.perf_counter(); y = m(x); return time.perf_counter() - s, y
for _ in range(2):
    t, ya = timed(ours); _, yb = timed(reference); timed(control)
repeats = max(repeats, min(101, int(budget / t)))  # rounds within the budget
models = [ours, reference, control]
times = {id(m): [] for m in models}
for i in range(repeats):  # each round all three, the order rotating
    for m in models[i % 3:] + models[:i % 3]:
        times[id(m)].append(timed(m)[0])
print(json.dumps({"generated": times[id(ours)], "reference": times[id(reference)],
                  "control": times[id(control)],
                  "max_abs_diff": float((ya - yb).abs().max())}))
"""

_KERAS = """
import json, sys, time, types, collections
import numpy as np
import keras, tensorflow as tf
from archdsl.compiler import compile_spec
spec, app, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
repeats, budget = int(sys.argv[4]), float(sys.argv[5])
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
keras.utils.set_random_seed(0)
result = compile_spec(spec, "keras")
module = types.ModuleType("generated")
exec(compile(result.source, "<generated>", "exec"), module.__dict__)
ours = getattr(module, result.lowered.entry)()
reference = getattr(keras.applications, app)(weights=None, input_shape=(224, 224, 3))
def kinds(m):
    return dict(collections.Counter(type(l).__name__ for l in m.layers))
def trainable(m):
    return int(sum(np.prod(w.shape) for w in m.trainable_weights))
x = tf.constant(np.random.default_rng(0).standard_normal((batch, 224, 224, 3)).astype("float32"))
control = getattr(keras.applications, app)(weights=None, input_shape=(224, 224, 3))
control.set_weights(reference.get_weights())  # keras.applications against itself: the noise
f_ours = tf.function(lambda t: ours(t, training=False))
f_ref = tf.function(lambda t: reference(t, training=False))
f_control = tf.function(lambda t: control(t, training=False))
def timed(f):
    s = time.perf_counter(); y = f(x); _ = y.numpy(); return time.perf_counter() - s
for _ in range(2):
    t = timed(f_ours); timed(f_ref); timed(f_control)
repeats = max(repeats, min(101, int(budget / t)))
functions = [f_ours, f_ref, f_control]
times = {id(f): [] for f in functions}
for i in range(repeats):  # each round all three, the order rotating
    for f in functions[i % 3:] + functions[:i % 3]:
        times[id(f)].append(timed(f))
t_ours, t_ref, t_control = (times[id(f)] for f in functions)
print(json.dumps({"generated": t_ours, "reference": t_ref, "control": t_control,
                  "trainable": [trainable(ours), trainable(reference)],
                  "layers": [kinds(ours), kinds(reference)]}))
"""


# Seconds of each model's calls a comparison aims at (at least the repeats asked): single
# calls vary by 5-15% on shared cores, and a 3% goal needs many rounds to decide.
BUDGET = 15.0


def _compare(raw: dict[str, Any]) -> dict[str, Any]:
    """Both sides' figures, the ratio of medians, and the spread of the per-round ratios (each
    round runs both models back to back, so that load from elsewhere mostly cancels)."""
    from bench.common import ratio, stats

    ours, theirs = raw.pop("generated"), raw.pop("reference")
    rounds = stats([a / b for a, b in zip(ours, theirs, strict=True)])
    gen, ref = stats(ours), stats(theirs)
    out = {"generated": gen, "reference": ref, "ratio": ratio(gen, ref), "rounds": rounds}
    if "control" in raw:  # a second reference instance: the ratio a 0% difference gives
        control = stats(raw.pop("control"))
        out.update(control=control, control_ratio=ratio(control, ref))
    return {**out, **raw}


def run_torch(quick: bool) -> dict[str, Any]:
    models = {"squeezenet1_1": "squeezenet1_1"} if quick else TORCH_MODELS
    batches = (1,) if quick else (1, 8)
    repeats, budget = (3, 0.0) if quick else (11, BUDGET)
    out: dict[str, Any] = {}
    for spec, ref in models.items():
        for batch in batches:
            args = (ref, str(batch), str(repeats), str(budget))
            raw = run_json(_TORCH, str(SPECS / f"{spec}.arch"), *args)
            out[f"{spec} batch {batch}"] = _compare(raw)
    return {
        "method": f"torch eval mode, inference_mode, 2 threads, at least {repeats} rounds "
        f"(up to 101 within about {budget:.0f} s of each model's calls), each round the "
        "generated model, torchvision's and a second torchvision instance (the control: what "
        "no difference measures as) back to back, the order rotating; both others load the "
        "reference's weights",
        "models": out,
        "not_benchmarked": NOT_YET,
    }


def run_keras(quick: bool) -> dict[str, Any]:
    models = {"mobilenet_v2": "MobileNetV2"} if quick else KERAS_MODELS
    batches = (1,) if quick else (1, 8)
    repeats, budget = (3, 0.0) if quick else (11, BUDGET)
    env = child_env(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out: dict[str, Any] = {}
    for spec, app in models.items():
        for batch in batches:
            args = (app, str(batch), str(repeats), str(budget))
            raw = run_json(_KERAS, str(SPECS / f"{spec}.arch"), *args, env=env)
            out[f"{spec} batch {batch}"] = _compare(raw)
    return {
        "method": f"Keras, at least {repeats} rounds (up to 101 within about {budget:.0f} s), "
        "each round one call of each model's tf.function, and of a second keras.applications "
        "instance with the reference's weights (the control), the order rotating (graph mode, "
        "jit_compile off, training=False), 2 intra-op threads; the generated model "
        "with its own random initialisation (the two do not share a weight layout)",
        "models": out,
    }


def markdown(result: dict[str, Any], what: str) -> str:
    controlled = all("control" in fig for fig in result["models"].values())
    lines = [
        f"| model | generated ms | {what} ms | ratio of medians | rounds: median ratio "
        "(quartiles), rounds |" + (" control: ratio of medians |" if controlled else ""),
        "|---|---:|---:|---:|---:|" + ("---:|" if controlled else ""),
    ]
    for name, fig in result["models"].items():
        r = fig["rounds"]
        control = f" {fig['control_ratio']:.3f} |" if controlled else ""
        lines.append(
            f"| {name} | {fig['generated']['median'] * 1000:.1f} | "
            f"{fig['reference']['median'] * 1000:.1f} | {fig['ratio']:.3f} | "
            f"{r['median']:.3f} ({r['q1']:.3f}-{r['q3']:.3f}), {r['n']} |{control}"
        )
    return "\n".join(lines)
