"""Language features end to end: each spec here compiles for both backends, and its static
figures, torch model and Keras model agree (see helpers.assert_backends_agree)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers import assert_backends_agree, load

pytestmark = pytest.mark.framework

DENSE = """
block DenseLayer(growth: int) {
  norm = batchnorm2d()
  relu = relu()
  conv = conv2d(growth, kernel=3, padding=1, bias=false)
  drop = stochastic_depth(0.3)
  forward: concat(identity(), norm -> relu -> conv -> drop)
}

# members in order, with as many layers as each instance asks for
block DenseBlock(n: int, growth: int) {
  repeat n {
    denselayer{index + 1} = DenseLayer(growth)
  }
}

arch Dense(num_classes: int = 5) {
  input [3, 33, 33]
  stem = conv2d(8, kernel=3, stride=2)
  pool = maxpool2d(3, stride=2, ceil_mode=true)
  for n in [2, 3] {
    block{index + 1} = DenseBlock(n, growth=4)
  }
  head = sequential {
    adaptive_avgpool2d(1)
    flatten()
    linear(num_classes)
  }
}
"""

SQUEEZE_EXCITE = """
block SE(squeeze: int) {
  avgpool = adaptive_avgpool2d(1)
  fc1 = conv2d(squeeze, kernel=1)
  relu = relu()
  fc2 = conv2d(in_channels, kernel=1)
  gate = hardsigmoid()
  forward: multiply(avgpool -> fc1 -> relu -> fc2 -> gate)
}

arch Excite {
  input [6, 15, 15]
  conv = conv2d(12, kernel=3, stride=2, padding=1)
  act = hardswish()
  se = SE(4)
  pool = maxpool2d(2, ceil_mode=true)
  rest = sequential {
    SE(3) when true
    SE(5) when false
  }
  forward: conv -> act -> se -> pool -> rest -> flatten() -> head
  head = linear(3)
}
"""


# torchvision RegNet's names: members whose names are not identifiers (`block1-0`), with a width
# computed by `**`, `log` and a comprehension filter
QUOTED = """
block Stage(width: int, depth: int, stage: int) {
  repeat depth {
    "block{stage}-{index}" = conv2d(width, kernel=3, padding=1, stride=2 if first else 1)
  }
}

arch Quoted(w_0: int = 4, w_m: float = 2.0) {
  input [3, 16, 16]
  let widths = [round(w_0 * w_m ** round(log(w) / log(w_m))) for w in [3, 5, 9] if w > 3]
  for (w, d) in zip(widths, [1, 2]) {
    "stage-{index + 1}" = Stage(w, d, stage=index + 1)
  }
  # no forward: the members run in order (a quoted name's head, `stage-`, is not a name forward
  # could apply; `"stage{index + 1}"` would be)
  head = sequential {
    adaptive_avgpool2d(1)
    flatten()
    linear(3)
  }
}
"""


@pytest.mark.parametrize(("name", "text"), [("dense", DENSE), ("excite", SQUEEZE_EXCITE)])
def test_feature_specs_agree(name: str, text: str, tmp_path: Path) -> None:
    assert_backends_agree(text, tmp_path, f"{name}.arch")


def test_quoted_names_are_state_dict_keys(tmp_path: Path) -> None:
    result = assert_backends_agree(QUOTED, tmp_path, "quoted.arch")
    model = getattr(load(result.source or "", "quoted_torch"), result.selection.entry)()
    assert [k for k in model.state_dict() if k.endswith("weight")] == [
        "stage-1.block1-0.weight",
        "stage-2.block2-0.weight",
        "stage-2.block2-1.weight",
        "head.2.weight",
    ]
    assert model.get_submodule("stage-1.block1-0").out_channels == 16
    assert model.get_submodule("stage-2.block2-0").out_channels == 32


def test_forward_applies_quoted_members_by_their_names(tmp_path: Path) -> None:
    """A group whose members' names are no identifiers (`stage1-a`): forward fetches each by
    its name; the group is the text before the first hole."""
    text = (
        "arch Net {\n  input [3, 8, 8]\n  for w in [4, 8] {\n"
        '    "stage{index + 1}-a" = conv2d(w, kernel=3, padding=1)\n  }\n'
        "  pool = adaptive_avgpool2d(1)\n  fc = linear(2)\n"
        "  forward: stage -> pool -> flatten() -> fc\n}\n"
    )
    result = assert_backends_agree(text, tmp_path, "forward.arch")
    assert 'x = self.get_submodule("stage2-a")(x)' in (result.source or "")


def test_ceil_mode_shapes() -> None:
    from archdsl.layers.pool import MaxPoolArgs, _pool_shape

    for size in range(3, 30):
        for kernel, stride, padding in [(3, 2, 0), (3, 2, 1), (2, 2, 0), (3, 1, 1)]:
            pool = torch.nn.MaxPool2d(kernel, stride, padding, ceil_mode=True)
            expected = tuple(pool(torch.zeros(1, 1, size, size)).shape[1:])
            args = MaxPoolArgs(kernel=kernel, stride=stride, padding=padding, ceil_mode=True)
            assert _pool_shape(args, (1, size, size)) == expected, (size, kernel, stride, padding)


def test_stochastic_depth_is_active_only_in_training(tmp_path: Path) -> None:
    from archdsl.compiler import compile_spec

    path = tmp_path / "sd.arch"
    path.write_text("arch SD {\n  input [4, 2, 2]\n  drop = stochastic_depth(0.5)\n}\n")
    model = load(compile_spec(path, "torch").source or "", "sd").sd()
    x = torch.ones(64, 4, 2, 2)
    model.train()
    y = model(x)
    per_sample = y.flatten(1)
    # whole samples are dropped or scaled by 2, never single elements
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert (per_sample.min(1).values == per_sample.max(1).values).all()
    assert 0 < (per_sample[:, 0] == 0).sum() < 64
    model.eval()
    assert torch.equal(model(x), x)


REQUIRE = """
block Basic(planes: int, groups: int = 1) {
  require groups == 1, "Basic supports only groups=1"
  conv = conv2d(planes, kernel=3, padding=1, groups=groups)
}

arch R(groups: int = 1) {
  input [4, 8, 8]
  b = Basic(4, groups=groups)
}
"""


def test_requirements_hold_in_generated_code_too(tmp_path: Path) -> None:
    from archdsl.compiler import compile_spec

    path = tmp_path / "r.arch"
    path.write_text(REQUIRE)
    torch_module = load(compile_spec(path, "torch").source or "", "r_torch")
    keras_module = load(compile_spec(path, "keras").source or "", "r_keras")
    torch_module.r()
    keras_module.R()
    with pytest.raises(ValueError, match="Basic supports only groups=1"):
        torch_module.r(groups=2)
    with pytest.raises(ValueError, match="Basic supports only groups=1"):
        keras_module.R(groups=2)


CAPTURE = """
# a comprehension variable named like a generated loop index must not capture `index`
arch Capture(r: int = 6) {
  input [4, r, r]
  features = sequential {
    conv2d(4, kernel=3, padding=1, groups=4)
    for a in [1, 2] {
      repeat 2 {
        conv2d(sum([j + index for j in range(2)]) + 4, kernel=1)
      }
    }
  }
  forward: features -> adaptive_avgpool2d(1) -> flatten() -> fc
  fc = linear(3)
}

variant capture8 = Capture(r=8)
"""


def test_comprehensions_keep_their_own_names(tmp_path: Path) -> None:
    result = assert_backends_agree(CAPTURE, tmp_path, "capture.arch")
    # the loop counter takes another name than the comprehension variable
    assert "sum([j + i for j in range(2)])" in (result.source or "")


def test_variant_factories_accept_overrides(tmp_path: Path) -> None:
    from archdsl.compiler import compile_spec

    path = tmp_path / "capture.arch"
    path.write_text(CAPTURE)
    torch_module = load(compile_spec(path, "torch", model="capture8").source or "", "c8")
    model = torch_module.capture8(r=6)  # the variant's value can still be overridden
    assert model(torch.zeros(1, 4, 6, 6)).shape == (1, 3)
    keras_module = load(compile_spec(path, "keras", model="capture8").source or "", "c8k")
    assert keras_module.capture8().input_shape == (None, 8, 8, 4)  # input follows `r`


# a block whose channels are known only once it is built (its members come from a loop), then a
# named ReLU: the block reports the ReLU's input channels, the one attribute that exists
RUNTIME_CHANNELS = """
block Stack(widths: list) {
  for w in widths {
    conv{index} = conv2d(w, kernel=3, padding=1)
  }
}

block Unit(widths: list) {
  body = Stack(widths)
  act = relu()
  forward: body -> act
}

arch Net {
  input [3, 8, 8]
  unit = Unit([4, 6])
  pool = adaptive_avgpool2d(1)
  fc = linear(2)
  forward: unit -> pool -> flatten() -> fc
}
"""


def test_a_layer_after_a_block_reports_the_blocks_channels(tmp_path: Path) -> None:
    result = assert_backends_agree(RUNTIME_CHANNELS, tmp_path, "runtime.arch")
    assert "self.out_channels = self.body.out_channels" in (result.source or "")
