"""AlexNet, VGG-11/13/16/19 (with and without batch norm) and SqueezeNet 1.0/1.1 against
torchvision: state_dict keys in order with their shapes, strict loading, outputs at 224x224;
Keras against torch after the weight transfer; parameter counts everywhere. Then the paper's
SqueezeNet 1.0 bypass variants (Iandola et al. 2016, section 6), which have no library
reference: where the bypasses sit, what they add to the parameter count, and Keras against torch.

Resolutions, batch 1: the generated torch models are compared with torchvision at 224x224, its
default. Keras is compared with the generated torch model at 224x224 for AlexNet and SqueezeNet
and at 64x64 for VGG (torchvision's minimum for VGG is 32; the adaptive 7x7 average pooling then
spreads the 2x2 feature map over overlapping windows), which keeps the 130M+-parameter models
quick. Each reference is built once; the generated torch model is built on the meta device
and takes the reference's tensors (a strict load with `assign=True`), so no weights are held
twice; every model is freed after its test. In CI the VGG variants with no Keras case other
than VGG-11 (the smallest: tests.helpers.outputs_compared) are compared on the meta device,
keys, shapes, a strict load and counts, and run for real with ``ARCHDSL_LONG=1``.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest
import torch
import torchvision

from tests.helpers import (
    assert_keras_matches_torch,
    assert_same_structure,
    count,
    keras_model,
    outputs_compared,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework

# (spec, torchvision model, its parameter count, Keras resolution). Keras runs for one VGG with
# batch norm and one without; the other depths are the same generated code with other arguments
CASES = [
    ("alexnet.arch", "alexnet", 61_100_840, 224),
    ("vgg11.arch", "vgg11", 132_863_336, None),
    ("vgg11_bn.arch", "vgg11_bn", 132_868_840, 64),
    ("vgg13.arch", "vgg13", 133_047_848, None),
    ("vgg13_bn.arch", "vgg13_bn", 133_053_736, None),
    ("vgg16.arch", "vgg16", 138_357_544, None),
    ("vgg16_bn.arch", "vgg16_bn", 138_365_992, None),
    ("vgg19.arch", "vgg19", 143_667_240, 64),
    ("vgg19_bn.arch", "vgg19_bn", 143_678_248, None),
    ("squeezenet1_0.arch", "squeezenet1_0", 1_248_424, 224),
    ("squeezenet1_1.arch", "squeezenet1_1", 1_235_496, 224),
]

BYPASS = ["squeezenet1_0_simple_bypass.arch", "squeezenet1_0_complex_bypass.arch"]


def _keras_agrees(spec: str, tm: Any, size: int) -> None:
    """The generated Keras model has torch's trainable count and, with the torch weights,
    computes the same outputs at ``size`` x ``size``."""
    km, _ = keras_model(spec, transfer=True, input_shape=(size, size, 3))
    try:
        n_torch = sum(p.numel() for p in tm.parameters() if p.requires_grad)
        assert trainable_count(km) == n_torch
        assert_keras_matches_torch(tm, km, (1, 3, size, size), seed=1)
    finally:
        del km
        gc.collect()


@pytest.mark.parametrize(
    ("spec", "reference", "params", "keras_size"), CASES, ids=[c[1] for c in CASES]
)
def test_matches_torchvision(
    spec: str, reference: str, params: int, keras_size: int | None
) -> None:
    torch.manual_seed(0)
    if keras_size is None and not outputs_compared(spec):
        with torch.device("meta"):
            ref = getattr(torchvision.models, reference)(weights=None)
            ours, result = torch_model(spec)
        assert_same_structure(ours, ref)
        assert result.model.trainable == count(ref) == params
        return
    ref = getattr(torchvision.models, reference)(weights=None).eval()
    # built without weights (on the meta device), it takes the reference's tensors when loading
    with torch.device("meta"):
        ours, result = torch_model(spec)
    ours.eval()
    try:
        # static figures: archdsl's count is the reference's
        n_ref = sum(p.numel() for p in ref.parameters() if p.requires_grad)
        assert n_ref == params
        assert result.model.trainable == n_ref
        assert result.model.input_shape == (3, 224, 224)
        # same keys, in order, with the same shapes; the reference's weights load strictly
        ref_sd, our_sd = ref.state_dict(), ours.state_dict()
        assert list(our_sd) == list(ref_sd)
        assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
        randomise(ref, seed=1)
        ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
        assert all(p.device.type == "cpu" for p in ours.state_dict().values())
        x = torch.randn(1, 3, 224, 224)
        with torch.no_grad():
            expected, got = ref(x), ours(x)
        assert got.shape == (1, 1000)
        torch.testing.assert_close(got, expected)
        del ref, ref_sd, our_sd
        gc.collect()
        # Keras computes the same function with the same (reference) weights
        if keras_size is not None:
            _keras_agrees(spec, ours, keras_size)
    finally:
        del ours
        gc.collect()


# ---- SqueezeNet 1.0 with bypass (section 6 of the paper) --------------------------------------

# Table 1: the channels fire2 ... fire9 put out (e1x1 + e3x3), and those they take in (conv1's 96
# maps for fire2, the previous module's output otherwise; max pooling keeps the channels).
FIRE_OUT = [128, 128, 256, 256, 384, 384, 512, 512]
FIRE_IN = [96, *FIRE_OUT[:-1]]


def _fires(model: Any) -> dict[int, Any]:
    """The Fire modules of ``model.features`` by the paper's numbers, fire2 ... fire9."""
    fires = [m for m in model.features if hasattr(m, "squeeze")]
    assert len(fires) == 8
    return {number: fire for number, fire in enumerate(fires, start=2)}


def _bypass_kind(fire: Any, channels: int) -> str:
    """What ``fire`` adds to its squeeze-expand output, found by running it: "none", "identity"
    (its input) or "conv" (its `bypass_conv` applied to the input)."""
    x = torch.randn(1, channels, 9, 9)
    with torch.no_grad():
        s = fire.squeeze_activation(fire.squeeze(x))
        body = torch.cat(
            [
                fire.expand1x1_activation(fire.expand1x1(s)),
                fire.expand3x3_activation(fire.expand3x3(s)),
            ],
            1,
        )
        out = fire(x)
        conv = getattr(fire, "bypass_conv", None)
        if torch.allclose(out, body):
            return "none"
        if out.shape == x.shape and torch.allclose(out, body + x):
            return "identity"
        if conv is not None and torch.allclose(out, body + conv(x)):
            return "conv"
    return "unknown"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("squeezenet1_0.arch", ["none"] * 8),
        # identity bypass around fire3, fire5, fire7 and fire9 (input channels = output channels)
        ("squeezenet1_0_simple_bypass.arch", ["none", "identity"] * 4),
        # and a 1x1 convolution bypass around fire2, fire4, fire6 and fire8
        ("squeezenet1_0_complex_bypass.arch", ["conv", "identity"] * 4),
    ],
)
def test_bypasses_sit_where_the_paper_puts_them(spec: str, expected: list[str]) -> None:
    torch.manual_seed(0)
    model, _ = torch_model(spec)
    model.eval()
    fires = _fires(model)
    kinds = [_bypass_kind(fires[n], FIRE_IN[n - 2]) for n in range(2, 10)]
    assert kinds == expected
    for n, fire in fires.items():
        conv = getattr(fire, "bypass_conv", None)
        if expected[n - 2] == "conv":
            assert isinstance(conv, torch.nn.Conv2d)
            assert conv.kernel_size == (1, 1) and conv.stride == (1, 1)
            assert (conv.in_channels, conv.out_channels) == (FIRE_IN[n - 2], FIRE_OUT[n - 2])
            assert conv.bias is not None
        else:
            assert conv is None, f"fire{n}"


def test_bypass_parameter_counts() -> None:
    """Simple bypass adds no parameters; complex bypass adds, for each 1x1 shortcut
    convolution (with bias) around fire2, fire4, fire6 and fire8, in * out + out:
    96*128+128 + 128*256+256 + 256*384+384 + 384*512+512 = 341,248."""
    # the modules whose channels change are fire2, fire4, fire6 and fire8 (table above)
    changing = [n for n in range(2, 10) if FIRE_IN[n - 2] != FIRE_OUT[n - 2]]
    assert changing == [2, 4, 6, 8]
    extra = sum(FIRE_IN[n - 2] * FIRE_OUT[n - 2] + FIRE_OUT[n - 2] for n in changing)
    assert extra == 341_248
    base = sum(p.numel() for p in torchvision.models.squeezenet1_0(weights=None).parameters())
    assert base == 1_248_424
    for spec, expected in [
        ("squeezenet1_0_simple_bypass.arch", base),
        ("squeezenet1_0_complex_bypass.arch", base + extra),
    ]:
        model, result = torch_model(spec)
        assert sum(p.numel() for p in model.parameters()) == expected, spec
        assert result.model.trainable == expected, spec
    assert base + extra == 1_589_672


def test_bypass_variants_extend_squeezenet1_0() -> None:
    """The bypass variants are SqueezeNet 1.0 with shortcuts added: torchvision's squeezenet1_0
    weights fill every other tensor, and only the shortcut convolutions are left over."""
    ref = torchvision.models.squeezenet1_0(weights=None)
    for spec, extra in [
        ("squeezenet1_0_simple_bypass.arch", []),
        (
            "squeezenet1_0_complex_bypass.arch",
            [f"features.{i}.bypass_conv.{p}" for i in (3, 5, 8, 10) for p in ("weight", "bias")],
        ),
    ]:
        model, _ = torch_model(spec)
        missing, unexpected = model.load_state_dict(ref.state_dict(), strict=False)
        assert sorted(missing) == sorted(extra), spec
        assert unexpected == [], spec


@pytest.mark.parametrize("spec", BYPASS)
def test_bypass_keras_matches_torch(spec: str) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(spec)
    randomise(tm, seed=2)
    assert result.model.trainable == sum(p.numel() for p in tm.parameters())
    _keras_agrees(spec, tm, 224)
