"""torchvision's four ConvNeXts (Liu et al., 2022) against specs/convnext.arch and its variants
convnext_tiny.arch ... convnext_large.arch.

The block is written in the spec as torchvision builds it: a depthwise 7x7 convolution, then
`permute([0, 2, 3, 1])` to channels-last, `layernorm`, two `linear` layers around a `gelu`, and
`permute([0, 3, 1, 2])` back; a `tensor` member (the layer scale, a bare parameter of the block
whose state_dict key is `layer_scale`) multiplies the result, stochastic depth drops it per
sample in training. Stem, downsampling and classifier use `layernorm2d` (torchvision's
LayerNorm2d).

Torch: state_dict keys in order with torchvision's shapes, torchvision's weights loaded with
`strict=True`, trainable parameters equal to archdsl's static count, torchvision's model and the
figure torchvision's weights publish; every block's stochastic-depth probability equal to
torchvision's. Outputs in eval mode equal (`torch.testing.assert_close` defaults) after
`randomise` (random layer scales, layer-norm weights and biases) at the reference's 224x224 for
ConvNeXt-T. ConvNeXt-S, -B and -L (50M to 198M parameters) are built on torch's meta device
(keys, shapes, strict loading, counts, no outputs); their outputs come from the same generated
classes, compared here at reduced width through the same spec's parameters: the arch with -L's
stage depths [3, 3, 27, 3] at widths [32, 64, 128, 256] against torchvision's ConvNeXt class built
with the same block settings, at 64x64. Per-instance static shapes and counts for every spec are
in test_shapes.py.

Keras: trainable counts equal torch's and outputs agree after the weight transfer (rtol 1e-4, atol
1e-4 x max|y|) at 64x64 for ConvNeXt-T: the two permutes cost no Keras operation (the Keras model
holds tensors channels-last and follows each permute at compile time), the layer scale is a
`Learned` weight in torch's shape.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
import torch
import torchvision
from torchvision.models import get_model_weights
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

from tests.helpers import (
    assert_keras_matches_torch,
    assert_same_outputs,
    assert_same_state_dict_layout,
    count,
    keras_model,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework

KERAS_SIZE = 64


@dataclass(frozen=True)
class Case:
    name: str  # the torchvision model, the spec file's stem and its variant
    params: int  # torchvision's published parameter count (its weights' metadata)
    outputs: bool  # outputs compared at 224x224; False: built on the meta device

    @property
    def spec(self) -> str:
        return f"{self.name}.arch"


CASES = [
    Case("convnext_tiny", 28_589_128, True),
    Case("convnext_small", 50_223_688, False),
    Case("convnext_base", 88_591_464, False),
    Case("convnext_large", 197_767_336, False),
]
IDS = [c.name for c in CASES]


def test_the_table_is_torchvisions() -> None:
    names = [n for n in torchvision.models.list_models() if n.startswith("convnext_")]
    assert sorted(names) == sorted(IDS)
    for case in CASES:
        weights = get_model_weights(case.name).DEFAULT
        assert weights.meta["num_params"] == case.params
        assert weights.transforms().crop_size == [224]  # the spec's declared input


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_matches_reference(case: Case) -> None:
    torch.manual_seed(0)
    with contextlib.nullcontext() if case.outputs else torch.device("meta"):
        ref = getattr(torchvision.models, case.name)(weights=None)
        ours, result = torch_model(case.spec)
    assert result.selection.entry == case.name
    assert_same_state_dict_layout(ours, ref)
    if case.outputs:
        randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == count(ours) == count(ref) == case.params
    drops = [m.p for m in ours.modules() if type(m).__name__ == "StochasticDepth"]
    assert drops == [m.p for m in ref.modules() if type(m).__name__ == "StochasticDepth"]
    assert max(drops) > 0
    if case.outputs:
        assert_same_outputs(ours, ref, torch.randn(1, 3, 224, 224))


def test_large_depths_at_reduced_width_match_reference() -> None:
    """ConvNeXt-L's stage depths through the spec's parameters, at a width that runs quickly."""
    dims, depths = [32, 64, 128, 256], [3, 3, 27, 3]
    settings = [
        CNBlockConfig(d, dims[i + 1] if i + 1 < len(dims) else None, n)
        for i, (d, n) in enumerate(zip(dims, depths, strict=True))
    ]
    torch.manual_seed(0)
    ref = ConvNeXt(settings, stochastic_depth_prob=0.5, num_classes=10)
    ours, result = torch_model(
        "convnext_large.arch", dims=dims, num_classes=10, stochastic_depth_prob=0.5
    )
    randomise(ref, seed=3)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert count(ours) == count(ref)
    assert_same_outputs(ours, ref, torch.randn(2, 3, 64, 64))


def test_keras_matches_torch() -> None:
    torch.manual_seed(0)
    tm, result = torch_model("convnext_tiny.arch")
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model("convnext_tiny.arch", input_shape=(KERAS_SIZE, KERAS_SIZE, 3))
    assert trainable_count(km) == count(tm) == result.model.trainable
    assert "Learned" in {type(layer).__name__ for layer in km.layers}
    # no transpose in the blocks: the one permutation is the flatten's, into torch's order
    permutes = [layer.name for layer in km.layers if type(layer).__name__ == "Permute"]
    assert permutes == ["classifier>1>permute"]
    got = assert_keras_matches_torch(tm, km, (1, 3, KERAS_SIZE, KERAS_SIZE))
    assert got.shape == (1, 1000)
