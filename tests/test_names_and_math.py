"""Quoted member names (`"block{stage}-{index}" = ...`), the power operator `**`, `log` and
comprehension filters (`[x for x in xs if ...]`): parsing, printing, evaluation within the value
bounds, their Python in generated code and their diagnostics. Compiler only; the torch and Keras
models built from quoted names are compared in test_language.py and test_reference_regnet.py."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from archdsl.backends.exprs import format_source, python
from archdsl.compiler import analyse, compile_spec
from archdsl.errors import ArchError
from archdsl.ir.budget import reset_budget
from archdsl.ir.evaluate import evaluate
from archdsl.ir.lower import convert
from archdsl.source import SourceFile
from archdsl.syntax import ast
from archdsl.syntax.parser import parse
from archdsl.syntax.printer import format_source as _format_source


def format_spec(text: str) -> str:
    return _format_source(SourceFile.from_text("t.arch", text))


def expression(text: str) -> ast.Expr:
    module = parse(SourceFile.from_text("e.arch", f"arch A {{\n  let v = {text}\n}}\n"))
    decl = module.decls[0]
    assert isinstance(decl, ast.BlockDecl)
    stmt = decl.body[0]
    assert isinstance(stmt, ast.Let)
    return stmt.value


def value(text: str, **env: Any) -> Any:
    reset_budget()
    return evaluate(expression(text), env)


def codes(text: str, **env: Any) -> list[str]:
    with pytest.raises(ArchError) as info:
        value(text, **env)
    return [d.code for d in info.value.diagnostics]


def diagnostics(tmp_path: Path, text: str) -> list[tuple[str, str, int, int]]:
    """(code, message, line, column) of each diagnostic of ``analyse`` on ``text``."""
    path = tmp_path / "spec.arch"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArchError) as info:
        analyse(path)
    out = []
    for d in info.value.diagnostics:
        span = d.labels[0].span
        line = text.count("\n", 0, span.start) + 1
        column = span.start - (text.rfind("\n", 0, span.start) + 1) + 1
        out.append((d.code, d.message, line, column))
    return out


# ---- `**` -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2 ** 10",
        "-2 ** 2",
        "(-2) ** 2",
        "2 ** -1",
        "2 ** 3 ** 2",
        "2 * 3 ** 2",
        "2.09 ** 3.0",
        "48 * 2.09 ** round(1.4) / 8",
        "-x ** 2 + x",
        "[i ** 2 for i in range(4) if i ** 2 > x]",
    ],
)
def test_power_evaluates_and_renders_as_python(text: str) -> None:
    """archdsl's value equals Python's for the expression as written and as generated code
    spells it (precedence and right associativity kept, parentheses only where needed)."""
    expected = eval(text, {"round": round, "range": range, "x": 3})  # noqa: S307 (test literals)
    got = value(text, x=3)
    assert got == (tuple(expected) if isinstance(expected, list) else expected)
    source = python(convert(expression(text), {}, set()))
    assert eval(source, {"round": round, "range": range, "x": 3}) == expected  # noqa: S307


def test_power_prints_back_as_written() -> None:
    for text in ("-2 ** 2", "(-2) ** 2", "2 ** -1", "2 ** 3 ** 2", "(2 ** 3) ** 2", "a[0] ** 2"):
        assert format_spec(f"arch A {{\n  let v = {text}\n}}\n").splitlines()[1] == (
            f"  let v = {text}"
        )


def test_power_stays_within_the_value_bounds_without_computing_huge_numbers() -> None:
    start = time.perf_counter()
    assert codes("10 ** 100000000000") == ["E0602"]
    assert codes("2 ** 41") == ["E0602"]
    assert codes("2.0 ** 5000") == ["E0602"]
    assert time.perf_counter() - start < 1
    assert value("2 ** 40") == 2**40
    assert value("1 ** 100000000000") == 1
    assert value("(-1) ** 100000000001") == -1


def test_power_outside_its_domain() -> None:
    assert codes("0 ** -1") == ["E0613"]
    assert codes("0.0 ** -0.5") == ["E0613"]
    assert codes("(-8) ** 0.5") == ["E0613"]
    assert value("(-8) ** 2.0") == 64.0
    assert codes('2 ** "a"') == ["E0603"]
    assert codes("true ** 2") == ["E0603"]


# ---- log ---------------------------------------------------------------------------------


def test_log() -> None:
    assert value("log(8)") == math.log(8)
    assert value("log(8, 2)") == math.log(8, 2)
    assert value("log(x=8, base=2.0)") == math.log(8, 2.0)
    assert codes("log(0)") == ["E0613"]
    assert codes("log(-1.5)") == ["E0613"]
    assert codes("log(8, 1)") == ["E0613"]
    assert codes("log(8, 0)") == ["E0613"]
    assert codes('log("8")') == ["E0603"]
    assert codes("log()") == ["E0606"]
    assert python(convert(expression("log(w) / log(2)"), {}, set())) == (
        "math.log(w) / math.log(2)"
    )


# ---- comprehension filters ---------------------------------------------------------------


def test_comprehension_filter() -> None:
    assert value("[w for w in [8, 8, 16, 32, 32] if w > 8]") == (16, 32, 32)
    widths = (8, 8, 16, 32, 32)
    starts = "[i for i in range(len(ws)) if i == 0 or ws[i] != ws[i - 1]]"
    assert value(starts, ws=widths) == (0, 2, 3)
    assert value("[a * b for (a, b) in zip(xs, xs) if a != 2]", xs=(1, 2, 3)) == (1, 9)
    assert value("[w for w in [] if w]") == ()
    assert codes("[w for w in [1, 2] if w]") == ["E0603"]  # a filter is a bool
    text = "[w for w in [1, 2] if w > 1 if true]"
    with pytest.raises(ArchError) as info:
        expression(text)
    assert info.value.diagnostics[0].code == "E0103"


def test_comprehension_filter_reads_the_row_and_prints_back(tmp_path: Path) -> None:
    spec = (
        "arch A(n: int = 4) {\n  input [8]\n"
        "  let odd = [i for i in range(n) if i % 2 == 1 and i < n]\n"
        "  fc = linear(sum(odd) + 1)\n}\n"
    )
    assert format_spec(spec) == spec
    assert python(convert(expression("[i for i in xs if i % 2 == 1]"), {}, set())) == (
        "[i for i in xs if i % 2 == 1]"
    )
    path = tmp_path / "spec.arch"
    path.write_text(spec, encoding="utf-8")
    result = analyse(path)
    assert result.model.output_shape == (5,)
    source = compile_spec(path, "torch").source or ""
    assert "odd = [i for i in range(n) if i % 2 == 1 and i < n]" in source
    bad = spec.replace("i < n]", "j < n]")
    assert diagnostics(tmp_path, bad)[0][:2] == ("E0220", "unknown name `j`")


# ---- quoted member names ---------------------------------------------------------------------

STAGES = """block Stage(depth: int, stage: int) {
  repeat depth {
    "block{stage}-{index}" = linear(8)
  }
}

arch Net {
  input [8]
  for d in [2, 1] {
    "stage{index + 1}" = Stage(d, stage=index + 1)
  }
  repeat 1 {
    "head-fc" = linear(3)
  }
}
"""


def test_quoted_names_parse_as_a_head_and_a_format() -> None:
    module = parse(SourceFile.from_text("s.arch", STAGES))
    stage = module.decls[0]
    assert isinstance(stage, ast.BlockDecl)
    repeat = stage.body[0]
    assert isinstance(repeat, ast.Repeat)
    member = repeat.body[0]
    assert isinstance(member, ast.Member) and member.target is not None
    target = member.target
    assert target.name == "block" and target.quoted
    assert isinstance(target.suffix, ast.Format)
    assert target.suffix.texts == ("", "-", "")
    assert [v for v in target.suffix.values] == [ast.Name("stage"), ast.Name("index")]
    # a hole's spans point into the file
    assert STAGES[target.suffix.values[0].span.start :].startswith("stage}-")
    assert format_spec(STAGES) == STAGES


def test_quoted_names_are_the_state_dict_keys(tmp_path: Path) -> None:
    path = tmp_path / "net.arch"
    path.write_text(STAGES, encoding="utf-8")
    result = analyse(path)
    assert list(result.model.instances()) == [
        "stage1",
        "stage1.block1-0",
        "stage1.block1-1",
        "stage2",
        "stage2.block2-0",
        "head-fc",
    ]
    torch_source = compile_spec(path, "torch").source or ""
    assert 'self.add_module(f"block{stage}-{i}", nn.Linear(channels, 8))' in torch_source
    assert 'self.add_module(f"stage{i + 1}", Stage(' in torch_source
    assert 'self.add_module("head-fc", nn.Linear(' in torch_source
    keras_source = compile_spec(path, "keras").source or ""
    assert 'name=f"{name}>block{stage}-{i}"' in keras_source or (
        'f"block{stage}-{i}"' in keras_source
    )
    assert '"head-fc"' in keras_source


@pytest.mark.parametrize(
    ("target", "message", "column"),
    [
        ('"fc.{index}"', "`.` cannot be part of a member name", 8),
        ('"fc {index}"', "`\u0020` cannot be part of a member name", 8),
        ('"fc{}"', "empty `{}` in a member name", 8),
        ('"fc{index"', "unclosed `{` in a member name", 8),
        ('"fc}{index}"', "`}` without `{` in a member name", 8),
        ('"fc\\"{index}"', "`\\` cannot be part of a member name", 8),
        ('"fc{ix\\n}"', "escape in a member name's hole", 11),
        ('""', "empty member name", 5),
    ],
)
def test_malformed_quoted_names(tmp_path: Path, target: str, message: str, column: int) -> None:
    text = f"arch Net {{\n  input [8]\n  repeat 2 {{\n    {target} = linear(8)\n  }}\n}}\n"
    assert diagnostics(tmp_path, text) == [("E0110", message, 4, column)]


def test_a_hole_is_one_expression_with_its_own_diagnostics(tmp_path: Path) -> None:
    text = 'arch Net {\n  input [8]\n  repeat 2 {\n    "fc{index +}" = linear(8)\n  }\n}\n'
    assert diagnostics(tmp_path, text)[0][0] in {"E0103", "E0101"}
    assert diagnostics(tmp_path, text)[0][2] == 4
    text = 'arch Net {\n  input [8]\n  repeat 2 {\n    "fc{idx}" = linear(8)\n  }\n}\n'
    assert diagnostics(tmp_path, text) == [("E0220", "unknown name `idx`", 4, 9)]
    text = 'arch Net {\n  input [8]\n  repeat 2 {\n    "fc{[1]}" = linear(8)\n  }\n}\n'
    assert diagnostics(tmp_path, text)[0][:2] == ("E0603", "a name holds integers and strings")


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("a.", "`.` separates the parts of a state_dict key"),
        ("a b", "member names are at most 64 ASCII letters, digits, `_` and `-`"),
        ("x" * 70, "member names are at most 64 ASCII letters, digits, `_` and `-`"),
        ("", "the name is empty"),
        ("__x", "member names may not start with `__`"),
        ("training", "`training` is an attribute of torch's nn.Module"),
    ],
)
def test_a_quoted_name_value_must_be_a_state_dict_key(tmp_path: Path, tag: str, why: str) -> None:
    text = (
        'block Stage(tag: str) {\n  repeat 1 {\n    "{tag}" = linear(8)\n  }\n}\n\n'
        f'arch Net {{\n  input [8]\n  stage = Stage("{tag}")\n}}\n'
    )
    path = tmp_path / "spec.arch"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArchError) as info:
        analyse(path)
    diag = info.value.diagnostics[0]
    assert diag.code == "E0234"
    assert diag.labels[0].message.startswith(why)


def test_quoted_names_repeat_is_a_duplicate(tmp_path: Path) -> None:
    text = 'arch Net {\n  input [8]\n  repeat 2 {\n    "fc-{0}" = linear(8)\n  }\n}\n'
    assert diagnostics(tmp_path, text)[0][0] == "E0212"


def test_numbered_and_quoted_names_belong_in_loops(tmp_path: Path) -> None:
    for target, kind in (("fc{1}", "numbered"), ('"fc-1"', "quoted"), ('"fc-{1}"', "quoted")):
        text = f"arch Net {{\n  input [8]\n  {target} = linear(8)\n}}\n"
        message = f"a {kind} member name outside a loop"
        assert diagnostics(tmp_path, text) == [("E0235", message, 3, 3)]


def test_member_key_source_is_safe_python() -> None:
    """Spec text reaches generated code only as escaped literals or validated identifiers: a
    hole whose Python holds a quote, a backslash or a brace is concatenated, not inlined."""
    assert format_source(("block", "-", ""), ["stage", "i"]) == 'f"block{stage}-{i}"'
    assert format_source(("head-fc",), []) == "'head-fc'"
    assert format_source(("a", ""), ["'x\"\\\\'"]) == "('a' + str('x\"\\\\'))"
    for texts, values in [(("a", ""), ['"}']), (("", "b"), ["{1}"])]:
        source = format_source(texts, values)
        assert source.startswith("(") and "str(" in source


def test_holes_are_bounded_like_the_rest_of_the_file(tmp_path: Path) -> None:
    nested = "(" * 70 + "index" + ")" * 70
    text = f'arch Net {{\n  input [8]\n  repeat 1 {{\n    "fc{{{nested}}}" = linear(8)\n  }}\n}}\n'
    assert diagnostics(tmp_path, text)[0][:1] == ("E0104",)
    # each hole is parsed where it stands without rescanning the file: a thousand are quick
    body = "".join(f'    "fc{i}-{{index}}" = linear(8)\n' for i in range(1000))
    text = f"arch Net {{\n  input [8]\n  repeat 1 {{\n{body}  }}\n}}\n"
    start = time.perf_counter()
    parse(SourceFile.from_text("many.arch", text + "#" * 200_000 + "\n"))
    assert time.perf_counter() - start < 5
