"""Property: one generated torch class serves every accepted value of its parameters.

For each arch declaration, hypothesis draws overrides of the arch's parameters from their
declared types (stage lists of other lengths and contents, widths, depths, flags, strings the
spec compares with, other blocks). archdsl analyses the spec with those values (as
`archdsl check --set` does); the generated class, built with the same values, must then either
match the prediction module by module (shapes per use, parameter and statistic counts; on
torch's meta device, whose kernels check shapes and domains as the CPU ones do), or, when
archdsl refuses the values, refuse them too (on the CPU). The refusals the spec states are
raised by the constructor: a failed `require` raises ValueError with the spec's own message, a
stage table of another length raises zip's ValueError. A value outside a layer's domain (a
kernel larger than its input, batch norm's eps = 0) is refused by the framework when the layer
runs: in the constructor, the eval forward or the training forward, before an output is
returned.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from archdsl.compiler import analyse
from archdsl.errors import ArchError
from archdsl.ir import lowered as L
from tests.helpers import SPECS, arch_specs, assert_instances_match_torch, compiled, load

pytestmark = pytest.mark.framework

# VGG and AlexNet are dominated by 100M-parameter dense layers: each example would cost seconds
CHEAP = [s for s in arch_specs() if s not in {"vgg.arch", "alexnet.arch"}]


def _strings(spec: str) -> list[str]:
    """String literals a spec compares parameters with: the values a str parameter can take."""
    return sorted(set(re.findall(r'"([A-Za-z_][A-Za-z_0-9]*)"', (SPECS / spec).read_text())))


def _value(p: L.Param, spec: str, blocks: list[str]) -> st.SearchStrategy[Any]:
    d = p.default
    if p.type == "bool":
        return st.booleans()
    if p.type == "int":
        assert isinstance(d, L.Const) and isinstance(d.value, int)
        top = 20 if p.name == "num_classes" else max(2, 2 * d.value)
        return st.one_of(st.just(d.value), st.integers(1, top))
    if p.type == "float":
        assert isinstance(d, L.Const)
        v = float(d.value)
        drawn = st.floats(0.0, 0.9) if v < 1 else st.floats(0.25, 1.5)
        return st.one_of(st.just(v), drawn.map(lambda f: round(f, 3)))
    if p.type == "str":
        return st.sampled_from(_strings(spec))
    if p.type == "block":
        return st.sampled_from(blocks).map(lambda b: ("block", b))
    if p.type == "list":
        assert isinstance(d, L.ListOf)
        items = [i.value for i in d.items if isinstance(i, L.Const)]
        assert len(items) == len(d.items) and all(isinstance(i, int) for i in items)
        top = max(items)
        small = st.integers(0 if top <= 24 else 1, min(top + 1, 4) if top <= 24 else 2 * top)
        same = st.lists(small, min_size=len(items), max_size=len(items))
        other = st.lists(small, min_size=max(0, len(items) - 2), max_size=len(items) + 1)
        return st.one_of(same, same, other)
    raise AssertionError(f"no strategy for a {p.type} parameter")


def _spec_text(v: Any) -> str:
    if isinstance(v, tuple):
        return v[1]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return repr(v)


@st.composite
def overrides(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    spec = draw(st.sampled_from(CHEAP))
    result = compiled(spec, "torch")
    arch = result.lowered.definition(result.lowered.arch)
    blocks = sorted(
        d.name for d in result.lowered.definitions if d.kind == "block" and d.out_channels
    )
    # a parameter only the input reads (EfficientNet's resolution) changes no torch module, so
    # one archdsl refuses (too small an input) is not the torch model's to refuse:
    # tests/test_resolutions.py checks the resolutions
    names = [p.name for p in arch.params if not p.input_only]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
    params = {p.name: p for p in arch.params}
    return spec, {n: draw(_value(params[n], spec, blocks)) for n in chosen}


@seed(20261201)
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=overrides())
def test_overridden_parameters_build_what_archdsl_predicts(case: tuple[str, dict]) -> None:
    spec, values = case
    result = compiled(spec, "torch")
    module = load(result.source or "", f"{spec}_overrides")
    kwargs = {k: getattr(module, v[1]) if isinstance(v, tuple) else v for k, v in values.items()}
    sets = {k: _spec_text(v) for k, v in values.items()}
    try:
        predicted = analyse(SPECS / spec, sets=sets, name=f"specs/{spec}")
    except ArchError as err:
        diagnostic = err.diagnostics[0]
        event(f"refused: {diagnostic.code}")
        torch.manual_seed(0)
        with pytest.raises(Exception) as raised:  # noqa: PT011 - which one is asserted below
            model = getattr(module, result.selection.entry)(**kwargs)
            x = torch.zeros(2, *result.model.input_shape)
            with torch.no_grad():
                model.eval()(x)
                model.train()(x)
        if diagnostic.code == "E0413":  # a failed `require`: the spec's own message
            assert raised.type is ValueError
            assert str(raised.value) in diagnostic.message, (str(raised.value), diagnostic)
        elif diagnostic.code == "E0612":
            # zip over lists of different lengths; Python's zip finds it lazily, so a row before
            # the short list ends fails first when it is wrong in another way (another block)
            if "block" not in values:
                assert raised.type is ValueError and "zip()" in str(raised.value)
        return
    event(f"built: {spec}")
    with torch.device("meta"):  # shapes and counts are torch's own without the arithmetic
        model = getattr(module, result.selection.entry)(**kwargs)
        assert_instances_match_torch(model, predicted)
