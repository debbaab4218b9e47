"""Parser and source hygiene: LALR without conflicts, spans, comments, limits, line endings."""

from __future__ import annotations

import pytest

from archdsl.errors import ArchError
from archdsl.source import SourceFile
from archdsl.syntax import ast
from archdsl.syntax.parser import MAX_NESTING, build_parser, parse


def _parse(text: str) -> ast.Module:
    return parse(SourceFile.from_text("t.arch", text))


def _code(text: str) -> str:
    with pytest.raises(ArchError) as info:
        _parse(text)
    return info.value.diagnostics[0].code


def test_grammar_has_no_lalr_conflicts() -> None:
    build_parser(strict=True)


def test_comments_are_kept_with_spans() -> None:
    text = "# head\narch A {  # trailing\n  input [1]\n  fc = linear(2)\n}\n"
    module = _parse(text)
    assert [c.text for c in module.comments] == ["# head", "# trailing"]
    assert text[module.comments[1].span.start : module.comments[1].span.end] == "# trailing"


def test_spans_point_at_the_source_text() -> None:
    text = "arch A {\n  input [1]\n  fc = linear(2, bias=false)\n}\n"
    decl = _parse(text).decls[0]
    assert isinstance(decl, ast.BlockDecl)
    member = decl.body[1]
    assert isinstance(member, ast.Member) and isinstance(member.module, ast.Call)
    call = member.module
    assert text[call.span.start : call.span.end] == "linear(2, bias=false)"
    assert text[call.kwargs[0].span.start : call.kwargs[0].span.end] == "bias=false"


def test_crlf_and_tabs_keep_columns_right() -> None:
    src = SourceFile.from_text("t.arch", "arch A {\r\n\tinput [1]\r\n\tfc = lineer(2)\r\n}\r\n")
    offset = src.text.index("lineer")
    assert src.line_col(offset) == (3, 7)


def test_bom_is_accepted() -> None:
    src = SourceFile.from_bytes(
        "t.arch", b"\xef\xbb\xbfarch A {\n  input [1]\n  fc = linear(2)\n}\n"
    )
    assert src.text.startswith("arch")


def test_precedence_and_conditionals() -> None:
    decl = _parse(
        "block B(a: int) {\n  let x = 1 + 2 * 3 if a > 1 and not a == 4 else -a\n  linear(x)\n}\n"
    ).decls[0]
    assert isinstance(decl, ast.BlockDecl)
    let = decl.body[0]
    assert isinstance(let, ast.Let) and isinstance(let.value, ast.IfExp)
    then = let.value.then
    assert isinstance(then, ast.BinOp) and then.op == "+"
    assert isinstance(then.right, ast.BinOp) and then.right.op == "*"


@pytest.mark.parametrize(
    ("depth", "ok"), [(MAX_NESTING - 1, True), (MAX_NESTING, True), (MAX_NESTING + 1, False)]
)
def test_nesting_limit(depth: int, ok: bool) -> None:
    expr = "(" * (depth - 2) + "1" + ")" * (depth - 2)  # the block brace and call paren count too
    text = f"block B {{\n  linear({expr})\n}}\n"
    if ok:
        _parse(text)
    else:
        assert _code(text) == "E0104"


def test_deep_nesting_is_refused_quickly() -> None:
    import time

    start = time.perf_counter()
    assert _code("block B {\n  linear(" + "(" * 100_000 + ")\n}\n") == "E0104"
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(("digits", "ok"), [(23, True), (24, True), (25, False)])
def test_number_digit_limit(digits: int, ok: bool) -> None:
    text = f"block B {{\n  linear({'9' * digits})\n}}\n"
    if ok:
        _parse(text)
    else:
        assert _code(text) == "E0106"


def test_end_of_file_is_named() -> None:
    with pytest.raises(ArchError) as info:
        _parse("arch A {\n  input [1]\n")
    assert info.value.diagnostics[0].message == "unexpected end of file"


def test_file_size_limit() -> None:
    from archdsl.source import MAX_SOURCE_BYTES

    with pytest.raises(ArchError) as info:
        SourceFile.from_bytes("big.arch", b"#" * (MAX_SOURCE_BYTES + 1))
    assert info.value.diagnostics[0].code == "E0003"
    SourceFile.from_bytes("ok.arch", b"#" * MAX_SOURCE_BYTES)
