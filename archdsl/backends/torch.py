"""PyTorch backend: one ``nn.Module`` class per block, attribute names equal to the spec's names.

``__init__`` follows the spec's definition order (that order is the state_dict's order). Channel
counts are spec expressions propagated along the forward flow, so a block reads
``nn.Conv2d(in_channels, planes * 4, ...)``. Loops stay loops; channels that only exist at run
time (after a loop, or after a block passed in as a parameter) live in a local variable.
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
    spatial_at,
    units,
)
from archdsl.errors import error
from archdsl.ir.program import COMBINATORS, Program
from archdsl.layers.registry import LayerType, get_layer
from archdsl.syntax import ast

_OPAQUE = ast.Raw("<opaque>")
_PY_TYPES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "list": "Sequence[Any]",
    "block": "type[nn.Module]",
}


@dataclass
class _Seq:
    """State of a sequence being built into a list: its list, channel variable and channels."""

    list_var: str
    chan_var: str | None
    cur: ast.Expr


class TorchEmitter(FunctionUse):
    def __init__(self, compiled: Compiled) -> None:
        self.c = compiled
        self.prog: Program = compiled.program
        self.imports = {"torch": False, "F": False, "math": False, "any": False, "sequence": False}
        self.helpers = {"make_divisible": False, "stochastic_depth": False}
        self.out_exprs: dict[str, ast.Expr] = {}  # block -> output channels, in its own names

    def emit(self) -> str:
        model = self.c.model
        extra = list(model.params.values())
        order = block_order(self.prog, model.arch, extra)
        classes = []
        for name in order:
            classes.append(_BlockEmitter(self, self.prog.blocks[name]).emit())
        factories = []
        for fname, args in [(self.c.entry, self.c.overrides), *self.c.variants.items()]:
            if any(f["name"] == fname for f in factories):
                continue
            rendered = "".join(f"{k!r}: {exprs.to_python(v)}, " for k, v in args.items())
            factories.append(
                {
                    "name": fname,
                    "cls": model.arch,
                    "args": rendered,
                    "doc": f"{model.arch} configured as `{fname}`.",
                }
            )
        self.imports["any"] = True
        text = (
            environment()
            .get_template("torch/module.py.j2")
            .render(
                title=self.c.title,
                version=__version__,
                spec=self.c.spec_name,
                imports=self.imports,
                helpers=self.helpers,
                classes=classes,
                factories=factories,
            )
        )
        return text

    def note_layer(self, layer: LayerType) -> None:
        for helper in layer.helpers:
            self.helpers[helper] = True
            self.imports["torch"] = True

    def block_out(self, name: str) -> ast.Expr:
        """The output channels of block ``name`` in terms of its parameters and ``in_channels``."""
        if name not in self.out_exprs:
            self.out_exprs[name] = _BlockEmitter(
                self, self.prog.blocks[name], probe=True
            ).out_channels()
        return self.out_exprs[name]


class _BlockEmitter:
    def __init__(self, gen: TorchEmitter, decl: ast.BlockDecl, probe: bool = False) -> None:
        self.gen = gen
        self.decl = decl
        self.probe = probe
        self.members, self.groups = units(decl)
        self.sequence = is_sequence_block(decl)
        taken = {p.name for p in decl.params} | loop_names(decl.body)
        taken |= {
            "self",
            "x",
            "in_channels",
            "torch",
            "nn",
            "F",
            "Tensor",
            "math",
            "make_divisible",
        }
        taken |= set(gen.prog.blocks)
        self.namer = Namer(taken)
        self.member_code: dict[str, list[str]] = {}
        self.member_out: dict[str, ast.Expr] = {}
        self.unit_code: dict[int, list[str]] = {}
        self.unit_out: dict[int, ast.Expr] = {}
        self.lets = {s.name: s.value for s in decl.body if isinstance(s, ast.Let)}

    # ---- entry points --------------------------------------------------------------------
    def in_channels(self) -> ast.Expr:
        if self.decl.is_arch:
            return ast.Num(self.gen.c.model.input_shape[0])
        return ast.Name("in_channels")

    def out_channels(self) -> ast.Expr:
        """Output channels with lets inlined; used to substitute into a caller."""
        if self.sequence:
            seq_lines: list[str] = []
            out = self.sequence_items(
                self.decl.body, self.in_channels(), Ctx(), seq_lines, "layers"
            )
        else:
            out = self.flow_channels(forward_of(self.decl), self.in_channels())
        return _inline_lets(out, self.lets)

    def emit(self) -> str:
        decl = self.decl
        params = []
        if not decl.is_arch:
            params.append("in_channels: int")
        for p in decl.params:
            text = f"{p.name}: {_PY_TYPES[p.type]}"
            if p.type == "list":
                self.gen.imports["sequence"] = True
            default = self.gen.c.default_of(decl, p)
            if default is not None:
                self.gen.note_functions(default)
                text += f" = {_default_source(default)}"
            params.append(text)
        signature = ", ".join(["self", *params])
        body: list[str] = []
        if self.sequence:
            base = "nn.Sequential"
            seq_lines: list[str] = []
            out = self.sequence_items(decl.body, self.in_channels(), Ctx(), seq_lines, "layers")
            body.extend(seq_lines)
            forward: list[str] = []
        else:
            explicit = any(isinstance(s, ast.Forward) for s in decl.body)
            # members applied in order: an nn.Sequential, which also runs loops of any length
            base = "nn.Module" if explicit else "nn.Sequential"
            flow = forward_of(decl)
            out = self.flow_channels(flow, self.in_channels())
            body.append("super().__init__()")
            stored = self.forward_names(flow)
            for stmt in decl.body:
                if isinstance(stmt, ast.Let):
                    self.gen.note_functions(stmt.value)
                    body.append(f"{stmt.name} = {exprs.to_python(stmt.value)}")
                elif isinstance(stmt, ast.Require):
                    self.gen.note_functions(stmt.cond)
                    body.extend(requirement(stmt, exprs.to_python))
                elif isinstance(stmt, ast.Member) and stmt.target is not None:
                    name = stmt.target.name
                    if name not in self.member_code:
                        raise error(
                            "E0403",
                            f"member `{name}` is never used in forward",
                            stmt.span,
                            "defined here",
                            help="use it in `forward`, or remove it",
                        )
                    body.extend(self.member_code[name])
                elif isinstance(stmt, ast.For | ast.Repeat) and id(stmt) in self.unit_code:
                    body.extend(self.unit_code[id(stmt)])
            for name in stored:
                body.append(f"self.{name} = {name}")
            forward = self.forward(flow) if explicit else []
        if not decl.is_arch:
            body.append(f"self.out_channels = {exprs.to_python(out)}")
        doc = _doc(decl)
        lines = [f"class {decl.name}({base}):", f'    """{doc}"""', ""]
        lines.append(f"    def __init__({signature}) -> None:")
        lines.extend(indent(body, 2))
        if forward:
            lines.append("")
            returns = "Tensor | tuple[Tensor, ...]" if self.aux_vars else "Tensor"
            lines.append(f"    def forward(self, x: Tensor) -> {returns}:")
            lines.extend(indent(forward, 2))
        return "\n".join(lines)

    # ---- channels along the forward flow (emits member code on first use) --------------------
    def flow_channels(self, flow: ast.Expr, c: ast.Expr) -> ast.Expr:
        if isinstance(flow, ast.Pipe):
            for stage in flow.stages:
                c = self.flow_channels(stage, c)
            return c
        if isinstance(flow, ast.Name):
            if flow.id in self.groups:
                loop = self.groups[flow.id]
                if id(loop) not in self.unit_code:
                    lines: list[str] = []
                    seq = _Seq("", None, c)
                    self.unit_out[id(loop)] = self.sequence_stmt(loop, seq, Ctx(), lines, top=True)
                    self.unit_code[id(loop)] = lines
                return self.unit_out[id(loop)]
            stmt = self.members[flow.id]
            if flow.id not in self.member_code:
                self.member_code[flow.id], self.member_out[flow.id] = self.named_member(stmt, c)
                return self.member_out[flow.id]
            layer = get_layer(stmt.module.func) if isinstance(stmt.module, ast.Call) else None
            if (
                layer is not None
                and layer.channels is None
                and stmt.module.func not in self.gen.prog.blocks
            ):
                return c  # a channel-preserving layer used again keeps its new input's channels
            return self.member_out[flow.id]
        if isinstance(flow, ast.IfExp):
            a = self.flow_channels(flow.then, c)
            b = self.flow_channels(flow.orelse, c)
            return exprs.choose(flow.cond, a, b)
        assert isinstance(flow, ast.Call)
        if flow.func in COMBINATORS:
            outs = [self.flow_channels(a, c) for a in flow.args]
            for kw in flow.kwargs:
                if kw.name == "shortcut":
                    self.flow_channels(kw.value, c)
            if flow.func == "concat":
                total = outs[0]
                for o in outs[1:]:
                    total = exprs.add(total, o)
                return total
            if flow.func in ("multiply", "aux"):
                return c
            return outs[0]
        layer = get_layer(flow.func)
        assert layer is not None
        return self.layer_channels(layer, flow, c)

    def layer_channels(self, layer: LayerType, call: ast.Call, c: ast.Expr) -> ast.Expr:
        if layer.flattens:
            for extent in spatial_at(self.gen.c.model, call.span, layer.name):
                c = exprs.mul(c, extent)
            return c
        return layer.out_channels(call_arguments(layer, call), c)

    def named_member(self, stmt: ast.Member, c: ast.Expr) -> tuple[list[str], ast.Expr]:
        assert stmt.target is not None
        target = f"self.{stmt.target.name}"
        ctx = Ctx()
        prelude, src, out = self.module(stmt.module, c, ctx, stmt.target.name)
        if out is _OPAQUE:
            out = ast.Raw(f"{target}.out_channels")
        lines = prelude + [f"{target} = {src}"]
        if stmt.guard is not None:
            self.gen.note_functions(stmt.guard)
            lines = [f"{target} = None", f"if {ctx.render(stmt.guard)}:", *indent(lines)]
            out = exprs.choose(stmt.guard, out, c)
        return lines, out

    # ---- module construction ---------------------------------------------------------------
    def layer_args(self, layer, call: ast.Call, ctx: Ctx) -> dict[str, str]:  # type: ignore[no-untyped-def]
        given = call_arguments(layer, call)
        args: dict[str, str] = {}
        for fname, finfo in layer.schema.model_fields.items():
            if fname in given:
                self.gen.note_functions(given[fname])
                args[fname] = ctx.render(given[fname])
            else:
                args[fname] = repr(finfo.default)
        return args

    def module(
        self, module: ast.Call | ast.Sequential, c: ast.Expr, ctx: Ctx, hint: str
    ) -> tuple[list[str], str, ast.Expr]:
        """Python source that builds ``module`` on ``c`` input channels: (prelude, expr, out)."""
        if isinstance(module, ast.Sequential):
            return self.sequential(module, c, ctx, hint)
        cs = ctx.render(c)
        layer = get_layer(module.func)
        if layer is not None and module.func not in self.gen.prog.blocks:
            args = self.layer_args(layer, module, ctx)
            self.gen.note_layer(layer)
            src = str(layer_macro("torch", layer)(args, cs))
            return [], src, self.layer_channels(layer, module, c)
        parts = [cs]
        for a in module.args:
            self.gen.note_functions(a)
            parts.append(ctx.render(a))
        for kw in module.kwargs:
            self.gen.note_functions(kw.value)
            parts.append(f"{kw.name}={ctx.render(kw.value)}")
        src = f"{module.func}({', '.join(parts)})"
        if module.func not in self.gen.prog.blocks:
            return [], src, _OPAQUE
        decl = self.gen.prog.blocks[module.func]
        inner = self.gen.block_out(module.func)
        if _has_raw(inner):
            return [], src, _OPAQUE
        mapping: dict[str, ast.Expr] = {"in_channels": c}
        positional = dict(zip([p.name for p in decl.params], module.args, strict=False))
        kws = {k.name: k.value for k in module.kwargs}
        for p in decl.params:
            value = kws.get(p.name, positional.get(p.name, p.default))
            assert value is not None
            mapping[p.name] = value
        return [], src, exprs.substitute(inner, mapping)

    def sequential(
        self, module: ast.Sequential, c: ast.Expr, ctx: Ctx, hint: str
    ) -> tuple[list[str], str, ast.Expr]:
        direct = self.direct_items(module.body, c, ctx, hint)
        if direct is not None:
            lines, srcs, out = direct
            return lines, "nn.Sequential(" + ", ".join(srcs) + ")", out
        lines = []
        list_var = self.namer.new(hint)
        out = self.sequence_items(module.body, c, ctx, lines, list_var)
        return lines, f"nn.Sequential(*{list_var})", out

    def direct_items(
        self, body: tuple[ast.Stmt, ...], c: ast.Expr, ctx: Ctx, hint: str
    ) -> tuple[list[str], list[str], ast.Expr] | None:
        """A fixed sequence as (prelude lines, module sources, out channels); None when it has
        loops or conditions, or an item whose channels are only known at run time."""
        if not _is_direct(body):
            return None
        lines: list[str] = []
        srcs: list[str] = []
        for stmt in body:
            if isinstance(stmt, ast.Let):
                self.gen.note_functions(stmt.value)
                lines.append(f"{stmt.name} = {ctx.render(stmt.value)}")
                continue
            if isinstance(stmt, ast.Require):
                self.gen.note_functions(stmt.cond)
                lines.extend(requirement(stmt, ctx.render))
                continue
            assert isinstance(stmt, ast.Member)
            pre, src, out = self.module(stmt.module, c, ctx, hint)
            if out is _OPAQUE:
                return None
            lines.extend(pre)
            srcs.append(src)
            c = out
        return lines, srcs, c

    def sequence_items(
        self, body: tuple[ast.Stmt, ...], c: ast.Expr, ctx: Ctx, lines: list[str], list_var: str
    ) -> ast.Expr:
        """Build an anonymous sequence: directly when it is a fixed list, else into a list."""
        if self.sequence and body is self.decl.body and not self.probe:
            direct = self.direct_items(body, c, ctx, "layers")
            if direct is not None:
                lines.extend(direct[0])
                lines.append("super().__init__(" + ", ".join(direct[1]) + ")")
                return direct[2]
        if self.sequence and body is self.decl.body:
            list_var = self.namer.new("layers")
        lines.append(f"{list_var}: list[nn.Module] = []")
        seq = _Seq(list_var, None, c)
        for stmt in body:
            self.sequence_stmt(stmt, seq, ctx, lines, top=False)
        if self.sequence and body is self.decl.body:
            lines.append(f"super().__init__(*{list_var})")
        return seq.cur

    def flush(self, seq: _Seq, ctx: Ctx, lines: list[str]) -> None:
        """Put the running channel count in a variable before a loop or a condition."""
        if seq.chan_var is None:
            seq.chan_var = self.namer.new("channels")
        if seq.cur != ast.Raw(seq.chan_var):
            lines.append(f"{seq.chan_var} = {ctx.render(seq.cur)}")
            seq.cur = ast.Raw(seq.chan_var)

    def sequence_stmt(
        self, stmt: ast.Stmt, seq: _Seq, ctx: Ctx, lines: list[str], top: bool
    ) -> ast.Expr:
        if isinstance(stmt, ast.Let):
            self.gen.note_functions(stmt.value)
            lines.append(f"{stmt.name} = {ctx.render(stmt.value)}")
        elif isinstance(stmt, ast.Require):
            self.gen.note_functions(stmt.cond)
            lines.extend(requirement(stmt, ctx.render))
        elif isinstance(stmt, ast.For | ast.Repeat):
            self.flush(seq, ctx, lines)
            inner, header = self.loop_header(stmt, ctx)
            lines.append(header)
            body: list[str] = []
            for s in stmt.body:
                self.sequence_stmt(s, seq, inner, body, top)
            self.flush(seq, inner, body)
            lines.extend(indent(body or ["pass"]))
        elif isinstance(stmt, ast.Member):
            hint = stmt.target.name if stmt.target is not None else seq.list_var
            pre, src, out = self.module(stmt.module, seq.cur, ctx, hint)
            if stmt.target is not None:
                assert stmt.target.suffix is not None
                suffix = ctx.render(stmt.target.suffix)
                add = f'self.add_module(f"{stmt.target.name}{{{suffix}}}", {src})'
                fetch = f'self.get_submodule(f"{stmt.target.name}{{{suffix}}}").out_channels'
            else:
                add = f"{seq.list_var}.append({src})"
                fetch = f"{seq.list_var}[-1].out_channels"
            step = pre + [add]
            if stmt.guard is not None:
                self.flush(seq, ctx, lines)
                self.gen.note_functions(stmt.guard)
                if out is _OPAQUE:
                    out = ast.Raw(fetch)
                assert seq.chan_var is not None
                if out != seq.cur:
                    step.append(f"{seq.chan_var} = {ctx.render(out)}")
                lines.append(f"if {ctx.render(stmt.guard)}:")
                lines.extend(indent(step))
            else:
                lines.extend(step)
                if out is _OPAQUE:
                    self.flush(seq, ctx, lines)
                    lines.append(f"{seq.chan_var} = {fetch}")
                else:
                    seq.cur = out
        return seq.cur

    def loop_header(self, stmt: ast.For | ast.Repeat, ctx: Ctx) -> tuple[Ctx, str]:
        return loop_header(stmt, ctx, self.namer, self.gen.note_functions)

    # ---- forward ------------------------------------------------------------------------
    def forward_names(self, flow: ast.Expr) -> list[str]:
        names: set[str] = set()

        def visit(f: ast.Expr) -> None:
            if isinstance(f, ast.IfExp):
                names.update(exprs.names_in(f.cond))
                visit(f.then)
                visit(f.orelse)
            elif isinstance(f, ast.Pipe):
                for s in f.stages:
                    visit(s)
            elif isinstance(f, ast.Call) and f.func in COMBINATORS:
                for a in f.args:
                    visit(a)
                for kw in f.kwargs:
                    visit(kw.value)

        visit(flow)
        return sorted(names)

    def forward(self, flow: ast.Expr) -> list[str]:
        lines: list[str] = []
        namer = Namer({"self", "x"})
        self.aux_vars: list[str] = []
        self.fwd(flow, "x", "x", lines, namer)
        if self.aux_vars:
            # as torchvision's GoogLeNet: the main output, then the auxiliaries, deepest first
            outputs = ", ".join(["x", *reversed(self.aux_vars)])
            lines.append("if self.training:")
            lines.append(f"    return {outputs}")
        lines.append("return x")
        return lines

    def fwd(self, flow: ast.Expr, src: str, dst: str, lines: list[str], namer: Namer) -> None:
        if isinstance(flow, ast.Pipe):
            if not flow.stages:
                if src != dst:
                    lines.append(f"{dst} = {src}")
                return
            for stage in flow.stages:
                self.fwd(stage, src, dst, lines, namer)
                src = dst
            return
        if isinstance(flow, ast.Name):
            if flow.id in self.groups:
                names = self.group_members(flow.id)
                for n in names:
                    lines.append(f"{dst} = self.{n}({src})")
                    src = dst
                if not names and src != dst:
                    lines.append(f"{dst} = {src}")
                return
            stmt = self.members[flow.id]
            if stmt.guard is not None:
                if src != dst:
                    lines.append(f"{dst} = {src}")
                lines.append(f"if self.{flow.id} is not None:")
                lines.append(f"    {dst} = self.{flow.id}({dst})")
            else:
                lines.append(f"{dst} = self.{flow.id}({src})")
            return
        if isinstance(flow, ast.IfExp):
            cond = exprs.to_python(flow.cond, lambda n: f"self.{n}")
            then: list[str] = []
            orelse: list[str] = []
            self.fwd(flow.then, src, dst, then, namer)
            self.fwd(flow.orelse, src, dst, orelse, namer)
            lines.append(f"if {cond}:")
            lines.extend(indent(then or ["pass"]))
            lines.append("else:")
            lines.extend(indent(orelse or ["pass"]))
            return
        assert isinstance(flow, ast.Call)
        if flow.func == "residual":
            out = namer.new("out")
            identity = namer.new("identity")
            self.fwd(flow.args[0], src, out, lines, namer)
            shortcut = next((k.value for k in flow.kwargs if k.name == "shortcut"), None)
            if shortcut is not None:
                self.fwd(shortcut, src, identity, lines, namer)
            else:
                identity = src
            lines.append(f"{dst} = {out} + {identity}")
            return
        if flow.func in ("add", "concat"):
            branches = []
            for a in flow.args:
                b = namer.new("branch")
                self.fwd(a, src, b, lines, namer)
                branches.append(b)
            if flow.func == "add":
                lines.append(f"{dst} = {' + '.join(branches)}")
            else:
                self.gen.imports["torch"] = True
                lines.append(f"{dst} = torch.cat([{', '.join(branches)}], dim=1)")
            return
        if flow.func == "aux":
            target = flow.args[0]
            var = namer.new(target.id if isinstance(target, ast.Name) else "aux")
            self.aux_vars.append(var)
            tap: list[str] = []
            self.fwd(target, src, var, tap, namer)
            lines.append(f"{var} = None")
            lines.append("if self.training:")
            lines.extend(indent(tap))
            if src != dst:
                lines.append(f"{dst} = {src}")
            return
        if flow.func == "multiply":
            scale = namer.new("scale")
            self.fwd(flow.args[0], src, scale, lines, namer)
            lines.append(f"{dst} = {src} * {scale}")
            return
        layer = get_layer(flow.func)
        assert layer is not None
        args = self.layer_args(layer, flow, Ctx())
        text = str(layer_macro("torch", layer, "_fn")(args, src))
        if text.startswith("torch."):
            self.gen.imports["torch"] = True
        if text.startswith("F."):
            self.gen.imports["F"] = True
        lines.append(f"{dst} = {text}")

    def group_members(self, group: str) -> list[str]:
        model = self.gen.c.model
        loop = self.groups[group]
        names = {g for g, s in self.groups.items() if s is loop}
        seen: set[tuple[str, ...]] = set()
        for inst in model.block_instances.get(self.decl.name, []):
            members = tuple(n for n in inst.children if _group_of(n) in names)
            seen.add(members)
        if len(seen) != 1:
            raise error(
                "E0412",
                f"the members of `{group}` differ between instances of `{self.decl.name}`",
                loop.span,
                "the generated forward needs one fixed list",
                help="give every instance the same number of iterations",
            )
        return list(next(iter(seen)))


def _group_of(member: str) -> str:
    return member.rstrip("0123456789")


def _is_direct(body: tuple[ast.Stmt, ...]) -> bool:
    return all(
        isinstance(s, ast.Let | ast.Require)
        or (isinstance(s, ast.Member) and s.guard is None and s.target is None)
        for s in body
    )


def _has_raw(e: ast.Expr) -> bool:
    if isinstance(e, ast.Raw):
        return True
    return any(_has_raw(c) for c in exprs.children(e))


def _inline_lets(e: ast.Expr, lets: dict[str, ast.Expr]) -> ast.Expr:
    for _ in range(len(lets) + 1):
        if not exprs.names_in(e) & set(lets):
            break
        e = exprs.substitute(e, lets)
    return e


def _default_source(e: ast.Expr) -> str:
    if isinstance(e, ast.ListExpr):
        return (
            "("
            + ", ".join(exprs.to_python(i) for i in e.items)
            + ("," if len(e.items) == 1 else "")
            + ")"
        )
    return exprs.to_python(e)


def _doc(decl: ast.BlockDecl) -> str:
    kind = "Model" if decl.is_arch else "Block"
    return f"{kind} `{decl.name}` from the spec."
