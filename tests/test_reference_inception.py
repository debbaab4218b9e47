"""Inception v3 against torchvision's inception_v3(weights=None, aux_logits=True,
init_weights=True): keys and shapes in order, strict loading, eval outputs at the reference's
299 x 299, the auxiliary output in training mode (dropout disabled, so both outputs are
deterministic), static shapes and counts per module; Keras against torch after the weight
transfer, also at 299 x 299."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from archdsl.transfer import torch_to_keras
from tests.helpers import (
    assert_instances_match_torch,
    keras_model,
    randomise,
    to_channels_last,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework

SPEC = "inception_v3.arch"


def _reference() -> torch.nn.Module:
    return torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)


def _disable_dropout(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0


def test_inception_v3_matches_torchvision() -> None:
    torch.manual_seed(0)
    ref = _reference()
    randomise(ref)
    ours, result = torch_model(SPEC)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == [
        v.shape for v in ref.state_dict().values()
    ]
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == sum(p.numel() for p in ref.parameters())
    assert result.model.input_shape == (3, 299, 299)
    x = torch.randn(2, 3, 299, 299)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), ref.eval()(x))
        _disable_dropout(ref)
        _disable_dropout(ours)
        expected = ref.train()(x)
        got = ours.train()(x)
    # torchvision returns InceptionOutputs(logits, aux_logits); the generated model the pair
    assert isinstance(got, tuple) and len(got) == 2
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    assert [tuple(t.shape) for t in got] == [(2, 1000), (2, 1000)]
    assert [tuple(t.shape[1:]) for t in got[1:]] == result.model.aux_shapes[::-1]


def test_inception_v3_static_figures_match_torch() -> None:
    torch.manual_seed(0)
    ours, result = torch_model(SPEC)
    assert_instances_match_torch(ours, result)


def test_inception_v3_keras_matches_torch() -> None:
    torch.manual_seed(0)
    tm, result = torch_model(SPEC)
    randomise(tm)
    km, _ = keras_model(SPEC, transfer=True)
    assert trainable_count(km) == result.model.trainable == sum(p.numel() for p in tm.parameters())
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(0).standard_normal((1, 3, 299, 299)).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    outputs = km(to_channels_last(x), training=False)
    assert len(outputs) == 2  # the auxiliary head is a Keras output too
    got = np.asarray(outputs[0])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
