"""The generated namespace is collision-free by construction: a battery of names, each tried in
every role a spec can give a name (block, arch, variant, member, parameter, `let`, loop
variable, a flag the forward reads, a block beside `ConvBlock`, an arch parameter an `init`
rule reads), is either refused by `archdsl check` with a diagnostic, or compiles for both
backends to models that build with archdsl's shapes and counts and compute one function.
Nothing in between: no generated module that shadows its own imports, helpers, locals or
torch's nn.Module attributes."""

from __future__ import annotations

from pathlib import Path

import pytest

from archdsl.compiler import analyse, compile_spec
from archdsl.errors import ArchError
from tests.helpers import assert_backends_agree, assert_safe_module

NAMES = [
    "net", "Net", "training", "to", "forward", "state_dict", "out_channels", "x", "X", "inputs",
    "Inputs", "name", "keras", "Keras", "nn", "Nn", "torch", "Any", "Sequence", "input_shape",
    "position", "out", "identity", "branch", "channels", "layers", "stage", "i", "ValueError",
    "len", "conv_block", "ConvBlock", "add", "flatten", "relu", "make_divisible",
    "StochasticDepth", "cls", "kwargs", "Model", "use_res",
]  # fmt: skip

NET = "arch Net() {\n  input [3, 8, 8]\n%s\n}\n"
# "@" stands for the name under test
ROLES = {
    "block": "block @() {\n  c = conv2d(4)\n  forward: c\n}\n" + NET % "  b = @()\n  forward: b",
    "arch": "arch @() {\n  input [3, 8, 8]\n  c = conv2d(4)\n  forward: c\n}\n",
    "variant": NET % "  c = conv2d(4)\n  forward: c" + "variant @ = Net()\n",
    "member": NET % "  @ = conv2d(4)\n  forward: @",
    "parameter": "arch Net(@: int = 4) {\n  input [3, 8, 8]\n  c = conv2d(@)\n  forward: c\n}\n",
    "let": NET % "  let @ = 4\n  c = conv2d(@)\n  forward: c",
    "loop": NET
    % "  f = sequential {\n    for @ in [4, 8] {\n      conv2d(@)\n    }\n  }\n  forward: f",
    "flag": "block B(@: bool = true) {\n  c = conv2d(3, kernel=1)\n"
    "  forward: residual(c) if @ else c\n}\n" + NET % "  b = B()\n  forward: b",
    # an arch parameter an `init` rule reads, which Keras passes to the block functions, and a
    # block parameter of the same name
    "init_value": "block B(@: int = 2) {\n  c = conv2d(@ * 2, kernel=1)\n  forward: c\n}\n"
    "arch Net(@: int = 4) {\n  input [3, 8, 8]\n  b = B()\n  forward: b\n"
    "  init conv2d.weight = normal(std=1 / @) when @ > 2\n}\n",
    "beside_conv_block": "block ConvBlock() {\n  c = conv2d(4)\n  forward: c\n}\n"
    "block @() {\n  c = conv2d(4)\n  forward: c\n}\n"
    + NET
    % "  a = ConvBlock()\n  b = @()\n  forward: a -> b",
}
CASES = [(role, n) for role in ROLES for n in NAMES]


def _outcome(path: Path) -> str | None:
    """None when check accepts the spec, else the first diagnostic's code."""
    try:
        analyse(path, name=path.name)
    except ArchError as err:
        return err.diagnostics[0].code
    return None


@pytest.mark.parametrize(("role", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_a_name_is_refused_or_compiles_in_both_backends(
    role: str, name: str, tmp_path: Path
) -> None:
    path = tmp_path / "spec.arch"
    path.write_text(ROLES[role].replace("@", name))
    code = _outcome(path)
    for backend in ("torch", "keras"):
        try:
            source = compile_spec(path, backend, name="spec.arch").source
        except ArchError as err:
            assert err.diagnostics[0].code == code, (backend, err)
            assert code is not None and code.startswith("E0"), code
        else:
            assert code is None, (backend, "compiled what check refused")
            assert_safe_module(source or "")


@pytest.mark.framework
@pytest.mark.parametrize(("role", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_an_accepted_name_builds_the_same_model_in_both_backends(
    role: str, name: str, tmp_path: Path
) -> None:
    text = ROLES[role].replace("@", name)
    path = tmp_path / "probe.arch"
    path.write_text(text)
    if _outcome(path) is not None:
        return  # refused: the test above checks that both backends refuse it too
    assert_backends_agree(text, tmp_path)
