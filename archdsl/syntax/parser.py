"""LALR parsing with positions; lark's errors become diagnostics with spans."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import OrderedDict
from typing import Any

from archdsl.errors import ArchError, Span, error
from archdsl.source import SourceFile
from archdsl.syntax import ast, regenerate
from archdsl.syntax._lalr import (
    GRAMMAR_SHA256,
    Lark,
    Lark_StandAlone,
    Token,
    Transformer_NonRecursive,
    Tree,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
    v_args,
)

MAX_NESTING = 64
# Syntax-tree levels one expression may have (`- - - 1`, `a + b + ...`, `x if c else ...`): later
# passes walk expressions recursively, so depth is refused before anything walks them (G11).
MAX_EXPR_DEPTH = 100
# Letters from other scripts that render like ASCII (a few of Unicode's confusables).
_CONFUSABLES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x",
    "\u0443": "y", "\u0456": "i", "\u0410": "A", "\u0415": "E", "\u041e": "O", "\u0421": "C",
    "\u03bf": "o", "\u03b1": "a", "\u0391": "A", "\u039f": "O", "\u2010": "-", "\u2212": "-",
}  # fmt: skip
MAX_NUMBER_DIGITS = 24

_TOKEN_SPELLING = {
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a string",
    "COMP_OP": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/`, `//` or `%`",
    "POW_OP": "`**`",
    "MINUS": "`-`",
    "PLUS": "`+`",
    "__ANON_0": "`->`",
    "$END": "end of file",
}


# The comments the lexer skips, collected while one parse runs (per thread: the parser is shared).
_comments = threading.local()


def _keep_comment(tok: Token) -> Token:
    sink = getattr(_comments, "sink", None)
    if sink is not None:
        sink.append(tok)
    return tok


@functools.cache
def _parser() -> Lark:
    """The standalone parser (``_lalr.py``: tables as literals, built in milliseconds), after
    checking that it was generated from the grammar file as it is now."""
    grammar = regenerate.grammar_path().read_text(encoding="utf-8")
    if regenerate.grammar_digest(grammar) != GRAMMAR_SHA256:
        raise RuntimeError(
            "archdsl/syntax/_lalr.py is out of date with grammars/archdsl.lark; "
            f"run `{regenerate.COMMAND}`"
        )
    return Lark_StandAlone(lexer_callbacks={"COMMENT": _keep_comment})


def build_parser(strict: bool = False) -> Any:
    """The LALR parser. ``strict=True`` builds lark's parser from the grammar with the same
    options instead, turning grammar conflicts and terminal collisions into errors (tests)."""
    if not strict:
        return _parser()
    from lark import Lark as GrammarLark

    grammar = regenerate.grammar_path().read_text(encoding="utf-8")
    return GrammarLark(grammar, strict=True, **regenerate.OPTIONS)


def _spelling(name: str, parser: Lark) -> str:
    if name in _TOKEN_SPELLING:
        return _TOKEN_SPELLING[name]
    for term in parser.terminals:
        if term.name == name and term.pattern.type == "str":
            return f"`{term.pattern.value}`"
    return name.lower()


def _check_nesting(src: SourceFile, offset: int = 0) -> None:
    """Refuse bracket nesting past ``MAX_NESTING`` before parsing. Strings and comments are skipped
    as the lexer reads them: a string ends at an unescaped `"` or at the end of the line."""
    depth = 0
    in_comment = in_string = escaped = False
    for i, ch in enumerate(src.text):
        if in_comment:
            in_comment = ch != "\n"
            continue
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch in '"\n':
                in_string = False
            continue
        if ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise error(
                    "E0104",
                    f"nesting is too deep (more than {MAX_NESTING} levels)",
                    Span(src.name, offset + i, offset + i + 1),
                    "this bracket goes past the limit",
                    help="split the expression or the block into named parts",
                )
        elif ch in ")]}":
            depth = max(0, depth - 1)


# Rules that are not expressions: their depth does not add to an expression's.
_STATEMENTS = frozenset(
    {
        "start", "import_decl", "block_decl", "arch_decl", "variant_decl", "param_list", "param",
        "input_stmt", "let_stmt", "require_stmt", "forward_stmt", "for_stmt", "for_targets",
        "repeat_stmt", "init_stmt", "init_path", "member", "target", "quoted_target", "guard",
        "sequential", "hole",
    }
)  # fmt: skip
# Rules that become no syntax node of their own.
_TRANSPARENT = frozenset({"arguments", "argument"})
# Flat rules that become left-nested binary operations: n operands, n - 1 levels.
_CHAINS = frozenset({"or_expr", "and_expr", "sum", "product"})


def _check_depth(tree: Tree, file: str) -> None:
    """Refuse expressions deeper than ``MAX_EXPR_DEPTH``, walking the parse tree without
    recursion; the diagnostic points at the innermost expression that goes past the limit."""
    depth: dict[int, int] = {}  # id(subtree) -> expression depth; the tree keeps them alive
    stack: list[tuple[Tree, bool]] = [(tree, False)]
    while stack:
        node, done = stack.pop()
        kids = [c for c in node.children if isinstance(c, Tree)]
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in kids)
            continue
        d = max((depth.pop(id(c)) for c in kids), default=0)
        if node.data in _STATEMENTS:
            d = 0
        elif node.data in _CHAINS:
            d += len(kids) - 1
        elif node.data not in _TRANSPARENT:
            d += 1
        if d > MAX_EXPR_DEPTH:
            raise error(
                "E0108",
                f"expression is nested too deeply (more than {MAX_EXPR_DEPTH} levels)",
                _span(file, node.meta),
                "this expression goes past the limit",
                help="split it into `let` values",
            )
        depth[id(node)] = d


# Syntax trees of the files parsed last, by name and text: a process that analyses again (a
# notebook, a test suite, a server) re-reads its files but parses only what changed, as the
# files a spec imports (common.arch) are most of its text. Trees are immutable; a file that fails
# to parse is not kept.
_TREES: OrderedDict[tuple[str, str], ast.Module] = OrderedDict()
_TREES_LOCK = threading.Lock()
TREES_KEPT = 32


def parse(src: SourceFile) -> ast.Module:
    """Parse one file into its syntax tree. Raises ``ArchError`` on any syntax error."""
    key = (src.name, src.text)
    with _TREES_LOCK:
        module = _TREES.get(key)
        if module is not None:
            _TREES.move_to_end(key)
            return module
    module = _parse(src)
    with _TREES_LOCK:
        _TREES[key] = module
        if len(_TREES) > TREES_KEPT:
            _TREES.popitem(last=False)
    return module


def forget_trees() -> None:
    """Drop the kept syntax trees: every file is parsed again."""
    with _TREES_LOCK:
        _TREES.clear()


def _parse(src: SourceFile) -> ast.Module:
    if not src.text.strip():
        raise error(
            "E0105",
            "empty spec file",
            Span(src.name, 0, 0),
            help="a spec declares at least one `arch` or `block`",
        )
    _check_nesting(src)
    parser = _parser()
    tokens: list[Token] = []
    _comments.sink = tokens
    try:
        tree = parser.parse(src.text, start="start")
    except UnexpectedInput as exc:
        raise _syntax_error(exc, src, parser) from None
    finally:
        _comments.sink = None
    comments = [
        ast.Comment(str(tok), span=Span(src.name, tok.start_pos, tok.end_pos)) for tok in tokens
    ]
    _check_depth(tree, src.name)
    try:
        decls = _ToAst(src.name, src.text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ArchError):
            raise exc.orig_exc from None
        raise
    return ast.Module(
        src.name, tuple(decls), tuple(comments), span=Span(src.name, 0, len(src.text))
    )


def parse_override(key: str, text: str) -> ast.Expr:
    """The value of ``--set key=text``: exactly one spec expression. ``--set "n=1, m=2"`` is
    refused (E0506) rather than read as ``n=1`` with ``m`` dropped; each parameter takes its
    own ``--set``."""
    src = SourceFile.from_text(f"--set {key}", f"variant v = A({key}={text})")

    def refuse(span: Span) -> ArchError:
        err = error(
            "E0506",
            f"`--set {key}=...` takes one value",
            span,
            "a second value",
            help="give each parameter its own option: `--set n=1 --set m=2`",
        )
        err.sources[src.name] = src
        return err

    try:
        module = parse(src)
    except ArchError as exc:
        labels = exc.diagnostics[0].labels
        if exc.diagnostics[0].code == "E0107" and labels:  # `n=1, 2`
            raise refuse(labels[0].span) from None
        exc.sources[src.name] = src
        raise
    decl = module.decls[0]
    assert isinstance(decl, ast.VariantDecl)
    extra: list[ast.Node] = [*decl.args, *decl.kwargs[1:], *module.decls[1:]]
    if extra:
        raise refuse(extra[0].span)
    return decl.kwargs[0].value


def _syntax_error(exc: UnexpectedInput, src: SourceFile, parser: Lark) -> Exception:
    pos = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        end = len(src.text.rstrip())
        return error(
            "E0101",
            "unexpected end of file",
            Span(src.name, end, end),
            "the file ends here",
            help="a `}`, `)` or `]` may be missing",
        )
    if isinstance(exc, UnexpectedCharacters):
        ch = src.text[pos] if pos is not None and pos < len(src.text) else "?"
        if not ch.isascii():
            name = unicodedata.name(ch, "unknown character")
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            look = _CONFUSABLES.get(ch, plain)
            return error(
                "E0102",
                f"non-ASCII character `{ch}` (U+{ord(ch):04X} {name})",
                Span(src.name, pos or 0, (pos or 0) + 1),
                "names and syntax are ASCII only",
                help=f"this looks like `{look}`; type it again" if look else "remove the character",
            )
        return error(
            "E0102",
            f"unexpected character `{ch}`",
            Span(src.name, pos or 0, (pos or 0) + 1),
            "not valid here",
            help="remove the character",
        )
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = sorted({_spelling(t, parser) for t in exc.expected if not t.startswith("__ANON")})
    shown = ", ".join(expected[:6]) + (", ..." if len(expected) > 6 else "")
    found = f"`{tok}`" if tok.type != "$END" else "end of file"
    start = tok.start_pos if tok.start_pos is not None else 0
    end = tok.end_pos if tok.end_pos is not None else start + 1
    hint = None
    if "`,`" in expected and tok.type in {"NAME", "INT", "FLOAT", "STRING"}:
        hint = "a `,` may be missing before this"
    return error(
        "E0103",
        f"unexpected {found}",
        Span(src.name, start, end),
        f"expected {shown}" if shown else "not valid here",
        help=hint,
    )


def _span(file: str, meta) -> Span:  # type: ignore[no-untyped-def]
    if getattr(meta, "empty", True):
        return Span(file, 0, 0)
    return Span(file, meta.start_pos, meta.end_pos)


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.start_pos or 0, tok.end_pos or 0)


def _number(tok: Token, file: str) -> int | float:
    text = str(tok).replace("_", "")
    digits = sum(c.isdigit() for c in text)
    if digits > MAX_NUMBER_DIGITS:
        raise error(
            "E0106",
            f"number literal has {digits} digits (the limit is {MAX_NUMBER_DIGITS})",
            _tok_span(file, tok),
            "too long",
        )
    value = float(text) if tok.type == "FLOAT" else int(text)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise error("E0106", "number literal is not finite", _tok_span(file, tok), "overflows")
    return value


_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _string(tok: Token, file: str) -> str:
    r"""A string literal's value. Escapes: ``\ \" \' \n \t \r \xHH \uHHHH \UHHHHHHHH``;
    any other, and surrogates or NUL, are an E0109 diagnostic at the escape."""
    body = str(tok)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    base = (tok.start_pos or 0) + 1
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        code = body[i + 1] if i + 1 < len(body) else ""
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
            continue
        width = _HEX_ESCAPES.get(code)
        digits = body[i + 2 : i + 2 + width] if width else ""
        value = (
            int(digits, 16)
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits)
            else None
        )
        end = i + 2 + (width or 0) if value is not None else i + 2
        if value is None or value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            shown = body[i:end]
            raise error(
                "E0109",
                f"invalid escape `{shown}` in a string",
                Span(file, base + i, base + end),
                "not a valid escape" if value is None else "not a character a string may hold",
                help='escapes are \\\\, \\", \\n, \\t, \\r, \\xHH, \\uHHHH and \\UHHHHHHHH; '
                "write a backslash as \\\\",
            )
        out.append(chr(value))
        i = end
    return "".join(out)


# The text of a quoted member name outside its `{...}` holes: what a torch state_dict key and a
# Keras layer name can both hold without escaping (no `.`, which separates a key's path).
_NAME_TEXT = re.compile(r"[A-Za-z0-9_-]")


def _malformed(file: str, start: int, end: int, message: str, label: str) -> ArchError:
    return error(
        "E0110",
        message,
        Span(file, start, end),
        label,
        help="a quoted member name is letters, digits, `_` and `-` with `{expr}` holes: "
        '"block{stage}-{index}"',
    )


def _hole(file: str, text: str, start: int, end: int) -> ast.Expr:
    """The expression of a hole ``text[start:end]``, parsed where it stands: the text before it
    is blanked, so spans and diagnostics point into the file."""
    padded = " " * start + text[start:end]
    if not text[start:end].strip():
        raise _malformed(file, start - 1, end + 1, "empty `{}` in a member name", "no value here")
    _check_nesting(SourceFile(file, text[start:end]), offset=start)
    parser = _parser()
    try:
        tree = parser.parse(padded, start="hole")
    except UnexpectedInput as exc:
        # the file's own checks (NUL, bidi controls) ran on all of it already
        raise _syntax_error(exc, SourceFile(file, padded), parser) from None
    _check_depth(tree, file)
    try:
        expr: ast.Expr = _ToAst(file, text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ArchError):
            raise exc.orig_exc from None
        raise
    return expr


def _template(tok: Token, file: str, text: str) -> ast.Target:
    """A quoted member name: its literal head and a ``Format`` of the holes and texts after."""
    start = (tok.start_pos or 0) + 1
    end = (tok.end_pos or 0) - 1
    texts: list[str] = []
    values: list[ast.Expr] = []
    current: list[str] = []
    i = start
    while i < end:
        ch = text[i]
        if ch == "{":
            close = text.find("}", i + 1, end)
            if close < 0:
                raise _malformed(file, i, i + 1, "unclosed `{` in a member name", "opened here")
            if "\\" in text[i + 1 : close]:
                at = text.index("\\", i + 1)
                raise _malformed(
                    file, at, at + 1, "escape in a member name's hole", "not valid here"
                )
            values.append(_hole(file, text, i + 1, close))
            texts.append("".join(current))
            current = []
            i = close + 1
            continue
        if ch == "}":
            raise _malformed(file, i, i + 1, "`}` without `{` in a member name", "not opened")
        if not _NAME_TEXT.fullmatch(ch):
            raise _malformed(
                file, i, i + 1, f"`{ch}` cannot be part of a member name", "not allowed here"
            )
        current.append(ch)
        i += 1
    texts.append("".join(current))
    span = Span(file, start - 1, end + 1)
    if not values and not texts[0]:
        raise _malformed(file, start - 1, end + 1, "empty member name", "no name here")
    suffix = ast.Format(("", *texts[1:]), tuple(values), span=span)
    return ast.Target(texts[0], suffix, span=span)


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):  # no recursion, whatever the depth
    def __init__(self, file: str, text: str = "") -> None:
        super().__init__()
        self.file = file
        self.text = text

    def _s(self, meta) -> Span:  # type: ignore[no-untyped-def]
        return _span(self.file, meta)

    # declarations
    def start(self, meta, items):  # type: ignore[no-untyped-def]
        return items

    def import_decl(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.ImportDecl(_string(items[0], self.file), span=self._s(meta))

    def _block(self, meta, items, is_arch: bool):  # type: ignore[no-untyped-def]
        name, params, *body = items
        return ast.BlockDecl(
            str(name),
            tuple(params or ()),
            tuple(body),
            is_arch,
            span=_tok_span(self.file, name),
        )

    def block_decl(self, meta, items):  # type: ignore[no-untyped-def]
        return self._block(meta, items, False)

    def arch_decl(self, meta, items):  # type: ignore[no-untyped-def]
        return self._block(meta, items, True)

    def variant_decl(self, meta, items):  # type: ignore[no-untyped-def]
        name, base, arguments = items
        args, kwargs = arguments if arguments is not None else ((), ())
        return ast.VariantDecl(
            str(name),
            str(base),
            args,
            kwargs,
            base_span=_tok_span(self.file, base),
            span=_tok_span(self.file, name),
        )

    def param_list(self, meta, items):  # type: ignore[no-untyped-def]
        return [p for p in items if p is not None]

    def param(self, meta, items):  # type: ignore[no-untyped-def]
        name, typ, default = items
        return ast.Param(str(name), str(typ), default, span=_tok_span(self.file, name))

    # statements
    def input_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Input(items[0], span=self._s(meta))

    def let_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Let(str(items[0]), items[1], span=_tok_span(self.file, items[0]))

    def require_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Require(items[0], _string(items[1], self.file), span=self._s(meta))

    def forward_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Forward(items[0], span=self._s(meta))

    def for_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        targets, iterable, *body = items
        return ast.For(tuple(targets), iterable, tuple(body), span=self._s(meta))

    def for_targets(self, meta, items):  # type: ignore[no-untyped-def]
        return [str(t) for t in items if t is not None]

    def repeat_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        count, *body = items
        return ast.Repeat(count, tuple(body), span=self._s(meta))

    def init_stmt(self, meta, items):  # type: ignore[no-untyped-def]
        path, value, guard = items
        return ast.Init(path, value, guard, span=self._s(meta))

    def init_path(self, meta, items):  # type: ignore[no-untyped-def]
        return tuple(str(t) for t in items)

    def member(self, meta, items):  # type: ignore[no-untyped-def]
        target, module, guard = items
        span = target.span if target is not None else module.span
        return ast.Member(target, module, guard, span=span)

    def target(self, meta, items):  # type: ignore[no-untyped-def]
        name, suffix = items
        return ast.Target(str(name), suffix, span=self._s(meta))

    def quoted_target(self, meta, items):  # type: ignore[no-untyped-def]
        return _template(items[0], self.file, self.text)

    def hole(self, meta, items):  # type: ignore[no-untyped-def]
        return items[0]

    def guard(self, meta, items):  # type: ignore[no-untyped-def]
        return items[0]

    def sequential(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Sequential(tuple(items), span=self._s(meta))

    # expressions
    def pipe(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Pipe(tuple(items), span=self._s(meta))

    def ifexp(self, meta, items):  # type: ignore[no-untyped-def]
        then, cond, orelse = items
        return ast.IfExp(cond, then, orelse, span=self._s(meta))

    def _chain(self, meta, items, op=None):  # type: ignore[no-untyped-def]
        result = items[0]
        rest = items[1:]
        if op is not None:
            for right in rest:
                result = ast.BinOp(op, result, right, span=result.span.cover(right.span))
            return result
        for op_tok, right in zip(rest[::2], rest[1::2], strict=True):
            result = ast.BinOp(str(op_tok), result, right, span=result.span.cover(right.span))
        return result

    def or_expr(self, meta, items):  # type: ignore[no-untyped-def]
        return self._chain(meta, items, "or")

    def and_expr(self, meta, items):  # type: ignore[no-untyped-def]
        return self._chain(meta, items, "and")

    def comparison(self, meta, items):  # type: ignore[no-untyped-def]
        left, op, right = items
        if op is None:
            return left
        return ast.BinOp(str(op), left, right, span=self._s(meta))

    sum = _chain
    product = _chain

    def pow(self, meta, items):  # type: ignore[no-untyped-def]
        left, _, right = items
        return ast.BinOp("**", left, right, span=self._s(meta))

    def not_(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.UnaryOp("not", items[0], span=self._s(meta))

    def neg(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.UnaryOp("-", items[0], span=self._s(meta))

    def pos(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.UnaryOp("+", items[0], span=self._s(meta))

    def index(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Index(items[0], items[1], span=self._s(meta))

    def slice(self, meta, items):  # type: ignore[no-untyped-def]
        value, start, end, step = (*items, None, None, None)[:4]
        return ast.Slice(value, start, end, step, span=self._s(meta))

    def call(self, meta, items):  # type: ignore[no-untyped-def]
        name, arguments = items
        args, kwargs = arguments if arguments is not None else ((), ())
        return ast.Call(
            str(name), args, kwargs, func_span=_tok_span(self.file, name), span=self._s(meta)
        )

    def arguments(self, meta, items):  # type: ignore[no-untyped-def]
        args = []
        kwargs = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, ast.Keyword):
                kwargs.append(item)
            else:
                if kwargs:
                    raise error(
                        "E0107",
                        "positional argument after a keyword argument",
                        item.span,
                        "move this before the keyword arguments",
                    )
                args.append(item)
        return tuple(args), tuple(kwargs)

    def argument(self, meta, items):  # type: ignore[no-untyped-def]
        return items[0]

    def kwarg(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Keyword(str(items[0]), items[1], span=self._s(meta))

    def int_lit(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Num(_number(items[0], self.file), span=self._s(meta))

    def float_lit(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Num(_number(items[0], self.file), span=self._s(meta))

    def true(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Bool(True, span=self._s(meta))

    def false(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Bool(False, span=self._s(meta))

    def string_lit(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Str(_string(items[0], self.file), span=self._s(meta))

    def name(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.Name(str(items[0]), span=self._s(meta))

    def list_comp(self, meta, items):  # type: ignore[no-untyped-def]
        value, targets, iterable, cond = items
        return ast.ListComp(value, tuple(targets), iterable, cond, span=self._s(meta))

    def list_lit(self, meta, items):  # type: ignore[no-untyped-def]
        return ast.ListExpr(tuple(i for i in items if i is not None), span=self._s(meta))


__all__ = ["build_parser", "parse", "parse_override", "Tree"]
