"""DenseNet, ResNeXt, SE-ResNet and ResNet V2 against their references (torchvision, timm):
state_dict keys in order with their shapes, strict loading, outputs; Keras against torch after
the weight transfer; parameter counts everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from tests.helpers import (
    assert_keras_matches_torch,
    keras_model,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework


def _torchvision(name: str) -> Callable[[], Any]:
    def build() -> Any:
        import torchvision

        return getattr(torchvision.models, name)(weights=None)

    return build


def _timm(name: str) -> Callable[[], Any]:
    def build() -> Any:
        import timm

        return timm.create_model(name, pretrained=False)

    return build


# (spec, model in the spec, reference, parameters of the reference)
CASES = [
    ("densenet121.arch", "densenet121", _torchvision("densenet121"), 7_978_856),
    ("densenet169.arch", "densenet169", _torchvision("densenet169"), 14_149_480),
    ("densenet201.arch", "densenet201", _torchvision("densenet201"), 20_013_928),
    ("resnext50_32x4d.arch", "resnext50_32x4d", _torchvision("resnext50_32x4d"), 25_028_904),
    ("seresnet50.arch", "seresnet50", _timm("seresnet50"), 28_088_024),
    ("resnetv2_50.arch", "resnetv2_50", _timm("resnetv2_50"), 25_549_352),
]
IDS = [c[1] for c in CASES]

# Keras runs at a smaller resolution than the references' 224 (allowed by every model here:
# adaptive pooling at the end; DenseNet needs 29 pixels at least), to keep the suite fast.
KERAS_SIZE = 64


@pytest.mark.parametrize(("spec", "model", "reference", "params"), CASES, ids=IDS)
def test_torch_matches_reference(
    spec: str, model: str, reference: Callable[[], Any], params: int
) -> None:
    torch.manual_seed(0)
    ref = reference().eval()
    ours, result = torch_model(spec, model)
    ours.eval()
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
    randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(1, *result.model.input_shape)
    assert result.model.input_shape == (3, 224, 224)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    torch.testing.assert_close(got, expected)
    n_ref = sum(p.numel() for p in ref.parameters())
    assert n_ref == params
    assert result.model.trainable == params
    assert sum(p.numel() for p in ours.parameters() if p.requires_grad) == params


@pytest.mark.parametrize(("spec", "model", "reference", "params"), CASES, ids=IDS)
def test_keras_matches_torch(
    spec: str, model: str, reference: Callable[[], Any], params: int
) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(spec, model)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model(spec, model, transfer=True, input_shape=(KERAS_SIZE, KERAS_SIZE, 3))
    assert trainable_count(km) == params == result.model.trainable
    got = assert_keras_matches_torch(tm, km, (2, 3, KERAS_SIZE, KERAS_SIZE))
    assert got.shape == (2, 1000)


def test_seresnet_squeeze_widths() -> None:
    """timm's make_divisible(C / 16, 8, round_limit=0): 256, 512, 1024, 2048 -> 16, 32, 64, 128."""
    ours, _ = torch_model("seresnet50.arch", "seresnet50")
    for layer, (channels, squeeze) in enumerate(
        [(256, 16), (512, 32), (1024, 64), (2048, 128)], start=1
    ):
        for block in getattr(ours, f"layer{layer}"):
            assert tuple(block.se.fc1.weight.shape) == (squeeze, channels, 1, 1)
