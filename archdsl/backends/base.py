"""What every backend shares: the compiled input, template loading, local-name allocation, the
block dependency order, and channel arithmetic over spec expressions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2

from archdsl.backends import exprs
from archdsl.errors import error
from archdsl.ir.evaluate import BlockRef
from archdsl.ir.instantiate import Model
from archdsl.ir.program import Program
from archdsl.layers.registry import LayerType
from archdsl.resources import data_dir
from archdsl.syntax import ast


@dataclass
class Compiled:
    """Everything a backend receives: the program, the selected model and its inferred facts."""

    program: Program
    model: Model
    entry: str  # the factory to emit: a variant name or the arch name in lower case
    overrides: dict[str, ast.Expr]  # parameter -> value expression, for the factory
    spec_name: str
    title: str
    variants: dict[str, dict[str, ast.Expr]] = field(default_factory=dict)
    defaults: dict[str, ast.Expr] = field(default_factory=dict)  # --set: new defaults of the arch

    def default_of(self, decl: ast.BlockDecl, param: ast.Param) -> ast.Expr | None:
        if decl.is_arch and decl.name == self.model.arch and param.name in self.defaults:
            return self.defaults[param.name]
        return param.default


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=_finalize,
    )


def _finalize(value: Any) -> Any:
    # Guarantee G1 at the sink: only strings the emitters built, ints, bools and finite floats
    # reach the generated text.
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return value
    raise ValueError(f"refusing to render {type(value).__name__} into generated code")


def layer_macro(backend: str, layer: LayerType, suffix: str = "") -> Any:
    module = environment().get_template(f"{backend}/layers.j2").module
    macro = getattr(module, layer.name + suffix, None)
    if macro is None:
        raise error("E0902", f"internal error: no {backend} template for `{layer.name}{suffix}`")
    return macro


class Namer:
    """Allocates local variable names that clash with nothing else in one function."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def new(self, base: str) -> str:
        name = base
        n = 1
        while name in self.taken:
            name = f"{base}_{n}"
            n += 1
        self.taken.add(name)
        return name


def block_order(program: Program, root: str, extra: list[Any]) -> list[str]:
    """Blocks the root arch needs, callees before callers, in declaration order otherwise."""
    needed: list[str] = []
    seen: set[str] = set()

    def refs(decl: ast.BlockDecl) -> list[str]:
        out: list[str] = []
        for p in decl.params:
            if p.default is not None:
                out.extend(_block_names(p.default, program))
        out.extend(_body_refs(decl.body, program))
        return out

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in refs(program.blocks[name]):
            visit(dep)
        needed.append(name)

    for value in extra:
        if isinstance(value, BlockRef):
            visit(value.name)
    visit(root)
    return needed


def _body_refs(body: tuple[ast.Stmt, ...], program: Program) -> list[str]:
    out: list[str] = []
    for stmt in body:
        if isinstance(stmt, ast.Member):
            if isinstance(stmt.module, ast.Sequential):
                out.extend(_body_refs(stmt.module.body, program))
            else:
                if stmt.module.func in program.blocks:
                    out.append(stmt.module.func)
                for a in (*stmt.module.args, *(k.value for k in stmt.module.kwargs)):
                    out.extend(_block_names(a, program))
        elif isinstance(stmt, ast.For | ast.Repeat):
            out.extend(_body_refs(stmt.body, program))
    return out


def _block_names(e: ast.Expr, program: Program) -> list[str]:
    from archdsl.backends.exprs import names_in

    return [n for n in sorted(names_in(e)) if n in program.blocks and not program.blocks[n].is_arch]


def is_sequence_block(decl: ast.BlockDecl) -> bool:
    return _first_anon(decl.body)


def _first_anon(body: tuple[ast.Stmt, ...]) -> bool:
    for s in body:
        if isinstance(s, ast.Member) and s.target is None:
            return True
        if isinstance(s, ast.For | ast.Repeat) and _first_anon(s.body):
            return True
    return False


def units(decl: ast.BlockDecl) -> tuple[dict[str, ast.Member], dict[str, ast.For | ast.Repeat]]:
    """Top-level named members, and each group name -> the loop that declares it."""
    members: dict[str, ast.Member] = {}
    groups: dict[str, ast.For | ast.Repeat] = {}
    for stmt in decl.body:
        if isinstance(stmt, ast.Member) and stmt.target is not None:
            members[stmt.target.name] = stmt
        elif isinstance(stmt, ast.For | ast.Repeat):
            for name in _group_names(stmt.body):
                groups[name] = stmt
    return members, groups


def _group_names(body: tuple[ast.Stmt, ...]) -> list[str]:
    out: list[str] = []
    for s in body:
        if isinstance(s, ast.Member) and s.target is not None:
            out.append(s.target.name)
        elif isinstance(s, ast.For | ast.Repeat):
            out.extend(_group_names(s.body))
    return out


def forward_of(decl: ast.BlockDecl) -> ast.Expr:
    """The explicit forward flow, or the members (and loops) in definition order."""
    for stmt in decl.body:
        if isinstance(stmt, ast.Forward):
            return stmt.flow
    stages: list[ast.Expr] = []
    for stmt in decl.body:
        if isinstance(stmt, ast.Member) and stmt.target is not None:
            stages.append(ast.Name(stmt.target.name, span=stmt.span))
        elif isinstance(stmt, ast.For | ast.Repeat):
            names = _group_names(stmt.body)
            if names:
                stages.append(ast.Name(names[0], span=stmt.span))
    return ast.Pipe(tuple(stages))


def loop_names(decl_body: tuple[ast.Stmt, ...]) -> set[str]:
    """Names a block binds: lets, loop targets and comprehension targets."""
    out: set[str] = set()
    for s in decl_body:
        for e in stmt_exprs(s):
            out |= _comprehension_targets(e)
        if isinstance(s, ast.Let):
            out.add(s.name)
        elif isinstance(s, ast.For):
            out |= set(s.targets) | loop_names(s.body)
        elif isinstance(s, ast.Repeat):
            out |= loop_names(s.body)
        elif isinstance(s, ast.Member) and isinstance(s.module, ast.Sequential):
            out |= loop_names(s.module.body)
    return out


def spatial_at(model: Model, span: Any, what: str) -> tuple[int, ...]:
    """The one spatial size a flatten sees at ``span`` in every instance; an error if it varies."""
    shapes = model.op_shapes.get(span, set())
    spatial = {s[1:] for s in shapes}
    if len(spatial) != 1:
        raise error(
            "E0411",
            f"`{what}` sees different spatial sizes in different instances",
            span,
            "the generated code needs one size here",
            help="flatten in the arch, after pooling to a fixed size",
        )
    return next(iter(spatial))


@dataclass
class Ctx:
    """Substitutions for loop names (index, first, last, loop targets) at one nesting level."""

    subst: dict[str, ast.Expr] = field(default_factory=dict)
    depth: int = 0

    def render(self, e: ast.Expr) -> str:
        return exprs.to_python(exprs.substitute(e, self.subst))


def indent(lines: list[str], n: int = 1) -> list[str]:
    pad = "    " * n
    return [pad + line if line else line for line in lines]


def loop_header(
    stmt: ast.For | ast.Repeat, ctx: Ctx, namer: Namer, note: Callable[[ast.Expr], None]
) -> tuple[Ctx, str]:
    """The Python `for` line of a spec loop, and the context its body renders in."""
    loop_vars = {"index", "first", "last"}
    counted = bool(own_names(stmt.body) & loop_vars)
    index = namer.new("ijklmn"[ctx.depth] if ctx.depth < 6 else "i") if counted else "_"
    subst = dict(ctx.subst)
    idx = ast.Name(index)
    subst["index"] = idx
    subst["first"] = ast.BinOp("==", idx, ast.Num(0))
    if isinstance(stmt, ast.Repeat):
        note(stmt.count)
        count = exprs.substitute(stmt.count, ctx.subst)
        subst["last"] = ast.BinOp("==", idx, ast.BinOp("-", count, ast.Num(1)))
        return Ctx(subst, ctx.depth + 1), f"for {index} in range({exprs.to_python(count)}):"
    note(stmt.iterable)
    iterable = exprs.substitute(stmt.iterable, ctx.subst)
    if uses(stmt.body, "last"):
        subst["last"] = ast.BinOp(
            "==", idx, ast.BinOp("-", ast.Call("len", (iterable,), ()), ast.Num(1))
        )
    for t in stmt.targets:
        subst.pop(t, None)
    targets = stmt.targets[0] if len(stmt.targets) == 1 else ", ".join(stmt.targets)
    if counted:
        targets = targets if len(stmt.targets) == 1 else f"({targets})"
        header = f"for {index}, {targets} in enumerate({exprs.to_python(iterable)}):"
    else:
        header = f"for {targets} in {exprs.to_python(iterable)}:"
    return Ctx(subst, ctx.depth + 1), header


def uses(body: tuple[ast.Stmt, ...], name: str) -> bool:
    for s in body:
        for e in stmt_exprs(s):
            if name in exprs.names_in(e):
                return True
        if isinstance(s, ast.For | ast.Repeat) and uses(s.body, name):
            return True
        if (
            isinstance(s, ast.Member)
            and isinstance(s.module, ast.Sequential)
            and uses(s.module.body, name)
        ):
            return True
    return False


def stmt_exprs(s: ast.Stmt) -> list[ast.Expr]:
    if isinstance(s, ast.Let):
        return [s.value]
    if isinstance(s, ast.Require):
        return [s.cond]
    if isinstance(s, ast.Member):
        out: list[ast.Expr] = [s.guard] if s.guard is not None else []
        if s.target is not None and s.target.suffix is not None:
            out.append(s.target.suffix)
        if isinstance(s.module, ast.Call):
            out.extend(s.module.args)
            out.extend(k.value for k in s.module.kwargs)
        return out
    if isinstance(s, ast.Repeat):
        return [s.count]
    if isinstance(s, ast.For):
        return [s.iterable]
    return []


def own_names(body: tuple[ast.Stmt, ...]) -> set[str]:
    """Names a loop body reads at its own level: nested loops rebind index, first and last."""
    out: set[str] = set()
    for s in body:
        for e in stmt_exprs(s):
            out |= exprs.names_in(e)
        if isinstance(s, ast.Member) and isinstance(s.module, ast.Sequential):
            out |= own_names(s.module.body)
        elif isinstance(s, ast.For | ast.Repeat):
            out |= own_names(s.body) - {"index", "first", "last"}
    return out


def call_arguments(layer: LayerType, call: ast.Call) -> dict[str, ast.Expr]:
    """A layer call's arguments by field name (positional ones bind in schema order)."""
    out: dict[str, ast.Expr] = dict(zip(layer.schema.model_fields, call.args, strict=False))
    out.update({k.name: k.value for k in call.kwargs})
    return out


class FunctionUse:
    """Tracks what spec functions need in a generated module: `import math`, `make_divisible`."""

    imports: dict[str, bool]
    helpers: dict[str, bool]

    def note_functions(self, e: ast.Expr) -> None:
        for fn in exprs.functions_in(e):
            if fn in ("ceil", "floor"):
                self.imports["math"] = True
            if fn == "make_divisible":
                self.helpers["make_divisible"] = True


def requirement(stmt: ast.Require, render: Callable[[ast.Expr], str]) -> list[str]:
    """``require cond, "message"`` as generated Python: the same check at construction time."""
    return [
        f"if {render(ast.UnaryOp('not', stmt.cond))}:",
        f"    raise ValueError({stmt.message!r})",
    ]


def _comprehension_targets(e: ast.Expr) -> set[str]:
    out = set(e.targets) if isinstance(e, ast.ListComp) else set()
    for child in exprs.children(e):
        out |= _comprehension_targets(child)
    return out
