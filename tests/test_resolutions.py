"""Every spec declares the resolution its reference is evaluated at: torchvision's crop size from
its default weights' metadata (EfficientNet B0-B7 224 ... 600, EfficientNet V2 384 and 480,
Inception v3 299, RegNetY-128GF 384, 224 elsewhere), which the static figures, the graphs and
the Keras models' default input read. Each EfficientNet variant's Keras model is compared
against torchvision at it, and so is its torch model: here for V2, in
tests/test_reference_mobile.py for B0-B7. In CI the Keras comparison runs for the variants
that tests.helpers.ci_specs keeps (B0-B4, V2-S: the same generated code as B5-B7, V2-M and
V2-L, whose 30M-118M parameters at 456x456-600x600 took 95 s); ``ARCHDSL_LONG=1`` runs all
eleven."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torchvision.models import get_model_weights, list_models

from tests.helpers import (
    all_specs,
    assert_keras_matches_torch,
    ci_specs,
    compiled,
    keras_model,
    randomise,
    torch_model,
)

pytestmark = pytest.mark.framework

TORCHVISION = set(list_models(module=torchvision.models))
# specs whose model is a torchvision classification model of the same name
REFERENCED = [s for s in all_specs() if compiled(s, "torch").selection.entry in TORCHVISION]
EFFICIENTNETS = [s for s in REFERENCED if s.startswith("efficientnet_")]
COMPARED = [s for s in EFFICIENTNETS if s in ci_specs()]


def crop_size(name: str) -> int:
    return int(get_model_weights(name).DEFAULT.transforms.keywords["crop_size"])


def test_every_spec_declares_its_references_resolution() -> None:
    assert len(REFERENCED) >= 45 and len(EFFICIENTNETS) == 11
    for spec in REFERENCED:
        result = compiled(spec, "torch")
        size = crop_size(result.selection.entry)
        assert result.model.input_shape == (3, size, size), spec


@pytest.mark.parametrize("spec", COMPARED)
def test_efficientnet_keras_matches_torchvision_at_its_resolution(spec: str) -> None:
    """The Keras model at its default input, the declared resolution, computes torchvision's
    model with its weights (tests/test_reference_mobile.py and test_reference_zoo.py compare the
    torch models; the transfer fails on any key the Keras model lacks)."""
    result = compiled(spec, "keras")
    entry = result.selection.entry
    size = crop_size(entry)
    torch.manual_seed(0)
    ref = getattr(torchvision.models, entry)(weights=None).eval()
    randomise(ref, seed=4)
    if spec.startswith("efficientnet_v2_"):  # test_reference_zoo.py compares M and L smaller
        ours, _ = torch_model(spec)
        ours.load_state_dict(ref.state_dict(), strict=True)
        x = torch.randn(1, 3, size, size)
        with torch.no_grad():
            torch.testing.assert_close(ours.eval()(x), ref(x))
    km, _ = keras_model(spec, transfer=True)
    assert tuple(km.input_shape) == (None, size, size, 3)
    got = assert_keras_matches_torch(ref, km, (1, 3, size, size), seed=5)
    assert np.asarray(got).shape == (1, 1000)
    assert result.lowered.input_size is not None and result.lowered.input_size.free
