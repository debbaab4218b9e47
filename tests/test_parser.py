"""Parser and source hygiene: LALR without conflicts, spans, comments, limits, line endings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archdsl.errors import ArchError
from archdsl.source import SourceFile
from archdsl.syntax import ast, parser, regenerate
from archdsl.syntax.parser import MAX_NESTING, build_parser, parse
from tests.helpers import ROOT, SPECS


def _parse(text: str) -> ast.Module:
    return parse(SourceFile.from_text("t.arch", text))


def _code(text: str) -> str:
    with pytest.raises(ArchError) as info:
        _parse(text)
    return info.value.diagnostics[0].code


def test_grammar_has_no_lalr_conflicts() -> None:
    build_parser(strict=True)


def test_standalone_parser_is_generated_from_the_grammar() -> None:
    """After a change to grammars/archdsl.lark: `python -m archdsl.syntax.regenerate`."""
    assert not regenerate.stale(), f"the standalone parser is stale: run `{regenerate.COMMAND}`"
    assert regenerate.main(["--check"]) == 0


def _shape(node: object) -> object:
    """A parse tree as plain data (the standalone module and lark have their own classes)."""
    if hasattr(node, "data") and hasattr(node, "children"):
        meta = node.meta  # type: ignore[attr-defined]
        span = None if meta.empty else (meta.start_pos, meta.end_pos)
        return (str(node.data), span, [_shape(c) for c in node.children])  # type: ignore[attr-defined]
    if node is None:
        return None
    return (node.type, str(node), node.start_pos)  # type: ignore[attr-defined]


def test_standalone_parser_parses_as_lark_does() -> None:
    """Same trees (rules, positions, tokens) or the same failure for every spec, snippet and
    diagnostics case, from the standalone tables and from lark built from the grammar."""
    fresh = build_parser(strict=True)
    ours = build_parser()
    files = [*SPECS.glob("*.arch"), *(ROOT / "tests").glob("*/*.arch")]
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        results = []
        for p in (ours, fresh):
            try:
                results.append(_shape(p.parse(text, start="start")))
            except Exception as exc:  # noqa: BLE001 - the two raise their own classes
                results.append((type(exc).__name__, getattr(exc, "pos_in_stream", None)))
        assert results[0] == results[1], path


def test_a_stale_standalone_parser_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "GRAMMAR_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="archdsl.syntax.regenerate"):
        parser._parser.__wrapped__()
    other = "start: NAME\nhole: NAME\nNAME: /[a-z]+/\n"  # the two start rules the parser uses
    assert regenerate.grammar_digest(other) in regenerate.source(other)[:400]


def test_parsing_loads_neither_lark_nor_pickle() -> None:
    code = (
        "import sys\n"
        "from archdsl.compiler import analyse\n"
        "analyse('specs/resnet50.arch')\n"
        "print(sorted(m for m in ('lark', 'pickle', 'regex') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"
    assert "pickle" not in regenerate.GENERATED.read_text(encoding="utf-8").split("DATA = (")[1]


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


def test_a_file_parsed_again_unchanged_gives_the_same_tree() -> None:
    text = "arch A {\n  input [3, 8, 8]\n  body = relu()\n}\n"
    first = parser.parse(SourceFile.from_text("cached.arch", text))
    assert parser.parse(SourceFile.from_text("cached.arch", text)) is first
    # another text or another name is parsed anew (spans carry the name)
    changed = parser.parse(SourceFile.from_text("cached.arch", text.replace("relu", "relu6")))
    assert changed is not first and changed != first
    renamed = parser.parse(SourceFile.from_text("other.arch", text))
    assert renamed is not first and renamed.span.file == "other.arch"
    for n in range(parser.TREES_KEPT + 1):  # bounded: the least recently used go first
        parser.parse(SourceFile.from_text(f"filler{n}.arch", text))
    assert parser.parse(SourceFile.from_text("cached.arch", text)) is not first
    kept = parser.parse(SourceFile.from_text("cached.arch", text))
    parser.forget_trees()
    assert parser.parse(SourceFile.from_text("cached.arch", text)) is not kept


def test_a_file_that_fails_to_parse_fails_every_time() -> None:
    from archdsl.errors import ArchError

    for _ in range(2):
        with pytest.raises(ArchError):
            parser.parse(SourceFile.from_text("broken.arch", "arch A {\n  input [3, 8\n}\n"))
