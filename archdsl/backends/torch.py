"""PyTorch printer: one ``nn.Module`` class per definition of the lowered model.

``__init__`` prints the constructor statements in their order (the state_dict's order), forward
the forward graph. Everything semantic was decided in lowering; this module chooses spelling.
"""

from __future__ import annotations

from archdsl import __version__
from archdsl.backends.base import (
    block_arguments,
    environment,
    indent,
    layer_arguments,
    layer_macro,
    list_conversions,
    loop_header,
)
from archdsl.backends.exprs import Spelling, default_value, python, requirements
from archdsl.backends.text import docstring, docstring_lines
from archdsl.errors import error
from archdsl.initializers import FUNCTIONS, non_default
from archdsl.ir import lowered as L
from archdsl.layers.registry import get_layer
from archdsl.names import Namer

_PY_TYPES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "list": "Sequence[Any]",
    "size": "int | tuple[int, int]",
    "block": "type[nn.Module]",
}


def _channels(e: L.OutChannels) -> str:
    if e.items is not None:
        return f"{e.items}[-1].out_channels"
    if e.suffix is not None:
        return f'self.get_submodule(f"{e.member}{{{python(e.suffix, _SPELL)}}}").out_channels'
    return f"self.{e.member}.out_channels"


_SPELL = Spelling(channels=_channels)


def _py(e: L.Expr) -> str:
    return python(e, _SPELL)


def print_torch(model: L.LoweredModel) -> str:
    imports = {"torch": False, "F": False, "math": False, "any": True, "sequence": False}
    helpers = {"make_divisible": False, "stochastic_depth": False}
    needs = requirements(model.definitions)
    imports["math"] = "math" in needs
    helpers["make_divisible"] = "make_divisible" in needs
    classes = []
    definitions = {d.name: d for d in model.definitions}
    for d in model.definitions:
        printer = _DefinitionPrinter(d, definitions)
        classes.append(printer.print())
        imports["torch"] |= printer.torch
        imports["F"] |= printer.functional
        imports["sequence"] |= any(p.type == "list" for p in d.params)
        for layer in printer.layers:
            for helper in layer.helpers:
                helpers[helper] = True
                imports["torch"] = True
    factories = [
        {
            "name": f.name,
            "cls": f.arch,
            "args": "".join(f"{a.name!r}: {_py(a.value)}, " for a in f.args),
            "doc": docstring(f"{f.arch} configured as `{f.name}`."),
        }
        for f in model.factories
    ]
    return (
        environment()
        .get_template("torch/module.py.j2")
        .render(
            title=docstring(model.title),
            version=__version__,
            spec=docstring(model.spec),
            imports=imports,
            helpers=helpers,
            classes=classes,
            factories=factories,
        )
    )


class _DefinitionPrinter:
    def __init__(self, d: L.Definition, definitions: dict[str, L.Definition]) -> None:
        self.d = d
        self.definitions = definitions
        self.torch = False
        self.functional = False
        self.layers: list = []  # type: ignore[type-arg]

    def print(self) -> str:
        d = self.d
        params = [] if d.kind == "arch" else ["in_channels: int"]
        for p in d.params:
            text = f"{p.name}: {_PY_TYPES[p.type]}"
            if p.default is not None:
                text += f" = {default_value(p.default, _SPELL)}"
            params.append(text)
        body: list[str] = list_conversions(d)
        forward: list[str] = []
        if d.forward is None:  # an anonymous sequence
            base = "nn.Sequential"
            if d.items is None:
                srcs: list[str] = []
                for stmt in d.body:
                    if isinstance(stmt, L.Member):
                        pre, src = self.module(stmt.module)
                        body.extend(pre)
                        srcs.append(src)
                    else:
                        body.extend(self.stmt(stmt, None))
                body.append("super().__init__(" + ", ".join(srcs) + ")")
            else:
                body.append(f"{d.items}: list[nn.Module] = []")
                for stmt in d.body:
                    body.extend(self.stmt(stmt, d.items))
                body.append(f"super().__init__(*{d.items})")
        else:
            base = "nn.Sequential" if d.sequential else "nn.Module"
            body.append("super().__init__()")
            for stmt in d.body:
                body.extend(self.stmt(stmt, None))
            for name in sorted(self.condition_names(d.forward)):
                body.append(f"self.{name} = {name}")
            if not d.sequential:
                forward = self.forward(d.forward)
        if d.kind == "block":
            assert d.out_channels is not None
            body.append(f"self.out_channels = {_py(d.out_channels)}")
        body.extend(_init_section(d.init))
        lines = [f"class {d.name}({base}):", *docstring_lines(d.doc, "    "), ""]
        lines.append(f"    def __init__({', '.join(['self', *params])}) -> None:")
        lines.extend(indent(body, 2))
        if forward:
            lines.append("")
            returns = "Tensor"
            if d.aux_outputs:
                # auxiliaries are None in eval mode; spelled so that torch.jit.script accepts it
                outputs = ", ".join(["Tensor"] + ["Tensor | None"] * len(d.aux_outputs))
                returns = f"Tensor | tuple[{outputs}]"
            lines.append(f"    def forward(self, x: Tensor) -> {returns}:")
            lines.extend(indent(forward, 2))
        return "\n".join(lines)

    # ---- constructor -----------------------------------------------------------------------
    def stmt(self, stmt: L.Stmt, items: str | None) -> list[str]:
        if isinstance(stmt, L.Let):
            return [f"{stmt.name} = {_py(stmt.value)}"]
        if isinstance(stmt, L.Require):
            return [
                f"if {_py(L.Unary(op='not', operand=stmt.cond))}:",
                f"    raise ValueError({stmt.message!r})",
            ]
        if isinstance(stmt, L.SetChannels):
            return [f"{stmt.var} = {_py(stmt.value)}"]
        if isinstance(stmt, L.Loop):
            body: list[str] = []
            for s in stmt.body:
                body.extend(self.stmt(s, items))
            return [loop_header(stmt, _py), *indent(body or ["pass"])]
        pre, src = self.module(stmt.module)
        if stmt.name is None:
            assert items is not None
            step = pre + [f"{items}.append({src})"]
        elif stmt.suffix is not None:
            step = pre + [f'self.add_module(f"{stmt.name}{{{_py(stmt.suffix)}}}", {src})']
        else:
            step = pre + [f"self.{stmt.name} = {src}"]
        if stmt.update is not None:
            step.append(f"{stmt.update} = {_py(stmt.out_channels)}")
        if stmt.guard is None:
            return step
        absent = [f"self.{stmt.name} = None"] if stmt.name and stmt.suffix is None else []
        return [*absent, f"if {_py(stmt.guard)}:", *indent(step)]

    def module(self, module: L.Module) -> tuple[list[str], str]:
        """Python source that builds ``module``: (statements before it, the expression)."""
        c = _py(module.in_channels) if not isinstance(module, L.Sequence) else ""
        if isinstance(module, L.LayerCall):
            layer = get_layer(module.layer)
            assert layer is not None
            self.layers.append(layer)
            args, given = layer_arguments(layer, module.args, _py)
            return [], str(layer_macro("torch", layer)(args, given, c))
        if isinstance(module, L.BlockCall):
            parts = [c, *block_arguments(module, self.definitions, _py)]
            return [], f"{_py(module.callee)}({', '.join(parts)})"
        if module.items is None:
            pre: list[str] = []
            srcs = []
            for stmt in module.body:
                if isinstance(stmt, L.Member):
                    inner, src = self.module(stmt.module)
                    pre.extend(inner)
                    srcs.append(src)
                else:
                    pre.extend(self.stmt(stmt, None))
            return pre, "nn.Sequential(" + ", ".join(srcs) + ")"
        lines = [f"{module.items}: list[nn.Module] = []"]
        for stmt in module.body:
            lines.extend(self.stmt(stmt, module.items))
        return lines, f"nn.Sequential(*{module.items})"

    # ---- forward -----------------------------------------------------------------------------
    def condition_names(self, flow: L.Flow) -> set[str]:
        """Values forward reads in conditions: stored on the module by the constructor."""
        out: set[str] = set()
        for node in L.walk(flow):
            if isinstance(node, L.Branch):
                out |= {n.name for n in L.walk(node.cond) if isinstance(n, L.Var)}
        return out

    def forward(self, flow: L.Flow) -> list[str]:
        lines: list[str] = []
        self.namer = Namer({"self", "x", *self.d.aux_outputs})
        self.fwd(flow, "x", "x", lines)
        if self.d.aux_outputs:
            # as torchvision's GoogLeNet: the main output, then the auxiliaries, deepest first
            outputs = ", ".join(["x", *reversed(self.d.aux_outputs)])
            lines.append("if self.training:")
            lines.append(f"    return {outputs}")
        lines.append("return x")
        return lines

    def fwd(self, flow: L.Flow, src: str, dst: str, lines: list[str]) -> None:
        if isinstance(flow, L.Pipe):
            if not flow.steps and src != dst:
                lines.append(f"{dst} = {src}")
            for step in flow.steps:
                self.fwd(step, src, dst, lines)
                src = dst
        elif isinstance(flow, L.UseGroup):
            for n in flow.members:
                lines.append(f"{dst} = self.{n}({src})")
                src = dst
            if not flow.members and src != dst:
                lines.append(f"{dst} = {src}")
        elif isinstance(flow, L.UseMember):
            if flow.optional:
                if src != dst:
                    lines.append(f"{dst} = {src}")
                lines.append(f"if self.{flow.member} is not None:")
                lines.append(f"    {dst} = self.{flow.member}({dst})")
            else:
                lines.append(f"{dst} = self.{flow.member}({src})")
        elif isinstance(flow, L.Branch):
            cond = python(flow.cond, Spelling(var=lambda n: f"self.{n}"))
            then: list[str] = []
            orelse: list[str] = []
            self.fwd(flow.then, src, dst, then)
            self.fwd(flow.orelse, src, dst, orelse)
            lines.append(f"if {cond}:")
            lines.extend(indent(then or ["pass"]))
            lines.append("else:")
            lines.extend(indent(orelse or ["pass"]))
        elif isinstance(flow, L.Aux):
            tap: list[str] = []
            self.fwd(flow.flow, src, flow.var, tap)
            lines.append(f"{flow.var}: Tensor | None = None")
            lines.append("if self.training:")
            lines.extend(indent(tap))
            if src != dst:
                lines.append(f"{dst} = {src}")
        elif isinstance(flow, L.Combine):
            self.combine(flow, src, dst, lines)
        elif isinstance(flow, L.Operation):
            layer = get_layer(flow.layer)
            assert layer is not None
            args, given = layer_arguments(layer, flow.args, _py)
            text = str(layer_macro("torch", layer, "_fn")(args, given, src))
            self.torch |= text.startswith("torch.")
            self.functional |= text.startswith("F.")
            lines.append(f"{dst} = {text}")
        else:
            raise error("E0902", f"internal error: the torch backend cannot print {flow.kind}")

    def combine(self, flow: L.Combine, src: str, dst: str, lines: list[str]) -> None:
        if flow.op == "residual":
            out = self.namer.new("out")
            self.fwd(flow.branches[0], src, out, lines)
            identity = src
            if flow.shortcut is not None:
                identity = self.namer.new("identity")
                self.fwd(flow.shortcut, src, identity, lines)
            lines.append(f"{dst} = {out} + {identity}")
            return
        if flow.op == "multiply":
            scale = self.namer.new("scale")
            self.fwd(flow.branches[0], src, scale, lines)
            lines.append(f"{dst} = {src} * {scale}")
            return
        inputs = [src] * len(flow.branches)
        if flow.op == "chunk":  # branch i reads part i
            inputs = [self.namer.new("part") for _ in flow.branches]
            lines.append(f"{', '.join(inputs)} = {src}.chunk({len(inputs)}, dim={flow.axis})")
        branches = []
        for b, part in zip(flow.branches, inputs, strict=True):
            var = self.namer.new("branch")
            self.fwd(b, part, var, lines)
            branches.append(var)
        if flow.op == "add":
            lines.append(f"{dst} = {' + '.join(branches)}")
        elif flow.op in ("concat", "chunk"):
            self.torch = True
            lines.append(f"{dst} = torch.cat([{', '.join(branches)}], dim={flow.axis})")
        else:
            raise error("E0902", f"internal error: the torch backend cannot print `{flow.op}`")


# ---- initialisation ------------------------------------------------------------------------


def _init_call(rule: L.Init, tensor: str) -> str:
    fn = FUNCTIONS[rule.func]
    args = non_default(fn, {a.name: a.value.value for a in rule.args})  # type: ignore[union-attr]
    parts = [tensor]
    if fn.name == "constant":
        parts.append(repr(args.pop("value")))
    parts += [f"{k}={v!r}" for k, v in args.items()]
    return f"nn.init.{fn.torch}({', '.join(parts)})"


def _init_section(rules: tuple[L.Init, ...]) -> list[str]:
    """The arch's rules after every member is built, as torchvision writes them: one
    ``for m in self.modules()`` loop over consecutive layer-kind rules (a module has one kind,
    so their order within a kind is all that matters), one loop per block-member rule, the
    arch's own members by attribute; a guard wraps its rule."""
    lines: list[str] = []
    i = 0
    while i < len(rules):
        rule = rules[i]
        if rule.member is None and rule.guard is None:
            run: dict[str, list[str]] = {}
            while i < len(rules) and rules[i].member is None and rules[i].guard is None:
                r = rules[i]
                run.setdefault(r.layer, []).extend(_apply(r, "m"))
                i += 1
            lines.append("for m in self.modules():")
            for n, (kind, body) in enumerate(run.items()):
                layer = get_layer(kind)
                assert layer is not None
                lines.append(
                    f"    {'if' if n == 0 else 'elif'} isinstance(m, nn.{layer.torch_class}):"
                )
                lines.extend(indent(body, 2))
            continue
        step: list[str]
        if rule.member is None:
            layer = get_layer(rule.layer)
            assert layer is not None
            step = ["for m in self.modules():", f"    if isinstance(m, nn.{layer.torch_class}):"]
            step += indent(_apply(rule, "m"), 2)
        elif rule.block is not None:
            step = ["for m in self.modules():", f"    if isinstance(m, {rule.block}):"]
            step += indent(_apply(rule, f"m.{rule.member}"), 2)
        else:
            step = _apply(rule, f"self.{rule.member}")
        if rule.guard is not None:
            step = [f"if {_py(rule.guard)}:", *indent(step)]
        lines.extend(step)
        i += 1
    return lines


def _apply(rule: L.Init, module: str) -> list[str]:
    """Set ``rule``'s tensor of ``module`` (Python source), going down the rule's path of block
    members (``m.conv1.conv``); absent members and tensors are skipped."""
    checks = []
    if rule.path:
        if rule.absent_member:
            checks.append(f"{module} is not None")
        for name, absent in zip(rule.path, rule.absent_path, strict=True):
            module = f"{module}.{name}"
            if absent:
                checks.append(f"{module} is not None")
    if rule.item is not None:
        module = f"{module}[{rule.item}]"
    call = _init_call(rule, f"{module}.{rule.tensor}")
    if rule.absent_member and not rule.path:
        checks.append(f"{module} is not None")
    if rule.absent_tensor:
        checks.append(f"{module}.{rule.tensor} is not None")
    if not checks:
        return [call]
    return [f"if {' and '.join(checks)}:", f"    {call}"]
