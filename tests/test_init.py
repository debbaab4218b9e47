"""Initialisation: a freshly built model starts where its reference starts.

For every spec, each parameter tensor of the generated torch model has the mean and standard
deviation of the same tensor of the reference built fresh (torchvision's model of that name,
else timm's), within sampling error: six standard deviations of the difference of two samples'
means (sigma sqrt(2 / n)) and standard deviations (sigma / sqrt(n)), so that thousands of
comparisons per run do not fail by chance; constant tensors are equal; draws are seeded.
Specs without a reference (the lecture's own variants) are compared with torch's defaults
through their torch model, and every arch declaration's Keras model, built fresh, is compared
with its torch model the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from archdsl.compiler import compile_spec
from archdsl.names import torch_path
from archdsl.transfer import tensor_names
from tests.helpers import (
    ROOT,
    arch_specs,
    ci_specs,
    compiled,
    keras_model,
    load,
    torch_model,
)

pytestmark = pytest.mark.framework


def _reference(name: str) -> Any | None:
    import torchvision

    if name in torchvision.models.list_models(module=torchvision.models):
        return torchvision.models.get_model(name, weights=None)
    import timm

    if name in timm.list_models():
        return timm.create_model(name, pretrained=False)
    return None


def assert_same_distribution(ours: Any, ref: Any, what: str) -> None:
    ours, ref = torch.as_tensor(ours).flatten(), torch.as_tensor(ref).flatten()
    n = ref.numel()
    ref_std, ref_mean = (float(v) for v in torch.std_mean(ref, correction=0))
    if ref_std == 0 or n == 1:
        assert bool(torch.all(ours == ref[0])), f"{what}: expected every element {float(ref[0])}"
        return
    std, mean = (float(v) for v in torch.std_mean(ours, correction=0))
    # six standard deviations of the difference of two independent samples' statistics
    mean_tol = 6 * ref_std * math.sqrt(2 / n)
    std_tol = 6 * ref_std / math.sqrt(n)
    assert abs(mean - ref_mean) <= mean_tol, (
        f"{what}: mean {mean:.4g}, reference {ref_mean:.4g} (tolerance {mean_tol:.2g})"
    )
    assert abs(std - ref_std) <= std_tol, (
        f"{what}: std {std:.4g}, reference {ref_std:.4g} (tolerance {std_tol:.2g})"
    )


# timm's MobileNet V1 draws its depthwise convolutions with fan_out / groups (its
# `_init_weight_goog`), a fan no `init` function has yet: the test asserts that it still differs.
KNOWN_GAPS = {"mobilenet_v1.arch": "conv_dw"}


@pytest.mark.parametrize("spec", ci_specs())
def test_torch_starts_as_the_reference(spec: str) -> None:
    entry = compiled(spec, "torch").lowered.entry
    torch.manual_seed(0)
    ref = _reference(entry)
    if ref is None:
        return  # no reference: the Keras comparison below covers the spec's arch
    torch.manual_seed(1)
    ours, _ = torch_model(spec)
    theirs = dict(ref.named_parameters())
    mine = dict(ours.named_parameters())
    assert list(mine) == list(theirs)
    gap = KNOWN_GAPS.get(spec)
    for key, value in mine.items():
        if gap is not None and gap in key:
            with pytest.raises(AssertionError):
                assert_same_distribution(value.detach(), theirs[key].detach(), key)
            continue
        assert_same_distribution(value.detach(), theirs[key].detach(), f"{spec}: {key}")


def test_resnet50_first_convolution_is_kaiming_fan_out() -> None:
    """torchvision's ResNet-50 draws conv1 (64 x 3 x 7 x 7) with std sqrt(2 / (64 * 49))."""
    torch.manual_seed(0)
    ours, _ = torch_model("resnet50.arch")
    std = float(ours.conv1.weight.std())
    assert abs(std - math.sqrt(2 / (64 * 49))) < 0.001


def test_zero_init_residual() -> None:
    ours, _ = torch_model("resnet50.arch", zero_init_residual=True)
    assert all(
        float(b.bn3.weight.abs().sum()) == 0 for stage in (ours.layer1, ours.layer4) for b in stage
    )
    plain, _ = torch_model("resnet50.arch")
    assert float(plain.layer1[0].bn3.weight.min()) == 1.0


@pytest.mark.parametrize("spec", arch_specs())
def test_keras_starts_as_torch(spec: str) -> None:
    torch.manual_seed(0)
    ours, _ = torch_model(spec)
    import keras

    keras.utils.set_random_seed(0)
    kmodel, _ = keras_model(spec)
    _assert_keras_starts_as(ours, kmodel, spec)


def test_nested_selectors_start_alike() -> None:
    """`init` rules through block members (tests/snippets/init_nested.arch): torch sets the
    selected tensors only, Keras's override keywords reach the same layers, a later rule
    overrides an earlier one, and a condition holds in both backends."""
    path = ROOT / "tests" / "snippets" / "init_nested.arch"
    torch_mod = load(compile_spec(path, "torch").source or "", "init_nested_torch")
    keras_mod = load(compile_spec(path, "keras").source or "", "init_nested_keras")
    for small in (False, True):
        torch.manual_seed(0)
        ours = torch_mod.Net(small=small)
        head = ours.trunk.head
        for tensor, std in (
            (head.conv1.conv.weight, 0.01),
            (head.conv0.conv.weight, 0.1),
            (ours.trunk.extra.conv.weight, 0.2),
            (head.fc.weight, 0.001),
        ):
            sample = torch.randn(tensor.numel()) * std
            assert_same_distribution(tensor.detach(), sample, f"std {std}")
        assert bool(torch.all(ours.stem.bn.bias == 0.125))  # the later rule wins
        assert bool(torch.all(head.conv0.bn.weight == (0.5 if small else 1.0)))
        assert bool(torch.all(head.conv1.bn.weight == 1.0))
        _assert_keras_starts_as(ours, keras_mod.Net(small=small), f"init_nested small={small}")


@pytest.mark.parametrize(("patch_size", "hidden", "small"), [(4, 32, False), (8, 16, True)])
def test_arguments_that_read_parameters(patch_size: int, hidden: int, small: bool) -> None:
    """`init` arguments that are expressions of the arch's parameters
    (tests/snippets/init_expressions.arch): each tensor is drawn with the value its expression
    has for the parameters the model is built with, in torch and in Keras; Keras's block
    functions read the arch's `patch_size` and `hidden` although blocks have their own."""
    path = ROOT / "tests" / "snippets" / "init_expressions.arch"
    torch_mod = load(compile_spec(path, "torch").source or "", "init_expressions_torch")
    keras_mod = load(compile_spec(path, "keras").source or "", "init_expressions_keras")
    config = {"patch_size": patch_size, "hidden": hidden, "small": small}
    torch.manual_seed(0)
    ours = torch_mod.Net(**config)
    slope = hidden / 64  # kaiming_uniform's bound: gain * sqrt(3 / fan_in), fan_in = hidden
    bound = math.sqrt(2 / (1 + slope**2)) * math.sqrt(3 / hidden)
    for tensor, sample in (
        (ours.embed.conv_proj.weight, lambda n: torch.randn(n) / math.sqrt(3 * patch_size**2)),
        (ours.head.fc1.weight, lambda n: (torch.rand(n) * 2 - 1) * bound),
        (ours.head.fc.weight, lambda n: torch.randn(n) * (0.01 if small else 1 / hidden)),
    ):
        assert_same_distribution(tensor.detach(), sample(tensor.numel()), f"{config}")
    assert bool(torch.all(ours.embed.conv_proj.bias == 1 / patch_size))
    import keras

    keras.utils.set_random_seed(0)
    _assert_keras_starts_as(ours, keras_mod.Net(**config), f"init_expressions {config}")


def _assert_keras_starts_as(ours: Any, kmodel: Any, spec: str) -> None:
    tensors = {k: v.detach() for k, v in ours.named_parameters()}
    seen = set()
    for layer in kmodel.layers:
        kind = type(layer).__name__
        if not layer.weights or kind not in {
            "Conv2D",
            "DepthwiseConv2D",
            "Dense",
            "BatchNormalization",
            "LayerNormalization",
            "Learned",
            "MultiheadAttention",
            "WindowAttention",
            "RelativeAttention",
        }:
            continue
        path = torch_path(layer.name)
        names = ["weight", "bias"]
        if kind.endswith("Attention"):  # torch's parameters, in the weights' order
            names = tensor_names(layer)
        if kind == "Learned":  # a tensor member: its key is its path, in torch's shape
            assert_same_distribution(
                np.asarray(layer.weights[0].numpy()), tensors[path], f"{spec} Keras: {path}"
            )
            seen.add(path)
            continue
        for name, weight in zip(names, layer.weights, strict=False):
            key = f"{path}.{name}"
            assert_same_distribution(
                np.asarray(weight.numpy()), tensors[key], f"{spec} Keras: {key}"
            )
            seen.add(key)
    assert seen == set(tensors)
