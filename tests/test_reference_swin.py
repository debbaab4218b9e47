"""torchvision's six Swin Transformers (Liu et al., 2021 and 2022) against specs/swin.arch and
its variants swin_t.arch ... swin_v2_b.arch.

The spec writes torchvision's model as it is: the 4x4 patch stem (`conv2d`, `permute([0, 2, 3,
1])`, `layernorm`) to a channels-last map, the stages of blocks (pre-norm `window_attention`
and MLP residuals in Swin, post-norm `cosine_window_attention` in Swin V2, windows shifted by
half a window in every other block, one stochastic depth module used by both residuals), the
patch merging between stages (`pad_to` an even size, four `slice` pairs concatenated, then
`layernorm` and a bias-free `linear`, in the other order for V2), and the head (`layernorm`,
`permute` back, pooling, `flatten`, `linear`).

Torch: state_dict keys in order with torchvision's shapes and dtypes (the relative position
indices and V2's coordinate tables are buffers, equal to torchvision's), torchvision's weights
loaded with `strict=True`, trainable parameters equal to archdsl's static count, torchvision's
model and the figure its weights publish. Outputs in eval mode equal (`torch.testing.
assert_close` defaults) after `randomise` at the reference's resolution (224x224 for Swin-T,
256x256 for Swin-V2-T) and at an odd, non-square size where the windows and the merging pad.
Swin-S/B and V2-S/B (50M to 88M parameters) are built on torch's meta device (keys, shapes,
strict loading, counts); their outputs come from the same generated classes, compared at
reduced width through the same spec's parameters against torchvision's SwinTransformer built
alike. Per-instance static shapes and counts: test_shapes.py; torchinfo's rows, the attention's
own included: test_summary.py.

Keras: the arch at reduced width agrees with torch after the weight transfer (rtol 1e-4, atol
1e-4 x max|y|), with equal trainable counts, for Swin and Swin V2 on TensorFlow (the three
backends: test_keras_backends.py); the blocks take and give channels-last maps, so Swin's
Keras model has no Permute.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
import torchvision
from torchvision.models.swin_transformer import (
    PatchMergingV2,
    SwinTransformer,
    SwinTransformerBlockV2,
)

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
    ZooCase("swin_t", 28_288_354, 224, True),
    ZooCase("swin_s", 49_606_258, 224, False),
    ZooCase("swin_b", 87_768_224, 224, False),
    ZooCase("swin_v2_t", 28_351_570, 256, True),
    ZooCase("swin_v2_s", 49_737_442, 256, False),
    ZooCase("swin_v2_b", 87_930_848, 256, False),
]
IDS = [c.name for c in CASES]


def test_the_table_is_torchvisions() -> None:
    assert_torchvision_table("swin_", CASES)


def _buffers_equal(ours: torch.nn.Module, ref: torch.nn.Module) -> None:
    refs = dict(ref.named_buffers())
    for key, buffer in ours.named_buffers():
        assert buffer.dtype == refs[key].dtype, key
        torch.testing.assert_close(buffer, refs[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_matches_reference(case: ZooCase) -> None:
    torch.manual_seed(0)
    with contextlib.nullcontext() if case.outputs else torch.device("meta"):
        ref = getattr(torchvision.models, case.name)(weights=None)
        ours, result = torch_model(case.spec)
    assert result.selection.entry == case.name
    assert result.model.input_shape == (3, case.resolution, case.resolution)
    assert_same_state_dict_layout(ours, ref)
    if case.outputs:
        _buffers_equal(ours, ref)
        randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == count(ours) == count(ref) == case.params
    if case.outputs:
        assert_same_outputs(ours, ref, torch.randn(1, 3, case.resolution, case.resolution))
        # windows padded at the bottom and right, odd maps padded before merging
        assert_same_outputs(ours, ref, torch.randn(1, 3, 200, 136))


# Swin-S/B's and V2-S/B's configurations at a width that runs quickly: their depths and
# head counts' pattern, Swin-B's embedding/heads ratio of 32
SMALL = {"embed_dim": 32, "depths": [2, 2, 4, 2], "num_heads": [1, 2, 4, 8], "num_classes": 10}


@pytest.mark.parametrize("v2", [False, True], ids=["swin", "swin_v2"])
def test_reduced_width_matches_reference(v2: bool) -> None:
    torch.manual_seed(0)
    window = 8 if v2 else 7
    extra = {"block": SwinTransformerBlockV2, "downsample_layer": PatchMergingV2} if v2 else {}
    ref = SwinTransformer(
        patch_size=[4, 4],
        window_size=[window, window],
        stochastic_depth_prob=0.5,
        **SMALL,
        **extra,
    )
    spec = "swin_v2_b.arch" if v2 else "swin_b.arch"
    ours, _ = torch_model(spec, **SMALL)
    assert_same_state_dict_layout(ours, ref)
    randomise(ref, seed=3)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert_same_outputs(ours, ref, torch.randn(2, 3, 96, 72))
    # the stochastic depth rates grow as torchvision's: 0.5 * index / (blocks - 1)
    rates = [m.p for m in ours.modules() if type(m).__name__ == "StochasticDepth"]
    expected = [m.p for m in ref.modules() if type(m).__name__ == "StochasticDepth"]
    assert rates == pytest.approx(expected) and rates[-1] == pytest.approx(0.5)


KERAS_SMALL = {"embed_dim": 32, "depths": [2, 2], "num_heads": [2, 4], "num_classes": 10}


@pytest.mark.parametrize(
    ("spec", "window", "size"),
    [("swin_t.arch", 7, 64), ("swin_v2_t.arch", 4, 72)],
    ids=["swin", "swin_v2"],
)
def test_keras_matches_torch(spec: str, window: int, size: int) -> None:
    config = {**KERAS_SMALL, "window_size": window, "image_size": size}
    torch.manual_seed(0)
    tm, _ = torch_model(spec, **config)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model(spec, **config)
    assert trainable_count(km) == count(tm)
    kinds = [type(layer).__name__ for layer in km.layers]
    assert "WindowAttention" in kinds
    if spec == "swin_t.arch":  # the V1 blocks' layouts are known: channels-last throughout
        assert "Permute" not in kinds[: kinds.index("GlobalAveragePooling2D")]
    got = assert_keras_matches_torch(tm, km, (2, 3, size, size))
    assert got.shape == (2, 10)


def test_feature_stages_are_channels_last_maps_in_both_backends() -> None:
    """timm's Swin stages (96/192/384/768 channels at 4/8/16/32): each stage's map, and the
    final norm's (the permute after it moves no value), channels-last in torch as in Keras."""
    import keras
    import numpy as np

    from archdsl.transfer import torch_to_keras
    from tests.helpers import to_channels_last

    config = {"embed_dim": 32, "depths": [2, 2, 2, 2], "num_heads": [1, 2, 4, 8]}
    tm, _ = torch_model("swin_t.arch", image_size=64, num_classes=10, **config)
    tm.eval()
    randomise(tm, seed=2)
    assert [(s["module"], s["num_chs"], s["reduction"]) for s in tm.feature_info] == [
        ("features.1", 96, 4),
        ("features.3", 192, 8),
        ("features.5", 384, 16),
        ("norm", 768, 32),
    ]
    km, _ = keras_model("swin_t.arch", image_size=64, num_classes=10, features_only=True, **config)
    torch_to_keras(tm.state_dict(), km, headless=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype("float32")
    with torch.no_grad():
        stages = tm.forward_stages(torch.from_numpy(x))
    got = km(to_channels_last(x))
    assert [tuple(s.shape[1:]) for s in stages] == [
        (16, 16, 32),
        (8, 8, 64),
        (4, 4, 128),
        (2, 2, 256),
    ]
    for s, g in zip(stages, got, strict=True):
        expected = s.numpy()
        tolerance = 1e-4 * float(np.abs(expected).max())
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(g), expected, rtol=1e-4, atol=tolerance
        )
