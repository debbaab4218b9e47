"""Installation as a user does it: an editable install and a built wheel, each in a fresh venv
with no torch or tensorflow, compile ResNet-50. The wheel must carry the grammar, the templates and
the spec library, which a spec outside the project imports as "archdsl:resnet.arch"."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.framework


def _venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_editable_install_compiles_without_torch(tmp_path: Path) -> None:
    py = _venv(tmp_path / "venv")
    install = _run(py, "-m", "pip", "install", "-q", "-e", ROOT)
    assert install.returncode == 0, install.stderr[-3000:]
    assert _run(py, "-c", "import torch").returncode != 0
    out = _run(
        tmp_path / "venv" / "bin" / "archdsl",
        "compile",
        "specs/resnet50.arch",
        "--backend",
        "torch",
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "class Bottleneck(nn.Module):" in out.stdout and "def resnet50(" in out.stdout


def test_built_wheel_carries_grammar_and_templates(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, ROOT)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next(dist.glob("archdsl-*.whl"))
    py = _venv(tmp_path / "venv")
    install = _run(py, "-m", "pip", "install", "-q", wheel)
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path / "work"
    shutil.copytree(ROOT / "specs", work / "specs")
    where = _run(
        py,
        "-c",
        "from archdsl.resources import data_dir as d; print(d('grammars'), d('templates'))",
        cwd=work,
    )
    assert where.returncode == 0, where.stderr
    assert all("site-packages" in p for p in where.stdout.split()), where.stdout
    out = _run(
        tmp_path / "venv" / "bin" / "archdsl",
        "compile",
        "specs/resnet50.arch",
        "-b",
        "keras",
        cwd=work,
    )
    assert out.returncode == 0, out.stderr
    assert "def bottleneck(" in out.stdout
    # a spec of the user's, in a directory of its own, imports the blocks the wheel ships
    mine = tmp_path / "elsewhere" / "mine.arch"
    mine.parent.mkdir()
    mine.write_text(
        'import "archdsl:resnet.arch"\n\n'
        "variant mine = ResNet(block=BasicBlock, layers=[1, 1, 1, 1], num_classes=10)\n"
    )
    lib = _run(
        py,
        "-c",
        "from archdsl.resources import data_dir; print(data_dir('specs'))",
        cwd=mine.parent,
    )
    assert "site-packages" in lib.stdout, lib.stdout + lib.stderr
    own = _run(tmp_path / "venv" / "bin" / "archdsl", "compile", "mine.arch", cwd=mine.parent)
    assert own.returncode == 0, own.stderr
    assert "class BasicBlock(nn.Module)" in own.stdout
