"""torchvision's five Vision Transformers (Dosovitskiy et al., 2021) against specs/vit.arch and its
variants vit_b_16.arch ... vit_h_14.arch.

The spec writes torchvision's model as it is: the patch projection (`conv2d` with kernel and
stride `patch_size`), `flatten(start=2)` and `permute([0, 2, 1])` to tokens [L, D], the class token
(a `tensor` member, `[1, 1, D]`) joined in front with `concat(class_token, identity(), dim=1)`,
the encoder (a position embedding `tensor` added to the tokens, the blocks named
`encoder_layer_{index}`, each pre-norm `layernorm` -> `attention` (nn.MultiheadAttention's
parameter layout) and `layernorm` -> MLP, each a residual), `select(dim=1, index=0)` for the
class token's output, and the classifier `heads.head`.

Torch: state_dict keys in order with torchvision's shapes, torchvision's weights loaded with
`strict=True`, trainable parameters equal to archdsl's static count, torchvision's model and the
figure torchvision's weights publish. Outputs in eval mode equal (`torch.testing.assert_close`
defaults) after `randomise` at the reference's 224x224 for ViT-B/16 and B/32. ViT-L/16, L/32 and
H/14 (304M to 633M parameters) are built on torch's meta device (keys, shapes, strict loading,
counts, no outputs); ViT-H/14 at 518x518, the resolution of its only weights (torchvision's
builder takes `image_size=518` with them; its position embedding has 1,370 tokens). Their outputs
come from the same generated classes, compared here at reduced width through the same spec's
parameters: H/14's patch size and a 2-layer, 64-wide encoder at 56x56 against torchvision's
VisionTransformer class built alike. Per-instance static shapes and counts: test_shapes.py.

Keras: the arch at reduced width (32x32 inputs, patch 8, 2 layers, 64 wide, 4 heads) agrees with
torch after the weight transfer (rtol 1e-4, atol 1e-4 x max|y|), with equal trainable counts: the
class token is a `Learned` weight repeated per sample, attention a MultiheadAttention layer in
torch's parameter layout, and the patches become tokens by one Reshape of the channels-last map
(the permute costs nothing). test_keras_backends.py builds ViT-B/16 itself on the three Keras
backends.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
import torchvision
from torchvision.models.vision_transformer import VisionTransformer

from tests.helpers import (
    ZooCase,
    assert_keras_matches_torch,
    assert_same_outputs,
    assert_same_state_dict_layout,
    assert_torchvision_table,
    count,
    keras_model,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework


CASES = [
    ZooCase("vit_b_16", 86_567_656, 224, True),
    ZooCase("vit_b_32", 88_224_232, 224, True),
    ZooCase("vit_l_16", 304_326_632, 224, False),
    ZooCase("vit_l_32", 306_535_400, 224, False),
    ZooCase("vit_h_14", 633_470_440, 518, False),
]
IDS = [c.name for c in CASES]


def test_the_table_is_torchvisions() -> None:
    assert_torchvision_table("vit_", CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_matches_reference(case: ZooCase) -> None:
    torch.manual_seed(0)
    with contextlib.nullcontext() if case.outputs else torch.device("meta"):
        ref = getattr(torchvision.models, case.name)(weights=None, image_size=case.resolution)
        ours, result = torch_model(case.spec)
    assert result.selection.entry == case.name
    assert result.model.input_shape == (3, case.resolution, case.resolution)
    assert_same_state_dict_layout(ours, ref)
    if case.outputs:
        randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == count(ours) == count(ref) == case.params
    if case.outputs:
        assert_same_outputs(ours, ref, torch.randn(1, 3, case.resolution, case.resolution))


SMALL = {"num_layers": 2, "num_heads": 4, "hidden_dim": 64, "mlp_dim": 128, "num_classes": 10}


def test_huge_patches_at_reduced_width_match_reference() -> None:
    """ViT-H/14's patch size through the spec's parameters, at a width that runs quickly."""
    torch.manual_seed(0)
    ref = VisionTransformer(image_size=56, patch_size=14, **SMALL)
    ours, _ = torch_model("vit_h_14.arch", image_size=56, **SMALL)
    randomise(ref, seed=3)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert_same_outputs(ours, ref, torch.randn(2, 3, 56, 56))


def test_keras_matches_torch() -> None:
    small = {**SMALL, "image_size": 32, "patch_size": 8}
    torch.manual_seed(0)
    tm, _ = torch_model("vit.arch", **small)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model("vit.arch", **small)
    assert trainable_count(km) == count(tm)
    kinds = {type(layer).__name__ for layer in km.layers}
    assert {"Learned", "MultiheadAttention", "Reshape"} <= kinds and "Permute" not in kinds
    got = assert_keras_matches_torch(tm, km, (2, 3, 32, 32))
    assert got.shape == (2, 10)
