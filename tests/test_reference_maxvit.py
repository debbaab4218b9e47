"""torchvision's MaxViT-T (Tu et al., 2022) against specs/maxvit.arch and its variant
maxvit_t.arch.

The spec writes torchvision's model as it is: the stem (a strided Conv-BN-GELU, then a 3x3
convolution with a bias), four stages of layers, each an MBConv (pre-norm batch norm, expanded
1x1, depthwise 3x3 carrying the stride, squeeze-and-excitation, 1x1; the shortcut pooled and
projected where the shape changes), then window attention and grid attention: the map cut into
groups by `unflatten`, `permute` and `flatten` ([H / p, W / p, p * p, C]), `relative_attention`
and an MLP as pre-norm residuals, the groups put back into a map. Drop probabilities grow
linearly over the network's layers (numpy's linspace in torchvision).

Torch: state_dict keys in order with torchvision's shapes (the relative position indices are
buffers, equal to torchvision's), torchvision's weights loaded with `strict=True`, trainable
parameters equal to archdsl's static count, torchvision's model and its weights' published
figure; eval outputs equal (`torch.testing.assert_close` defaults) after `randomise` at 224x224,
the smallest size whose four stages' maps are whole 7 x 7 partitions. A reduced configuration
through the same spec's parameters (partitions of 2, four stages, 64x64) equals torchvision's
MaxVit built alike, drop rates included. torchvision's grid partition reads its cells from the
height alone, so a non-square map is checked by the round trip of the spec's partitions.
Per-instance static shapes and counts: test_shapes.py; torchinfo's totals, the
attention's two projections included: test_summary.py.

Keras: the reduced configuration agrees with torch after the weight transfer (rtol 1e-4, atol
1e-4 x max|y|) with equal trainable counts, on TensorFlow (the three backends:
test_keras_backends.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision
from torchvision.models.maxvit import MaxVit

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

CASE = ZooCase("maxvit_t", 30_919_624, 224, True)
# torchvision's maxvit_t, whose input size is a constructor argument
MAXVIT_T = {
    "stem_channels": 64,
    "block_channels": [64, 128, 256, 512],
    "block_layers": [2, 2, 5, 2],
    "head_dim": 32,
    "stochastic_depth_prob": 0.2,
    "partition_size": 7,
}


def test_the_table_is_torchvisions() -> None:
    assert_torchvision_table("maxvit", [CASE])


def test_torch_matches_reference() -> None:
    torch.manual_seed(0)
    ref = torchvision.models.maxvit_t(weights=None)
    ours, result = torch_model(CASE.spec)
    assert result.selection.entry == CASE.name
    assert result.model.input_shape == (3, 224, 224)
    assert_same_state_dict_layout(ours, ref)
    refs = dict(ref.named_buffers())
    indices = [k for k in refs if k.endswith("relative_position_index")]
    assert len(indices) == 2 * sum(MAXVIT_T["block_layers"])  # type: ignore[arg-type]
    for key, buffer in ours.named_buffers():
        assert buffer.dtype == refs[key].dtype, key
        torch.testing.assert_close(buffer, refs[key], rtol=0, atol=0, msg=key)
    randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == count(ours) == count(ref) == CASE.params
    assert_same_outputs(ours, ref, torch.randn(1, 3, 224, 224))


# maxvit.arch's partitions and their inverses, alone: torchvision's grid partition takes its
# cells from the height alone (a non-square map fails there), so heights and widths are told
# apart by the round trip on a non-square map
ROUND_TRIP = """
block Groups(p: int, grid: bool) {
  norm = layernorm()
  forward: (
    (unflatten(2, [p, -1]) -> unflatten(4, [p, -1]) -> permute([0, 3, 5, 2, 4, 1]))
    if grid
    else (unflatten(2, [-1, p]) -> unflatten(4, [-1, p]) -> permute([0, 2, 4, 3, 5, 1]))
  ) -> flatten(3, 4) -> norm -> unflatten(3, [p, p])
    -> (permute([0, 5, 3, 1, 4, 2]) if grid else permute([0, 5, 1, 3, 2, 4]))
    -> flatten(2, 3) -> flatten(3, 4)
}
arch RoundTrip(grid: bool = false) {
  input [4, 6, 12]
  groups = Groups(2, grid)
}
"""


@pytest.mark.parametrize("grid", [False, True], ids=["window", "grid"])
def test_partitions_and_departitions_are_inverses(grid: bool, tmp_path: Path) -> None:
    """Each position's channels normalised where the partition put them, and put back: the
    same as normalising the map's channels in place, in torch and in Keras."""
    import numpy as np

    from archdsl.compiler import compile_spec
    from tests.helpers import load, to_channels_last

    path = tmp_path / "round_trip.arch"
    path.write_text(ROUND_TRIP)
    tm = load(compile_spec(path, "torch").source or "", "round_trip_torch").RoundTrip(grid=grid)
    km = load(compile_spec(path, "keras").source or "", "round_trip_keras").RoundTrip(grid=grid)
    x = torch.randn(2, 4, 6, 12)
    expected = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (4,)).permute(0, 3, 1, 2)
    with torch.no_grad():
        torch.testing.assert_close(tm(x), expected)
    got = np.asarray(km(to_channels_last(x.numpy())))
    np.testing.assert_allclose(got, to_channels_last(expected.numpy()), rtol=1e-5, atol=1e-5)


SMALL = {
    "stem_channels": 16,
    "block_channels": [16, 32, 32, 64],
    "block_layers": [1, 2, 1, 1],
    "head_dim": 8,
    "partition_size": 2,
    "stochastic_depth_prob": 0.5,
}


def test_reduced_configuration_matches_reference() -> None:
    torch.manual_seed(0)
    ref = MaxVit(input_size=(64, 64), num_classes=10, **SMALL)  # type: ignore[arg-type]
    ours, _ = torch_model(CASE.spec, image_size=64, num_classes=10, **SMALL)
    assert_same_state_dict_layout(ours, ref)
    randomise(ref, seed=3)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert count(ours) == count(ref)
    assert_same_outputs(ours, ref, torch.randn(2, 3, 64, 64))
    # the drop rates grow as torchvision's, linspace(0, 0.5, layers); the MBConv's path and the
    # two attentions of a layer share its rate (torchvision's MBConv has an Identity at 0)
    rates = [_rates(layer) for block in ours.blocks for layer in block.layers]
    expected = [_rates(layer) for block in ref.blocks for layer in block.layers]
    assert [r[1] for r in rates] == pytest.approx([r[1] for r in expected])
    assert rates[-1][1] == pytest.approx(0.5)
    assert all(len(set(r)) == 1 for r in rates)


def _rates(layer: torch.nn.Module) -> tuple[float, float, float]:
    parts = layer.layers
    mbconv = getattr(parts.MBconv.stochastic_depth, "p", 0.0)
    window, grid = parts.window_attention, parts.grid_attention
    return mbconv, window.stochastic_dropout.p, grid.stochastic_dropout.p


def test_keras_matches_torch() -> None:
    config = {**SMALL, "image_size": 64, "num_classes": 10}
    torch.manual_seed(0)
    tm, _ = torch_model(CASE.spec, **config)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model(CASE.spec, **config)
    assert trainable_count(km) == count(tm)
    kinds = [type(layer).__name__ for layer in km.layers]
    assert kinds.count("RelativeAttention") == 2 * sum(SMALL["block_layers"])  # type: ignore[arg-type]
    got = assert_keras_matches_torch(tm, km, (2, 3, 64, 64))
    assert got.shape == (2, 10)
