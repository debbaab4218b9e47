"""One training step, checked: dropout and stochastic depth act in training and not in eval,
and one SGD step on random data moves every weight whose gradient float32 can represent. The
torch side runs in tests/test_training.py, the Keras side (TensorFlow) in
tests/keras_backend_check.py on the model it has just compared with torch."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.helpers import compiled

LABELS = np.array([0, 1])  # the step's batch has two examples


def stochastic(spec: str) -> bool:
    """Whether the spec's default model draws random numbers in training."""
    return any(
        inst.type in ("dropout", "stochastic_depth") and getattr(inst.args, "p", 0) > 0
        for inst in compiled(spec, "torch").model.root.walk()
    )


def representable(step: Any, weight: Any) -> bool:
    """Whether an SGD step is far above float32 resolution for this tensor (deep nets at
    random init have relative gradients down to 1e-10, which rounding swallows)."""
    step_size = float(np.abs(np.asarray(step)).max())
    return step_size > 1e-5 * max(1.0, float(np.abs(np.asarray(weight)).max()))


def main_output(output: Any) -> Any:
    """The main output of a model that may also return auxiliary ones."""
    return output[0] if isinstance(output, tuple | list) else output


def assert_keras_training_step(model: Any, x: np.ndarray, is_stochastic: bool) -> None:
    """``x``: a channels-last batch of two examples; ``model``: one whose eval outputs were
    compared with its torch model's."""
    import keras
    import tensorflow as tf

    # that eval is deterministic needs no pass here: the model has just computed the torch
    # model's eval outputs, which an active dropout would not
    if is_stochastic:
        first = main_output(model(x, training=True))
    before = [w.numpy().copy() for w in model.trainable_weights]
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        outs = out if isinstance(out, list | tuple) else [out]
        loss = tf.add_n(
            [
                tf.reduce_mean(
                    keras.losses.sparse_categorical_crossentropy(LABELS, o, from_logits=True)
                )
                for o in outs
            ]
        )
    if is_stochastic:  # two training passes over the same weights and input
        second = np.asarray(main_output(out))
        assert not np.array_equal(np.asarray(first), second), "no randomness in training"
    # a gathered table's gradient is IndexedSlices (window attention's position biases)
    grads = [
        tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
        for g in tape.gradient(loss, model.trainable_weights)
    ]
    keras.optimizers.SGD(learning_rate=0.1).apply_gradients(
        zip(grads, model.trainable_weights, strict=True)
    )
    weights = model.trainable_weights
    changed = {i for i, w in enumerate(weights) if not np.array_equal(before[i], w.numpy())}
    movable = {
        i
        for i, g in enumerate(grads)
        if g is not None and representable(0.1 * np.asarray(g), before[i])
    }
    assert movable, "no weight received a usable gradient"
    assert movable <= changed, [weights[i].path for i in sorted(movable - changed)[:5]]
