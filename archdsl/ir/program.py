"""Load a spec and its imports, and resolve it into a ``Program``: every name checked once.

The program keeps the syntax nodes (with their spans) as its statements and expressions; what it
adds is resolution: which declarations exist, where each came from, and that every call names a
layer, a block, a block-typed parameter or a built-in function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from archdsl import functions
from archdsl.errors import ArchError, Diagnostic, Span, error
from archdsl.ir.combinators import COMBINATORS
from archdsl.layers.registry import all_layers
from archdsl.names import bad_identifier, did_you_mean
from archdsl.source import (
    MAX_SOURCE_BYTES,
    MAX_TOTAL_SOURCE_BYTES,
    SourceFile,
    UnreadableFile,
    read_bounded,
)
from archdsl.syntax import ast
from archdsl.syntax.parser import parse

PARAM_TYPES = {"int", "float", "bool", "str", "list", "size", "block"}
FUNCTIONS = frozenset(functions.FUNCTIONS)  # the built-in functions' registry (functions.py)
SCOPE_NAMES = {"in_channels", "index", "first", "last"}
MAX_IMPORT_DEPTH = 32
# `import "archdsl:resnet.arch"`: a file of the spec library archdsl ships (specs/ in a
# checkout, archdsl/specs in a wheel)
LIBRARY_PREFIX = "archdsl:"


def _shown(target: Path, allowed: Path, library: Path, root: Path) -> str:
    if allowed == library:
        return LIBRARY_PREFIX + os.path.relpath(target, library).replace(os.sep, "/")
    return os.path.relpath(target, root)


def _library_dir() -> Path:
    from archdsl.resources import data_dir

    return data_dir("specs").resolve()


@dataclass(frozen=True)
class Variant:
    decl: ast.VariantDecl
    file: str


@dataclass
class Program:
    """Every declaration reachable from the root file, resolved."""

    root: str
    sources: dict[str, SourceFile] = field(default_factory=dict)
    blocks: dict[str, ast.BlockDecl] = field(default_factory=dict)  # blocks and archs
    variants: dict[str, Variant] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # declaration name -> file
    order: list[str] = field(default_factory=list)  # declaration order, imports first
    paths: list[Path] = field(default_factory=list)  # the real paths of the files read

    def archs(self) -> list[str]:
        return [n for n in self.order if n in self.blocks and self.blocks[n].is_arch]

    def models(self, file: str | None = None) -> list[str]:
        """Archs and variants, optionally only those declared in ``file``."""
        return [
            n
            for n in self.order
            if (n in self.variants or self.blocks.get(n, _NOT_ARCH).is_arch)
            and (file is None or self.origin[n] == file)
        ]


_NOT_ARCH = ast.BlockDecl("", (), (), False)


def load_program(path: str | os.PathLike[str], display_name: str | None = None) -> Program:
    """Read ``path`` and everything it imports; raise ``ArchError`` on any problem."""
    p = Path(path)
    name = display_name or str(path)
    try:
        data = read_bounded(p)
    except UnreadableFile as exc:
        if exc.size is not None:
            raise _too_large(name, exc.size, Span(name, 0, 0)) from None
        raise error("E0004", f"cannot read `{name}`: {exc.reason}") from None
    src = SourceFile.from_bytes(name, data)
    try:
        root = p.resolve()
    except (OSError, RuntimeError) as exc:  # 3.11 raises RuntimeError on a symlink loop
        raise error("E0004", f"cannot read `{name}`: {exc}") from None
    return _build(src, root)


def _too_large(name: str, size: int, span: Span) -> ArchError:
    return error(
        "E0003",
        f"file is too large ({size:,} bytes, the limit is {MAX_SOURCE_BYTES:,})",
        span,
        "this file" if span.end == 0 else "this import",
        help="a spec is a few kilobytes; split generated tables into variants or blocks",
    )


def program_from_text(text: str, name: str = "<spec>", root_dir: Path | None = None) -> Program:
    return _build(SourceFile.from_text(name, text), (root_dir or Path.cwd()).resolve() / "<spec>")


def _build(src: SourceFile, root_path: Path) -> Program:
    """``root_path`` is the root file's real path; imports resolve inside its directory."""
    prog = Program(root=src.name)
    try:
        loader = _Loader(prog, root_path.parent)
        loader.loaded[root_path] = src.name
        loader.total = len(src.text.encode("utf-8"))
        prog.paths.append(root_path)
        loader.load(src, root_path, chain=((root_path, None),))
        _Resolver(prog).run()
    except ArchError as err:
        err.sources = {**prog.sources, **err.sources}
        raise
    return prog


class _Loader:
    def __init__(self, prog: Program, root_dir: Path) -> None:
        self.prog = prog
        self.root_dir = root_dir.resolve()
        self.loaded: dict[Path, str] = {}
        self.total = 0  # bytes read, all files together

    def load(
        self, src: SourceFile, path: Path, chain: tuple[tuple[Path, Span | None], ...]
    ) -> None:
        """Load ``src`` (at real ``path``); ``chain`` is the import path that led here."""
        self.prog.sources[src.name] = src
        module = parse(src)
        here = path
        for decl in module.decls:
            if isinstance(decl, ast.ImportDecl):
                self._import(decl, here, chain)
        for decl in module.decls:
            if isinstance(decl, ast.ImportDecl):
                continue
            self._declare(decl, src.name)

    def _declare(self, decl: ast.BlockDecl | ast.VariantDecl, file: str) -> None:
        prog = self.prog
        if decl.name in prog.origin:
            first = prog.blocks.get(decl.name) or prog.variants[decl.name].decl
            raise error(
                "E0201",
                f"`{decl.name}` is declared twice",
                decl.span,
                "declared again here",
                secondary=((first.span, "first declared here"),),
                help="rename one of the declarations",
            )
        why = bad_identifier(decl.name)
        if why:
            raise error("E0202", f"`{decl.name}` cannot be used as a name", decl.span, why)
        prog.origin[decl.name] = file
        prog.order.append(decl.name)
        if isinstance(decl, ast.VariantDecl):
            prog.variants[decl.name] = Variant(decl, file)
        else:
            prog.blocks[decl.name] = decl

    def _import(
        self, decl: ast.ImportDecl, here: Path, chain: tuple[tuple[Path, Span | None], ...]
    ) -> None:
        rel = decl.path
        base = here.parent
        # the tree this import may reach: the user's project, or archdsl's own spec library
        # (`import "archdsl:resnet.arch"`, and the imports of the library's files)
        library = _library_dir()
        allowed = self.root_dir
        if rel.startswith(LIBRARY_PREFIX):
            rel, base, allowed = rel[len(LIBRARY_PREFIX) :], library, library
        elif here.is_relative_to(library) and not here.is_relative_to(self.root_dir):
            allowed = library
        bad = next((c for c in rel if ord(c) < 32 or ord(c) == 127), None)
        if bad is not None:
            raise error(
                "E0304",
                "cannot import: the path contains a control character",
                decl.span,
                f"U+{ord(bad):04X} in this path",
                help="import paths are plain relative file names",
            )
        if os.path.isabs(rel) or rel.startswith(("/", "\\")):
            raise error("E0301", "imports must be relative paths", decl.span, "absolute path")
        try:
            target = (base / rel).resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a symlink loop (3.11)
            reason = "a symbolic link loop" if "loop" in str(exc).lower() else str(exc)
            raise error(
                "E0304",
                f"cannot import `{decl.path}`: {reason}",
                decl.span,
                "this path cannot be resolved",
                help="point the import at a regular spec file",
            ) from None
        if not target.is_relative_to(allowed):
            where = "archdsl's spec library" if allowed == library else "the project directory"
            raise error(
                "E0301",
                f"import `{decl.path}` leaves {where}",
                decl.span,
                "resolves outside the directory of the root spec"
                if allowed != library
                else "resolves outside the library",
                help="keep shared block files next to the spec or below it, or import archdsl's "
                'own blocks as "archdsl:resnet.arch"',
            )
        if any(p == target for p, _ in chain):
            raise error(
                "E0302",
                f"import cycle through `{rel}`",
                decl.span,
                "this import leads back to a file that is being imported",
                secondary=tuple((s, "imported here") for _, s in chain if s is not None),
            )
        if target in self.loaded:
            return
        if len(chain) >= MAX_IMPORT_DEPTH:
            raise error("E0303", "imports are nested too deeply", decl.span)
        try:
            data = read_bounded(target)
        except UnreadableFile as exc:
            if exc.size is not None:
                raise _too_large(rel, exc.size, decl.span) from None
            missing = not os.path.lexists(target)
            raise error(
                "E0304",
                f"cannot import `{decl.path}`: {'no such file' if missing else exc.reason}",
                decl.span,
                f"looked for {_shown(target, allowed, library, self.root_dir)}"
                if missing
                else "this file cannot be read",
                help=None if missing else "point the import at a regular, readable spec file",
            ) from None
        self.total += len(data)
        if self.total > MAX_TOTAL_SOURCE_BYTES:
            raise error(
                "E0305",
                f"the spec and its imports are over {MAX_TOTAL_SOURCE_BYTES:,} bytes in all",
                decl.span,
                "this import goes past the limit",
                help="a model's specs are a few kilobytes; import only the files it uses",
            )
        if allowed == library:
            display = LIBRARY_PREFIX + target.relative_to(library).as_posix()
        else:
            inside = os.path.relpath(target, self.root_dir)
            display = os.path.normpath(os.path.join(os.path.dirname(self.prog.root), inside))
        self.loaded[target] = display
        self.prog.paths.append(target)
        src = SourceFile.from_bytes(display, data)
        self.load(src, target, chain + ((target, decl.span),))


class _Resolver:
    """Checks names inside every declaration."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.layers = all_layers()
        self.errors: list[Diagnostic] = []
        self.block_params: set[str] = set()  # the block-typed parameters of the current block

    def fail(self, exc: ArchError) -> None:
        self.errors.extend(exc.diagnostics)

    def run(self) -> None:
        for name in self.prog.order:
            if name in self.prog.blocks:
                self.block(self.prog.blocks[name])
            else:
                self.variant(self.prog.variants[name].decl)
        if not self.errors:
            self.check_recursion()
        if self.errors:
            raise ArchError(self.errors)

    def variant(self, decl: ast.VariantDecl) -> None:
        base = self.prog.blocks.get(decl.base)
        if base is None or not base.is_arch:
            hint = did_you_mean(decl.base, self.prog.archs())
            self.fail(
                error(
                    "E0203",
                    f"unknown arch `{decl.base}`",
                    decl.base_span,
                    "a variant overrides the parameters of an `arch`",
                    help=hint,
                )
            )
            return
        params = {p.name for p in base.params}
        if decl.args:
            self.fail(
                error(
                    "E0207",
                    "variant arguments must be named",
                    decl.args[0].span,
                    "write `name=value`",
                )
            )
        for kw in decl.kwargs:
            if kw.name not in params:
                self.fail(
                    error(
                        "E0204",
                        f"`{decl.base}` has no parameter `{kw.name}`",
                        kw.span,
                        "unknown parameter",
                        help=did_you_mean(kw.name, params),
                    )
                )

    def block(self, decl: ast.BlockDecl) -> None:
        seen: dict[str, ast.Param] = {}
        self.block_params = {p.name for p in decl.params if p.type == "block"}
        first_default = next((p for p in decl.params if p.default is not None), None)
        for p in decl.params:
            if first_default is not None and p.default is None and not decl.is_arch:
                after = decl.params.index(first_default) < decl.params.index(p)
                if after:
                    self.fail(
                        error(
                            "E0226",
                            f"parameter `{p.name}` has no default but follows one that has",
                            p.span,
                            "needs a default value",
                            secondary=((first_default.span, "this parameter has a default"),),
                            help=f"give `{p.name}` a default, or move it before "
                            f"`{first_default.name}`",
                        )
                    )
            why = bad_identifier(p.name)
            if why:
                self.fail(error("E0202", f"`{p.name}` cannot be used as a name", p.span, why))
            if p.name in seen:
                self.fail(
                    error(
                        "E0201",
                        f"parameter `{p.name}` is declared twice",
                        p.span,
                        "declared again here",
                        secondary=((seen[p.name].span, "first declared here"),),
                    )
                )
            seen[p.name] = p
            self.check_shadowing(p.name, p.span)
            if p.type == "block" and (
                p.name in self.layers or p.name in COMBINATORS or p.name in functions.FUNCTIONS
            ):
                self.fail(
                    error(
                        "E0224",
                        f"block parameter `{p.name}` is named like the built-in `{p.name}`",
                        p.span,
                        "a call of this name would be ambiguous",
                        help="rename the parameter (`block`, `layer_type`, ...)",
                    )
                )
            if p.type not in PARAM_TYPES:
                self.fail(
                    error(
                        "E0205",
                        f"unknown parameter type `{p.type}`",
                        p.span,
                        f"types are {', '.join(sorted(PARAM_TYPES))}",
                        help=did_you_mean(p.type, PARAM_TYPES),
                    )
                )
            if decl.is_arch and p.default is None:
                self.fail(
                    error(
                        "E0206",
                        f"arch parameter `{p.name}` needs a default value",
                        p.span,
                        "add `= value`",
                    )
                )
        # an arch has no `in_channels` parameter: its input is the `input [C, H, W]` it declares
        scope = set(seen) | (SCOPE_NAMES - {"in_channels"} if decl.is_arch else SCOPE_NAMES)
        inputs = [s for s in decl.body if isinstance(s, ast.Input)]
        if decl.is_arch and len(inputs) != 1:
            self.fail(
                error(
                    "E0208",
                    f"arch `{decl.name}` must declare its input shape exactly once",
                    inputs[1].span if len(inputs) > 1 else decl.span,
                    "add `input [channels, height, width]`" if not inputs else "second input",
                )
            )
        if not decl.is_arch and inputs:
            self.fail(error("E0208", "only an `arch` declares an input", inputs[0].span))
        forwards = [s for s in decl.body if isinstance(s, ast.Forward)]
        if len(forwards) > 1:
            self.fail(
                error("E0209", "`forward` is declared twice", forwards[1].span, "second forward")
            )
        members: dict[str, ast.Member] = {}
        groups: set[str] = set()
        self.body(decl.body, scope, members, groups, top=True)
        named = bool(members) or bool(groups)
        anonymous = ast.first_anonymous(decl.body) is not None
        if named and anonymous:
            first_anon = ast.first_anonymous(decl.body)
            self.fail(
                error(
                    "E0210",
                    "a block mixes named and anonymous members",
                    first_anon.span if first_anon else decl.span,
                    "anonymous item",
                    help="name every member, or none (an all-anonymous block is a sequence)",
                )
            )
        if not named and not anonymous:
            self.fail(error("E0211", f"`{decl.name}` has no members", decl.span, "empty"))
        for fwd in forwards:
            if anonymous and not named:
                self.fail(
                    error(
                        "E0209",
                        "a sequence of anonymous members cannot declare `forward`",
                        fwd.span,
                        help="name the members to use them in `forward`",
                    )
                )
            self.flow(fwd.flow, scope | _let_names(decl.body), set(members), groups)
            self.check_aux(fwd.flow, decl)

    def body(
        self,
        body: tuple[ast.Stmt, ...],
        scope: set[str],
        members: dict[str, ast.Member],
        groups: set[str],
        top: bool,
        sequence: bool = False,
    ) -> None:
        scope = set(scope)
        for stmt in body:
            if isinstance(stmt, ast.Let):
                self.expr(stmt.value, scope)
                self.check_shadowing(stmt.name, stmt.span)
                why = bad_identifier(stmt.name)
                if why:
                    self.fail(
                        error("E0202", f"`{stmt.name}` cannot be used as a name", stmt.span, why)
                    )
                scope.add(stmt.name)
            elif isinstance(stmt, ast.Input):
                self.expr(stmt.shape, scope)
            elif isinstance(stmt, ast.Require):
                self.expr(stmt.cond, scope)
            elif isinstance(stmt, ast.Init):
                if not top:
                    self.fail(
                        error("E0229", "`init` rules belong at the top of an arch", stmt.span)
                    )
                for arg in (*stmt.value.args, *(k.value for k in stmt.value.kwargs)):
                    self.expr(arg, scope)
                if stmt.guard is not None:
                    self.expr(stmt.guard, scope)
            elif isinstance(stmt, ast.Forward):
                if not top:
                    self.fail(error("E0209", "`forward` belongs at the top of a block", stmt.span))
            elif isinstance(stmt, ast.For):
                self.expr(stmt.iterable, scope)
                for t in stmt.targets:
                    self.check_shadowing(t, stmt.span)
                    why = bad_identifier(t)
                    if why:
                        self.fail(error("E0202", f"`{t}` cannot be used as a name", stmt.span, why))
                inner_scope = scope | set(stmt.targets)
                self.body(stmt.body, inner_scope, members, groups, top=False, sequence=sequence)
            elif isinstance(stmt, ast.Repeat):
                self.expr(stmt.count, scope)
                self.body(stmt.body, scope, members, groups, top=False, sequence=sequence)
            elif isinstance(stmt, ast.Member):
                self.member(stmt, scope, members, groups, top, sequence)

    def member(
        self,
        stmt: ast.Member,
        scope: set[str],
        members: dict[str, ast.Member],
        groups: set[str],
        top: bool,
        sequence: bool = False,
    ) -> None:
        if stmt.target is not None:
            name = stmt.target.name
            # a quoted name's text was checked by the parser, its value is at instantiation
            why = None if stmt.target.quoted else bad_identifier(name)
            if why:
                self.fail(
                    error("E0202", f"`{name}` cannot be used as a name", stmt.target.span, why)
                )
            if stmt.target.suffix is not None:
                self.expr(stmt.target.suffix, scope)
                groups.add(name)
                if top:
                    kind = "a quoted" if stmt.target.quoted else "a numbered"
                    self.fail(
                        error(
                            "E0235",
                            f"{kind} member name outside a loop",
                            stmt.target.span,
                            "not inside `for` or `repeat`",
                            help="numbered and quoted names name the members a loop declares; "
                            "name a single member plainly",
                        )
                    )
            elif name in members:
                self.fail(
                    error(
                        "E0212",
                        f"member `{name}` is defined twice",
                        stmt.target.span,
                        "defined again here",
                        secondary=((members[name].span, "first defined here"),),
                        help="give the second member another name",
                    )
                )
            else:
                if not top and not sequence:  # in a sequential, E0210 says what is wrong
                    self.fail(
                        error(
                            "E0213",
                            f"member `{name}` inside a loop needs a numbered name",
                            stmt.target.span,
                            f"write `{name}{{index}}` to name one member per iteration",
                        )
                    )
                members[name] = stmt
        if stmt.guard is not None:
            self.expr(stmt.guard, scope)
        if isinstance(stmt.module, ast.Sequential):
            inner: dict[str, ast.Member] = {}
            inner_groups: set[str] = set()
            if any(isinstance(s, ast.Forward) for s in stmt.module.body):
                fwd = next(s for s in stmt.module.body if isinstance(s, ast.Forward))
                self.fail(error("E0209", "a `sequential` cannot declare `forward`", fwd.span))
            self.body(stmt.module.body, scope, inner, inner_groups, top=False, sequence=True)
            if inner or inner_groups:
                self.fail(
                    error(
                        "E0210",
                        "members of a `sequential` are anonymous",
                        next(iter(inner.values())).span if inner else stmt.module.span,
                        "named here",
                        help="drop the name, or declare a block with named members",
                    )
                )
        else:
            self.module_call(stmt.module, scope)

    def module_call(self, call: ast.Call, scope: set[str]) -> None:
        if (
            call.func not in self.layers
            and call.func not in self.prog.blocks
            and call.func not in scope
        ):
            candidates = set(self.layers) | {
                n for n, b in self.prog.blocks.items() if not b.is_arch
            }
            self.fail(
                error(
                    "E0214",
                    f"unknown layer or block `{call.func}`",
                    call.func_span,
                    "not a layer, a block or a block parameter",
                    help=did_you_mean(call.func, candidates),
                )
            )
        elif (
            call.func not in self.layers
            and call.func not in self.prog.blocks
            and call.func not in self.block_params
        ):
            self.fail(
                error(
                    "E0225",
                    f"`{call.func}` is a value, not a block",
                    call.func_span,
                    "called as a module here",
                    help="only layers, blocks and parameters declared `name: block` make members",
                )
            )
        elif call.func in self.prog.blocks and self.prog.blocks[call.func].is_arch:
            self.fail(
                error(
                    "E0215",
                    f"`{call.func}` is an arch, not a block",
                    call.func_span,
                    "archs cannot be used as members",
                    help="declare the reusable part as a `block`",
                )
            )
        for a in call.args:
            self.expr(a, scope)
        for kw in call.kwargs:
            self.expr(kw.value, scope)

    def flow(self, flow: ast.Expr, scope: set[str], members: set[str], groups: set[str]) -> None:
        if isinstance(flow, ast.Pipe):
            for stage in flow.stages:
                self.flow(stage, scope, members, groups)
        elif isinstance(flow, ast.Name):
            if flow.id not in members and flow.id not in groups:
                self.fail(
                    error(
                        "E0216",
                        f"unknown member `{flow.id}` in forward",
                        flow.span,
                        "not a member of this block",
                        help=did_you_mean(flow.id, members | groups),
                    )
                )
        elif isinstance(flow, ast.IfExp):
            self.expr(flow.cond, scope)
            self.flow(flow.then, scope, members, groups)
            self.flow(flow.orelse, scope, members, groups)
        elif isinstance(flow, ast.Call):
            combinator = COMBINATORS.get(flow.func)
            if combinator is not None:
                n = len(flow.args)
                most = combinator.max_branches
                if n < combinator.min_branches or (most is not None and n > most):
                    count = (
                        f"{most} branch" + ("es" if most != 1 else "")
                        if most == combinator.min_branches
                        else f"at least {combinator.min_branches} branch"
                        + ("es" if combinator.min_branches != 1 else "")
                    )
                    self.fail(
                        error(
                            "E0609",
                            f"`{flow.func}` takes {count}",
                            flow.span,
                            f"{n} given",
                            help=f"example: {combinator.example}",
                        )
                    )
                for a in flow.args:
                    self.flow(a, scope, members, groups)
                for kw in flow.kwargs:
                    if kw.name in combinator.flow_keywords:
                        self.flow(kw.value, scope, members, groups)
                    elif kw.name in combinator.value_keywords:
                        self.expr(kw.value, scope)
                    else:
                        known = combinator.flow_keywords | set(combinator.value_keywords)
                        self.fail(
                            error(
                                "E0217",
                                f"`{flow.func}` takes no argument `{kw.name}`",
                                kw.span,
                                "unknown keyword",
                                help=did_you_mean(kw.name, known)
                                or f"example: {combinator.example}",
                            )
                        )
            else:
                layer = self.layers.get(flow.func)
                if layer is None or not layer.functional:
                    fn = [n for n, t in self.layers.items() if t.functional] + sorted(COMBINATORS)
                    self.fail(
                        error(
                            "E0218",
                            f"`{flow.func}` cannot be called in forward",
                            flow.func_span,
                            "forward calls combinators and parameter-free layers"
                            if layer is not None
                            else "unknown operation",
                            help=did_you_mean(flow.func, fn)
                            or "declare it as a member and use its name here",
                        )
                    )
                for a in flow.args:
                    self.expr(a, scope)
                for kw in flow.kwargs:
                    self.expr(kw.value, scope)
        else:
            self.fail(
                error(
                    "E0219",
                    "forward expects members, combinators and `->`",
                    flow.span,
                    "not a flow",
                )
            )

    def check_shadowing(self, name: str, span: Span) -> None:
        if name in self.prog.blocks:
            self.fail(
                error(
                    "E0224",
                    f"`{name}` is already the name of a block",
                    span,
                    "a value with this name would hide the block",
                    secondary=((self.prog.blocks[name].span, "the block"),),
                    help="rename the value",
                )
            )

    def check_aux(self, flow: ast.Expr, decl: ast.BlockDecl) -> None:
        """`aux(member)` taps an extra training-mode output: only as a step of an arch's forward.
        `head(flow)`, the classifier head, is the last step of an arch's forward."""
        top = flow.stages if isinstance(flow, ast.Pipe) else (flow,)
        for call in _calls(flow, "aux"):
            if not decl.is_arch or not any(call is s for s in top):
                self.fail(
                    error(
                        "E0223",
                        "`aux` is only allowed as a step of an arch's forward",
                        call.func_span,
                        "auxiliary output here",
                        help="write `-> aux(member) ->` in the arch's forward",
                    )
                )
            elif len(call.args) != 1 or call.kwargs:
                self.fail(error("E0223", "`aux` takes one member", call.span, "write `aux(name)`"))
        for call in _calls(flow, "head"):
            if not decl.is_arch or call is not top[-1]:
                self.fail(
                    error(
                        "E0232",
                        "`head` is only allowed as the last step of an arch's forward",
                        call.func_span,
                        "classifier head here",
                        help="end the arch's forward with `-> head(pooling -> classifier)`",
                    )
                )
            elif len(call.args) != 1 or call.kwargs:
                self.fail(
                    error(
                        "E0232",
                        "`head` takes one flow",
                        call.span,
                        "write `head(avgpool -> flatten() -> fc)`",
                    )
                )
            elif _calls(call.args[0], "aux"):
                self.fail(
                    error(
                        "E0232",
                        "`aux` inside `head`",
                        _calls(call.args[0], "aux")[0].func_span,
                        "auxiliary output here",
                        help="tap auxiliary outputs before the head",
                    )
                )
        self.check_features(flow, decl, top)

    def check_features(
        self, flow: ast.Expr, decl: ast.BlockDecl, top: tuple[ast.Expr, ...]
    ) -> None:
        """`feature(step)` marks a feature stage: a step of an arch's forward, at its top level
        (before the head), that is one member, loop group or inline layer."""
        for call in _calls(flow, "feature"):
            if not decl.is_arch or not any(call is s for s in top):
                self.fail(
                    error(
                        "E0236",
                        "`feature` is only allowed as a step of an arch's forward",
                        call.func_span,
                        "feature stage here",
                        help="mark a step of the arch's forward before its head: "
                        "`-> feature(layer1) ->`",
                    )
                )
                continue
            arg = call.args[0] if len(call.args) == 1 else None
            if call.kwargs or not (
                isinstance(arg, ast.Name)
                or (isinstance(arg, ast.Call) and arg.func not in COMBINATORS)
            ):
                self.fail(
                    error(
                        "E0236",
                        "`feature` marks one member, loop group or inline layer",
                        call.span,
                        "not a single step",
                        help="write `feature(name)` for each step whose output is a stage",
                    )
                )

    def expr(self, e: ast.Expr, scope: set[str]) -> None:
        if isinstance(e, ast.Name):
            if e.id not in scope and e.id not in self.prog.blocks:
                self.fail(
                    error(
                        "E0220",
                        f"unknown name `{e.id}`",
                        e.span,
                        "not defined here",
                        help="an arch's input channels are the first number of its `input`; "
                        "`in_channels` is a block's"
                        if e.id == "in_channels"
                        else did_you_mean(e.id, scope),
                    )
                )
        elif isinstance(e, ast.BinOp):
            self.expr(e.left, scope)
            self.expr(e.right, scope)
        elif isinstance(e, ast.UnaryOp):
            self.expr(e.operand, scope)
        elif isinstance(e, ast.IfExp):
            for sub in (e.cond, e.then, e.orelse):
                self.expr(sub, scope)
        elif isinstance(e, ast.Index):
            self.expr(e.value, scope)
            self.expr(e.index, scope)
        elif isinstance(e, ast.Slice):
            for sub in (e.value, e.start, e.end, e.step):
                if sub is not None:
                    self.expr(sub, scope)
        elif isinstance(e, ast.ListExpr):
            for item in e.items:
                self.expr(item, scope)
        elif isinstance(e, ast.ListComp):
            self.expr(e.iterable, scope)
            for t in e.targets:
                self.check_shadowing(t, e.span)
                why = bad_identifier(t)
                if why:
                    self.fail(error("E0202", f"`{t}` cannot be used as a name", e.span, why))
            self.expr(e.value, scope | set(e.targets))
            if e.cond is not None:
                self.expr(e.cond, scope | set(e.targets))
        elif isinstance(e, ast.Format):
            for value in e.values:
                self.expr(value, scope)
        elif isinstance(e, ast.Call):
            if e.func not in FUNCTIONS:
                self.fail(
                    error(
                        "E0221",
                        f"unknown function `{e.func}`",
                        e.func_span,
                        "not a built-in function",
                        help=did_you_mean(e.func, FUNCTIONS),
                    )
                )
            else:
                try:
                    functions.check_call(functions.FUNCTIONS[e.func], e)
                except ArchError as exc:
                    self.fail(exc)
            for a in e.args:
                self.expr(a, scope)
            for kw in e.kwargs:
                self.expr(kw.value, scope)
        elif isinstance(e, ast.Pipe):
            self.fail(
                error("E0219", "`->` is only allowed in forward", e.span, "flow outside forward")
            )

    def check_recursion(self) -> None:
        graph = {n: _called_blocks(b.body, self.prog.blocks) for n, b in self.prog.blocks.items()}
        state: dict[str, int] = {}

        def visit(n: str, stack: list[str]) -> None:
            state[n] = 1
            for callee, span in graph[n]:
                if state.get(callee) == 1:
                    cycle = (
                        " -> ".join(stack[stack.index(callee) :] + [callee])
                        if callee in stack
                        else callee
                    )
                    self.fail(
                        error(
                            "E0222",
                            f"block `{callee}` uses itself ({cycle})",
                            span,
                            "recursive use",
                            help="blocks cannot contain themselves, directly or through others",
                        )
                    )
                elif state.get(callee) is None:
                    visit(callee, stack + [callee])
            state[n] = 2

        for n in graph:
            if n not in state:
                visit(n, [n])


def _called_blocks(
    body: tuple[ast.Stmt, ...], blocks: dict[str, ast.BlockDecl]
) -> list[tuple[str, Span]]:
    out: list[tuple[str, Span]] = []
    for stmt in body:
        if isinstance(stmt, ast.Member):
            if isinstance(stmt.module, ast.Sequential):
                out.extend(_called_blocks(stmt.module.body, blocks))
            elif stmt.module.func in blocks:
                out.append((stmt.module.func, stmt.module.func_span))
        elif isinstance(stmt, ast.For | ast.Repeat):
            out.extend(_called_blocks(stmt.body, blocks))
    return out


def _calls(flow: ast.Expr, func: str) -> list[ast.Call]:
    out: list[ast.Call] = []
    if isinstance(flow, ast.Call):
        if flow.func == func:
            out.append(flow)
        for a in (*flow.args, *(k.value for k in flow.kwargs)):
            out.extend(_calls(a, func))
    elif isinstance(flow, ast.Pipe):
        for s in flow.stages:
            out.extend(_calls(s, func))
    elif isinstance(flow, ast.IfExp):
        out.extend(_calls(flow.then, func) + _calls(flow.orelse, func))
    return out


def _let_names(body: tuple[ast.Stmt, ...]) -> set[str]:
    return {s.name for s in body if isinstance(s, ast.Let)}


__all__ = ["Program", "load_program", "program_from_text"]
