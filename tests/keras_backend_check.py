"""Run as a script under one Keras 3 backend: for each generated model pair in the manifest
meant for this backend, build the torch model with random weights and statistics, move its
weights into the Keras model and compare the outputs; or, for a case with "compare": false,
only build the Keras model and count its weights. Prints one JSON line per model.

On TensorFlow the Keras model is built with its own initializers and first compared with the
fresh torch model's starting values (tests/initialisation.py), and after the comparison it
takes one training step (tests/training_step.py): one build serves the three checks. The
other backends build their models at zero (the weights are replaced) and compare one input
size; TensorFlow and torch compare a second one where the model takes other sizes.

    python tests/keras_backend_check.py BACKEND MANIFEST.json

A separate process per backend, because Keras reads ``KERAS_BACKEND`` once, at import.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = sys.argv[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import torch  # noqa: E402  (before anything can import tensorflow)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from archdsl.transfer import torch_to_keras  # noqa: E402
from tests.helpers import (  # noqa: E402
    load,
    logits,
    randomise,
    to_channels_last,
    trainable_count,
    zero_initialised,
)
from tests.initialisation import assert_keras_starts_as  # noqa: E402
from tests.training_step import assert_keras_training_step  # noqa: E402

FULL = keras.backend.backend() == "tensorflow"  # initial values and a training step too


def build(case: dict) -> dict:
    """Build only: the model's trainable weights, counted."""
    started = time.time()
    with zero_initialised():  # only counted
        km = getattr(load(Path(case["keras"]).read_text(), "k"), case["entry"])()
    return {
        "spec": case["spec"],
        "backend": keras.backend.backend(),
        "trainable": trainable_count(km),
        "agree": True,
        "seconds": round(time.time() - started, 2),
    }


def _failure(check: object, *args: object) -> str | None:
    """None when ``check(*args)`` passes, else what failed."""
    try:
        check(*args)  # type: ignore[operator]
    except AssertionError as err:
        return f"AssertionError: {err}"[:2000]
    return None


def check(case: dict) -> dict:
    """A model whose shapes allow other input sizes is built with `input_shape=(None, None,
    C)` and compared at two sizes (the second one check accepts; one on JAX); any other at
    its size."""
    started = time.time()
    torch.manual_seed(0)
    tm = getattr(load(Path(case["torch"]).read_text(), "t"), case["entry"])().eval()
    c, *spatial = case["input_shape"]
    module = load(Path(case["keras"]).read_text(), "k")
    kwargs: dict = {"input_shape": (None, None, c) if case["free"] else (*spatial, c)}
    kwargs |= logits(getattr(module, case["arch"]))
    out: dict = {"spec": case["spec"], "backend": keras.backend.backend()}
    if FULL:
        keras.utils.set_random_seed(0)
        km = getattr(module, case["entry"])(**kwargs)
        out["init_failure"] = _failure(assert_keras_starts_as, tm, km, case["spec"])
    else:
        with zero_initialised():  # the torch weights replace them
            km = getattr(module, case["entry"])(**kwargs)
    out["trainable"] = trainable_count(km)
    randomise(tm)
    torch_to_keras(tm.state_dict(), km)
    sizes = [tuple(spatial)]
    if case["free"] and keras.backend.backend() != "jax":
        sizes.append(tuple(case["second"]))
    out["sizes"], out["agree"] = [], True
    for size in sizes:
        x = np.random.default_rng(0).standard_normal((1, c, *size)).astype("float32")
        with torch.no_grad():
            expected = tm(torch.from_numpy(x))
        expected = (expected[0] if isinstance(expected, tuple) else expected).numpy()
        if keras.backend.backend() == "jax":
            # JAX compiles each primitive of an eager call on its own; predict compiles once
            got = km.predict(to_channels_last(x), verbose=0)
        else:
            got = km(to_channels_last(x), training=False)
        got = got[0] if isinstance(got, list | tuple) else got
        got = np.asarray(keras.ops.convert_to_numpy(got))
        if got.ndim == 4:
            got = np.transpose(got, (0, 3, 1, 2))
        scale = float(np.abs(expected).max())
        same = got.shape == expected.shape
        close = same and np.allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, scale))
        out["sizes"].append(list(size))
        out["max_abs_error"] = float(np.abs(got - expected).max()) if same else None
        out["agree"] = out["agree"] and bool(close)
    if FULL:
        batch = np.random.default_rng(1).standard_normal((2, c, *spatial)).astype("float32")
        out["training_failure"] = _failure(
            assert_keras_training_step, km, to_channels_last(batch), case["stochastic"]
        )
    out["seconds"] = round(time.time() - started, 2)
    return out


def main() -> None:
    torch.set_num_threads(1)
    for case in json.loads(Path(sys.argv[2]).read_text()):
        if sys.argv[1] not in case["backends"]:
            continue
        try:
            result = check(case) if case["compare"] else build(case)
        except Exception as err:  # reported to the test, which fails on it
            result = {"spec": case["spec"], "agree": False, "error": f"{type(err).__name__}: {err}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
