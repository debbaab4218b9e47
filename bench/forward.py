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
spec, ref, batch, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(2)
torch.manual_seed(0)
result = compile_spec(spec, "torch")
module = types.ModuleType("generated")
exec(compile(result.source, "<generated>", "exec"), module.__dict__)
reference = getattr(torchvision.models, ref)().eval()
ours = getattr(module, result.lowered.entry)().eval()
ours.load_state_dict(reference.state_dict(), strict=True)
x = torch.randn(batch, 3, 224, 224)
def timed(m):
    with torch.inference_mode():
        s = time.perf_counter(); y = m(x); return time.perf_counter() - s, y
for _ in range(2):
    _, ya = timed(ours); _, yb = timed(reference)
t_ours, t_ref = [], []
for i in range(repeats):  # alternate which goes first
    pair = (ours, reference) if i % 2 == 0 else (reference, ours)
    for m in pair:
        (t_ours if m is ours else t_ref).append(timed(m)[0])
print(json.dumps({"generated": t_ours, "reference": t_ref,
                  "max_abs_diff": float((ya - yb).abs().max())}))
"""

_KERAS = """
import json, sys, time, types, collections
import numpy as np
import keras, tensorflow as tf
from archdsl.compiler import compile_spec
spec, app, batch, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
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
f_ours = tf.function(lambda t: ours(t, training=False))
f_ref = tf.function(lambda t: reference(t, training=False))
def timed(f):
    s = time.perf_counter(); y = f(x); _ = y.numpy(); return time.perf_counter() - s
for _ in range(2):
    timed(f_ours); timed(f_ref)
t_ours, t_ref = [], []
for i in range(repeats):
    pair = (f_ours, f_ref) if i % 2 == 0 else (f_ref, f_ours)
    for f in pair:
        (t_ours if f is f_ours else t_ref).append(timed(f))
print(json.dumps({"generated": t_ours, "reference": t_ref,
                  "trainable": [trainable(ours), trainable(reference)],
                  "layers": [kinds(ours), kinds(reference)]}))
"""


def _compare(raw: dict[str, Any]) -> dict[str, Any]:
    from bench.common import ratio, stats

    gen, ref = stats(raw.pop("generated")), stats(raw.pop("reference"))
    return {"generated": gen, "reference": ref, "ratio": ratio(gen, ref), **raw}


def run_torch(quick: bool) -> dict[str, Any]:
    models = {"squeezenet1_1": "squeezenet1_1"} if quick else TORCH_MODELS
    batches = (1,) if quick else (1, 8)
    repeats = 3 if quick else 11
    out: dict[str, Any] = {}
    for spec, ref in models.items():
        for batch in batches:
            raw = run_json(_TORCH, str(SPECS / f"{spec}.arch"), ref, str(batch), str(repeats))
            out[f"{spec} batch {batch}"] = _compare(raw)
    return {
        "method": f"torch eval mode, inference_mode, 2 threads, {repeats} calls each, "
        "alternating which model goes first; the generated model loads torchvision's weights",
        "models": out,
        "not_benchmarked": NOT_YET,
    }


def run_keras(quick: bool) -> dict[str, Any]:
    models = {"mobilenet_v2": "MobileNetV2"} if quick else KERAS_MODELS
    batches = (1,) if quick else (1, 8)
    repeats = 3 if quick else 11
    env = child_env(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out: dict[str, Any] = {}
    for spec, app in models.items():
        for batch in batches:
            raw = run_json(
                _KERAS, str(SPECS / f"{spec}.arch"), app, str(batch), str(repeats), env=env
            )
            out[f"{spec} batch {batch}"] = _compare(raw)
    return {
        "method": f"Keras {repeats} calls each of one tf.function per model (graph mode, "
        "jit_compile off, training=False), 2 intra-op threads, alternating order; each model "
        "with its own random initialisation (the two do not share a weight layout)",
        "models": out,
    }


def markdown(result: dict[str, Any], what: str) -> str:
    lines = [
        f"| model | generated ms | {what} ms | ratio of medians |",
        "|---|---:|---:|---:|",
    ]
    for name, fig in result["models"].items():
        lines.append(
            f"| {name} | {fig['generated']['median'] * 1000:.1f} | "
            f"{fig['reference']['median'] * 1000:.1f} | {fig['ratio']:.3f} |"
        )
    return "\n".join(lines)
