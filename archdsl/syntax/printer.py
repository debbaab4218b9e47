"""The canonical spec layout: syntax tree -> text, keeping every comment.

Layout: two-space indent, one statement per line, a blank line after each declaration (between
imports only where the source had one), other blank lines kept (at most one). A group that does
not fit in ``WIDTH`` columns breaks: argument, parameter and list items one per line with a
trailing comma, flows one ``->`` stage per line, operator chains one operand per line.

Comments are placed from their spans: a comment between statements stays there, at the
statement's indent; a comment inside a statement's header or expression (which the tree cannot
place) moves to the line before that statement, so their order never changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from archdsl.source import SourceFile
from archdsl.syntax import ast
from archdsl.syntax.parser import parse

WIDTH = 100
INDENT = "  "

# ---- documents: a small Wadler-style pretty printer ---------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    text: str


@dataclass(frozen=True, slots=True)
class _Line:
    """A space (``soft``: nothing) when its group is flat, a newline when it breaks."""

    soft: bool = False
    hard: bool = False


@dataclass(frozen=True, slots=True)
class _Concat:
    parts: tuple[Doc, ...]


@dataclass(frozen=True, slots=True)
class _Nest:
    doc: Doc


@dataclass(frozen=True, slots=True)
class _Group:
    doc: Doc
    # The source had a trailing comma (keep the items one per line), here or in a group inside.
    broken: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "broken", self.broken or _forced(self.doc))


@dataclass(frozen=True, slots=True)
class _Choice:
    """Flat if it fits, else the first alternative whose lines all fit, else the last one."""

    flat: Doc
    alternatives: tuple[Doc, ...]
    broken: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "broken", _forced(self.flat))


@dataclass(frozen=True, slots=True)
class _Fill:
    """Literal items, as many per line as fit."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Flat:
    """Never broken (except where the source's trailing comma asks)."""

    doc: Doc


@dataclass(frozen=True, slots=True)
class _IfBreak:
    text: str


Doc = _Text | _Line | _Concat | _Nest | _Group | _Choice | _IfBreak | _Fill | _Flat


def _forced(doc: Doc) -> bool:
    if isinstance(doc, _Group | _Choice):
        return doc.broken
    if isinstance(doc, _Concat):
        return any(_forced(p) for p in doc.parts)
    if isinstance(doc, _Nest | _Flat):
        return _forced(doc.doc)
    return False


LINE = _Line()
SOFT = _Line(soft=True)
HARD = _Line(hard=True)


def _cat(*parts: Doc | str) -> Doc:
    return _Concat(tuple(_Text(p) if isinstance(p, str) else p for p in parts))


def _join(sep: Sequence[Doc | str], docs: Sequence[Doc]) -> list[Doc | str]:
    out: list[Doc | str] = []
    for i, d in enumerate(docs):
        if i:
            out.extend(sep)
        out.append(d)
    return out


def _bracketed(open_: str, items: Sequence[Doc] | _Fill, close: str, broken: bool = False) -> Doc:
    if not items:
        return _Text(open_ + close)
    if isinstance(items, _Fill):
        inner = _cat(SOFT, items, _IfBreak(","))
    else:
        inner = _cat(SOFT, *_join([",", LINE], items), _IfBreak(","))
    return _Group(_cat(open_, _Nest(inner), SOFT, close), broken)


_FLAT, _BREAK = 0, 1


def _fits(width: int, rest: list[tuple[int, int, Doc]], cmd: tuple[int, int, Doc]) -> bool:
    """Whether ``cmd`` and then ``rest`` (a stack) fit in ``width`` up to the first line break
    taken in break mode."""
    stack = [cmd]
    next_rest = len(rest) - 1
    while True:
        if width < 0:
            return False
        if not stack:
            if next_rest < 0:
                return True
            stack.append(rest[next_rest])
            next_rest -= 1
        indent, mode, doc = stack.pop()
        if isinstance(doc, _Text):
            width -= len(doc.text)
        elif isinstance(doc, _Line):
            if mode == _BREAK or doc.hard:
                return True
            width -= 0 if doc.soft else 1
        elif isinstance(doc, _Concat):
            stack.extend((indent, mode, p) for p in reversed(doc.parts))
        elif isinstance(doc, _Nest):
            stack.append((indent + 1, mode, doc.doc))
        elif isinstance(doc, _Flat):
            stack.append((indent, _FLAT, doc.doc))
        elif isinstance(doc, _Group):
            stack.append((indent, _BREAK if doc.broken else mode, doc.doc))
        elif isinstance(doc, _Choice):
            flat = mode == _FLAT and not doc.broken
            stack.append((indent, mode, doc.flat if flat else doc.alternatives[-1]))
        elif isinstance(doc, _IfBreak) and mode == _BREAK:
            width -= len(doc.text)
        elif isinstance(doc, _Fill):
            if mode == _BREAK:
                return width >= len(doc.items[0]) + 1
            width -= sum(len(i) + 2 for i in doc.items) - 2


def _render(doc: Doc, indent: int = 0, column: int = 0, memo: _Memo | None = None) -> str:
    memo = {} if memo is None else memo
    out: list[str] = []
    stack: list[tuple[int, int, Doc]] = [(indent, _BREAK, doc)]
    while stack:
        ind, mode, d = stack.pop()
        if isinstance(d, _Text):
            out.append(d.text)
            column += len(d.text)
        elif isinstance(d, _Line):
            if mode == _BREAK or d.hard:
                while out and out[-1].endswith(" "):
                    out[-1] = out[-1].rstrip(" ")
                out.append("\n" + INDENT * ind)
                column = len(INDENT) * ind
            elif not d.soft:
                out.append(" ")
                column += 1
        elif isinstance(d, _Concat):
            stack.extend((ind, mode, p) for p in reversed(d.parts))
        elif isinstance(d, _Nest):
            stack.append((ind + 1, mode, d.doc))
        elif isinstance(d, _Flat):
            stack.append((ind, _FLAT, d.doc))
        elif isinstance(d, _Group):
            flat = not d.broken and (
                mode == _FLAT or _fits(WIDTH - column, stack, (ind, _FLAT, d.doc))
            )
            stack.append((ind, _FLAT if flat else _BREAK, d.doc))
        elif isinstance(d, _Choice):
            if not d.broken and (
                mode == _FLAT or _fits(WIDTH - column, stack, (ind, _FLAT, d.flat))
            ):
                stack.append((ind, _FLAT, d.flat))
                continue
            chosen = d.alternatives[-1]
            for alt in d.alternatives[:-1]:
                key = (id(alt), ind, column)
                if key not in memo:
                    memo[key] = _breaks_only_brackets(
                        " " * column + _render(alt, ind, column, memo)
                    )
                if memo[key]:
                    chosen = alt
                    break
            stack.append((ind, _BREAK, chosen))
        elif isinstance(d, _IfBreak):
            if mode == _BREAK:
                out.append(d.text)
                column += len(d.text)
        elif isinstance(d, _Fill):
            for i, item in enumerate(d.items):
                if i and mode == _BREAK and column + 2 + len(item) + 1 > WIDTH:
                    out.append(",\n" + INDENT * ind)
                    column = len(INDENT) * ind
                elif i:
                    out.append(", ")
                    column += 2
                out.append(item)
                column += len(item)
    return "".join(out)


_Memo = dict[tuple[int, int, int], bool]


def _breaks_only_brackets(text: str) -> bool:
    """Whether every line fits and every break is just inside brackets or after a comma."""
    lines = text.split("\n")
    if any(len(line) > WIDTH for line in lines):
        return False
    for before, after in zip(lines, lines[1:], strict=False):
        if not (before.endswith(("(", "[", ",")) or after.lstrip().startswith((")", "]"))):
            return False
    return True


# ---- expressions --------------------------------------------------------------------------

# Binding strength, loosest first, as in grammars/archdsl.lark.
_PIPE, _COND, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _POWER, _POSTFIX = range(11)
_BINARY = {
    "or": _OR,
    "and": _AND,
    **{op: _CMP for op in ("==", "!=", "<", "<=", ">", ">=")},
    "+": _SUM,
    "-": _SUM,
    **{op: _PRODUCT for op in ("*", "/", "//", "%")},
    "**": _POWER,
}


_LITERALS = (ast.Num, ast.Str, ast.Name, ast.Bool)


def _precedence(e: ast.Expr) -> int:
    if isinstance(e, ast.Pipe):
        return _PIPE
    if isinstance(e, ast.IfExp):
        return _COND
    if isinstance(e, ast.BinOp):
        return _BINARY[e.op]
    if isinstance(e, ast.UnaryOp):
        return _NOT if e.op == "not" else _UNARY
    return _POSTFIX


def _escape(value: str) -> str:
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@dataclass
class _Printer:
    text: str | None = None
    comments: list[ast.Comment] = field(default_factory=list)

    # Literals keep their spelling (`1e-5`, `1_000`, escapes) when the source is known.
    def _spelling(self, node: ast.Node, fallback: str) -> str:
        if self.text is not None and node.span.file != ast.NO_SPAN.file:
            return self.text[node.span.start : node.span.end]
        return fallback

    def expr(self, e: ast.Expr, min_prec: int = _PIPE) -> Doc:
        doc = self._expr(e)
        if _precedence(e) < min_prec:
            return _Group(_cat("(", _Nest(_cat(SOFT, doc)), SOFT, ")"))
        return doc

    def item(self, e: ast.Expr) -> Doc:
        """An item between brackets: a flow there breaks without an extra indent."""
        if isinstance(e, ast.Pipe):
            return self._pipe(e, nest=False)
        return self.expr(e)

    def _trailing_comma(self, node: ast.Node) -> bool:
        if not self._placed(node):
            return False
        assert self.text is not None
        source = self.text[node.span.start : node.span.end - 1]
        lines = [line.split("#", 1)[0] if '"' not in line else line for line in source.split("\n")]
        return "\n" in source and "".join(lines).rstrip().endswith(",")

    def _expr(self, e: ast.Expr) -> Doc:
        if isinstance(e, ast.Bool):
            return _Text("true" if e.value else "false")
        if isinstance(e, ast.Num):
            return _Text(self._spelling(e, repr(e.value)))
        if isinstance(e, ast.Str):
            return _Text(self._spelling(e, _escape(e.value)))
        if isinstance(e, ast.Name):
            return _Text(e.id)
        if isinstance(e, ast.ListExpr):
            broken = self._trailing_comma(e)
            if e.items and all(isinstance(i, _LITERALS) for i in e.items):
                texts = [self._expr(i) for i in e.items]
                fill = _Fill(tuple(t.text for t in texts if isinstance(t, _Text)))
                return _bracketed("[", fill, "]", broken)
            return _bracketed("[", [self.item(i) for i in e.items], "]", broken)
        if isinstance(e, ast.ListComp):
            # one line if it fits, else the value, `for` and `if` a line each
            cond = [LINE, "if ", self.expr(e.cond, _OR)] if e.cond is not None else []
            inner = _cat(
                SOFT,
                self.expr(e.value),
                LINE,
                f"for {_targets(e.targets, parens=True)} in ",
                self.expr(e.iterable, _OR),
                *cond,
            )
            return _Group(_cat("[", _Nest(inner), SOFT, "]"))
        if isinstance(e, ast.BinOp) and e.op == "**":  # right-associative, binds tightest
            return _cat(self.expr(e.left, _POSTFIX), " ** ", self.expr(e.right, _UNARY))
        if isinstance(e, ast.BinOp):
            return self._chain(e)
        if isinstance(e, ast.UnaryOp):
            if e.op == "not":
                return _cat("not ", self.expr(e.operand, _NOT))
            return _cat(e.op, self.expr(e.operand, _UNARY))
        if isinstance(e, ast.IfExp):
            then, cond, orelse = (
                self.expr(e.then, _OR),
                self.expr(e.cond, _OR),
                self.expr(e.orelse, _COND),
            )
            flat = _cat(then, " if ", cond, " else ", orelse)
            broken = _cat(then, _Nest(_cat(LINE, "if ", cond, LINE, "else ", orelse)))
            return _Choice(flat, (flat, broken))
        if isinstance(e, ast.Index):
            return _cat(self.expr(e.value, _POSTFIX), "[", self.expr(e.index), "]")
        if isinstance(e, ast.Slice):
            bounds: list[Doc | str] = [
                self.expr(b) if b is not None else "" for b in (e.start, e.end)
            ]
            if e.step is not None:
                bounds.append(self.expr(e.step))
            parts: list[Doc | str] = [self.expr(e.value, _POSTFIX), "["]
            for i, b in enumerate(bounds):
                parts += [":"] * (i > 0) + [b]
            return _cat(*parts, "]")
        if isinstance(e, ast.Call):
            return self.call(e.func, e.args, e.kwargs, self._trailing_comma(e))
        if isinstance(e, ast.Pipe):
            return self._pipe(e)
        raise TypeError(f"cannot print {type(e).__name__}: it never comes from spec text")

    def quoted_name(self, head: str, rest: ast.Format) -> Doc:
        """``"block{stage}-{index}"``: the text holds only name characters (the parser's rule),
        each hole an expression on one line."""
        parts: list[Doc | str] = ['"', head]
        for value, text in zip(rest.values, rest.texts[1:], strict=True):
            parts += ["{", _Flat(self.expr(value)), "}", text]
        parts.append('"')
        return _cat(*parts)

    def call(
        self,
        func: str,
        args: Sequence[ast.Expr],
        kwargs: Sequence[ast.Keyword],
        broken: bool = False,
    ) -> Doc:
        items = [self.item(a) for a in args]
        items += [_cat(k.name, "=", self.expr(k.value)) for k in kwargs]
        return _cat(func, _bracketed("(", items, ")", broken))

    def _chain(self, e: ast.BinOp) -> Doc:
        prec = _BINARY[e.op]
        operands: list[tuple[str, ast.Expr]] = []
        node: ast.Expr = e
        # Left-associative levels flatten into one group; comparisons do not chain.
        while isinstance(node, ast.BinOp) and _BINARY[node.op] == prec:
            operands.append((node.op, node.right))
            node = node.left
            if prec == _CMP:
                break

        def operand(x: ast.Expr, min_prec: int) -> Doc:
            # `a or (b and c)`: the parentheses the reader would want are kept.
            if prec == _OR and isinstance(x, ast.BinOp) and x.op == "and":
                return self.expr(x, _NOT)
            return self.expr(x, min_prec)

        first = operand(node, prec + 1 if prec == _CMP else prec)
        rest = [_cat(LINE, op, " ", operand(r, prec + 1)) for op, r in reversed(operands)]
        return _Group(_cat(first, _Nest(_cat(*rest))))

    def _pipe(self, e: ast.Pipe, nest: bool = True) -> Doc:
        def stage(s: ast.Expr) -> Doc:
            # A conditional stage is parenthesised: `a -> (b if c else d) -> e`.
            return self.expr(s, _COND + 1 if len(e.stages) > 1 else _COND)

        stages = [stage(s) for s in e.stages]
        flat = _cat(*_join([" -> "], stages))
        # `residual(...) -> relu`: only a call's brackets may open up while the arrows stay.
        kept = [
            d if isinstance(s, ast.Call) else _Flat(d)
            for s, d in zip(e.stages, stages, strict=True)
        ]
        hug = _cat(*_join([" -> "], kept))
        rest = _cat(*[_cat(LINE, "-> ", s) for s in stages[1:]])
        broken = _cat(stages[0], _Nest(rest) if nest else rest)
        return _Choice(flat, (hug, broken))

    # ---- statements ---------------------------------------------------------------

    def body(self, stmts: Sequence[ast.Stmt], hi: int) -> Doc:
        """``{``, the statements one per line with the comments before ``hi``, ``}``."""
        lines = self._items(list(stmts), hi, top=False)
        if not lines:
            return _Text(" {}")
        return _cat(" {", _Nest(_cat(*lines)), HARD, "}")

    def _items(self, items: Sequence[ast.Node], hi: int, top: bool) -> list[Doc]:
        """The items of one body and the comments before ``hi``, each after a line break."""
        out: list[Doc] = []
        prev_end: int | None = None
        prev: ast.Node | None = None

        def comment(c: ast.Comment) -> None:
            nonlocal prev_end, prev
            out.extend(self._line(_Text(c.text), prev_end, c.span.start, bool(out), top, None))
            prev_end, prev = c.span.end, None

        for i, item in enumerate(items):
            placed = self._placed(item)
            end = self._end(item, items[i + 1] if i + 1 < len(items) else None, hi)
            if placed:
                for c in list(self._take(item.span.start)):
                    comment(c)
                inside = list(self._take(end))
                sub = [c for c in inside if self._in_subbody(item, c)]
                for c in inside:
                    if c not in sub:
                        comment(c)
                self.comments[0:0] = sub
            doc = self.stmt(item, end)
            start = item.span.start if placed else None
            out.extend(self._line(doc, prev_end, start, bool(out), top, prev))
            prev_end, prev = end, item
        for c in list(self._take(hi)):
            comment(c)
        return out

    def _line(
        self,
        doc: Doc,
        prev_end: int | None,
        start: int | None,
        after_something: bool,
        top: bool,
        prev: ast.Node | None,
    ) -> list[Doc]:
        if not after_something:
            return [doc] if top else [HARD, doc]
        blank = False
        if self.text is not None and prev_end is not None and start is not None:
            blank = "\n\n" in _strip_spaces(self.text[prev_end:start])
        if top and prev is not None:
            blank = blank or not (isinstance(prev, ast.ImportDecl) and isinstance(doc, _ImportDoc))
        return [HARD, HARD, doc] if blank else [HARD, doc]

    def _placed(self, node: ast.Node) -> bool:
        return self.text is not None and node.span.file != ast.NO_SPAN.file

    def _take(self, hi: int | None) -> Iterator[ast.Comment]:
        """The comments that start before ``hi``, in order."""
        while self.comments and hi is not None and self.comments[0].span.start < hi:
            yield self.comments.pop(0)

    def _end(self, item: ast.Node, following: ast.Node | None, hi: int) -> int:
        """Where ``item`` ends in the source: after its `}` for a declaration with a body."""
        if not self._placed(item):
            return 0
        end = _max_end(item)
        if isinstance(item, ast.BlockDecl):
            assert self.text is not None
            stop = following.span.start if following is not None and self._placed(following) else hi
            end = self._closing_brace(end, stop)
        return end

    def _closing_brace(self, pos: int, stop: int) -> int:
        return min(self._next_char("}", pos) + 1, stop)

    def _next_char(self, char: str, pos: int) -> int:
        """The offset of the next ``char`` at or after ``pos`` outside comments."""
        assert self.text is not None
        starts = {c.span.start: c.span.end for c in self.comments}
        while pos < len(self.text):
            if pos in starts:
                pos = starts[pos]
            elif self.text[pos] == char:
                return pos
            else:
                pos += 1
        return pos

    def _in_subbody(self, item: ast.Node, c: ast.Comment) -> bool:
        region = self._body_region(item)
        return region is not None and region[0] <= c.span.start < region[1]

    def _body_region(self, item: ast.Node) -> tuple[int, int] | None:
        if not self._placed(item):
            return None
        if isinstance(item, ast.BlockDecl):
            header = max([item.span.end, *(_max_end(p) for p in item.params)])
            return self._next_char("{", header), 1 << 62
        if isinstance(item, ast.Member) and isinstance(item.module, ast.Sequential):
            return item.module.span.start, item.module.span.end
        if isinstance(item, ast.For):
            return _max_end(item.iterable), item.span.end
        if isinstance(item, ast.Repeat):
            return _max_end(item.count), item.span.end
        return None

    def stmt(self, s: ast.Node, end: int) -> Doc:
        region = self._body_region(s)
        hi = min(region[1], end) if region is not None else 0
        if isinstance(s, ast.ImportDecl):
            return _ImportDoc((_Text(f"import {self._spelling_import(s)}"),))
        if isinstance(s, ast.BlockDecl):
            kw = "arch" if s.is_arch else "block"
            params = [self.param(p) for p in s.params]
            head = _cat(f"{kw} {s.name}", _bracketed("(", params, ")") if params else "")
            return _cat(head, self.body(s.body, hi))
        if isinstance(s, ast.VariantDecl):
            return _cat(f"variant {s.name} = ", self.call(s.base, s.args, s.kwargs))
        if isinstance(s, ast.Member):
            parts: list[Doc | str] = []
            if s.target is not None:
                if isinstance(s.target.suffix, ast.Format):
                    parts.append(self.quoted_name(s.target.name, s.target.suffix))
                else:
                    parts.append(s.target.name)
                    if s.target.suffix is not None:
                        parts += ["{", self.expr(s.target.suffix), "}"]
                parts.append(" = ")
            if isinstance(s.module, ast.Sequential):
                parts += ["sequential", self.body(s.module.body, hi)]
            else:
                parts.append(self.expr(s.module))
            if s.guard is not None:
                parts += [" when ", self.expr(s.guard)]
            return _cat(*parts)
        if isinstance(s, ast.Let):
            return _cat(f"let {s.name} = ", self.expr(s.value))
        if isinstance(s, ast.Require):
            message = _escape(s.message)
            if self.text is not None and s.span.file != ast.NO_SPAN.file:
                message = self._message_spelling(s) or message
            return _Group(_cat("require ", self.expr(s.cond), ",", _Nest(_cat(LINE, message))))
        if isinstance(s, ast.Input):
            return _cat("input ", self.expr(s.shape))
        if isinstance(s, ast.Forward):
            return _cat("forward: ", self.expr(s.flow))
        if isinstance(s, ast.Init):
            parts = [f"init {'.'.join(s.path)} = ", self.expr(s.value)]
            if s.guard is not None:
                parts += [" when ", self.expr(s.guard)]
            return _cat(*parts)
        if isinstance(s, ast.For):
            head = _cat(f"for {_targets(s.targets, parens=True)} in ", self.expr(s.iterable))
            return _cat(head, self.body(s.body, hi))
        if isinstance(s, ast.Repeat):
            return _cat("repeat ", self.expr(s.count), self.body(s.body, hi))
        raise TypeError(f"cannot print {type(s).__name__}")

    def _spelling_import(self, s: ast.ImportDecl) -> str:
        if self._placed(s):
            assert self.text is not None
            source = self.text[s.span.start : s.span.end]
            quote = source.find('"')
            if quote >= 0:
                return source[quote:].rstrip()
        return _escape(s.path)

    def _message_spelling(self, s: ast.Require) -> str | None:
        assert self.text is not None
        source = self.text[s.span.start : s.span.end].rstrip()
        if not source.endswith('"'):
            return None
        # The message is the last string literal of the statement.
        i = len(source) - 2
        while i > 0:
            if source[i] == '"':
                backslashes = 0
                while source[i - 1 - backslashes] == "\\":
                    backslashes += 1
                if backslashes % 2 == 0:
                    return source[i:]
            i -= 1
        return None

    def param(self, p: ast.Param) -> Doc:
        if p.default is None:
            return _Text(f"{p.name}: {p.type}")
        return _cat(f"{p.name}: {p.type} = ", self.expr(p.default))


@dataclass(frozen=True, slots=True)
class _ImportDoc(_Concat):
    pass


def _targets(names: Sequence[str], parens: bool = False) -> str:
    if len(names) == 1:
        return names[0]
    joined = ", ".join(names)
    return f"({joined})" if parens else joined


def _strip_spaces(text: str) -> str:
    return "\n".join(line.strip() for line in text.split("\n"))


def _max_end(node: object) -> int:
    """The furthest source offset of any span in ``node``'s subtree."""
    best = 0
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Node):
            if n.span.file != ast.NO_SPAN.file:
                best = max(best, n.span.end)
            stack.extend(getattr(n, f) for f in n._fields)
        elif isinstance(n, tuple):
            stack.extend(n)
    return best


def format_module(module: ast.Module, text: str | None = None) -> str:
    """The canonical text of ``module``; with the source ``text`` it came from, its comments,
    blank lines and literal spellings are kept."""
    printer = _Printer(text, sorted(module.comments, key=lambda c: c.span.start) if text else [])
    lines = printer._items(module.decls, len(text) if text is not None else 0, top=True)
    rendered = _render(_cat(*lines))
    return "\n".join(line.rstrip() for line in rendered.split("\n")).strip("\n") + "\n"


def format_source(src: SourceFile) -> str:
    """Parse ``src`` and print it canonically. Raises ``ArchError`` if it does not parse."""
    return format_module(parse(src), src.text)


__all__ = ["WIDTH", "format_module", "format_source"]
