"""GoogLeNet against torchvision's googlenet(aux_logits=True): keys, strict loading, eval
outputs, and the auxiliary outputs in training mode (dropout disabled, so both are deterministic);
Keras against torch after the weight transfer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from archdsl.transfer import torch_to_keras
from tests.helpers import (
    keras_model,
    randomise,
    to_channels_last,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework


def _disable_dropout(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0


def test_googlenet_matches_torchvision() -> None:
    torch.manual_seed(0)
    ref = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True)
    randomise(ref)
    ours, result = torch_model("googlenet.arch")
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == [
        v.shape for v in ref.state_dict().values()
    ]
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == sum(p.numel() for p in ref.parameters())
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), ref.eval()(x))
        _disable_dropout(ref)
        _disable_dropout(ours)
        expected = ref.train()(x)
        got = ours.train()(x)
    # torchvision returns (logits, aux_logits2, aux_logits1); so does the generated model
    assert isinstance(got, tuple) and len(got) == 3
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    assert [tuple(t.shape[1:]) for t in got[1:]] == result.model.aux_shapes[::-1]


def test_googlenet_keras_matches_torch() -> None:
    torch.manual_seed(0)
    tm, result = torch_model("googlenet.arch")
    randomise(tm)
    km, _ = keras_model("googlenet.arch", transfer=True)
    assert trainable_count(km) == result.model.trainable == sum(p.numel() for p in tm.parameters())
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    outputs = km(to_channels_last(x), training=False)
    got = np.asarray(outputs[0])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert len(outputs) == 3  # the auxiliary heads are Keras outputs too
