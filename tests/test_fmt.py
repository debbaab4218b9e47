"""archdsl fmt: round trip, idempotence, comments, and the command line's --check and --diff."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from archdsl.cli import cli
from archdsl.source import SourceFile
from archdsl.syntax import ast
from archdsl.syntax.parser import parse
from archdsl.syntax.printer import WIDTH, format_module, format_source
from tests.helpers import SPECS

SPEC_FILES = sorted(p.name for p in SPECS.glob("*.arch"))


def fmt(text: str, name: str = "t.arch") -> str:
    return format_source(SourceFile.from_text(name, text))


def tree(text: str, name: str = "t.arch") -> ast.Module:
    return parse(SourceFile.from_text(name, text))


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_spec_round_trips_and_is_stable(spec: str) -> None:
    text = (SPECS / spec).read_text(encoding="utf-8")
    once = fmt(text, spec)
    assert tree(once, spec) == tree(text, spec)
    assert fmt(once, spec) == once
    assert [c.text for c in tree(once, spec).comments] == [
        c.text for c in tree(text, spec).comments
    ]


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_project_specs_are_formatted(spec: str) -> None:
    text = (SPECS / spec).read_text(encoding="utf-8")
    assert fmt(text, spec) == text, f"run `archdsl fmt specs/{spec}`"


def test_canonical_layout() -> None:
    text = (
        "block B(a:int,b:int=2){\n"
        "  x=conv2d(a,kernel=3)when a>1\n"
        "  forward : x->relu()\n"
        "}\n"
        "arch N{input [3,8,8]\n"
        "  b = B(4)\n"
        "}\n"
        "variant n = N()"
    )
    assert fmt(text) == (
        "block B(a: int, b: int = 2) {\n"
        "  x = conv2d(a, kernel=3) when a > 1\n"
        "  forward: x -> relu()\n"
        "}\n"
        "\n"
        "arch N {\n"
        "  input [3, 8, 8]\n"
        "  b = B(4)\n"
        "}\n"
        "\n"
        "variant n = N()\n"
    )


def test_long_calls_break_one_argument_per_line_with_a_trailing_comma() -> None:
    args = ", ".join(f"argument_{i}=value_{i}" for i in range(8))
    out = fmt(f"arch N {{\n  input [3]\n  x = layer({args})\n}}\n")
    assert "  x = layer(\n    argument_0=value_0,\n" in out
    assert "    argument_7=value_7,\n  )\n" in out
    assert max(len(line) for line in out.splitlines()) <= WIDTH


def test_parentheses_follow_precedence() -> None:
    text = (
        "arch N {\n  let a = (1 + 2) * 3 - (4 - 5)\n  let b = -(x + 1)\n"
        "  let c = (a or b) and not c\n}\n"
    )
    out = fmt(text)
    assert "let a = (1 + 2) * 3 - (4 - 5)" in out
    assert "let b = -(x + 1)" in out
    assert "let c = (a or b) and not c" in out
    assert tree(out) == tree(text)


def test_literals_keep_their_spelling() -> None:
    text = 'arch N {\n  let a = 1e-5\n  let b = 1_000\n  require a > 0, "say \\"hi\\"\\n"\n}\n'
    out = fmt(text)
    assert "1e-5" in out and "1_000" in out and '"say \\"hi\\"\\n"' in out


COMMENTED = """\
# file header

import "common.arch"   # trailing after an import
# before the block
block B(
  a: int,  # inside the parameter list
) {
  # first in the body
  x = conv2d(a)

  # after a blank line
  y = sequential {
    # inside a sequential
    relu()
    # last in the sequential
  }
  for i in [1, 2] {  # after a for header
    z{i} = relu()
  }
  # last in the block
}
# end of file
"""


def test_every_comment_is_kept_in_order() -> None:
    out = fmt(COMMENTED)
    before = [c.text for c in tree(COMMENTED).comments]
    assert [c.text for c in tree(out).comments] == before
    assert len(before) == 11
    assert tree(out) == tree(COMMENTED)
    assert fmt(out) == out


def test_comments_stay_where_they_were() -> None:
    out = fmt(COMMENTED)
    assert out == (
        "# file header\n"
        "\n"
        'import "common.arch"\n'
        "# trailing after an import\n"
        "# before the block\n"
        "# inside the parameter list\n"
        "block B(a: int) {\n"
        "  # first in the body\n"
        "  x = conv2d(a)\n"
        "\n"
        "  # after a blank line\n"
        "  y = sequential {\n"
        "    # inside a sequential\n"
        "    relu()\n"
        "    # last in the sequential\n"
        "  }\n"
        "  for i in [1, 2] {\n"
        "    # after a for header\n"
        "    z{i} = relu()\n"
        "  }\n"
        "  # last in the block\n"
        "}\n"
        "# end of file\n"
    )


# ---- hypothesis: generated trees ---------------------------------------------------

NAMES = st.sampled_from(["a", "b", "x1", "conv", "layer_2", "Block", "planes", "f"])
TYPES = st.sampled_from(["int", "float", "bool", "str", "list", "block"])
STRINGS = st.text(st.sampled_from(list('ab "\\\n\té#{}')), max_size=6)
BIN_OPS = ["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or"]


def _exprs() -> st.SearchStrategy[ast.Expr]:
    leaves = st.one_of(
        st.integers(0, 10**6).map(ast.Num),
        st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(ast.Num),
        st.booleans().map(ast.Bool),
        STRINGS.map(ast.Str),
        NAMES.map(ast.Name),
    )

    def extend(inner: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
        keywords = st.lists(st.builds(ast.Keyword, NAMES, inner), max_size=2)
        return st.one_of(
            st.builds(ast.BinOp, st.sampled_from(BIN_OPS), inner, inner),
            st.builds(ast.UnaryOp, st.sampled_from(["-", "+", "not"]), inner),
            st.builds(ast.IfExp, inner, inner, inner),
            st.builds(ast.Index, inner, inner),
            st.lists(inner, max_size=3).map(lambda xs: ast.ListExpr(tuple(xs))),
            st.builds(
                ast.ListComp, inner, st.lists(NAMES, min_size=1, max_size=2).map(tuple), inner
            ),
            st.builds(ast.Call, NAMES, st.lists(inner, max_size=2).map(tuple), keywords.map(tuple)),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: ast.Pipe(tuple(xs))),
        )

    return st.recursive(leaves, extend, max_leaves=8)


EXPRS = _exprs()
CALLS = st.builds(
    ast.Call,
    NAMES,
    st.lists(EXPRS, max_size=2).map(tuple),
    st.lists(st.builds(ast.Keyword, NAMES, EXPRS), max_size=2).map(tuple),
)


def _stmts() -> st.SearchStrategy[tuple[ast.Stmt, ...]]:
    simple = st.one_of(
        st.builds(ast.Let, NAMES, EXPRS),
        st.builds(ast.Require, EXPRS, STRINGS),
        st.builds(ast.Input, EXPRS),
        st.builds(ast.Forward, EXPRS),
        st.builds(
            ast.Member,
            st.none() | st.builds(ast.Target, NAMES, st.none() | EXPRS),
            CALLS,
            st.none() | EXPRS,
        ),
    )

    def extend(
        inner: st.SearchStrategy[tuple[ast.Stmt, ...]],
    ) -> st.SearchStrategy[tuple[ast.Stmt, ...]]:
        compound = st.one_of(
            st.builds(ast.For, st.lists(NAMES, min_size=1, max_size=3).map(tuple), EXPRS, inner),
            st.builds(ast.Repeat, EXPRS, inner),
            st.builds(
                ast.Member,
                st.none() | st.builds(ast.Target, NAMES),
                inner.map(ast.Sequential),
                st.none() | EXPRS,
            ),
        )
        return st.lists(st.one_of(compound, simple), max_size=3).map(tuple)

    return st.recursive(st.lists(simple, max_size=3).map(tuple), extend, max_leaves=6)


@st.composite
def modules(draw: st.DrawFn) -> ast.Module:
    decls: list[ast.ImportDecl | ast.BlockDecl | ast.VariantDecl] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["import", "block", "variant"]))
        if kind == "import":
            decls.append(ast.ImportDecl(draw(STRINGS)))
        elif kind == "variant":
            args = tuple(draw(st.lists(EXPRS, max_size=2)))
            kwargs = tuple(draw(st.lists(st.builds(ast.Keyword, NAMES, EXPRS), max_size=2)))
            decls.append(ast.VariantDecl(draw(NAMES), draw(NAMES), args, kwargs))
        else:
            names = draw(st.lists(NAMES, max_size=3, unique=True))
            with_default = draw(st.integers(0, len(names)))
            params = tuple(
                ast.Param(n, draw(TYPES), draw(EXPRS) if i >= with_default else None)
                for i, n in enumerate(names)
            )
            decls.append(ast.BlockDecl(draw(NAMES), params, draw(_stmts()), draw(st.booleans())))
    return ast.Module("gen.arch", tuple(decls))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(modules())
def test_generated_trees_round_trip(module: ast.Module) -> None:
    text = format_module(module)
    assert tree(text, "gen.arch") == module
    assert fmt(text, "gen.arch") == text


@settings(derandomize=True, max_examples=150, deadline=None)
@given(EXPRS)
def test_generated_expressions_round_trip(expr: ast.Expr) -> None:
    module = ast.Module("gen.arch", (ast.BlockDecl("B", (), (ast.Let("v", expr),)),))
    text = format_module(module)
    assert tree(text, "gen.arch") == module
    assert fmt(text, "gen.arch") == text


# ---- the command line ----------------------------------------------------------------

UNFORMATTED = "arch N{input [3]\n  fc=linear(2)}\n"
FORMATTED = "arch N {\n  input [3]\n  fc = linear(2)\n}\n"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.arch"
    good = tmp_path / "good.arch"
    bad.write_text(UNFORMATTED, encoding="utf-8")
    good.write_text(FORMATTED, encoding="utf-8")
    code, _, err = invoke("fmt", "--check", str(good))
    assert code == 0 and err == ""
    code, out, err = invoke("fmt", "--check", str(good), str(bad))
    assert code == 1
    assert err == f"would reformat {bad}\n"
    assert out == ""
    assert bad.read_text(encoding="utf-8") == UNFORMATTED


def test_diff_prints_a_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.arch"
    bad.write_text(UNFORMATTED, encoding="utf-8")
    code, out, _ = invoke("fmt", "--diff", str(bad))
    assert code == 0
    assert out == (
        f"--- {bad}\n"
        f"+++ {bad} (formatted)\n"
        "@@ -1,2 +1,4 @@\n"
        "-arch N{input [3]\n"
        "-  fc=linear(2)}\n"
        "+arch N {\n"
        "+  input [3]\n"
        "+  fc = linear(2)\n"
        "+}\n"
    )
    assert bad.read_text(encoding="utf-8") == UNFORMATTED
    code, out, _ = invoke("fmt", "--diff", "--check", str(bad))
    assert code == 1 and out.startswith("---")


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.arch"
    bad.write_text(UNFORMATTED, encoding="utf-8")
    bad.chmod(0o640)
    code, _, err = invoke("fmt", str(bad))
    assert code == 0
    assert err == f"reformatted {bad}\n"
    assert bad.read_text(encoding="utf-8") == FORMATTED
    assert bad.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.arch"]
    code, _, err = invoke("fmt", str(bad))
    assert code == 0 and err == ""


def test_fmt_reports_syntax_errors_and_leaves_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.arch"
    broken.write_text("arch N {\n  x = \n", encoding="utf-8")
    good = tmp_path / "good.arch"
    good.write_text(UNFORMATTED, encoding="utf-8")
    code, _, err = invoke("fmt", str(broken), str(good))
    assert code == 1
    assert "error[E0101]: unexpected end of file" in err
    assert broken.read_text(encoding="utf-8") == "arch N {\n  x = \n"
    assert good.read_text(encoding="utf-8") == FORMATTED


def test_fmt_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke("fmt", str(tmp_path / "nope.arch"))
    assert code == 2
    assert "error[E0004]" in err
