"""Generated torch models against torchvision: keys in order, shapes, strict loading, outputs
(ResNet-101 and -152 on the meta device in CI, without outputs: tests.helpers.outputs_compared)."""

from __future__ import annotations

import pytest
import torch
import torchvision

from tests.helpers import assert_same_structure, outputs_compared, randomise, torch_model

pytestmark = pytest.mark.framework

CASES = [
    ("resnet18.arch", "resnet18"),
    ("resnet34.arch", "resnet34"),
    ("resnet50.arch", "resnet50"),
    ("resnet101.arch", "resnet101"),
    ("resnet152.arch", "resnet152"),
    ("mobilenet_v2.arch", "mobilenet_v2"),
]


@pytest.mark.parametrize(("spec", "reference"), CASES, ids=[c[1] for c in CASES])
def test_matches_torchvision(spec: str, reference: str) -> None:
    torch.manual_seed(0)
    if not outputs_compared(spec):
        with torch.device("meta"):
            ref = getattr(torchvision.models, reference)(weights=None)
            ours, result = torch_model(spec)
        assert_same_structure(ours, ref)
        assert result.model.trainable == sum(p.numel() for p in ref.parameters())
        return
    ref = getattr(torchvision.models, reference)(weights=None).eval()
    ours, result = torch_model(spec)
    ours.eval()
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
    randomise(ref)  # statistics and biases too, so that loading really carries them
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, *result.model.input_shape)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    n_ref = sum(p.numel() for p in ref.parameters() if p.requires_grad)
    assert result.model.trainable == n_ref
