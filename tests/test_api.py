"""The Python API: the README's example runs, and the API builds what the CLI compiles."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
from click.testing import CliRunner

import archdsl
from archdsl.cli import cli
from tests.helpers import ROOT, SPECS, keras_model, torch_model, trainable_count

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_example() -> str:
    section = README.split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```\n", 1)[0]


@pytest.mark.framework
def test_readme_example_runs() -> None:
    code = _readme_example()
    assert "archdsl.load(" in code and ".torch()" in code and ".keras()" in code
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        namespace: dict[str, object] = {}
        exec(compile(code, "README.md (Python API)", "exec"), namespace)
    finally:
        os.chdir(cwd)
    spec = namespace["spec"]
    assert isinstance(spec, archdsl.Spec)
    assert spec.params == sum(p.numel() for p in namespace["model"].parameters())  # type: ignore[attr-defined]


@pytest.mark.framework
def test_api_source_is_the_cli_output() -> None:
    spec = archdsl.load(SPECS / "googlenet.arch")
    for backend in ("torch", "keras"):
        out = CliRunner().invoke(
            cli, ["compile", str(SPECS / "googlenet.arch"), "--backend", backend]
        )
        assert out.exit_code == 0
        assert spec.source(backend) == out.stdout


@pytest.mark.framework
def test_api_builds_the_same_models_as_the_cli() -> None:
    spec = archdsl.load(SPECS / "mobilenet_v2.arch")
    ours = spec.torch()
    theirs, _ = torch_model("mobilenet_v2.arch")
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    km, _ = keras_model("mobilenet_v2.arch")
    assert trainable_count(spec.keras()) == trainable_count(km) == spec.params


def test_overrides_and_text_specs() -> None:
    spec = archdsl.load(SPECS / "resnet50.arch", block="BasicBlock", layers=[2, 2, 2, 2])
    assert spec.params == archdsl.load(SPECS / "resnet18.arch").params
    text = (SPECS / "lenet5.arch").read_text(encoding="utf-8")
    assert archdsl.load(text).shapes == archdsl.load(SPECS / "lenet5.arch").shapes


@pytest.mark.framework
def test_spec_and_torch_model_pickle() -> None:
    spec = archdsl.load(SPECS / "resnet18.arch", num_classes=10)
    again = pickle.loads(pickle.dumps(spec))
    assert again.params == spec.params and again.output_shape == (10,)
    model = again.torch()
    copy = pickle.loads(pickle.dumps(model))
    assert list(copy.state_dict()) == list(model.state_dict())


def test_repr_html_is_the_summary_table() -> None:
    spec = archdsl.load(SPECS / "resnet18.arch")
    html = spec._repr_html_()
    assert html.startswith("<table>") and f"Total params: {spec.params:,}" in html
    assert "BasicBlock (layer1)" not in html and "BasicBlock" in html


def test_import_archdsl_stays_light() -> None:
    code = (
        "import sys, archdsl\n"
        "assert 'archdsl.api' not in sys.modules\n"
        "s = archdsl.load('specs/resnet50.arch')\n"
        "s.summary(batch=32).render('table')\n"
        "s.graph(2).dot()\n"
        "s.source('torch')\n"
        "frameworks = {'torch', 'tensorflow', 'keras', 'jax', 'numpy'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in frameworks))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"
