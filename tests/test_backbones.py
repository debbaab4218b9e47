"""Generated models as backbones (the `head(...)` an arch's forward ends with): torch's
forward_features / forward_head / reset_classifier against torchvision's models truncated by hand,
Keras's include_top / pooling / classifier_activation against the torch features after the weight
transfer, optional auxiliary heads (GoogLeNet, Inception v3) in both backends, and the feature
stages (timm's features_only): feature_info against timm's, forward_stages against torchvision's
modules, Keras's features_only against torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from archdsl.compiler import compile_spec
from archdsl.transfer import torch_to_keras
from tests.helpers import (
    ROOT,
    keras_model,
    load,
    randomise,
    to_channels_last,
    torch_model,
    zero_initialised,
)

pytestmark = pytest.mark.framework

SIZE = 64


def _resnet_features(ref: Any, x: torch.Tensor) -> torch.Tensor:
    return nn.Sequential(*list(ref.children())[:-2])(x)  # conv1 ... layer4


def _features(ref: Any, x: torch.Tensor) -> torch.Tensor:
    return ref.features(x)


def _relu_features(ref: Any, x: torch.Tensor) -> torch.Tensor:
    return torch.relu(ref.features(x))  # DenseNet's forward applies the ReLU after features


# spec, reference, its truncated features, its classifier's attribute, the features' channels
CASES: list[
    tuple[str, Callable[..., Any], Callable[[Any, torch.Tensor], torch.Tensor], str, int]
] = [
    ("resnet50.arch", torchvision.models.resnet50, _resnet_features, "fc", 2048),
    ("mobilenet_v2.arch", torchvision.models.mobilenet_v2, _features, "classifier", 1280),
    ("efficientnet_b0.arch", torchvision.models.efficientnet_b0, _features, "classifier", 1280),
    ("densenet121.arch", torchvision.models.densenet121, _relu_features, "classifier", 1024),
    # the classifier is item 2 of a sequence after a layer norm and a flatten: pre_logits is
    # what that item reads, as timm's ConvNeXt, and reset_classifier(0) replaces it alone
    ("convnext_tiny.arch", torchvision.models.convnext_tiny, _features, "classifier.2", 768),
]
IDS = [c[0].removesuffix(".arch") for c in CASES]


def _pair(spec: str, reference: Callable[..., Any]) -> tuple[Any, Any]:
    torch.manual_seed(0)
    ref = reference(weights=None).eval()
    randomise(ref, seed=3)
    ours, _ = torch_model(spec)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours.eval(), ref


@pytest.mark.parametrize(
    ("spec", "reference", "truncate", "classifier", "channels"), CASES, ids=IDS
)
def test_torch_features_are_the_truncated_reference(
    spec: str,
    reference: Callable[..., Any],
    truncate: Callable[[Any, torch.Tensor], torch.Tensor],
    classifier: str,
    channels: int,
) -> None:
    ours, ref = _pair(spec, reference)
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        features = ours.forward_features(x)
        torch.testing.assert_close(features, truncate(ref, x))
        assert features.shape[1] == channels
        logits = ours(x)
        torch.testing.assert_close(ours.forward_head(features), logits)
        pre_logits = ours.forward_head(features, pre_logits=True)
        assert ours.head_hidden_size == pre_logits.shape[1]
        # torchvision's model without its classifier layer
        owner, _, attr = classifier.rpartition(".")
        setattr(ref.get_submodule(owner), attr, nn.Identity())
        torch.testing.assert_close(pre_logits, ref(x))
        ours.reset_classifier(10)
        assert ours(x).shape == (2, 10)
        ours.reset_classifier(0)
        torch.testing.assert_close(ours(x), pre_logits)
    assert not any(k.startswith(f"{classifier}.") and "weight" in k for k in ours.state_dict())


@pytest.mark.parametrize(
    ("spec", "reference", "truncate", "classifier", "channels"), CASES, ids=IDS
)
def test_keras_without_top_gives_the_torch_features(
    spec: str,
    reference: Callable[..., Any],
    truncate: Callable[[Any, torch.Tensor], torch.Tensor],
    classifier: str,
    channels: int,
) -> None:
    ours, _ = _pair(spec, reference)
    x = np.random.default_rng(1).standard_normal((2, 3, SIZE, SIZE)).astype("float32")
    with torch.no_grad():
        features = ours.forward_features(torch.from_numpy(x)).numpy()
    pooled = {"avg": features.mean(axis=(2, 3)), "max": features.max(axis=(2, 3))}
    pooling = "max" if spec.startswith("mobilenet") else "avg"
    km, _ = keras_model(
        spec, transfer=True, include_top=False, pooling=pooling, input_shape=(SIZE, SIZE, 3)
    )
    with pytest.raises(ValueError, match="without a Keras layer"):
        torch_to_keras(ours.state_dict(), km)  # the head's tensors: only when asked to
    torch_to_keras(ours.state_dict(), km, headless=True)
    got = np.asarray(km(to_channels_last(x), training=False))
    assert got.shape == (2, channels)
    scale = np.abs(pooled[pooling]).max()
    np.testing.assert_allclose(got, pooled[pooling], rtol=1e-4, atol=1e-4 * scale)


def test_keras_feature_maps_and_classifier_activation() -> None:
    ours, _ = _pair("resnet50.arch", torchvision.models.resnet50)
    x = np.random.default_rng(2).standard_normal((2, 3, SIZE, SIZE)).astype("float32")
    with torch.no_grad():
        features = ours.forward_features(torch.from_numpy(x)).numpy()
        logits = ours(torch.from_numpy(x)).numpy()
    maps, _ = keras_model(
        "resnet50.arch", transfer=True, include_top=False, input_shape=(64, 64, 3)
    )
    torch_to_keras(ours.state_dict(), maps, headless=True)
    got = np.transpose(np.asarray(maps(to_channels_last(x))), (0, 3, 1, 2))
    np.testing.assert_allclose(got, features, rtol=1e-4, atol=1e-4 * np.abs(features).max())
    # keras.applications' default: class probabilities; None: the logits torch gives
    probs, _ = keras_model(
        "resnet50.arch", transfer=True, classifier_activation="softmax", input_shape=(SIZE, SIZE, 3)
    )
    torch_to_keras(ours.state_dict(), probs)
    p = np.asarray(probs(to_channels_last(x)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(p, torch.softmax(torch.from_numpy(logits), 1).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="pooling must be"):
        keras_model("resnet50.arch", include_top=False, pooling="mean")


def test_googlenet_auxiliary_heads_are_optional() -> None:
    x = torch.randn(2, 3, SIZE, SIZE)
    for aux_logits in (True, False):
        torch.manual_seed(0)
        ref = torchvision.models.googlenet(weights=None, aux_logits=aux_logits, init_weights=False)
        ours, _ = torch_model("googlenet.arch", aux_logits=aux_logits)
        assert list(ours.state_dict()) == list(ref.state_dict())
        ours.load_state_dict(ref.state_dict(), strict=True)
        ours.train()
        ref.train()
        with torch.no_grad():
            torch.manual_seed(1)
            got = ours(x)
            torch.manual_seed(1)
            expected = ref(x)
        if aux_logits:  # a named tuple, as torchvision's GoogLeNetOutputs
            assert got._fields == ("logits", "aux2", "aux1")
            for a, b in zip(got, expected, strict=True):
                torch.testing.assert_close(a, b)
            torch.testing.assert_close(got.logits, expected.logits)
        else:
            assert isinstance(got, torch.Tensor)
            torch.testing.assert_close(got, expected)
        with torch.no_grad():
            assert isinstance(ours.eval()(x), torch.Tensor)
    # Keras: three outputs with the auxiliary heads, one without them or without the top
    outputs = {}
    for kwargs in ({}, {"aux_logits": False}, {"include_top": False}):
        km, _ = keras_model("googlenet.arch", transfer=True, input_shape=(SIZE, SIZE, 3), **kwargs)
        outputs[tuple(kwargs)] = len(km.outputs)
    assert outputs == {(): 3, ("aux_logits",): 1, ("include_top",): 1}


def test_inception_v3_without_auxiliary_head_has_torchvision_keys() -> None:
    ref = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    ours, result = torch_model("inception_v3.arch", aux_logits=False)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == [
        v.shape for v in ref.state_dict().values()
    ]
    with torch.no_grad():
        assert isinstance(ours.train()(torch.randn(2, 3, 75, 75)), torch.Tensor)


def test_keras_refuses_sizes_a_fixed_size_model_cannot_take() -> None:
    """LeNet-5's flatten feeds a linear layer: its parameters follow the input size, so its Keras
    model takes its declared size only, and says why."""
    _, result = keras_model("lenet5.arch")
    assert result.lowered.input_size is not None and not result.lowered.input_size.free
    for shape in ((None, None, 1), (64, 64, 1)):
        with pytest.raises(
            ValueError,
            match=r"LeNet5 takes only \(32, 32, 1\) inputs: .*"
            r"`classifier.0` \(linear\) depend on the input's size",
        ):
            keras_model("lenet5.arch", input_shape=shape)


# ---- feature stages (timm's features_only) ----------------------------------------------------

# Each spec's feature stages by the rule (the last top-level step at each reduction, sequences
# read item by item), next to timm's feature_info of the same model
# (`timm.create_model(name, features_only=True).feature_info`). The reductions agree everywhere
# (2, 4, 8, 16, 32). Where they differ:
# - ResNet-50: timm calls torchvision's `relu` `act1`; layer1-4 are the same modules.
# - MobileNetV2, EfficientNet-B0: timm's `blocks.i` are torchvision's `features.i+1` grouped by
#   stage (the same outputs: `features.3` ends timm's `blocks.1`); timm's last stage is the last
#   block (320 channels), before the final 1x1 convolution (1280), which timm counts as its head
#   and the rule as the last step at reduction 32 (what `forward_features` returns).
# - DenseNet-121: timm's `norm0` and `norm5` are norm-and-ReLU layers: their outputs are
#   torchvision's `features.relu0` and the forward's `relu()` after `features`, which torch
#   applies as a function (the stage's module is the inline layer's label, `relu`); the dense
#   blocks are the same modules.
FEATURES: dict[str, tuple[str, list[str], list[int], dict[int, int]]] = {
    # spec: (timm model, our modules, our channels, {stage: timm's channels where they differ})
    "resnet50.arch": (
        "resnet50",
        ["relu", "layer1", "layer2", "layer3", "layer4"],
        [64, 256, 512, 1024, 2048],
        {},
    ),
    "mobilenet_v2.arch": (
        "mobilenetv2_100",
        ["features.1", "features.3", "features.6", "features.13", "features.18"],
        [16, 24, 32, 96, 1280],
        {4: 320},
    ),
    "efficientnet_b0.arch": (
        "efficientnet_b0",
        ["features.1", "features.2", "features.3", "features.5", "features.8"],
        [16, 24, 40, 112, 1280],
        {4: 320},
    ),
    "densenet121.arch": (
        "densenet121",
        [
            "features.relu0",
            "features.denseblock1",
            "features.denseblock2",
            "features.denseblock3",
            "relu",
        ],
        [64, 256, 512, 1024, 1024],
        {},
    ),
    # timm's stages.0-3 are torchvision's features.1, 3, 5, 7 (the stem and the downsampling
    # layers are features.0, 2, 4, 6): four stages, from reduction 4
    "convnext_tiny.arch": (
        "convnext_tiny",
        ["features.1", "features.3", "features.5", "features.7"],
        [96, 192, 384, 768],
        {},
    ),
}
# the stages whose module paths are timm's too
SAME_MODULES = {
    "resnet50.arch": ["layer1", "layer2", "layer3", "layer4"],
    "densenet121.arch": ["features.denseblock1", "features.denseblock2", "features.denseblock3"],
}


@pytest.mark.parametrize("spec", list(FEATURES), ids=IDS)
def test_feature_info_is_timms_where_the_layouts_agree(spec: str) -> None:
    import timm

    name, modules, channels, differ = FEATURES[spec]
    ours, _ = torch_model(spec)
    info = ours.feature_info
    assert [s["module"] for s in info] == modules
    assert [s["num_chs"] for s in info] == channels
    theirs = timm.create_model(name, features_only=True, pretrained=False).feature_info
    reductions = [2, 4, 8, 16, 32] if len(info) == 5 else [4, 8, 16, 32]
    assert [s["reduction"] for s in info] == theirs.reduction() == reductions
    assert theirs.channels() == [differ.get(i, c) for i, c in enumerate(channels)]
    assert set(SAME_MODULES.get(spec, [])) <= set(theirs.module_name()) & set(modules)
    assert info is not torch_model(spec)[0].feature_info  # a copy per model


@pytest.mark.parametrize(
    ("spec", "reference", "truncate", "classifier", "channels"), CASES, ids=IDS
)
def test_stage_outputs_are_the_reference_modules_outputs_in_both_backends(
    spec: str,
    reference: Callable[..., Any],
    truncate: Callable[[Any, torch.Tensor], torch.Tensor],
    classifier: str,
    channels: int,
) -> None:
    """torch's forward_stages against torchvision's modules (forward hooks), the last stage
    against the reference's features (DenseNet's inline ReLU has no module); Keras's
    features_only model against torch after the weight transfer."""
    ours, ref = _pair(spec, reference)
    x = np.random.default_rng(4).standard_normal((2, 3, SIZE, SIZE)).astype("float32")
    seen: dict[str, torch.Tensor] = {}
    for stage in ours.feature_info[:-1]:
        module = ref.get_submodule(stage["module"])
        module.register_forward_hook(
            lambda _m, _i, out, path=stage["module"]: seen.__setitem__(path, out)
        )
    with torch.no_grad():
        ref(torch.from_numpy(x))
        stages = ours.forward_stages(torch.from_numpy(x))
        last = truncate(ref, torch.from_numpy(x))
    assert len(stages) == len(ours.feature_info) == len(FEATURES[spec][1])
    for stage, out in zip(ours.feature_info, stages, strict=True):
        side = SIZE // stage["reduction"]
        assert out.shape == (2, stage["num_chs"], side, side)
        torch.testing.assert_close(out, seen.get(stage["module"], last))
    torch.testing.assert_close(stages[-1], ours.forward_features(torch.from_numpy(x)))
    km, result = keras_model(spec, transfer=True, features_only=True, input_shape=(SIZE, SIZE, 3))
    torch_to_keras(ours.state_dict(), km, headless=True)
    got = km(to_channels_last(x), training=False)
    assert len(got) == len(stages)
    for g, t in zip(got, stages, strict=True):
        expected = t.numpy()
        g = np.transpose(np.asarray(g), (0, 3, 1, 2))
        np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    keras_module = load(result.source or "", f"{spec}_keras_features")
    assert keras_module.FEATURE_INFO == ours.feature_info  # the same data in both modules


def test_marked_stages_in_both_backends() -> None:
    """`feature(...)` marks replace the rule: a member, each member of a loop group and an
    inline layer (tests/snippets/feature_marks.arch)."""
    spec = ROOT / "tests" / "snippets" / "feature_marks.arch"
    torch_source = compile_spec(spec, "torch", name="feature_marks.arch").source or ""
    keras_source = compile_spec(spec, "keras", name="feature_marks.arch").source or ""
    ours = load(torch_source, "marked_torch").Net().eval()
    assert ours.feature_info == [
        {"module": "stem", "num_chs": 8, "reduction": 2},
        {"module": "stage1", "num_chs": 16, "reduction": 4},
        {"module": "stage2", "num_chs": 32, "reduction": 8},
        {"module": "relu", "num_chs": 32, "reduction": 8},
    ]
    randomise(ours)
    x = np.random.default_rng(5).standard_normal((2, 3, 16, 16)).astype("float32")
    with torch.no_grad():
        stages = ours.forward_stages(torch.from_numpy(x))
        features = ours.forward_features(torch.from_numpy(x))
    torch.testing.assert_close(stages[-1], features)
    torch.testing.assert_close(stages[3], torch.relu(stages[2]))
    with zero_initialised():
        km = load(keras_source, "marked_keras").Net(features_only=True)
    torch_to_keras(ours.state_dict(), km, headless=True)
    got = km(to_channels_last(x), training=False)
    for g, t in zip(got, stages, strict=True):
        g = np.transpose(np.asarray(g), (0, 3, 1, 2))
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-4, atol=1e-4 * np.abs(t.numpy()).max())
