"""ShuffleNet V2 x0.5, x1.0, x1.5 and x2.0 against torchvision's `shufflenet_v2_x*`.

Torch: state_dict keys in order with the same shapes, strict loading of the reference's random
weights (batch-norm statistics randomised too), equal eval-mode outputs at the reference's
default resolution (224x224), parameter counts (static, generated, reference, and the figure
torchvision's weights publish), and every module instance's shapes and counts as torch reports
them.

Keras: trainable counts equal torch's, and outputs agree after the weight transfer, at 224x224
as well (the models are small enough).
"""

from __future__ import annotations

import pytest
import torch
import torchvision

from tests.helpers import (
    assert_instances_match_torch,
    assert_keras_matches_torch,
    keras_model,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework

# (spec, torchvision model, parameters as torchvision's weights metadata gives them)
CASES = [
    ("shufflenet_v2_x0_5.arch", "shufflenet_v2_x0_5", 1_366_792),
    ("shufflenet_v2_x1_0.arch", "shufflenet_v2_x1_0", 2_278_604),
    ("shufflenet_v2_x1_5.arch", "shufflenet_v2_x1_5", 3_503_624),
    ("shufflenet_v2_x2_0.arch", "shufflenet_v2_x2_0", 7_393_996),
]
IDS = [c[1] for c in CASES]
SIZE = 224  # the reference's default resolution, for torch and Keras alike


@pytest.mark.parametrize(("spec", "name", "params"), CASES, ids=IDS)
def test_torch_matches_torchvision(spec: str, name: str, params: int) -> None:
    torch.manual_seed(0)
    ref = getattr(torchvision.models, name)(weights=None).eval()
    ours, result = torch_model(spec)
    ours.eval()
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
    randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.input_shape == (3, SIZE, SIZE)
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    torch.testing.assert_close(got, expected)
    n_ref = sum(p.numel() for p in ref.parameters())
    weights = torchvision.models.get_model_weights(name).IMAGENET1K_V1
    assert n_ref == params == weights.meta["num_params"]
    assert result.model.trainable == params
    assert sum(p.numel() for p in ours.parameters() if p.requires_grad) == params
    stats = sum(b.numel() for n, b in ref.named_buffers() if not n.endswith("num_batches_tracked"))
    assert result.model.stats == stats


@pytest.mark.parametrize(("spec", "name", "params"), CASES, ids=IDS)
def test_instances_match_torch(spec: str, name: str, params: int) -> None:
    torch.manual_seed(0)
    ours, result = torch_model(spec)
    assert_instances_match_torch(ours, result)


@pytest.mark.parametrize(("spec", "name", "params"), CASES, ids=IDS)
def test_keras_matches_torch(spec: str, name: str, params: int) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(spec)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model(spec, transfer=True, input_shape=(SIZE, SIZE, 3))
    assert trainable_count(km) == params == result.model.trainable
    got = assert_keras_matches_torch(tm, km, (2, 3, SIZE, SIZE))
    assert got.shape == (2, 1000)


def test_stride_one_units_split_the_channels() -> None:
    """A stride-1 unit has no branch1 (torchvision's is an empty nn.Sequential, no weights) and
    its branch2 reads half the channels; a stride-2 unit's branch2 reads all of them."""
    ours, _ = torch_model("shufflenet_v2_x1_0.arch")
    first, second = ours.stage2[0], ours.stage2[1]
    assert first.branch1 is not None and second.branch1 is None
    assert first.branch2[0].in_channels == 24 and second.branch2[0].in_channels == 58
