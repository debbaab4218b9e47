"""MobileNetV1 (timm `mobilenetv1_100`), MobileNetV3 Large/Small and EfficientNet B0-B7
(torchvision) against their reference implementations.

Torch: state_dict keys in order with the same shapes, strict loading of the reference's random
weights (batch-norm statistics randomised too), equal eval-mode outputs, and parameter counts
(static, generated, reference, and the figure the reference publishes). Outputs are compared at
each reference's default resolution: 224x224 for the MobileNets and torchvision's crop size for
EfficientNet B0-B7 (224, 240, 288, 300, 380, 456, 528, 600); in CI B5-B7 are compared on the
meta device, without outputs (tests.helpers.outputs_compared: ``ARCHDSL_LONG=1`` runs them).

Keras: trainable counts equal torch's, and outputs agree after the weight transfer, at 64x64
(the generated Keras models take `input_shape`; the networks are fully convolutional up to a
global pooling, so the resolution does not change the weights).

Stochastic depth (EfficientNet): the per-block drop probabilities equal torchvision's (B0-B7);
active in training and off in eval, in torch and Keras (B0, classifier dropout off); and with the
same random seed, torch training-mode outputs equal torchvision's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torchvision

from tests.helpers import (
    assert_keras_matches_torch,
    assert_same_structure,
    assert_training_pass_matches,
    count,
    keras_model,
    outputs_compared,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework


@dataclass(frozen=True)
class Case:
    spec: str
    model: str | None  # the variant to build, when the spec's own model is not it
    reference: str  # torchvision model name, or "timm:<name>"
    params: int  # the reference's parameter count (research notes / weights metadata)
    resolution: int  # the reference's default input resolution
    compare_at: int  # the resolution the torch outputs are compared at

    @property
    def id(self) -> str:
        return self.reference.removeprefix("timm:")


CASES = [
    Case("mobilenet_v1.arch", "mobilenetv1_100", "timm:mobilenetv1_100", 4_231_976, 224, 224),
    Case("mobilenet_v3_large.arch", None, "mobilenet_v3_large", 5_483_032, 224, 224),
    Case("mobilenet_v3_small.arch", None, "mobilenet_v3_small", 2_542_856, 224, 224),
    Case("efficientnet_b0.arch", None, "efficientnet_b0", 5_288_548, 224, 224),
    Case("efficientnet_b1.arch", None, "efficientnet_b1", 7_794_184, 240, 240),
    Case("efficientnet_b2.arch", None, "efficientnet_b2", 9_109_994, 288, 288),
    Case("efficientnet_b3.arch", None, "efficientnet_b3", 12_233_232, 300, 300),
    Case("efficientnet_b4.arch", None, "efficientnet_b4", 19_341_616, 380, 380),
    Case("efficientnet_b5.arch", None, "efficientnet_b5", 30_389_784, 456, 456),
    Case("efficientnet_b6.arch", None, "efficientnet_b6", 43_040_704, 528, 528),
    Case("efficientnet_b7.arch", None, "efficientnet_b7", 66_347_960, 600, 600),
]
IDS = [c.id for c in CASES]
# Keras: the mobile nets, EfficientNet-B0 and one scaled variant; the compound scaling of the
# others reaches Keras through the same generated code with other arguments
KERAS_CASES = [c for c in CASES if not c.id.startswith("efficientnet") or c.id[-2:] in ("b0", "b3")]
EFFICIENTNETS = [c for c in CASES if c.reference.startswith("efficientnet")]


def reference(name: str, **kwargs: Any) -> torch.nn.Module:
    if name.startswith("timm:"):
        import timm

        return timm.create_model(name.removeprefix("timm:"), pretrained=False, **kwargs)
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def assert_loads_and_matches(ours: torch.nn.Module, ref: torch.nn.Module, resolution: int) -> None:
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
    randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    ours.eval()
    ref.eval()
    x = torch.randn(1, 3, resolution, resolution)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    torch.testing.assert_close(got, expected)


def _drop_probabilities(model: torch.nn.Module) -> list[float]:
    """The stochastic-depth probability of every residual MBConv, in order."""
    return [
        m.stochastic_depth.p
        for m in model.modules()
        if type(m).__name__ == "MBConv" and m.use_res_connect
    ]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_matches_reference(case: Case) -> None:
    torch.manual_seed(0)
    compared = outputs_compared(case.spec)
    with torch.device("cpu" if compared else "meta"):
        ref = reference(case.reference)
        ours, result = torch_model(case.spec, case.model)
    if compared:
        assert_loads_and_matches(ours, ref, case.compare_at)
    else:
        assert_same_structure(ours, ref)
    assert result.model.trainable == count(ours) == count(ref) == case.params
    if case in EFFICIENTNETS:
        expected = _drop_probabilities(ref)
        assert len(expected) > 0 and _drop_probabilities(ours) == expected


def test_mobilenet_v1_width_multiplier_matches_timm() -> None:
    """The width multiplier rounds like timm: `mobilenetv1_125` is width_mult=1.25."""
    torch.manual_seed(0)
    ref = reference("timm:mobilenetv1_125")
    ours, _ = torch_model("mobilenet_v1.arch", None, width_mult=1.25)
    assert_loads_and_matches(ours, ref, 224)
    assert count(ours) == count(ref)


@pytest.mark.parametrize("case", KERAS_CASES, ids=[c.id for c in KERAS_CASES])
def test_keras_matches_torch(case: Case) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(case.spec, case.model)
    tm.eval()
    randomise(tm)
    km, _ = keras_model(case.spec, case.model, transfer=True, input_shape=(64, 64, 3))
    assert trainable_count(km) == count(tm) == result.model.trainable
    assert_keras_matches_torch(tm, km, (1, 3, 64, 64))


def test_stochastic_depth_torch() -> None:
    """B0 without classifier dropout: two training passes differ (only stochastic depth draws
    random numbers), eval passes are equal, and with the same seed the training pass equals
    torchvision's."""
    torch.manual_seed(0)
    ref = reference("efficientnet_b0", dropout=0.0)
    ours, _ = torch_model("efficientnet.arch", dropout=0.0)  # its defaults are B0
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(4, 3, 64, 64)
    assert_training_pass_matches(ours, ref, x)
    ours.eval()
    with torch.no_grad():
        assert torch.equal(ours(x), ours(x))


def test_stochastic_depth_keras() -> None:
    km, _ = keras_model("efficientnet.arch", dropout=0.0, input_shape=(32, 32, 3))
    x = np.random.default_rng(0).standard_normal((4, 32, 32, 3)).astype("float32")
    first = np.asarray(km(x, training=True))
    second = np.asarray(km(x, training=True))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(
        np.asarray(km(x, training=False)), np.asarray(km(x, training=False))
    )
