"""Training-mode behaviour of every generated model, on both backends: dropout and stochastic
depth act in training and not in eval, and one SGD step on random data changes the weights.

Each arch declaration is trained once, as its default variant: variants of one arch run the
same generated code with other arguments, which the reference tests cover. Models that pool
globally are run at a reduced resolution (64x64) to keep the suite fast; the
others at their spec's input size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import arch_specs, compiled, keras_model, load, reduced_input, to_channels_last

pytestmark = pytest.mark.framework


def _stochastic(spec: str) -> bool:
    return any(
        inst.type in ("dropout", "stochastic_depth") and getattr(inst.args, "p", 0) > 0
        for inst in compiled(spec, "torch").model.root.walk()
    )


def _representable(step, weight) -> bool:  # type: ignore[no-untyped-def]
    """Whether an SGD step is far above float32 resolution for this tensor (deep nets at
    random init have relative gradients down to 1e-10, which rounding swallows)."""
    step_size = float(np.abs(np.asarray(step)).max())
    return step_size > 1e-5 * max(1.0, float(np.abs(np.asarray(weight)).max()))


def _main(output):  # type: ignore[no-untyped-def]
    return output[0] if isinstance(output, tuple | list) else output


@pytest.mark.parametrize("spec", arch_specs())
def test_torch_training(spec: str) -> None:
    torch.manual_seed(0)
    result = compiled(spec, "torch")
    model = getattr(load(result.source or "", "train"), result.selection.entry)()
    shape = reduced_input(spec)
    x = torch.randn(2, *shape)
    if _stochastic(spec):
        model.train()
        with torch.no_grad():
            assert not torch.equal(_main(model(x)), _main(model(x))), "no randomness in training"
        model.eval()
        with torch.no_grad():
            torch.testing.assert_close(model(x), model(x), rtol=0, atol=0)
    model.train()
    before = {n: p.detach().clone().numpy() for n, p in model.named_parameters()}
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(x)
    labels = torch.tensor([0, 1])
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum(torch.nn.functional.cross_entropy(o, labels) for o in outs)
    loss.backward()
    optimiser.step()
    changed = {
        n for n, p in model.named_parameters() if not np.array_equal(p.detach().numpy(), before[n])
    }
    movable = {
        n
        for n, p in model.named_parameters()
        if p.grad is not None and _representable(0.1 * p.grad.numpy(), before[n])
    }
    assert movable, "no parameter received a usable gradient"
    assert movable <= changed, sorted(movable - changed)[:5]


@pytest.mark.parametrize("spec", arch_specs())
def test_keras_training(spec: str) -> None:
    import keras
    import tensorflow as tf

    shape = reduced_input(spec)
    result = compiled(spec, "keras")
    kwargs = {"input_shape": tuple(shape[1:]) + (shape[0],)} if len(shape) == 3 else {}
    model, _ = keras_model(spec, **kwargs)
    x = to_channels_last(np.random.default_rng(0).standard_normal((2, *shape)).astype("float32"))
    if _stochastic(spec):
        a, b = _main(model(x, training=True)), _main(model(x, training=True))
        assert not np.array_equal(np.asarray(a), np.asarray(b)), "no randomness in training"
        np.testing.assert_array_equal(np.asarray(_main(model(x))), np.asarray(_main(model(x))))
    before = [w.numpy().copy() for w in model.trainable_weights]
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        outs = out if isinstance(out, list | tuple) else [out]
        labels = np.array([0, 1])
        loss = tf.add_n(
            [
                tf.reduce_mean(
                    keras.losses.sparse_categorical_crossentropy(labels, o, from_logits=True)
                )
                for o in outs
            ]
        )
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
        if g is not None and _representable(0.1 * np.asarray(g), before[i])
    }
    assert movable, "no weight received a usable gradient"
    assert movable <= changed, [weights[i].path for i in sorted(movable - changed)[:5]]
    assert result.source
