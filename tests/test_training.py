"""Training-mode behaviour of every generated torch model: dropout and stochastic depth act in
training and not in eval, and one SGD step on random data changes the weights. The Keras
models take the same step on TensorFlow in tests/test_keras_backends.py, right after their
comparison with torch (tests/training_step.py).

Each arch declaration is trained once, as its default variant: variants of one arch run the
same generated code with other arguments, which the reference tests cover. Models that pool
globally are run at a reduced resolution (64x64) to keep the suite fast; the
others at their spec's input size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import arch_specs, compiled, load, reduced_input
from tests.training_step import main_output, representable, stochastic

pytestmark = pytest.mark.framework


@pytest.mark.parametrize("spec", arch_specs())
def test_torch_training(spec: str) -> None:
    torch.manual_seed(0)
    result = compiled(spec, "torch")
    model = getattr(load(result.source or "", "train"), result.selection.entry)()
    shape = reduced_input(spec)
    x = torch.randn(2, *shape)
    if stochastic(spec):
        model.train()
        with torch.no_grad():
            assert not torch.equal(main_output(model(x)), main_output(model(x))), (
                "no randomness in training"
            )
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
        if p.grad is not None and representable(0.1 * p.grad.numpy(), before[n])
    }
    assert movable, "no parameter received a usable gradient"
    assert movable <= changed, sorted(movable - changed)[:5]
