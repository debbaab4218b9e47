"""Wide ResNet, ResNeXt-101, DenseNet-161, MnasNet and EfficientNetV2 against torchvision
(issue 7: the torchvision classification zoo).

Torch: state_dict keys in order with the same shapes as torchvision's model built with
`weights=None`, torchvision's weights loaded with `strict=True`, trainable parameters equal to
archdsl's static count, torchvision's model and the figure torchvision's weights publish, and
every batch norm's eps and momentum equal to torchvision's.

Outputs in eval mode equal (`torch.testing.assert_close` defaults) after `randomise` (random
batch-norm statistics, affine parameters and biases), at the reference's default resolution (the
crop size of its default weights, asserted below: 224, EfficientNetV2-S 384) where the time
allows. ResNeXt-101 32x8d and EfficientNetV2-M (16.4 and, at its 480x480, 24.6 GFLOPs a pass by
torchvision's figures) are compared at 33x33 instead: the smallest input torchvision's
EfficientNetV2 takes (its min_size), and the smallest at which the last stage of either still
sees 2x2 pixels, so that off-centre kernel taps meet data there too (ResNeXt nominally takes 1x1,
where only the kernels' centres would count). For EfficientNetV2, the stochastic-depth
probability of every block equals torchvision's, and V2-S's training pass with the same seed
equals torchvision's.

The three largest models (wide_resnet101_2, resnext101_64x4d, efficientnet_v2_l: 84M to 127M
parameters) are built on torch's meta device: keys, shapes, strict loading and counts, no
outputs. Built on the CPU, each would take about ten seconds on two shared cores, whatever the
input size (building, initialising and loading the weights dominate). Their outputs come from the
same generated classes and depth tables as models compared here: ResNet-101's stages in
resnext101_32x8d, EfficientNetV2's seven-stage table layout in efficientnet_v2_m.

Static shapes and counts per module instance (`assert_instances_match_torch`, at the spec's
declared 224x224) for every new spec, the two arch declarations included, on torch's meta device
(shapes and counts without the arithmetic; test_shapes.py runs the same check on the CPU for every
spec). An arch declaration's defaults (mnasnet1_0, efficientnet_v2_s) also have its reference's
state_dict keys, shapes and batch-norm settings.

Keras: trainable counts equal torch's and outputs agree after the weight transfer (rtol 1e-4,
atol 1e-4 x max|y|) at 64x64, for the models in KERAS_CASES: Wide ResNet-50-2 (the bottleneck's
width_per_group; its groups path is resnext50_32x4d's in test_reference_resnets.py), MnasNet at
alpha 0.75 (where the rounding goes up a multiple: 24 x 0.75 -> 24) and 1.3, and EfficientNetV2-S
(fused and unfused stages). The other models run the same generated Keras functions with other
arguments (DenseNet-161 those of densenet121-201, checked in test_reference_resnets.py); their
eight Keras models would add about a minute on two cores. Every arch declaration's Keras model is
also built on three backends by test_keras_backends.py.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
import torch
import torchvision
from torchvision.models import get_model_weights

from tests.helpers import (
    assert_instances_match_torch,
    assert_keras_matches_torch,
    assert_training_pass_matches,
    count,
    keras_model,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework

SMALL = 33  # see the module docstring
KERAS_SIZE = 64


@dataclass(frozen=True)
class Case:
    name: str  # the torchvision model, the spec file's stem and its variant
    params: int  # torchvision's published parameter count (its weights' metadata)
    resolution: int  # the crop size of torchvision's default weights
    compare_at: int | None  # the resolution outputs are compared at; None: built on meta only

    @property
    def spec(self) -> str:
        return f"{self.name}.arch"


CASES = [
    Case("wide_resnet50_2", 68_883_240, 224, 224),
    Case("wide_resnet101_2", 126_886_696, 224, None),
    Case("resnext101_32x8d", 88_791_336, 224, SMALL),
    Case("resnext101_64x4d", 83_455_272, 224, None),
    Case("densenet161", 28_681_000, 224, 224),
    Case("mnasnet0_5", 2_218_512, 224, 224),
    Case("mnasnet0_75", 3_170_208, 224, 224),
    Case("mnasnet1_0", 4_383_312, 224, 224),
    Case("mnasnet1_3", 6_282_256, 224, 224),
    Case("efficientnet_v2_s", 21_458_488, 384, 384),
    Case("efficientnet_v2_m", 54_139_356, 480, SMALL),
    Case("efficientnet_v2_l", 118_515_272, 480, None),
]
IDS = [c.name for c in CASES]
KERAS_CASES = [
    c
    for c in CASES
    if c.name in {"wide_resnet50_2", "mnasnet0_75", "mnasnet1_3", "efficientnet_v2_s"}
]
# the arch declarations: (spec, the variant its defaults equal)
ARCHS = [("mnasnet.arch", "mnasnet1_0"), ("efficientnet_v2.arch", "efficientnet_v2_s")]


def reference(name: str) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None)


def _drop_probabilities(model: torch.nn.Module) -> list[float]:
    """The stochastic-depth probability of every residual MBConv and FusedMBConv, in order."""
    return [
        m.stochastic_depth.p
        for m in model.modules()
        if type(m).__name__ in ("MBConv", "FusedMBConv") and m.use_res_connect
    ]


def _norm_settings(model: torch.nn.Module) -> list[tuple[float, float | None]]:
    return [(m.eps, m.momentum) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_matches_reference(case: Case) -> None:
    weights = get_model_weights(case.name).DEFAULT
    assert weights.meta["num_params"] == case.params
    assert weights.transforms().crop_size == [case.resolution]
    torch.manual_seed(0)
    on_meta = case.compare_at is None
    with torch.device("meta") if on_meta else contextlib.nullcontext():
        ref = reference(case.name)
        ours, result = torch_model(case.spec)
    assert result.selection.entry == case.name
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
    if case.compare_at is not None:
        randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    if case.compare_at is not None:
        ours.eval()
        ref.eval()
        x = torch.randn(1, 3, case.compare_at, case.compare_at)
        with torch.no_grad():
            expected, got = ref(x), ours(x)
        torch.testing.assert_close(got, expected)
    assert result.model.trainable == count(ours) == count(ref) == case.params
    assert _norm_settings(ours) == _norm_settings(ref)
    if case.name.startswith("efficientnet_v2"):
        expected_p = _drop_probabilities(ref)
        assert len(expected_p) > 0 and _drop_probabilities(ours) == expected_p
    if case.name == "efficientnet_v2_s":
        assert_training_pass_matches(ours, ref, torch.randn(2, 3, 64, 64))


@pytest.mark.parametrize(
    ("spec", "model"),
    [(c.spec, None) for c in CASES] + ARCHS,
    ids=IDS + [s for s, _ in ARCHS],
)
def test_static_shapes_on_meta(spec: str, model: str | None) -> None:
    """Per-instance shapes and counts against torch on the meta device. An arch declaration's
    defaults build its reference's state_dict layout, with torchvision's batch-norm settings:
    MnasNet's momentum 1 - 0.9997, EfficientNetV2's eps 1e-3 at torch's default momentum."""
    with torch.device("meta"):
        ours, result = torch_model(spec)
        assert_instances_match_torch(ours, result)
        if model is not None:
            ref = reference(model)
            assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
                (k, v.shape) for k, v in ref.state_dict().items()
            ]
            assert result.model.trainable == count(ref)
            assert _norm_settings(ours) == _norm_settings(ref)


@pytest.mark.parametrize("case", KERAS_CASES, ids=[c.name for c in KERAS_CASES])
def test_keras_matches_torch(case: Case) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(case.spec)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model(case.spec, transfer=True, input_shape=(KERAS_SIZE, KERAS_SIZE, 3))
    assert trainable_count(km) == count(tm) == result.model.trainable == case.params
    got = assert_keras_matches_torch(tm, km, (1, 3, KERAS_SIZE, KERAS_SIZE))
    assert got.shape == (1, 1000)


def test_mnasnet_depths_round_as_torchvision() -> None:
    """The spec's rounding of 32, 16, 24, ... 320 times alpha is torchvision's
    _round_to_multiple_of, at the four published alphas and three more; at 0.75 (24 -> 18 -> 24)
    and 0.35 (32 -> 11.2 -> 16) the nearest multiple of 8 is more than 10% low and it rounds up."""
    from torchvision.models.mnasnet import _get_depths

    for alpha in (0.5, 0.75, 1.0, 1.3, 0.35, 1.1, 2.0):
        with torch.device("meta"):
            ours, _ = torch_model("mnasnet.arch", alpha=alpha)
        stem, stack = ours.layers[0], [ours.layers[i][0].layers[6] for i in range(8, 14)]
        widths = [stem.out_channels, ours.layers[6].out_channels] + [c.out_channels for c in stack]
        assert widths == _get_depths(alpha), alpha
