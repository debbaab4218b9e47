"""Keras 3 backend: functional code, one function per block, channels-last.

Every layer is named after the torch module path of the same spec ("layer1.0.conv1"), so the
torch weights load into it by name. The Keras facts live here: symmetric padding as
``ZeroPadding2D`` + "valid" (Keras "same" pads strided convolutions differently), batch-norm
momentum as ``1 - m``, flatten in channels-first order (``Permute`` first), explicit ``use_bias``.
"""

from __future__ import annotations

from dataclasses import dataclass

from archdsl import __version__
from archdsl.backends import exprs
from archdsl.backends.base import (
    Compiled,
    Ctx,
    FunctionUse,
    Namer,
    block_order,
    call_arguments,
    environment,
    forward_of,
    indent,
    is_sequence_block,
    layer_macro,
    loop_header,
    loop_names,
    requirement,
    units,
    uses,
)
from archdsl.ir.program import COMBINATORS, Program
from archdsl.layers.registry import get_layer
from archdsl.names import snake_case
from archdsl.syntax import ast

_PY_TYPES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "list": "Sequence[Any]",
    "block": "Callable[..., Any]",
}


@dataclass(frozen=True)
class LayerName:
    """A Keras layer name as parts: literal text and Python expressions (an f-string)."""

    parts: tuple[tuple[bool, str], ...]  # (is_expression, text)

    def child(self, suffix: str) -> LayerName:
        if not self.parts:
            return LayerName(((False, suffix),))
        return LayerName(self.parts + ((False, "." + suffix),))

    def expr_child(self, expr: str, prefix: str = "") -> LayerName:
        dot = "." if self.parts else ""
        parts = self.parts + ((False, dot + prefix),) if (dot or prefix) else self.parts
        return LayerName(parts + ((True, expr),))

    def plus(self, text: str) -> LayerName:
        return LayerName(self.parts + ((False, text),))

    def source(self) -> str:
        if all(not is_expr for is_expr, _ in self.parts):
            return repr("".join(t for _, t in self.parts))
        body = ""
        for is_expr, text in self.parts:
            body += "{" + text + "}" if is_expr else text.replace("{", "{{").replace("}", "}}")
        return 'f"' + body + '"'


class KerasEmitter(FunctionUse):
    def __init__(self, compiled: Compiled) -> None:
        self.c = compiled
        self.prog: Program = compiled.program
        self.imports = {"math": False, "sequence": False, "callable": False}
        self.helpers = {"make_divisible": False, "ceil_extra": False, "adaptive_avg_pool2d": False}
        # a block's function is its name in snake case, unless a spec value already uses that name
        used: set[str] = set()
        for decl in self.prog.blocks.values():
            used |= {p.name for p in decl.params} | loop_names(decl.body)
        self.fn_names = {}
        for n, b in self.prog.blocks.items():
            if not b.is_arch:
                name = snake_case(n)
                self.fn_names[n] = f"{name}_block" if name in used else name

    def emit(self) -> str:
        model = self.c.model
        order = block_order(self.prog, model.arch, list(model.params.values()))
        functions = [_BlockEmitter(self, self.prog.blocks[n]).emit() for n in order]
        factories = []
        for fname, args in [(self.c.entry, self.c.overrides), *self.c.variants.items()]:
            if fname == model.arch or any(f["name"] == fname for f in factories):
                continue
            rendered = "".join(f"{k!r}: {self.value(v)}, " for k, v in args.items())
            factories.append(
                {
                    "name": fname,
                    "fn": model.arch,
                    "args": rendered,
                    "doc": f"{model.arch} configured as `{fname}`.",
                }
            )
        return (
            environment()
            .get_template("keras/module.py.j2")
            .render(
                title=self.c.title,
                version=__version__,
                spec=self.c.spec_name,
                imports=self.imports,
                helpers=self.helpers,
                functions=functions,
                factories=factories,
            )
        )

    def value(self, e: ast.Expr) -> str:
        """A spec value as Python: block names become the functions that build them."""
        self.note_functions(e)
        return exprs.to_python(e, lambda n: self.fn_names.get(n, n))


class _BlockEmitter:
    def __init__(self, gen: KerasEmitter, decl: ast.BlockDecl) -> None:
        self.gen = gen
        self.decl = decl
        self.members, self.groups = units(decl)
        self.sequence = is_sequence_block(decl)
        taken = {p.name for p in decl.params} | loop_names(decl.body)
        taken |= {"x", "name", "inputs", "keras", "math", "make_divisible", "in_channels"}
        taken |= set(gen.fn_names.values()) | set(gen.prog.blocks)
        self.namer = Namer(taken)
        self.uses: dict[str, int] = {}
        self.aux_vars: list[str] = []

    def render(self, e: ast.Expr, ctx: Ctx) -> str:
        return self.gen.value(exprs.substitute(e, ctx.subst))

    def emit(self) -> str:
        decl = self.decl
        params = ["x: keras.KerasTensor"] if not decl.is_arch else []
        for p in decl.params:
            text = f"{p.name}: {_PY_TYPES[p.type]}"
            if p.type in ("list", "block"):
                self.gen.imports["sequence" if p.type == "list" else "callable"] = True
            default = self.gen.c.default_of(decl, p)
            if default is not None:
                text += f" = {self.default(default)}"
            params.append(text)
        body: list[str] = []
        if decl.is_arch:
            declared = next(s for s in decl.body if isinstance(s, ast.Input)).shape
            if exprs.names_in(declared) & {p.name for p in decl.params}:
                # the input size follows the model's parameters (EfficientNet's resolution)
                params.append("input_shape: tuple[int, ...] | None = None")
                body.append("if input_shape is None:")
                body.append(f"    input_shape = {self.channels_last(declared)}")
            else:
                c, *spatial = self.gen.c.model.input_shape
                shape = tuple(spatial) + (c,)
                params.append(f"input_shape: tuple[int, ...] = {shape!r}")
            params.append(f'name: str = "{decl.name}"')
            body.append('inputs = keras.Input(shape=input_shape, name="input")')
            body.append("x = inputs")
            prefix = LayerName(())
        else:
            params.append(f'name: str = "{self.gen.fn_names[decl.name]}"')
            prefix = LayerName(((True, "name"),))
        if self.needs_in_channels():
            body.append("in_channels = x.shape[-1]")
        if self.sequence:
            self.sequence_body(decl.body, "x", prefix, Ctx(), body)
        else:
            for stmt in decl.body:
                if isinstance(stmt, ast.Let):
                    body.append(f"{stmt.name} = {self.render(stmt.value, Ctx())}")
                elif isinstance(stmt, ast.Require):
                    body.extend(requirement(stmt, lambda e: self.render(e, Ctx())))
            self.fwd(forward_of(decl), "x", "x", prefix, body)
        if decl.is_arch:
            # auxiliary heads are outputs too: the main output, then the auxiliaries deepest first
            outputs = f"[{', '.join(['x', *reversed(self.aux_vars)])}]" if self.aux_vars else "x"
            body.append(f"return keras.Model(inputs=inputs, outputs={outputs}, name=name)")
            ret = "keras.Model"
            fname = decl.name
        else:
            body.append("return x")
            ret = "keras.KerasTensor"
            fname = self.gen.fn_names[decl.name]
        kind = "Model" if decl.is_arch else "Block"
        lines = [
            f"def {fname}({', '.join(params)}) -> {ret}:",
            f'    """{kind} `{decl.name}` from the spec."""',
        ]
        lines.extend(indent(body))
        return "\n".join(lines)

    def channels_last(self, shape: ast.Expr) -> str:
        """The spec's [C, H, W] input as Keras's (H, W, C), as Python source."""
        if isinstance(shape, ast.ListExpr):
            items = [self.render(i, Ctx()) for i in (*shape.items[1:], *shape.items[:1])]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        source = self.render(shape, Ctx())
        return f"(*{source}[1:], {source}[0])"

    def default(self, e: ast.Expr) -> str:
        if isinstance(e, ast.ListExpr):
            items = [self.gen.value(i) for i in e.items]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return self.gen.value(e)

    def needs_in_channels(self) -> bool:
        return uses(self.decl.body, "in_channels") and not self.decl.is_arch

    # ---- forward -------------------------------------------------------------------------
    def fwd(self, flow: ast.Expr, src: str, dst: str, prefix: LayerName, lines: list[str]) -> None:
        if isinstance(flow, ast.Pipe):
            if not flow.stages and src != dst:
                lines.append(f"{dst} = {src}")
            for stage in flow.stages:
                self.fwd(stage, src, dst, prefix, lines)
                src = dst
            return
        if isinstance(flow, ast.Name):
            if flow.id in self.groups:
                loop = self.groups[flow.id]
                if src != dst:
                    lines.append(f"{dst} = {src}")
                self.loop(loop, dst, prefix, Ctx(), lines, named=True)
                return
            stmt = self.members[flow.id]
            n = self.uses.get(flow.id, 0)
            self.uses[flow.id] = n + 1
            name = prefix.child(flow.id if n == 0 else f"{flow.id}_{n}")
            self.member(stmt, src, dst, name, Ctx(), lines)
            return
        if isinstance(flow, ast.IfExp):
            then: list[str] = []
            orelse: list[str] = []
            before = dict(self.uses)
            self.fwd(flow.then, src, dst, prefix, then)
            after_then, self.uses = self.uses, before  # the branches are exclusive
            self.fwd(flow.orelse, src, dst, prefix, orelse)
            for key, n in after_then.items():
                self.uses[key] = max(n, self.uses.get(key, 0))
            lines.append(f"if {self.render(flow.cond, Ctx())}:")
            lines.extend(indent(then or ["pass"]))
            lines.append("else:")
            lines.extend(indent(orelse or ["pass"]))
            return
        assert isinstance(flow, ast.Call)
        if flow.func in COMBINATORS:
            self.combine(flow, src, dst, prefix, lines)
            return
        layer = get_layer(flow.func)
        assert layer is not None
        name = self.op_name(prefix, flow.func)
        self.layer(layer, flow, src, dst, name, Ctx(), lines)

    def op_name(self, prefix: LayerName, base: str) -> LayerName:
        key = "op:" + base
        n = self.uses.get(key, 0)
        self.uses[key] = n + 1
        return prefix.child(base if n == 0 else f"{base}_{n}")

    def combine(
        self, call: ast.Call, src: str, dst: str, prefix: LayerName, lines: list[str]
    ) -> None:
        if call.func == "aux":
            target = call.args[0]
            var = self.namer.new(target.id if isinstance(target, ast.Name) else "aux")
            self.aux_vars.append(var)
            self.fwd(target, src, var, prefix, lines)
            if src != dst:
                lines.append(f"{dst} = {src}")
            return
        if call.func == "residual":
            out = self.namer.new("out")
            self.fwd(call.args[0], src, out, prefix, lines)
            shortcut = next((k.value for k in call.kwargs if k.name == "shortcut"), None)
            identity = src
            if shortcut is not None:
                identity = self.namer.new("identity")
                self.fwd(shortcut, src, identity, prefix, lines)
            name = self.op_name(prefix, "add").source()
            lines.append(f"{dst} = keras.layers.Add(name={name})([{out}, {identity}])")
            return
        branches = []
        for a in call.args:
            b = self.namer.new("branch")
            self.fwd(a, src, b, prefix, lines)
            branches.append(b)
        if call.func == "add":
            name = self.op_name(prefix, "add").source()
            lines.append(f"{dst} = keras.layers.Add(name={name})([{', '.join(branches)}])")
        elif call.func == "concat":
            name = self.op_name(prefix, "concat").source()
            lines.append(
                f"{dst} = keras.layers.Concatenate(axis=-1, name={name})([{', '.join(branches)}])"
            )
        else:
            name = self.op_name(prefix, "multiply").source()
            lines.append(f"{dst} = keras.layers.Multiply(name={name})([{src}, {branches[0]}])")

    # ---- members -------------------------------------------------------------------------
    def member(
        self, stmt: ast.Member, src: str, dst: str, name: LayerName, ctx: Ctx, lines: list[str]
    ) -> None:
        body: list[str] = []
        inner_src = src
        if stmt.guard is not None:
            if src != dst:
                lines.append(f"{dst} = {src}")
            inner_src = dst
        module = stmt.module
        if isinstance(module, ast.Sequential):
            if inner_src != dst:
                body.append(f"{dst} = {inner_src}")
            self.sequence_body(module.body, dst, name, ctx, body)
        else:
            layer = get_layer(module.func)
            if layer is not None and module.func not in self.gen.prog.blocks:
                self.layer(layer, module, inner_src, dst, name, ctx, body)
            else:
                fn = self.gen.fn_names.get(module.func, module.func)
                parts = [inner_src]
                parts += [self.render(a, ctx) for a in module.args]
                parts += [f"{k.name}={self.render(k.value, ctx)}" for k in module.kwargs]
                parts.append(f"name={name.source()}")
                body.append(f"{dst} = {fn}({', '.join(parts)})")
        if stmt.guard is not None:
            lines.append(f"if {self.render(stmt.guard, ctx)}:")
            lines.extend(indent(body))
        else:
            lines.extend(body)

    def layer(
        self, layer, call: ast.Call, src: str, dst: str, name: LayerName, ctx: Ctx, lines: list[str]
    ) -> None:  # type: ignore[no-untyped-def]
        given = call_arguments(layer, call)
        args: dict[str, str] = {}
        for fname, finfo in layer.schema.model_fields.items():
            args[fname] = self.render(given[fname], ctx) if fname in given else repr(finfo.default)
        if args.get("ceil_mode", "False") != "False":
            self.gen.helpers["ceil_extra"] = True
        if layer.name == "adaptive_avgpool2d" and args["output"] != "1":
            self.gen.helpers["adaptive_avg_pool2d"] = True
        if "momentum" in args:
            m = given.get("momentum")
            if m is None or isinstance(m, ast.Num):
                value = (
                    m.value
                    if isinstance(m, ast.Num)
                    else layer.schema.model_fields["momentum"].default
                )
                args["keras_momentum"] = repr(round(1 - value, 12))
            else:
                args["keras_momentum"] = f"1 - ({args['momentum']})"
        text = str(
            layer_macro("keras", layer)(args, src, dst, lambda suffix: name.plus(suffix).source())
        )
        lines.extend(line for line in text.splitlines() if line.strip())

    def sequence_body(
        self, body: tuple[ast.Stmt, ...], var: str, prefix: LayerName, ctx: Ctx, lines: list[str]
    ) -> None:
        """Apply anonymous items in order to ``var``; names count up like nn.Sequential indices."""
        position: list[int | str] = [0]  # a fixed index, or the name of a counter variable

        def run(stmts: tuple[ast.Stmt, ...], c: Ctx, out: list[str]) -> None:
            for stmt in stmts:
                if isinstance(stmt, ast.Let):
                    out.append(f"{stmt.name} = {self.render(stmt.value, c)}")
                elif isinstance(stmt, ast.Require):
                    out.extend(requirement(stmt, lambda e, c=c: self.render(e, c)))
                elif isinstance(stmt, ast.Member):
                    pos = position[0]
                    if stmt.guard is not None and isinstance(pos, int):
                        counter = self.namer.new("position")
                        out.append(f"{counter} = {pos}")
                        position[0] = pos = counter
                    name = (
                        prefix.child(str(pos)) if isinstance(pos, int) else prefix.expr_child(pos)
                    )
                    step: list[str] = []
                    self.member(ast.Member(None, stmt.module, None), var, var, name, c, step)
                    if isinstance(pos, int):
                        position[0] = pos + 1
                    else:
                        step.append(f"{pos} += 1")
                    if stmt.guard is not None:
                        out.append(f"if {self.render(stmt.guard, c)}:")
                        out.extend(indent(step))
                    else:
                        out.extend(step)
                elif isinstance(stmt, ast.For | ast.Repeat):
                    pos = position[0]
                    if isinstance(pos, int):
                        counter = self.namer.new("position")
                        out.append(f"{counter} = {pos}")
                        position[0] = counter
                    inner, header = loop_header(stmt, c, self.namer, self.gen.note_functions)
                    out.append(header)
                    inner_lines: list[str] = []
                    run(stmt.body, inner, inner_lines)
                    out.extend(indent(inner_lines or ["pass"]))

        run(body, ctx, lines)

    def loop(
        self,
        stmt: ast.For | ast.Repeat,
        var: str,
        prefix: LayerName,
        ctx: Ctx,
        lines: list[str],
        named: bool,
    ) -> None:
        inner, header = loop_header(stmt, ctx, self.namer, self.gen.note_functions)
        lines.append(header)
        body: list[str] = []
        for s in stmt.body:
            if isinstance(s, ast.Let):
                body.append(f"{s.name} = {self.render(s.value, inner)}")
            elif isinstance(s, ast.Require):
                body.extend(requirement(s, lambda e: self.render(e, inner)))
            elif isinstance(s, ast.For | ast.Repeat):
                self.loop(s, var, prefix, inner, body, named)
            elif isinstance(s, ast.Member):
                assert s.target is not None and s.target.suffix is not None
                suffix = self.render(s.target.suffix, inner)
                name = prefix.expr_child(suffix, s.target.name)
                self.member(s, var, var, name, inner, body)
        lines.extend(indent(body or ["pass"]))
