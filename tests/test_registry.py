"""Every registered layer, on both backends: it compiles, its static shape and counts equal
torch's and Keras's, and the two backends compute the same function. A new registry entry is
covered here without a new test; it only needs an example in `EXAMPLES`' form (its own doc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from archdsl.backends.base import layer_macro
from archdsl.compiler import compile_spec
from archdsl.layers.registry import all_layers
from archdsl.transfer import torch_to_keras
from tests.helpers import (
    assert_instances_match_torch,
    load,
    randomise,
    to_channels_last,
    trainable_count,
)

pytestmark = pytest.mark.framework

LAYERS = sorted(all_layers())


def _spec(name: str) -> str:
    layer = all_layers()[name]
    if layer.ranks == (1,):
        return f"arch T {{\n  input [12]\n  layer = {layer.example}\n}}\n"
    if layer.axes == "last":  # each position of a token sequence [L, D]
        return f"arch T {{\n  input [5, 12]\n  layer = {layer.example}\n}}\n"
    if layer.axes == "value":  # a tensor scales the input
        return (
            f"arch T {{\n  input [8, 12, 12]\n  layer = {layer.example}\n"
            "  forward: multiply(layer)\n}\n"
        )
    if name == "relative_attention":  # 2 x 2 windows of a map: [H / 2, W / 2, 4, C]
        return (
            f"arch T {{\n  input [8, 4, 6]\n  layer = {layer.example}\n"
            "  forward: unflatten(2, [-1, 2]) -> unflatten(4, [-1, 2])\n"
            "    -> permute([0, 2, 4, 3, 5, 1]) -> flatten(3, 4) -> layer\n}\n"
        )
    if layer.axes == "torch":  # a channels-last map [H, W, C]
        return (
            f"arch T {{\n  input [12, 14, 10]\n  layer = {layer.example}\n"
            "  forward: permute([0, 2, 3, 1]) -> layer -> permute([0, 3, 1, 2])\n}\n"
        )
    if name == "flatten":
        return "arch T {\n  input [3, 6, 6]\n  layer = flatten()\n  fc = linear(4)\n}\n"
    return f"arch T {{\n  input [8, 12, 12]\n  layer = {layer.example}\n}}\n"


@pytest.mark.parametrize("name", LAYERS)
def test_layer_has_templates_and_docs(name: str) -> None:
    layer = all_layers()[name]
    assert layer.doc and layer.example.startswith(name + "(")
    layer_macro("torch", layer)
    layer_macro("keras", layer)
    if layer.functional:
        layer_macro("torch", layer, "_fn")


@pytest.mark.parametrize("name", LAYERS)
def test_layer_agrees_across_backends(name: str, tmp_path: Path) -> None:
    path = tmp_path / "t.arch"
    path.write_text(_spec(name))
    tr = compile_spec(path, "torch", name="t.arch")
    kr = compile_spec(path, "keras", name="t.arch")
    torch.manual_seed(0)
    tm = load(tr.source or "", "t_torch").t()
    km = load(kr.source or "", "t_keras").t()
    assert_instances_match_torch(tm, tr)
    assert trainable_count(km) == tr.model.trainable
    randomise(tm)
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(0).standard_normal((2, *tr.model.input_shape)).astype("float32") * 4
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    got = np.asarray(km(to_channels_last(x), training=False))
    if expected.ndim == 4:
        got = np.transpose(got, (0, 3, 1, 2))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in LAYERS if all_layers()[n].functional])
def test_functional_form_in_forward(name: str, tmp_path: Path) -> None:
    layer = all_layers()[name]
    path = tmp_path / "f.arch"
    tail = " -> flatten() -> fc" if name != "flatten" else " -> fc"
    path.write_text(
        f"arch Op {{\n  input [4, 8, 8]\n  conv = conv2d(4, kernel=3)\n  fc = linear(3)\n"
        f"  forward: conv -> {layer.example}{tail}\n}}\n"
    )
    tr = compile_spec(path, "torch", name="f.arch")
    kr = compile_spec(path, "keras", name="f.arch")
    tm = load(tr.source or "", "f_torch").op()
    km = load(kr.source or "", "f_keras").op()
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.asarray(km(to_channels_last(x))), expected, rtol=1e-5, atol=1e-5)


def test_reserved_module_attributes_cover_torchs() -> None:
    """Every attribute of an nn.Sequential and an nn.ModuleList (what generated classes are) is
    refused as a spec name, so no member, parameter or value can replace one."""
    import torch

    from archdsl.names import TORCH_MODULE_ATTRIBUTES, bad_identifier

    names = set(dir(torch.nn.Sequential())) | set(dir(torch.nn.ModuleList()))
    names = {n for n in names if not n.startswith("__")}
    assert names <= TORCH_MODULE_ATTRIBUTES, sorted(names - TORCH_MODULE_ATTRIBUTES)
    assert all(bad_identifier(n) for n in names)


_WINDOW = """arch T {
  input [8, 14, 14]
  attn = %s(2, window=7, bias=false)
  forward: permute([0, 2, 3, 1]) -> attn -> permute([0, 3, 1, 2])
  init %s
}
"""


@pytest.mark.parametrize(
    ("layer", "rule", "refused"),
    [
        ("window_attention", "attn.qkv.bias = zeros()", True),
        ("cosine_window_attention", "attn.proj.bias = zeros()", True),
        # the position bias MLP's first bias exists whatever `bias` says
        ("cosine_window_attention", "attn.cpb_mlp.0.bias = zeros()", False),
        ("cosine_window_attention", "attn.cpb_mlp.0.weight = ones()", False),
    ],
)
def test_bias_flag_decides_which_tensors_exist(
    layer: str, rule: str, refused: bool, tmp_path: Path
) -> None:
    from archdsl.compiler import analyse
    from archdsl.errors import ArchError

    path = tmp_path / "t.arch"
    path.write_text(_WINDOW % (layer, rule))
    if not refused:
        analyse(path)
        return
    with pytest.raises(ArchError) as err:
        analyse(path)
    assert err.value.diagnostics[0].code == "E0230"
    assert "(`bias=false`)" in err.value.diagnostics[0].message
