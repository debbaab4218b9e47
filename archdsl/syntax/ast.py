"""The syntax tree: frozen nodes, each with the span it came from.

Expressions double as the compiler's symbolic values: channel counts inside generated code are
expression trees built from these nodes and rendered to Python by ``backends.exprs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from archdsl.errors import Span

NO_SPAN = Span("<generated>", 0, 0)


@dataclass(frozen=True, slots=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, kw_only=True)

    def children(self) -> Iterator[Node]:
        """The nodes this node holds, in field order."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                yield from (v for v in value if isinstance(v, Node))

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))

    def expressions(self) -> Iterator[Expr]:
        """The expressions a statement reads itself (not those of statements nested in it)."""
        for child in self.children():
            if isinstance(child, Keyword):
                yield child.value
            elif isinstance(child, Target):
                if child.suffix is not None:
                    yield child.suffix
            elif isinstance(child, Call) and isinstance(self, Member | Init):
                yield from child.args
                yield from (k.value for k in child.kwargs)
            elif not isinstance(child, _STATEMENTS + (Sequential,)):
                yield child  # type: ignore[misc]

    def walk_statements(self) -> Iterator[Node]:
        """Statements nested in loops below this one (not inside `sequential`)."""
        for child in self.children():
            if isinstance(child, _STATEMENTS):
                yield child
                if isinstance(child, For | Repeat):
                    yield from child.walk_statements()


def first_anonymous(body: tuple[Stmt, ...]) -> Member | None:
    """The first anonymous member of a body, looking into its loops: a body with one is a
    sequence (its members are numbered like nn.Sequential's)."""
    for stmt in body:
        if isinstance(stmt, Member) and stmt.target is None:
            return stmt
        if isinstance(stmt, For | Repeat):
            found = first_anonymous(stmt.body)
            if found is not None:
                return found
    return None


def free_names(e: Node) -> set[str]:
    """Names an expression reads; comprehension targets are bound inside it."""
    if isinstance(e, Name):
        return {e.id}
    if isinstance(e, ListComp):
        inner = free_names(e.value) | (free_names(e.cond) if e.cond is not None else set())
        return free_names(e.iterable) | (inner - set(e.targets))
    out: set[str] = set()
    for child in e.children():
        out |= free_names(child)
    return out


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Num(Node):
    value: int | float


@dataclass(frozen=True, slots=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class Str(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    id: str


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ListComp(Node):
    """``[value for a, b in iterable if cond]``: ``cond`` (None: every row) keeps a row."""

    value: Expr
    targets: tuple[str, ...]
    iterable: Expr
    cond: Expr | None = None


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    op: str  # + - * / // % ** == != < <= > >= and or
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Node):
    op: str  # - + not
    operand: Expr


@dataclass(frozen=True, slots=True)
class IfExp(Node):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Index(Node):
    value: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Keyword(Node):
    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    func_span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Format(Node):
    """Text with values in it: ``texts[0] + str(values[0]) + texts[1] + ...`` (one more text
    than values). The parser makes one of the `{...}` holes of a quoted member name."""

    texts: tuple[str, ...]
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Pipe(Node):
    """``a -> b -> c``: the forward flow."""

    stages: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Raw(Node):
    """A Python expression produced by a backend (a runtime variable); never parsed from text."""

    source: str


Expr = (
    Num
    | Bool
    | Str
    | Name
    | ListExpr
    | ListComp
    | BinOp
    | UnaryOp
    | IfExp
    | Index
    | Call
    | Format
    | Pipe
    | Raw
)


# ---- statements ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target(Node):
    """A member's name: ``conv1``; ``layer{index + 1}`` (``suffix`` numbers it); or a quoted
    name, ``"block{stage}-{index}"``, which need not be an identifier (torch's state_dict keys
    may hold `-`): ``name`` is its text up to the first hole and ``suffix`` a ``Format`` of the
    rest. A numbered or quoted member belongs to the group ``name`` in the forward flow."""

    name: str
    suffix: Expr | None = None  # layer{index + 1}

    @property
    def quoted(self) -> bool:
        return isinstance(self.suffix, Format)


@dataclass(frozen=True, slots=True)
class Sequential(Node):
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Member(Node):
    target: Target | None  # None: an anonymous item, numbered like nn.Sequential
    module: Call | Sequential
    guard: Expr | None = None


@dataclass(frozen=True, slots=True)
class Let(Node):
    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Require(Node):
    """``require condition, "message"``: the block refuses arguments that break it."""

    cond: Expr
    message: str


@dataclass(frozen=True, slots=True)
class Input(Node):
    shape: Expr


@dataclass(frozen=True, slots=True)
class Forward(Node):
    flow: Expr


@dataclass(frozen=True, slots=True)
class Init(Node):
    """``init conv2d.weight = kaiming_normal(mode="fan_out") when cond``: an arch's weight
    initialisation rule. ``path`` is the selector (a layer kind, a block and its member, or a
    member of the arch; digits index a sequence's items), ending in the tensor's name."""

    path: tuple[str, ...]
    value: Call
    guard: Expr | None = None


@dataclass(frozen=True, slots=True)
class For(Node):
    targets: tuple[str, ...]
    iterable: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Repeat(Node):
    count: Expr
    body: tuple[Stmt, ...]


Stmt = Member | Let | Require | Input | Forward | Init | For | Repeat
_STATEMENTS = (Member, Let, Require, Input, Forward, Init, For, Repeat)


# ---- declarations ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str
    type: str
    default: Expr | None = None


@dataclass(frozen=True, slots=True)
class BlockDecl(Node):
    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    is_arch: bool = False


@dataclass(frozen=True, slots=True)
class VariantDecl(Node):
    name: str
    base: str
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    base_span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class ImportDecl(Node):
    path: str


@dataclass(frozen=True, slots=True)
class Comment(Node):
    text: str


@dataclass(frozen=True, slots=True)
class Module(Node):
    """One parsed file: its declarations in order, and its comments for the formatter."""

    file: str
    decls: tuple[ImportDecl | BlockDecl | VariantDecl, ...]
    comments: tuple[Comment, ...] = ()
