"""The lowered IR and the defects that a missing backend-neutral model caused: each case here
failed before the backends became printers of one lowered model."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from archdsl.compiler import analyse, compile_spec
from archdsl.errors import ArchError
from archdsl.ir import lowered as L
from tests.helpers import (
    ROOT,
    SPECS,
    all_specs,
    arch_specs,
    assert_backends_agree,
    load,
    reduced_input,
)


def _compile(tmp_path: Path, text: str, backend: str) -> str:
    path = tmp_path / "spec.arch"
    path.write_text(text)
    source = compile_spec(path, backend, name="spec.arch").source
    assert source is not None
    return source


LOOP_GROUP = """
arch Net(num_classes: int = 3) {
  input [3, 8, 8]
  for c in [4, 8] {
    conv2{index} = conv2d(c, kernel=1)
  }
  fc = linear(num_classes)
  forward: conv2 -> flatten() -> fc
}
"""


@pytest.mark.framework
def test_loop_groups_come_from_the_loop_not_from_member_names(tmp_path: Path) -> None:
    source = _compile(tmp_path, LOOP_GROUP, "torch")
    assert "self.conv20(x)" in source and "self.conv21(x)" in source
    model = load(source, "group").net().eval()
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 3)


CONCAT = """
arch Net(num_classes: int = 3) {{
  input [3, 8, 8]
  a = conv2d(4, kernel=1)
  b = conv2d(4, kernel=1)
  fc = linear(num_classes)
  forward: concat(a, b, dim={dim}) -> flatten() -> fc
}}
"""


@pytest.mark.framework
def test_concat_joins_along_its_dim(tmp_path: Path) -> None:
    torch_source = _compile(tmp_path, CONCAT.format(dim=3), "torch")
    assert "torch.cat([branch, branch_1], dim=3)" in torch_source
    keras_source = _compile(tmp_path, CONCAT.format(dim=3), "keras")
    assert "Concatenate(axis=2" in keras_source
    result = analyse(tmp_path / "spec.arch")
    a = next(i for i in result.lowered.instances if i.path == "fc")
    assert a.in_shapes == ((4 * 8 * 16,),)  # [4, 8, 16] flattened
    model = load(torch_source, "concat").net().eval()
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 3)


@pytest.mark.parametrize("dim", ['"x"', "0", "4"])
def test_concat_refuses_a_dim_it_cannot_join(tmp_path: Path, dim: str) -> None:
    path = tmp_path / "spec.arch"
    path.write_text(CONCAT.format(dim=dim))
    with pytest.raises(ArchError) as err:
        analyse(path)
    assert err.value.diagnostics[0].code == "E0414"


LAST_IN_ZIP = """
arch Net(num_classes: int = 3) {
  input [3, 8, 8]
  blocks = sequential {
    for (c, s) in zip([4, 8], [1, 2]) {
      conv2d(c, kernel=3, stride=s, padding=1, bias=not last)
    }
  }
  fc = linear(num_classes)
  forward: blocks -> flatten() -> fc
}
"""


@pytest.mark.framework
@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_last_inside_a_zip_loop_builds(tmp_path: Path, backend: str) -> None:
    source = _compile(tmp_path, LAST_IN_ZIP, backend)
    assert "len(zip(" not in source
    module = load(source, f"last_{backend}")
    model = module.net()
    if backend == "torch":
        assert model.blocks[0].bias is not None and model.blocks[1].bias is None
    else:
        assert model.get_layer("blocks>1").use_bias is False


@pytest.mark.parametrize("spec", all_specs())
def test_lowered_model_round_trips_through_json(spec: str) -> None:
    lowered = analyse(SPECS / spec).lowered
    text = L.to_json(lowered)
    assert L.from_json(text) == lowered
    assert json.loads(text)["format_version"] == L.FORMAT_VERSION


def test_cli_prints_the_ir_and_its_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "archdsl.cli", "compile", "specs/resnet50.arch", "--backend", "ir"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    model = L.from_json(out)
    assert model.entry == "resnet50" and model.trainable == 25_557_032
    stages = model.definition(model.arch).features  # the feature stages both printers print
    assert [(s.module, s.channels, s.reduction) for s in stages] == [
        ("relu", 64, 2),
        ("layer1", 256, 4),
        ("layer2", 512, 8),
        ("layer3", 1024, 16),
        ("layer4", 2048, 32),
    ]
    schema = subprocess.run(
        [sys.executable, "-m", "archdsl.cli", "schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(schema)["title"] == "LoweredModel"


def test_backends_hold_no_syntax_node_tests() -> None:
    for path in (ROOT / "archdsl" / "backends").glob("*.py"):
        text = path.read_text()
        assert "syntax import ast" not in text and "ast." not in text, path.name


def test_printed_layers_show_only_non_default_arguments() -> None:
    for path in (Path(__file__).parent / "golden").glob("*.py"):
        text = path.read_text()
        for default in ("eps=1e-05", "momentum=0.1", "padding=0", "bias=True", "use_bias=True"):
            assert default not in text, (path.name, default)


JOINS = {"Add", "Multiply", "Concatenate"}  # each side of a condition may end in its own join


Sides = tuple[tuple[int, bool], ...]


def _layer_calls(node: ast.AST, sides: Sides, out: list[tuple[str, Sides]]) -> None:
    """Each Keras layer call under ``node``, with the sides of the `if`s it sits in."""
    if isinstance(node, ast.If):
        _layer_calls(node.test, sides, out)
        for stmt in node.body:
            _layer_calls(stmt, (*sides, (id(node), True)), out)
        for stmt in node.orelse:
            _layer_calls(stmt, (*sides, (id(node), False)), out)
        return
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func).startswith("keras.layers.")
        and node.func.attr not in JOINS
    ):
        out.append((ast.unparse(node), sides))
    for child in ast.iter_child_nodes(node):
        _layer_calls(child, sides, out)


def _exclusive(a: Sides, b: Sides) -> bool:
    """Whether two places take opposite sides of one `if`, so that one call runs."""
    taken = dict(a)
    return any(node in taken and taken[node] != side for node, side in b)


def test_keras_functions_create_each_layer_once() -> None:
    """A Keras function never prints the same layer call twice where both can run (a
    condition's sides share their leading layers, printed once before the `if`; a member that
    both sides apply to different inputs is printed on each side, of which one runs)."""
    goldens = [*(Path(__file__).parent / "golden").glob("*.keras.py")]
    goldens += [*(Path(__file__).parent / "snippets").glob("*.expected")]
    for path in goldens:
        text = path.read_text().split("# ---- keras ----")[-1]
        for fn in ast.parse(text).body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            calls: list[tuple[str, Sides]] = []
            _layer_calls(fn, (), calls)
            repeated = {
                c
                for i, (c, at) in enumerate(calls)
                for d, other in calls[i + 1 :]
                if c == d and not _exclusive(at, other)
            }
            assert not repeated, (path.name, fn.name, sorted(repeated)[:3])


NESTED_CONDITIONS = """
block B(c1: bool = true, c2: bool = false) {
  a = conv2d(4, kernel=1)
  b = conv2d(4, kernel=1)
  forward: (a -> (residual(b) if c2 else b)) if c1 else (a -> b -> relu())
}

arch Net() {
  input [3, 8, 8]
  x1 = B()
  x2 = B(c1=false)
  x3 = B(c2=true)
  forward: x1 -> x2 -> x3
}
"""


def test_an_inner_condition_keeps_the_layers_an_outer_one_printed(tmp_path: Path) -> None:
    """The outer condition prints `a` once before its `if`; printing the inner condition (which
    prints `b` before its own `if`) must not make the outer `else` create `a` again."""
    path = tmp_path / "spec.arch"
    path.write_text(NESTED_CONDITIONS)
    source = compile_spec(path, "keras").source or ""
    assert source.count('name=f"{name}>a"') == 1, source


@pytest.mark.framework
def test_nested_conditions_agree_with_torch(tmp_path: Path) -> None:
    assert_backends_agree(NESTED_CONDITIONS, tmp_path)


@pytest.mark.framework
@pytest.mark.parametrize("spec", arch_specs())
def test_torch_model_scripts_and_traces(spec: str, tmp_path: Path) -> None:
    result = compile_spec(SPECS / spec, "torch", name=f"specs/{spec}")
    path = tmp_path / f"gen_{spec.removesuffix('.arch')}.py"
    path.write_text(result.source or "")
    loader = importlib.util.spec_from_file_location(path.stem, path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    sys.modules[path.stem] = module  # torch.jit.script reads the class's source file
    loader.loader.exec_module(module)
    model = getattr(module, result.selection.entry)().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(model)
    x = torch.randn(1, *reduced_input(spec))  # tracing costs the same at any size
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(scripted(x), expected)
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), expected)
        exported = torch.export.export(model, (x,))
        torch.testing.assert_close(exported.module()(x), expected)
        if hasattr(model, "forward_stages"):  # the feature stages (exported to TorchScript)
            # smaller: Inception v3 takes 96 x 96; MaxViT's maps must be whole partitions
            c, *sides = result.model.input_shape
            smallest = 224 if spec == "maxvit.arch" else 96
            small = torch.randn(1, c, *(min(side, smallest) for side in sides))
            stages = model.forward_stages(small)
            torch.testing.assert_close(scripted.forward_stages(small), stages)
            traced = torch.fx.symbolic_trace(_Stages(model))
            torch.testing.assert_close(traced(small), stages)


class _Stages(torch.nn.Module):
    """A model's forward_stages as its forward, for torch.fx (which traces forward)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.model.forward_stages(x)  # type: ignore[operator, no-any-return]


@pytest.mark.framework
def test_stage_lists_of_another_length_are_refused_by_check_and_constructor() -> None:
    with pytest.raises(ArchError) as err:
        analyse(SPECS / "resnet50.arch", sets={"layers": "[3, 4]"})
    assert err.value.diagnostics[0].code == "E0612"
    source = compile_spec(SPECS / "resnet50.arch", "torch", name="specs/resnet50.arch").source
    module = load(source or "", "resnet50_lengths")
    with pytest.raises(ValueError):
        module.resnet50(layers=[2, 2, 2])  # the spec's strict zip, in the generated code


TWO_SIZES = """
block Head() {
  conv = conv2d(4, kernel=1)
  forward: conv -> flatten()
}

arch Net(num_classes: int = 3) {
  input [3, 8, 8]
  a = Head()
  pool = maxpool2d(2)
  b = Head()
  fc = linear(num_classes)
  forward: concat(a, pool -> b) -> fc
}
"""


def test_a_flatten_that_sees_two_sizes_is_refused_by_check(tmp_path: Path) -> None:
    path = tmp_path / "spec.arch"
    path.write_text(TWO_SIZES)
    with pytest.raises(ArchError) as err:
        analyse(path)  # what `archdsl check` runs: no backend is needed to refuse it
    assert err.value.diagnostics[0].code == "E0411"


def test_a_file_with_an_arch_and_its_variant_checks_the_variant(tmp_path: Path) -> None:
    text = (SPECS / "mobilenet_v1.arch").read_text()
    text = text.replace(
        "variant mobilenetv1_100 = MobileNetV1(width_mult=1.0)",
        "variant mobilenetv1_050 = MobileNetV1(width_mult=0.5)",
    )
    path = tmp_path / "mobilenet_v1.arch"
    path.write_text(text)
    result = analyse(path)
    assert result.selection.entry == "mobilenetv1_050"
    assert result.model.trainable == analyse(path, model="mobilenetv1_050").model.trainable
    assert result.model.trainable < analyse(path, model="MobileNetV1").model.trainable


# Where the channels the generated code counts are not the dimension a layer reads: the linear
# layer after flatten(start=2) reads each channel's 64 positions (it was built for the 16
# channels); an operation inline in forward reads its block's parameter (a stored attribute)
_READS = {
    "flatten_then_linear": """
arch T {
  input [3, 8, 8]
  body = sequential {
    conv2d(16, kernel=1)
    flatten(start=2)
    linear(10)
    permute([0, 2, 1])
    layernorm()
  }
}
""",
    "inline_parameter": """
block Shuffle(g: int) {
  norm = batchnorm2d()
  forward: channel_shuffle(g) -> norm
}
arch T {
  input [4, 6, 6]
  body = Shuffle(2)
}
""",
}


@pytest.mark.framework
@pytest.mark.parametrize("name", sorted(_READS))
def test_layers_are_built_for_the_dimension_they_read(name: str, tmp_path: Path) -> None:
    import numpy as np

    from archdsl.transfer import torch_to_keras
    from tests.helpers import assert_instances_match_torch, randomise, to_channels_last

    path = tmp_path / "t.arch"
    path.write_text(_READS[name])
    tr = compile_spec(path, "torch", name="t.arch")
    kr = compile_spec(path, "keras", name="t.arch")
    tm = load(tr.source or "", f"reads_{name}_torch").T()
    km = load(kr.source or "", f"reads_{name}_keras").T()
    assert_instances_match_torch(tm, tr)
    randomise(tm)
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(0).standard_normal((2, *tr.model.input_shape)).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    got = np.asarray(km(to_channels_last(x), training=False))
    if expected.ndim == 4:
        got = np.transpose(got, (0, 3, 1, 2))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_activations_overwrite_only_new_tensors_nothing_else_reads(tmp_path: Path) -> None:
    """torch applies an activation in place (torchvision's `nn.ReLU(inplace=True)`, a tenth of
    MobileNetV2's forward time) where its input is a new tensor only it reads: after a weighted
    layer of its sequence, or a residual's sum (then `out += identity` as well). Not where the
    input is also the shortcut's, the sequence's own input, a view, or an activation's output
    (which its backward reads)."""
    path = tmp_path / "t.arch"
    path.write_text(
        """
block Pre() {
  act = relu()
  conv = conv2d(in_channels, kernel=3, padding=1)
  forward: residual(act -> conv)
}
block Post() {
  conv = conv2d(in_channels, kernel=3, padding=1)
  bn = batchnorm2d()
  act = relu6()
  forward: residual(conv -> bn -> act) -> act
}
arch T {
  input [4, 8, 8]
  stem = sequential {
    silu()
    conv2d(4, kernel=1)
    relu()
    hardswish()
    permute([0, 1, 3, 2])
    relu()
  }
  pre = Pre()
  post = Post()
}
"""
    )
    source = "".join((compile_spec(path, "torch").source or "").split())
    assert "nn.SiLU()," in source  # the sequence's input
    # after the conv; not after the ReLU, whose backward reads its output
    assert "nn.ReLU(inplace=True),nn.Hardswish()," in source
    assert "Permute([0,1,3,2]),nn.ReLU()," in source  # a view of the conv's output
    pre = source.split("classPre", 1)[1].split("class", 1)[0]
    assert "self.act=nn.ReLU()" in pre  # the shortcut reads its input
    post = source.split("classPost", 1)[1].split("class", 1)[0]
    assert "self.act=nn.ReLU6(inplace=True)" in post  # after bn, and after the sum
    # the sum in place where the branch ends in a weighted layer, not in an activation
    assert "out+=x" in pre and "out+=x" not in post
    # a feature stage's output is returned by forward_stages as it is
    path.write_text(
        "arch S(num_classes: int = 10) {\n  input [3, 16, 16]\n"
        "  conv = conv2d(8, kernel=3, stride=2)\n  bn = batchnorm2d()\n  relu = relu()\n"
        "  pool = adaptive_avgpool2d(1)\n"
        "  fc = linear(num_classes)\n"
        "  forward: conv -> feature(bn) -> relu -> head(pool -> flatten() -> fc)\n}\n"
    )
    assert "self.relu = nn.ReLU()" in (compile_spec(path, "torch").source or "")
