"""The command line: outputs, exit codes, overrides and model selection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from archdsl.cli import cli
from tests.helpers import ROOT


def invoke(*args: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def test_check_prints_shape_and_counts() -> None:
    code, out, _ = invoke("check", "specs/resnet50.arch")
    assert code == 0
    assert "[1000]" in out and "25,557,032" in out and "53,120" in out


def test_check_lists_modules() -> None:
    code, out, _ = invoke("check", "specs/lenet5.arch", "--modules")
    assert code == 0
    assert "features.0 (conv2d)  -> [6, 28, 28]  156" in out


def test_compile_to_file(tmp_path: Path) -> None:
    target = tmp_path / "lenet.py"
    code, out, _ = invoke("compile", "specs/lenet5.arch", "-b", "keras", "-o", str(target))
    assert code == 0 and out == ""
    assert "def LeNet5(" in target.read_text()


def test_set_overrides_a_default() -> None:
    code, out, _ = invoke("check", "specs/lenet5.arch", "--set", "num_classes=3")
    assert code == 0 and "[3]" in out
    code, out, _ = invoke("compile", "specs/lenet5.arch", "--set", "num_classes=3")
    assert "num_classes: int = 3" in out


def test_set_changes_the_resnet_family() -> None:
    code, out, _ = invoke(
        "check", "specs/resnet.arch", "--set", "block=BasicBlock", "--set", "layers=[2, 2, 2, 2]"
    )
    assert code == 0 and "11,689,512" in out


def test_unknown_parameter_is_a_usage_error() -> None:
    code, _, err = invoke("check", "specs/lenet5.arch", "--set", "num_clases=3")
    assert code == 2
    assert "did you mean `num_classes`?" in err


def test_bad_set_value_is_a_spec_error() -> None:
    code, _, err = invoke("check", "specs/lenet5.arch", "--set", "num_classes=0")
    assert code == 1 and "error[E0610]" in err


def test_model_selection() -> None:
    code, _, err = invoke("check", "specs/resnet50.arch", "--model", "ResNett")
    assert code == 2 and "did you mean `ResNet`?" in err
    code, out, _ = invoke("check", "specs/resnet50.arch", "--model", "ResNet")
    assert code == 0 and "ResNet" in out


def test_missing_file_is_an_io_error() -> None:
    code, _, err = invoke("compile", "specs/nope.arch")
    assert code == 2 and "cannot read" in err


def test_console_script_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "archdsl.cli", "compile", "specs/lenet5.arch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    assert "class LeNet5(nn.Module):" in proc.stdout
