"""torchvision's fifteen RegNets (Radosavovic et al., 2020) against specs/regnet.arch and its
variants regnet_x_400mf.arch ... regnet_y_128gf.arch.

The widths come from the design space's parameters, computed in the spec (`**`, `log`, a
comprehension filter) in float64; torchvision computes them in float32 with torch.round.
test_stage_settings_equal_torchvision compares the stage widths, depths and group widths archdsl
instantiates with BlockParams.from_init_params for all fifteen (the log-space rounding is at least
0.0026 away from a tie in every one of them, so the precisions agree).

Torch: state_dict keys in order with torchvision's shapes (quoted member names: `block1-0`),
torchvision's weights loaded with `strict=True`, trainable parameters equal to archdsl's static
count, torchvision's model and the figure torchvision's weights publish. archdsl's per-instance
shapes and counts equal torch's for all fifteen and regnet.arch in test_shapes.py (every spec, on
the meta device, at the declared 224x224). Outputs in eval mode equal
(`torch.testing.assert_close` defaults) after `randomise` (random batch-norm statistics, affine
parameters and biases) at 32x32 (RegNet's min_size is 1; at 32 the last stage sees 1x1 pixels,
and the 3x3 convolutions of the earlier stages see 16x16 down to 2x2), for the 400MF and 800MF
models and two mid-size ones: RegNetX-8GF (its first stage's group width is cut to its 80
channels, the width adjustment's other path) and RegNetY-3.2GF. The others, the five over 50M
parameters among them, are built on torch's meta device (keys, shapes, strict loading, counts; no
outputs): built on the CPU, RegNetY-128GF alone (645M parameters) would take minutes. They run
the same generated classes with other arguments.

Keras: trainable counts equal torch's and outputs agree after the weight transfer (rtol 1e-4, atol
1e-4 x max|y|) at 32x32, for RegNetX-400MF and RegNetY-400MF (without and with
squeeze-and-excitation); the layer names carry the quoted names (`trunk_output>block1>block1-0`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torchvision
from torchvision.models import get_model_weights
from torchvision.models.regnet import BlockParams

from archdsl.compiler import analyse
from tests.helpers import (
    SPECS,
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

SMALL = 32  # see the module docstring


@dataclass(frozen=True)
class Case:
    name: str  # the torchvision model, the spec file's stem and its variant
    design: tuple[int, int, float, float, int, float]  # depth, w_0, w_a, w_m, group width, SE
    params: int  # torchvision's published parameter count (its weights' metadata)
    outputs: bool  # outputs compared at SMALL; False: built on the meta device

    @property
    def spec(self) -> str:
        return f"{self.name}.arch"


CASES = [
    Case("regnet_x_400mf", (22, 24, 24.48, 2.54, 16, 0.0), 5_495_976, True),
    Case("regnet_x_800mf", (16, 56, 35.73, 2.28, 16, 0.0), 7_259_656, True),
    Case("regnet_x_1_6gf", (18, 80, 34.01, 2.25, 24, 0.0), 9_190_136, False),
    Case("regnet_x_3_2gf", (25, 88, 26.31, 2.25, 48, 0.0), 15_296_552, False),
    Case("regnet_x_8gf", (23, 80, 49.56, 2.88, 120, 0.0), 39_572_648, True),
    Case("regnet_x_16gf", (22, 216, 55.59, 2.1, 128, 0.0), 54_278_536, False),
    Case("regnet_x_32gf", (23, 320, 69.86, 2.0, 168, 0.0), 107_811_560, False),
    Case("regnet_y_400mf", (16, 48, 27.89, 2.09, 8, 0.25), 4_344_144, True),
    Case("regnet_y_800mf", (14, 56, 38.84, 2.4, 16, 0.25), 6_432_512, True),
    Case("regnet_y_1_6gf", (27, 48, 20.71, 2.65, 24, 0.25), 11_202_430, False),
    Case("regnet_y_3_2gf", (21, 80, 42.63, 2.66, 24, 0.25), 19_436_338, True),
    Case("regnet_y_8gf", (17, 192, 76.82, 2.19, 56, 0.25), 39_381_472, False),
    Case("regnet_y_16gf", (18, 200, 106.23, 2.48, 112, 0.25), 83_590_140, False),
    Case("regnet_y_32gf", (20, 232, 115.89, 2.53, 232, 0.25), 145_046_770, False),
    Case("regnet_y_128gf", (27, 456, 160.83, 2.52, 264, 0.25), 644_812_894, False),
]
IDS = [c.name for c in CASES]
KERAS_CASES = [c for c in CASES if c.name in {"regnet_x_400mf", "regnet_y_400mf"}]


@contextlib.contextmanager
def on_meta() -> Iterator[None]:
    """torch's meta device, where torchvision's RegNet builders run as they are but for
    BlockParams.from_init_params, which reads values back from tensors (`.tolist()`): it runs on
    the CPU."""
    original = BlockParams.from_init_params.__func__  # type: ignore[attr-defined]

    def on_cpu(cls: type[BlockParams], *args: Any, **kwargs: Any) -> BlockParams:
        with torch.device("cpu"):
            return original(cls, *args, **kwargs)  # type: ignore[no-any-return]

    with pytest.MonkeyPatch.context() as patch, torch.device("meta"):
        patch.setattr(BlockParams, "from_init_params", classmethod(on_cpu))
        yield


def test_the_table_is_torchvisions() -> None:
    """Every RegNet torchvision has, with the published parameter counts."""
    names = [n for n in torchvision.models.list_models() if n.startswith("regnet_")]
    assert sorted(names) == sorted(IDS)
    for case in CASES:
        assert get_model_weights(case.name).DEFAULT.meta["num_params"] == case.params


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_stage_settings_equal_torchvision(case: Case) -> None:
    """The stages archdsl instantiates (widths, depths, group widths, strides, SE ratio) are
    torchvision's BlockParams.from_init_params, for the design parameters the variant gives."""
    depth, w_0, w_a, w_m, group_width, se_ratio = case.design
    expected = BlockParams.from_init_params(
        depth=depth, w_0=w_0, w_a=w_a, w_m=w_m, group_width=group_width, se_ratio=se_ratio
    )
    result = analyse(SPECS / case.spec)
    assert result.selection.entry == case.name
    trunk = result.model.root.children["trunk_output"]
    stages = list(trunk.children.values())
    assert list(trunk.children) == [f"block{i + 1}" for i in range(len(expected.widths))]
    assert [s.args["width_out"] for s in stages] == expected.widths
    assert [s.args["depth"] for s in stages] == expected.depths
    assert [s.args["group_width"] for s in stages] == expected.group_widths
    assert [s.args["stride"] for s in stages] == expected.strides
    assert [s.args["bottleneck_multiplier"] for s in stages] == expected.bottleneck_multipliers
    assert all(s.args["se_ratio"] == se_ratio for s in stages)
    for i, stage in enumerate(stages):
        assert list(stage.children) == [f"block{i + 1}-{j}" for j in range(expected.depths[i])]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_matches_reference(case: Case) -> None:
    torch.manual_seed(0)
    with contextlib.nullcontext() if case.outputs else on_meta():
        ref = getattr(torchvision.models, case.name)(weights=None)
        ours, result = torch_model(case.spec)
    assert result.selection.entry == case.name
    assert_same_state_dict_layout(ours, ref)
    if case.outputs:
        randomise(ref, seed=1)
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.model.trainable == count(ours) == count(ref) == case.params
    if case.outputs:
        assert_same_outputs(ours, ref, torch.randn(1, 3, SMALL, SMALL))


def test_arch_defaults_are_regnet_y_400mf() -> None:
    with on_meta():
        ours, result = torch_model("regnet.arch")
        ref = torchvision.models.regnet_y_400mf()
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in ref.state_dict().items()
    ]
    assert result.model.trainable == count(ref)


def test_invalid_settings_are_refused_as_torchvision_does() -> None:
    """The arch's `require` is from_init_params's check, in the compiler and in the generated
    class alike."""
    from archdsl.errors import ArchError

    with pytest.raises(ValueError, match="Invalid RegNet settings"):
        BlockParams.from_init_params(depth=16, w_0=44, w_a=27.89, w_m=2.09, group_width=8)
    with pytest.raises(ArchError) as info:
        analyse(SPECS / "regnet.arch", sets={"w_0": "44"})
    assert "Invalid RegNet settings" in info.value.diagnostics[0].message
    with torch.device("meta"), pytest.raises(ValueError, match="Invalid RegNet settings"):
        torch_model("regnet.arch", w_m=1.0)


@pytest.mark.parametrize("case", KERAS_CASES, ids=[c.name for c in KERAS_CASES])
def test_keras_matches_torch(case: Case) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(case.spec)
    tm.eval()
    randomise(tm, seed=2)
    km, _ = keras_model(case.spec, input_shape=(SMALL, SMALL, 3))
    assert trainable_count(km) == count(tm) == result.model.trainable == case.params
    names = {layer.name for layer in km.layers}
    assert "trunk_output>block1>block1-0>f>a>0" in names
    got = assert_keras_matches_torch(tm, km, (1, 3, SMALL, SMALL))
    assert got.shape == (1, 1000)
