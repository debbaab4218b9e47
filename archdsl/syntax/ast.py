"""The syntax tree: frozen nodes, each with the span it came from.

Expressions double as the compiler's symbolic values: channel counts inside generated code are
expression trees built from these nodes and rendered to Python by ``backends.exprs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from archdsl.errors import Span

NO_SPAN = Span("<generated>", 0, 0)
_N = TypeVar("_N", bound=type)


class FrozenNodeError(AttributeError):
    """A syntax node was assigned to: nodes are immutable."""


def node(cls: _N) -> _N:
    """``cls`` as a frozen syntax node with slots: its annotated fields (after its bases') in
    order, positional; ``span`` keyword-only and every field ending in ``_span`` left out of
    equality and hashing, as positions are. What ``@dataclass(frozen=True, slots=True)`` makes,
    in one ``exec`` per class: the dataclass machinery was a fifth of the compiler's import."""
    own = [n for n in cls.__dict__.get("__annotations__", {}) if n != "span"]
    fields = (*getattr(cls, "_fields", ()), *own)
    defaults = {n: cls.__dict__[n] for n in own if n in cls.__dict__}
    compared = [n for n in fields if not n.endswith("_span")]
    params = [f"{n}=_d_{n}" if n in defaults else n for n in fields]
    body = [f"    _set(self, {n!r}, {n})" for n in fields] + ["    _set(self, 'span', span)"]
    key = "".join(f"self.{n}, " for n in compared)
    other = "".join(f"other.{n}, " for n in compared)
    shown = ", ".join(f"{n}={{self.{n}!r}}" for n in (*fields, "span"))
    source = "\n".join(
        [
            f"def __init__(self, {', '.join([*params, '*', 'span=_no_span'])}):",
            *body,
            "def __eq__(self, other):",
            f"    if other.__class__ is self.__class__: return ({key}) == ({other})",
            "    return NotImplemented",
            f"def __hash__(self): return hash(({key}))",
            f"def __repr__(self): return f'{cls.__name__}({shown})'",
        ]
    )
    scope: dict[str, Any] = {"_set": object.__setattr__, "_no_span": NO_SPAN}
    scope.update((f"_d_{n}", v) for n, v in defaults.items())
    exec(source, scope)  # noqa: S102 - the text above, from the class's field names
    namespace = {
        k: v for k, v in cls.__dict__.items() if k not in (*own, "__dict__", "__weakref__")
    }
    namespace.update(
        __slots__=tuple(own),
        _fields=fields,
        __match_args__=fields,
        **{k: scope[k] for k in ("__init__", "__eq__", "__hash__", "__repr__")},
    )
    return type(cls)(cls.__name__, cls.__bases__, namespace)  # type: ignore[return-value]


class Node:
    __slots__ = ("span",)
    _fields: tuple[str, ...] = ()
    span: Span

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenNodeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenNodeError(f"cannot delete field {name!r}")

    def children(self) -> Iterator[Node]:
        """The nodes this node holds, in field order."""
        for name in self._fields:
            value = getattr(self, name)
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


@node
class Num(Node):
    value: int | float


@node
class Bool(Node):
    value: bool


@node
class Str(Node):
    value: str


@node
class Name(Node):
    id: str


@node
class ListExpr(Node):
    items: tuple[Expr, ...]


@node
class ListComp(Node):
    """``[value for a, b in iterable if cond]``: ``cond`` (None: every row) keeps a row."""

    value: Expr
    targets: tuple[str, ...]
    iterable: Expr
    cond: Expr | None = None


@node
class BinOp(Node):
    op: str  # + - * / // % ** == != < <= > >= and or
    left: Expr
    right: Expr


@node
class UnaryOp(Node):
    op: str  # - + not
    operand: Expr


@node
class IfExp(Node):
    cond: Expr
    then: Expr
    orelse: Expr


@node
class Index(Node):
    value: Expr
    index: Expr


@node
class Slice(Node):
    """`xs[start:end:step]`, each bound optional, as Python slices a list."""

    value: Expr
    start: Expr | None
    end: Expr | None
    step: Expr | None


@node
class Keyword(Node):
    name: str
    value: Expr


@node
class Call(Node):
    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    func_span: Span = NO_SPAN


@node
class Format(Node):
    """Text with values in it: ``texts[0] + str(values[0]) + texts[1] + ...`` (one more text
    than values). The parser makes one of the `{...}` holes of a quoted member name."""

    texts: tuple[str, ...]
    values: tuple[Expr, ...]


@node
class Pipe(Node):
    """``a -> b -> c``: the forward flow."""

    stages: tuple[Expr, ...]


@node
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
    | Slice
    | Call
    | Format
    | Pipe
    | Raw
)


# ---- statements ----------------------------------------------------------------


@node
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


@node
class Sequential(Node):
    body: tuple[Stmt, ...]


@node
class Member(Node):
    target: Target | None  # None: an anonymous item, numbered like nn.Sequential
    module: Call | Sequential
    guard: Expr | None = None


@node
class Let(Node):
    name: str
    value: Expr


@node
class Require(Node):
    """``require condition, "message"``: the block refuses arguments that break it."""

    cond: Expr
    message: str


@node
class Input(Node):
    shape: Expr


@node
class Forward(Node):
    flow: Expr


@node
class Init(Node):
    """``init conv2d.weight = kaiming_normal(mode="fan_out") when cond``: an arch's weight
    initialisation rule. ``path`` is the selector (a layer kind, a block and its member, or a
    member of the arch; digits index a sequence's items), ending in the tensor's name."""

    path: tuple[str, ...]
    value: Call
    guard: Expr | None = None


@node
class For(Node):
    targets: tuple[str, ...]
    iterable: Expr
    body: tuple[Stmt, ...]


@node
class Repeat(Node):
    count: Expr
    body: tuple[Stmt, ...]


Stmt = Member | Let | Require | Input | Forward | Init | For | Repeat
_STATEMENTS = (Member, Let, Require, Input, Forward, Init, For, Repeat)


# ---- declarations ----------------------------------------------------------------


@node
class Param(Node):
    name: str
    type: str
    default: Expr | None = None


@node
class BlockDecl(Node):
    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    is_arch: bool = False


@node
class VariantDecl(Node):
    name: str
    base: str
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    base_span: Span = NO_SPAN


@node
class ImportDecl(Node):
    path: str


@node
class Comment(Node):
    text: str


@node
class Module(Node):
    """One parsed file: its declarations in order, and its comments for the formatter."""

    file: str
    decls: tuple[ImportDecl | BlockDecl | VariantDecl, ...]
    comments: tuple[Comment, ...] = ()
