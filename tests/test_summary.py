"""`archdsl summary` against torchinfo 1.8, run live on the generated torch models.

torchinfo runs each model once per (spec, batch), on torch's meta device: the same hooks, shapes
and parameter counts as on the CPU without the arithmetic, so EfficientNet-B7 at batch 32 takes a
second. One test checks that the meta run prints what a CPU run prints.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from typing import Any

import pytest
import torch
import torchinfo
from click.testing import CliRunner

from archdsl.cli import cli
from archdsl.compiler import Result
from archdsl.layers.registry import all_layers
from archdsl.summary import Summary, summarize
from tests.helpers import ROOT, SPECS, arch_specs, ci_specs, torch_model

COLUMNS = ["input_size", "output_size", "num_params", "mult_adds"]
ROW_SPECS = ["resnet50", "mobilenet_v2", "googlenet", "densenet121", "efficientnet_b0"]
UNITS = {"Units.MEGABYTES": "M", "Units.GIGABYTES": "G", "Units.TERABYTES": "T"}


def _normalise(text: str) -> str:
    # torchinfo formats its Units enum with str() on Python 3.11: "(Units.GIGABYTES)"
    for long, short in UNITS.items():
        text = text.replace(long, short)
    return text


@functools.cache
def _torchinfo(spec: str, batch: int, depth: int = 3) -> tuple[Any, Result]:
    with torch.device("meta"):
        model, result = torch_model(spec)
    stats = torchinfo.summary(
        model,
        input_size=(batch, *result.model.input_shape),
        device="meta",
        col_names=COLUMNS,
        row_settings=["var_names"],
        depth=depth,
        verbose=0,
    )
    return stats, result


def _text_at(stats: Any, depth: int) -> str:
    stats.formatting.max_depth = depth
    return _normalise(str(stats))


def _static(result: Result, batch: int, depth: int = 3) -> Summary:
    return summarize(result.program, result.model, batch, depth, COLUMNS, ["var_names"])


# every spec at batch 1; at batch 32 (where the byte totals are not the batch times batch 1's:
# torchinfo adds a fixed overhead) one spec per arch, whose variants' totals scale alike
_TOTALS_CASES = [(s, 1) for s in ci_specs()] + [(s, 32) for s in arch_specs()]


@pytest.mark.framework
@pytest.mark.parametrize(("spec", "batch"), _TOTALS_CASES)  # the large variants: ARCHDSL_LONG
def test_totals_equal_torchinfo(spec: str, batch: int) -> None:
    stats, result = _torchinfo(spec, batch)
    ours = _static(result, batch)
    t = ours.totals
    assert t.total_params == stats.total_params
    assert t.trainable_params == stats.trainable_params
    assert t.total_mult_adds == stats.total_mult_adds
    assert t.input_bytes == stats.total_input
    assert t.output_bytes == stats.total_output_bytes
    assert t.param_bytes == stats.total_param_bytes
    printed = "Total params" + _text_at(stats, 3).split("Total params", 1)[1]
    assert ours.totals_lines() == [
        line for line in printed.splitlines() if not line.startswith("=")
    ]


@pytest.mark.framework
@pytest.mark.parametrize("spec", ROW_SPECS)
def test_rows_equal_torchinfo_at_depths_1_to_3(spec: str) -> None:
    stats, result = _torchinfo(f"{spec}.arch", 1)
    for depth in (1, 2, 3):
        ours = _static(result, 1, depth)
        expected = [
            (
                info.depth,
                info.get_layer_name(True, False),
                info.input_size,
                info.output_size,
                info.num_params_to_str(info.depth == depth),
                info.macs_to_str(info.depth == depth),
            )
            for info in stats.summary_list
            if info.depth <= depth
        ]
        got = [
            (
                r.depth,
                ours.layer_name(r),
                r.input_size,
                r.output_size,
                ours.cells(r)["num_params"],
                ours.cells(r)["mult_adds"],
            )
            for r in ours.shown()
        ]
        assert got == expected, (spec, depth)
        assert ours.text() == _text_at(stats, depth), (spec, depth)


@pytest.mark.framework
@pytest.mark.parametrize("spec", ["swin_t.arch", "swin_v2_t.arch"])
def test_window_attention_rows_equal_torchinfo(spec: str) -> None:
    """Every row down to the window attention's own modules (Swin V2's position bias MLP,
    called on its coordinate table rather than the batch: its mult-adds once per forward),
    at batch 2, as torchinfo prints them."""
    stats, result = _torchinfo(spec, 2, 6)
    ours = _static(result, 2, 6)
    assert ours.text() == _text_at(stats, 6)
    assert ("cpb_mlp" in ours.text()) == ("v2" in spec)


@pytest.mark.framework
def test_resnet50_batch_32_figures_as_torchinfo_prints_them() -> None:
    stats, result = _torchinfo("resnet50.arch", 32)
    printed = _text_at(stats, 3)
    ours = _static(result, 32)
    for line in ours.totals_lines():
        assert line in printed.splitlines()


@pytest.mark.framework
def test_meta_device_run_prints_what_a_cpu_run_prints() -> None:
    model, result = torch_model("resnet50.arch")
    stats = torchinfo.summary(
        model,
        input_size=(1, *result.model.input_shape),
        col_names=COLUMNS,
        row_settings=["var_names"],
        depth=2,
        verbose=0,
    )
    assert _static(result, 1, 2).text() == _normalise(str(stats))


@pytest.mark.framework
def test_default_columns_and_rows_are_torchinfos() -> None:
    stats_meta, result = _torchinfo("mobilenet_v2.arch", 1)
    with torch.device("meta"):
        model, _ = torch_model("mobilenet_v2.arch")
    stats = torchinfo.summary(
        model, input_size=(1, *result.model.input_shape), device="meta", verbose=0
    )
    ours = summarize(result.program, result.model)
    assert ours.text() == _normalise(str(stats))
    assert stats_meta.total_params == ours.totals.total_params


@pytest.mark.framework
def test_every_layer_with_parameters_has_a_mult_adds_rule() -> None:
    for name, layer in all_layers().items():
        assert layer.torch_class, name
        assert (layer.macs is not None) == layer.has_weights, name


def test_summary_imports_no_framework() -> None:
    code = (
        "import sys\n"
        "from archdsl.compiler import analyse\n"
        "from archdsl.summary import summarize\n"
        "from archdsl.cli import cli\n"
        "r = analyse('specs/resnet50.arch')\n"
        "s = summarize(r.program, r.model, 32)\n"
        "for fmt in ('table', 'text', 'markdown', 'json', 'csv'):\n"
        "    s.render(fmt)\n"
        "frameworks = {'torch', 'tensorflow', 'keras', 'jax', 'numpy'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in frameworks))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["summary", str(SPECS / "resnet50.arch"), *args])


@pytest.mark.framework
def test_cli_json_has_torchinfos_figures() -> None:
    stats, _ = _torchinfo("resnet50.arch", 32)
    out = _invoke("--batch", "32", "--format", "json", "--depth", "1")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["totals"]["total_params"] == stats.total_params
    assert data["totals"]["total_mult_adds"] == stats.total_mult_adds
    assert [r["path"] for r in data["rows"]][:3] == ["", "conv1", "bn1"]


@pytest.mark.parametrize("fmt", ["table", "text", "markdown", "csv"])
def test_cli_formats(fmt: str) -> None:
    out = _invoke("--format", fmt, "--columns", "input_size,output_size,num_params,mult_adds")
    assert out.exit_code == 0, out.output
    assert "Bottleneck" in out.stdout
    if fmt != "csv":
        assert "Total params: 25,557,032" in out.stdout
    else:
        assert out.stdout.splitlines()[0].startswith("path,layer,depth,input_size")


def test_cli_row_settings_and_kernel_column() -> None:
    out = _invoke("--row-settings", "var_names,depth", "--columns", "kernel_size,trainable")
    assert out.exit_code == 0, out.output
    assert "Conv2d (conv1): 1-1" in out.stdout
    assert "[7, 7]" in out.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--columns", "output_size,flops"), "E0523"),
        (("--row-settings", "colour"), "E0524"),
        (("--batch", "0"), "E0521"),
        (("--depth", "-1"), "E0522"),
    ],
)
def test_cli_bad_options_are_usage_errors(args: tuple[str, ...], code: str) -> None:
    out = _invoke(*args)
    assert out.exit_code == 2
    assert code in out.stderr
