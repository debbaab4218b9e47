"""Hostile input (issue 11, classes 4, 5, 6 and 8): unbounded work, depth, internal errors and the
command line. Every case gives a diagnostic (or a usage error), never a traceback, a hang or a
silently different result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archdsl import functions
from archdsl.cli import cli
from archdsl.compiler import analyse
from archdsl.diagnostics import escape, render_json, render_text
from archdsl.errors import ArchError
from archdsl.ir.budget import reset_budget
from archdsl.ir.evaluate import evaluate
from archdsl.ir.instantiate import infer
from archdsl.ir.program import FUNCTIONS, program_from_text
from archdsl.names import did_you_mean
from archdsl.source import MAX_SOURCE_BYTES, MAX_TOTAL_SOURCE_BYTES, SourceFile
from archdsl.syntax import ast
from archdsl.syntax.parser import MAX_EXPR_DEPTH, parse, parse_override
from tests.helpers import ROOT, SPECS

ARCH = "arch A {{\n  input [4]\n{body}\n}}\n"


def _arch(body: str) -> str:
    return ARCH.format(body=body)


def _codes(path: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(ArchError) as info:
        analyse(path, **kwargs)
    return [d.code for d in info.value.diagnostics]


def _write(tmp_path: Path, text: str, name: str = "h.arch") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- acceptance 3: each refused with a diagnostic in under a second, in under 100 MB ------------

_CHILD = """
import json, resource, sys, time
from click.testing import CliRunner
from archdsl.cli import cli
def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss would include the parent's size at the fork
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import archdsl.compiler, archdsl.diagnostics  # the time measured is the input's, not imports'
from archdsl.syntax.parser import build_parser
build_parser()
args = json.loads(sys.argv[1])
start = time.perf_counter()
result = CliRunner().invoke(cli, args)
seconds = time.perf_counter() - start
print(json.dumps({
    "exit": result.exit_code,
    "stderr": result.stderr,
    "exception": repr(result.exception) if result.exception and result.exit_code not in (1, 2)
    else None,
    "seconds": seconds,
    "max_rss_mb": peak_mb(),
}))
"""


def _measure(args: list[str], cwd: Path) -> dict[str, Any]:
    """Run the command line in a fresh interpreter (so peak memory is this command's own); the
    timeout turns a hang into a failure."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _pathological(tmp_path: Path, case: str) -> tuple[str, str]:
    """(spec path, expected code) for each input of issue 11's acceptance point 3."""
    if case == "repeat_1e9":
        text = _arch("  body = sequential {\n    repeat 1000000000 {\n      identity()\n    }\n  }")
        return str(_write(tmp_path, text)), "E0406"
    if case == "nested_repeats_1e12":
        inner = "    repeat 1000000 {\n      repeat 1000000 {\n        identity()\n      }\n    }"
        return str(_write(tmp_path, _arch(f"  body = sequential {{\n{inner}\n  }}"))), "E0406"
    if case == "nesting_10000":
        text = _arch("  fc = linear(" + "(" * 10_000 + "2" + ")" * 10_000 + ")")
        return str(_write(tmp_path, text)), "E0104"
    if case == "unary_10000":
        return str(_write(tmp_path, _arch("  fc = linear(" + "-" * 10_000 + "2)"))), "E0108"
    if case == "digits_5000":
        return str(_write(tmp_path, _arch("  fc = linear(" + "7" * 5000 + ")"))), "E0106"
    if case == "file_2mb":
        text = "# padding\n" * 200_000 + _arch("  fc = linear(2)")
        assert len(text) > 2_000_000
        return str(_write(tmp_path, text)), "E0003"
    if case == "dev_zero":
        return "/dev/zero", "E0004"
    if case == "fifo":
        fifo = tmp_path / "fifo.arch"
        os.mkfifo(fifo)  # nothing ever writes it: opening it for reading would block
        return str(fifo), "E0004"
    if case == "round_1e9":
        return str(_write(tmp_path, _arch("  fc = linear(round(5, -1000000000))"))), "E0606"
    if case == "sum_quadratic":  # accepted now: sum over lists is linear
        text = _arch("  let n = len(sum([[i] for i in range(30000)], []))\n  fc = linear(n)")
        return str(_write(tmp_path, text)), ""
    raise AssertionError(case)


PATHOLOGICAL = [
    "repeat_1e9",
    "nested_repeats_1e12",
    "nesting_10000",
    "unary_10000",
    "digits_5000",
    "file_2mb",
    "dev_zero",
    "fifo",
    "round_1e9",
    "sum_quadratic",
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize("case", PATHOLOGICAL)
def test_pathological_input_is_refused_fast_and_small(tmp_path: Path, case: str) -> None:
    spec, code = _pathological(tmp_path, case)
    m = _measure(["check", spec], tmp_path)
    assert f"error[{code}]" in m["stderr"] if code else m["stderr"] == "", m["stderr"]
    assert "Traceback" not in m["stderr"] and m["exception"] is None
    assert m["exit"] == (2 if code == "E0004" else 1 if code else 0)
    assert m["seconds"] < 1.0, m
    assert m["max_rss_mb"] < 100, m


# ---- class 4: reading files ---------------------------------------------------------------------


def test_fifo_and_device_imports_are_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.arch")
    spec = _write(tmp_path, 'import "pipe.arch"\n' + _arch("  fc = linear(2)"))
    start = time.perf_counter()
    assert _codes(spec) == ["E0304"]
    assert time.perf_counter() - start < 1.0
    (tmp_path / "dir.arch").mkdir()
    spec = _write(tmp_path, 'import "dir.arch"\n' + _arch("  fc = linear(2)"))
    assert _codes(spec) == ["E0304"]


def test_device_through_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zero.arch").symlink_to("/dev/zero")
    assert _codes(tmp_path / "zero.arch") == ["E0004"]  # as the root spec: not a regular file
    spec = _write(tmp_path, 'import "zero.arch"\n' + _arch("  fc = linear(2)"))
    assert _codes(spec) == ["E0301"]  # as an import: it resolves outside the project


def test_file_size_is_checked_before_reading(tmp_path: Path) -> None:
    ok = _write(tmp_path, _arch("  fc = linear(2)").ljust(MAX_SOURCE_BYTES - 1) + "\n")
    assert analyse(ok).model.trainable == 10
    big = _write(tmp_path, ok.read_text() + "#", "big.arch")
    assert _codes(big) == ["E0003"]
    spec = _write(tmp_path, 'import "big.arch"\n' + _arch("  fc = linear(2)"), "root.arch")
    with pytest.raises(ArchError) as info:
        analyse(spec)
    diag = info.value.diagnostics[0]
    assert diag.code == "E0003" and diag.labels[0].span.file == "root.arch"


def test_total_imported_text_is_bounded(tmp_path: Path) -> None:
    part = MAX_SOURCE_BYTES - 1000
    count = MAX_TOTAL_SOURCE_BYTES // part + 1
    for i in range(count):
        _write(tmp_path, f"block B{i} {{\n  fc = linear(2)\n}}\n".ljust(part, "#"), f"p{i}.arch")
    imports = "".join(f'import "p{i}.arch"\n' for i in range(count))
    spec = _write(tmp_path, imports + _arch("  fc = linear(2)"))
    with pytest.raises(ArchError) as info:
        analyse(spec)
    diag = info.value.diagnostics[0]
    assert diag.code == "E0305"
    assert spec.read_text()[diag.labels[0].span.start :].startswith(f'import "p{count - 1}.arch"')
    fewer = _write(tmp_path, imports.split("\n", 1)[1] + _arch("  fc = linear(2)"), "ok.arch")
    assert analyse(fewer).model.trainable == 10


def test_symlink_loop_and_unreadable_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.arch").symlink_to("b.arch")
    (tmp_path / "b.arch").symlink_to("a.arch")
    spec = _write(tmp_path, 'import "a.arch"\n' + _arch("  fc = linear(2)"))
    assert _codes(spec) == ["E0304"]
    assert _codes(tmp_path / "a.arch") == ["E0004"]

    _write(tmp_path, "block L {\n  fc = linear(2)\n}\n", "locked.arch")
    real_open = os.open

    def deny(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("locked.arch"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    spec = _write(tmp_path, 'import "locked.arch"\n' + _arch("  fc = linear(2)"))
    with pytest.raises(ArchError) as info:
        analyse(spec)
    assert info.value.diagnostics[0].code == "E0304"
    assert "permission denied" in info.value.diagnostics[0].message


def test_nul_and_control_characters_in_import_paths(tmp_path: Path) -> None:
    assert _codes(_write(tmp_path, 'import "a\\u0000b.arch"\n' + _arch("  fc = linear(2)"))) == [
        "E0109"
    ]
    assert _codes(_write(tmp_path, 'import "a\x1bb.arch"\n' + _arch("  fc = linear(2)"))) == [
        "E0304"
    ]


# ---- class 4: built-in functions are bounded -----------------------------------------------------


def _value(expr: str) -> Any:
    prog = program_from_text(_arch(f"  let v = {expr}\n  fc = linear(2)"))
    let = prog.blocks["A"].body[1]
    assert isinstance(let, ast.Let)
    reset_budget()
    return evaluate(let.value, {})


def _value_code(expr: str) -> str:
    with pytest.raises(ArchError) as info:
        _value(expr)
    return info.value.diagnostics[0].code


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("min(3, 1, 2)", 1),
        ("max([1, 5, 2])", 5),
        ("ceil(2.1)", 3),
        ("floor(-2.1)", -3),
        ("round(2.5)", 2),
        ("round(1234, -2)", 1200),
        ("round(2.675, 2)", 2.67),
        ("int(7.9)", 7),
        ("int(true)", 1),
        ("float(3)", 3.0),
        ("abs(-4)", 4),
        ("len([1, 2, 3])", 3),
        ('len("abc")', 3),
        ("zip([1, 2], [3, 4])", ((1, 3), (2, 4))),
        ("range(3)", (0, 1, 2)),
        ("range(2, 4)", (2, 3)),
        ("sum([1, 2, 3])", 6),
        ("sum([true, false, true])", 2),
        ("sum([[1], [2, 3]], [])", (1, 2, 3)),
        ("sum([1, 2], 10)", 13),
        ("make_divisible(32 * 0.75, 8)", 24),
        ("make_divisible(10, divisor=4, min_value=16)", 16),
    ],
)
def test_functions_compute_what_python_does(expr: str, value: Any) -> None:
    assert _value(expr) == value


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ("round(5, -1000000000)", "E0606"),
        ("round(5, 25)", "E0606"),
        ("round(5, 1.5)", "E0603"),
        ("make_divisible(8, 0)", "E0606"),
        ("make_divisible(8, -8)", "E0606"),
        ("min([])", "E0606"),
        ("max([1, [2]])", "E0603"),
        ("ceil(1.0e300)", "E0602"),
        ("int(1.0e300)", "E0602"),
        ("len(3)", "E0603"),
        ('abs("x")', "E0603"),
        ("zip([1, 2, 3], [4])", "E0612"),
        ("zip(1)", "E0603"),
        ("range(200000)", "E0602"),
        ("range(1.5)", "E0603"),
        ("sum([[1], 2], [])", "E0603"),
        ("sum([1, [2]])", "E0603"),
        ("sum([range(60000), range(60000)], [])", "E0602"),
        ("sum([1099511627776, 1099511627776])", "E0602"),
    ],
)
def test_function_arguments_are_validated(expr: str, code: str) -> None:
    assert _value_code(expr) == code


def test_sum_over_lists_is_linear_and_counted_in_the_budget() -> None:
    start = time.perf_counter()
    assert _value("len(sum([[i] for i in range(90000)], []))") == 90_000  # quadratic before
    assert time.perf_counter() - start < 1.0
    rows = "[range(9000) for i in range(10)]"  # 90,000 elements, then 11 sums of 90,000
    assert _value_code(f"[len(sum({rows}, [])) for i in range(11)]") == "E0602"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("abs(1, 2)", "`abs` takes at most 1 argument, 2 given"),
        ("round(2.5, digits=1)", "`round` has no argument `digits`"),
        ("round(2.5, 1, ndigits=1)", "argument `ndigits` given twice"),
        ("make_divisible()", "missing argument `v` for `make_divisible`"),
        ("min(x=1)", "`min` takes no keyword arguments"),
        ("zip()", "`zip` needs at least 1 argument"),
    ],
)
def test_arity_is_checked_when_the_spec_is_resolved(call: str, message: str) -> None:
    with pytest.raises(ArchError) as info:
        program_from_text(_arch(f"  let v = {call}\n  fc = linear(2)"))
    assert [(d.code, d.message) for d in info.value.diagnostics] == [("E0606", message)]


def test_registry_is_the_resolvers_list_and_says_how_to_render() -> None:
    assert set(FUNCTIONS) == set(functions.FUNCTIONS) == {
        "min", "max", "ceil", "floor", "round", "int", "float", "len", "zip", "range", "sum",
        "make_divisible", "abs", "log",
    }  # fmt: skip
    assert functions.python_name("ceil") == "math.ceil"
    assert functions.python_name("log") == "math.log"
    assert functions.requirements("log").imports == ("math",)
    assert functions.python_name("floor") == "math.floor"
    assert functions.python_name("round") == "round"
    assert functions.requirements("ceil").imports == ("math",)
    assert functions.requirements("make_divisible").helpers == ("make_divisible",)
    assert functions.requirements("len") == functions.Requirements()
    assert functions.python_keywords("zip") == ("strict=True",)
    for fn in functions.FUNCTIONS.values():  # every entry renders as a Python callable name
        assert all(part.isidentifier() for part in functions.python_name(fn).split("."))
        assert fn.summary and fn.signature.startswith(f"{fn.name}(")


def test_strict_zip_refuses_a_short_stage_list() -> None:
    with pytest.raises(ArchError) as info:
        analyse(SPECS / "resnet.arch", sets={"layers": "[3, 4]"})
    diag = info.value.diagnostics[0]
    assert diag.code == "E0612"
    assert "(4, 4, 2)" in diag.message
    result = analyse(SPECS / "resnet.arch", sets={"layers": "[2, 2, 2, 2]"})
    assert len(result.model.root.children) == 10


def test_every_spec_still_checks() -> None:
    for spec in sorted(SPECS.glob("*.arch")):
        if spec.name == "common.arch":  # blocks only, no model
            continue
        assert analyse(spec).model.trainable > 0, spec


def test_did_you_mean_over_thousands_of_names_is_bounded() -> None:
    names = [f"Blk{i}" for i in range(5000)] + ["conv2d"]
    start = time.perf_counter()
    for i in range(100):
        hint = did_you_mean(f"Blkk{i}", names)
        assert hint is not None and hint.startswith("did you mean `Blk")
    assert did_you_mean("conv2dd", names) == "did you mean `conv2d`?"
    assert time.perf_counter() - start < 1.0


# ---- class 5: depth -----------------------------------------------------------------------------


def _parse(text: str) -> ast.Module:
    return parse(SourceFile.from_text("t.arch", text))


def _parse_code(text: str) -> str:
    with pytest.raises(ArchError) as info:
        _parse(text)
    return info.value.diagnostics[0].code


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "-" * n + "1",
        lambda n: " + ".join(["1"] * (n + 1)),
        lambda n: " and ".join(["true"] * (n + 1)),
        lambda n: "1" + " if true else 1" * n,
        lambda n: "not " * n + "true",
        lambda n: "[" + " * ".join(["2"] * (n + 1)) + "]",
    ],
)
def test_expression_depth_limit(make: Any) -> None:
    ok = make(MAX_EXPR_DEPTH - 5)  # literals, lists and chains add levels of their own
    program_from_text(_arch(f"  let v = {ok}\n  fc = linear(2)"))
    for n in (MAX_EXPR_DEPTH + 1, 1_000, 20_000):
        assert _parse_code(_arch(f"  let v = {make(n)}\n  fc = linear(2)")) == "E0108"


def test_deep_set_values_are_diagnostics(tmp_path: Path) -> None:
    spec = SPECS / "lenet5.arch"
    for value in ("-" * 5000 + "10", " + ".join(["1"] * 2000), "[" * 5000 + "]" * 5000):
        with pytest.raises(ArchError) as info:
            analyse(spec, sets={"num_classes": value})
        assert info.value.diagnostics[0].code in {"E0108", "E0104"}


def test_escaped_quotes_do_not_fool_the_nesting_check() -> None:
    hidden = '"a \\" b ' + "(" * 70 + '"'
    deep = "(" * 70 + "1" + ")" * 70
    assert _parse_code(_arch(f"  require true, {hidden}\n  fc = linear({deep})")) == "E0104"
    assert _parse_code(_arch(f'  require true, "\\\\"\n  fc = linear({deep})')) == "E0104"


def test_string_escapes() -> None:
    module = _parse(_arch('  require true, "a\\"b\\\\c\\nd\\te\\u00e9\\x41"\n  fc = linear(2)'))
    req = module.decls[0].body[1]  # type: ignore[union-attr]
    assert isinstance(req, ast.Require)
    assert req.message == 'a"b\\c\nd\teéA'
    for bad in ("\\x", "\\q", "\\u12", "\\ud800", "\\U00110000", "\\x00", "\\N{DASH}"):
        assert _parse_code(_arch(f'  require true, "{bad}"\n  fc = linear(2)')) == "E0109", bad


# ---- class 6: internal errors become diagnostics -------------------------------------------------


def test_make_divisible_by_zero() -> None:
    with pytest.raises(ArchError) as info:
        infer(program_from_text(_arch("  fc = linear(make_divisible(8, 0))")), "A")
    assert info.value.diagnostics[0].code == "E0606"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('  require true, "\\x"\n  fc = linear(2)', "E0109"),
        ("  let v = [1 for if in [1]]\n  fc = linear(2)", "E0202"),
        ("  let v = [1 for class in [1]]\n  fc = linear(2)", "E0202"),
        ("  let w = 3\n  fc = w()", "E0225"),
        ("  fc = in_channels()", "E0214"),  # an arch has no in_channels: an unknown layer
        ("  fc = index()", "E0225"),
    ],
)
def test_former_internal_errors(body: str, code: str) -> None:
    with pytest.raises(ArchError) as info:
        program_from_text(_arch(body))
    assert info.value.diagnostics[0].code == code


def test_parameter_without_default_after_one_with_default() -> None:
    text = "block B(a: int = 1, b: int) {\n  fc = linear(a)\n}\n" + _arch("  b = B(b=2)")
    with pytest.raises(ArchError) as info:
        program_from_text(text)
    assert [d.code for d in info.value.diagnostics] == ["E0226"]
    fine = "block B(b: int, a: int = 1) {\n  fc = linear(a)\n}\n" + _arch("  b = B(b=2)")
    program_from_text(fine)


def test_block_parameters_are_still_callable() -> None:
    text = (
        "block C(n: int) {\n  fc = linear(n)\n}\n"
        "arch A(blk: block = C) {\n  input [4]\n  b = blk(3)\n}\n"
    )
    assert infer(program_from_text(text), "A").output_shape == (3,)


# ---- class 8: the command line ------------------------------------------------------------------


def _invoke(*args: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def test_output_over_an_input_is_refused(tmp_path: Path) -> None:
    spec = _write(tmp_path, 'import "blocks.arch"\n' + _arch("  b = B()"), "net.arch")
    blocks = _write(tmp_path, "block B {\n  fc = linear(2)\n}\n", "blocks.arch")
    (tmp_path / "link.py").symlink_to("net.arch")
    before = (spec.read_text(), blocks.read_text())
    for target in ("net.arch", "./sub/../net.arch", "link.py", "blocks.arch"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        code, _, err = _invoke("compile", "net.arch", "-o", target, cwd=tmp_path)
        assert code == 2 and "error[E0007]" in err, (target, err)
    assert (spec.read_text(), blocks.read_text()) == before


def test_output_is_replaced_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.py"
    out.write_text("previous\n")
    out.chmod(0o640)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = _invoke("compile", "specs/lenet5.arch", "-o", str(out))
    assert code == 2 and "error[E0006]" in err and "No space left on device" in err
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.py"]  # no temporary file left
    monkeypatch.undo()
    code, _, _ = _invoke("compile", "specs/lenet5.arch", "-o", str(out))
    assert code == 0 and "class LeNet5" in out.read_text()
    assert out.stat().st_mode & 0o777 == 0o640  # the file's mode is kept


def test_output_io_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = _invoke("compile", "specs/lenet5.arch", "-o", str(tmp_path / "no" / "x.py"))
    assert code == 2 and "error[E0006]" in err
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            proc = subprocess.run(
                [sys.executable, "-m", "archdsl.cli", "compile", "specs/lenet5.arch"],
                cwd=ROOT,
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
        assert proc.returncode == 2 and "error[E0006]" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_set_takes_one_value_each() -> None:
    for value in ("num_classes=1, m=2", "num_classes=1, 2", "num_classes=3) variant w = A(x=1"):
        code, _, err = _invoke("check", "specs/lenet5.arch", "--set", value)
        assert code == 2 and "give each parameter its own" in err, (value, err)
    code, out, _ = _invoke(
        "check", "specs/resnet.arch", "--set", "block=BasicBlock", "--set", "layers=[2, 2, 2, 2]"
    )
    assert code == 0 and "11,689,512" in out
    with pytest.raises(ArchError) as info:
        parse_override("n", "1, m=2")
    assert info.value.diagnostics[0].code == "E0506"
    assert isinstance(parse_override("layers", "[1, 2]"), ast.ListExpr)


def test_short_stage_list_on_the_command_line() -> None:
    code, _, err = _invoke("check", "specs/resnet50.arch", "--set", "layers=[3, 4]")
    assert code == 1 and "error[E0612]" in err and "(4, 4, 2)" in err


def test_text_diagnostics_escape_spec_text(tmp_path: Path) -> None:
    spec = _write(
        tmp_path,
        'block B(n: int) {\n  require n > 1, "bad\\nforged.arch:1:1: error[E0000]: x\\x1b[2J"\n'
        "  fc = linear(n)\n}\n" + _arch("  b = B(1)"),
    )
    with pytest.raises(ArchError) as info:
        analyse(spec)
    sources = dict(info.value.sources)
    text = render_text(info.value.diagnostics[0], sources)  # type: ignore[arg-type]
    assert not any(line.startswith("forged.arch") for line in text.splitlines())
    assert "\x1b" not in text and "bad\\nforged.arch:1:1" in text and "\\x1b[2J" in text
    data = json.loads(render_json(info.value.diagnostics, sources))  # type: ignore[arg-type]
    assert data[0]["message"] == "bad\nforged.arch:1:1: error[E0000]: x\x1b[2J"  # JSON: exact
    assert escape("tab\there\u202e\u2028") == "tab\\there\\u202e\\u2028"
    assert escape("plain `text`") == "plain `text`"


def test_control_characters_in_a_shown_source_line_keep_carets_aligned() -> None:
    text = _arch('  require true, "\x1b[31m" conv = lineer(2)')
    with pytest.raises(ArchError) as info:
        program_from_text(text, name="t.arch")
    rendered = render_text(info.value.diagnostics[0], info.value.sources)  # type: ignore[arg-type]
    assert "\x1b" not in rendered
    lines = rendered.splitlines()
    src_line = next(line for line in lines if line.startswith("3 | "))
    caret = lines[lines.index(src_line) + 1]
    assert caret.index("^") == src_line.index("lineer")
