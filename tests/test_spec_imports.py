"""Guarantee G9: imports resolve relative to the importing file, stay inside the root spec's
directory (realpath-checked), load each file once, and report cycles with both locations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archdsl.errors import ArchError
from archdsl.ir.program import load_program

BLOCK = "block {name}(out: int) {{\n  conv = conv2d(out, kernel=1)\n}}\n"
ARCH = "arch M {{\n  input [3, 8, 8]\n  a = {block}(4)\n}}\n"


def _code(path: Path) -> tuple[str, ArchError]:
    with pytest.raises(ArchError) as info:
        load_program(path)
    return info.value.diagnostics[0].code, info.value


def test_diamond_imports_load_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "base.arch").write_text(BLOCK.format(name="Base"))
    (tmp_path / "lib" / "left.arch").write_text('import "base.arch"\n' + BLOCK.format(name="Left"))
    (tmp_path / "right.arch").write_text('import "lib/base.arch"\n' + BLOCK.format(name="Right"))
    root = tmp_path / "root.arch"
    root.write_text('import "lib/left.arch"\nimport "right.arch"\n' + ARCH.format(block="Base"))
    program = load_program(root)
    assert {"Base", "Left", "Right", "M"} <= set(program.blocks)


def test_cycle_names_both_imports(tmp_path: Path) -> None:
    (tmp_path / "a.arch").write_text('import "b.arch"\n' + ARCH.format(block="B"))
    (tmp_path / "b.arch").write_text('import "a.arch"\n' + BLOCK.format(name="B"))
    code, err = _code(tmp_path / "a.arch")
    assert code == "E0302"
    labels = err.diagnostics[0].labels
    assert [lab.span.file.endswith(f) for lab, f in zip(labels, ["b.arch", "a.arch"], strict=True)]
    assert labels[0].primary and not labels[1].primary


def test_self_import_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "s.arch").write_text(
        'import "s.arch"\n' + ARCH.format(block="S") + BLOCK.format(name="S")
    )
    assert _code(tmp_path / "s.arch")[0] == "E0302"


def test_escapes_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.arch"
    outside.write_text(BLOCK.format(name="O"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "up.arch").write_text('import "../outside.arch"\n' + ARCH.format(block="O"))
    assert _code(project / "up.arch")[0] == "E0301"
    (project / "abs.arch").write_text(f'import "{outside}"\n' + ARCH.format(block="O"))
    assert _code(project / "abs.arch")[0] == "E0301"
    os.symlink(outside, project / "link.arch")
    (project / "sym.arch").write_text('import "link.arch"\n' + ARCH.format(block="O"))
    assert _code(project / "sym.arch")[0] == "E0301"


def test_missing_and_non_file_imports(tmp_path: Path) -> None:
    (tmp_path / "dir.arch").mkdir()
    (tmp_path / "m.arch").write_text('import "nope.arch"\n' + ARCH.format(block="X"))
    assert _code(tmp_path / "m.arch")[0] == "E0304"
    (tmp_path / "d.arch").write_text('import "dir.arch"\n' + ARCH.format(block="X"))
    assert _code(tmp_path / "d.arch")[0] == "E0304"
    os.mkfifo(tmp_path / "fifo.arch")
    (tmp_path / "f.arch").write_text('import "fifo.arch"\n' + ARCH.format(block="X"))
    assert _code(tmp_path / "f.arch")[0] == "E0304"


# ---- archdsl's own spec library: `import "archdsl:resnet.arch"` ------------------------------


def test_a_spec_outside_the_project_imports_the_shipped_blocks(tmp_path: Path) -> None:
    from archdsl.compiler import analyse, compile_spec

    spec = tmp_path / "mine.arch"
    spec.write_text(
        'import "archdsl:resnet.arch"\n\n'
        "variant mine = ResNet(block=BasicBlock, layers=[1, 1, 1, 1], num_classes=10)\n"
    )
    result = analyse(spec)
    assert result.model.trainable == 4_910_922  # ResNet-10 with 10 classes: torch's count below
    assert "archdsl:resnet.arch" in result.program.sources  # named as imported
    assert "archdsl:common.arch" in result.program.sources  # the library's own import
    assert "class BasicBlock(nn.Module)" in (compile_spec(spec, "torch").source or "")


def test_the_library_prefix_cannot_leave_the_library(tmp_path: Path) -> None:
    spec = tmp_path / "bad.arch"
    spec.write_text('import "archdsl:../README.md"\n' + ARCH.format(block="B"))
    code, err = _code(spec)
    assert code == "E0301" and "library" in err.diagnostics[0].message
    spec.write_text('import "archdsl:no_such.arch"\n' + ARCH.format(block="B"))
    code, err = _code(spec)
    assert code == "E0304" and "archdsl:no_such.arch" in err.diagnostics[0].message


@pytest.mark.framework
def test_the_library_count_is_torchs(tmp_path: Path) -> None:
    from archdsl.compiler import compile_spec
    from tests.helpers import load

    spec = tmp_path / "mine.arch"
    spec.write_text(
        'import "archdsl:resnet.arch"\n\n'
        "variant mine = ResNet(block=BasicBlock, layers=[1, 1, 1, 1], num_classes=10)\n"
    )
    module = load(compile_spec(spec, "torch").source or "", "library_resnet10")
    model = module.mine()
    assert sum(p.numel() for p in model.parameters()) == 4_910_922
