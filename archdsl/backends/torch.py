"""PyTorch printer: one ``nn.Module`` class per definition of the lowered model.

``__init__`` prints the constructor statements in their order (the state_dict's order), forward
the forward graph. Everything semantic was decided in lowering; this module chooses spelling.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable

from archdsl import __version__
from archdsl.backends.base import (
    block_arguments,
    environment,
    feature_info,
    indent,
    layer_arguments,
    layer_macro,
    list_conversions,
    loop_header,
    member_key,
    subscript,
)
from archdsl.backends.exprs import Spelling, default_value, python, requirements
from archdsl.backends.text import docstring, docstring_lines
from archdsl.errors import error
from archdsl.initializers import FUNCTIONS, non_default
from archdsl.ir import lowered as L
from archdsl.layers.registry import LayerType, get_layer
from archdsl.names import MODULE_NAMES, Namer

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
        assert e.member is not None
        key = member_key(e.member, e.suffix, lambda x: python(x, _SPELL))
        return f"self.get_submodule({key}).out_channels"
    return f"self.{e.member}.out_channels"


_SPELL = Spelling(channels=_channels)
# forward reads the constructor's values as the module's attributes
_ATTRIBUTES = Spelling(var=lambda n: f"self.{n}")


def _submodule(name: str) -> str:
    """A loop member in forward: an attribute, or (a quoted name such as `block1-0`, which is
    no identifier) fetched by its name, a literal."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"self.{name}"
    return f"self.get_submodule({name!r})"


def _py(e: L.Expr) -> str:
    return python(e, _SPELL)


def _layer_arguments(
    layer: LayerType,
    given: tuple[L.Argument, ...],
    known: tuple[tuple[str, object], ...],
    render: Callable[[L.Expr], str] = _py,
) -> tuple[dict[str, str], set[str]]:
    args, names = layer_arguments(layer, given, render)
    if layer.axes == "permute":  # the order as numbers, for Permute([...]) and x.permute(...)
        dims = dict(known)["dims"]
        assert isinstance(dims, tuple)
        args["torch_dims"] = ", ".join(str(d) for d in dims)
    if layer.name == "slice":
        known_args = dict(known)
        args["subscript"] = subscript(known_args, known_args["dim"])
    return args, names


# activations torch applies in place, as torchvision's `nn.ReLU(inplace=True)`: no new tensor
_IN_PLACE = {"relu", "relu6", "silu", "hardswish"}
# layers whose output is a new tensor that autograd keeps no reference to (an activation's
# backward reads its output; a view or an identity may alias a value read elsewhere)
_FRESH = {"conv2d", "linear", "batchnorm2d", "layernorm", "layernorm2d"}
_FRESH_COMBINATIONS = {"residual", "add", "multiply"}


def _activation(s: L.Stmt) -> bool:
    return (
        isinstance(s, L.Member)
        and isinstance(s.module, L.LayerCall)
        and s.module.layer in _IN_PLACE
    )


def _exclusive(a: L.Expr | None, b: L.Expr | None) -> bool:
    """Whether two guards never hold together: `x == c1` and `x == c2`, c1 != c2
    (ConvBNActivation's one activation of several)."""

    def test(e: L.Expr | None) -> tuple[str, object] | None:
        if isinstance(e, L.Binary) and e.op == "==":
            if isinstance(e.left, L.Var) and isinstance(e.right, L.Const):
                return e.left.name, e.right.value
        return None

    x, y = test(a), test(b)
    return x is not None and y is not None and x[0] == y[0] and x[1] != y[1]


def _members(d: L.Definition) -> dict[str, L.Member]:
    return {s.name: s for s in d.body if isinstance(s, L.Member) and s.name is not None}


class Freshness:
    """Which values of the generated code are new tensors that only the next step reads and
    that autograd keeps no reference to, so that the next step may overwrite them: an
    activation in place, a residual's sum as `out += identity` (torchvision's own idioms,
    a tenth of MobileNetV2's forward time)."""

    def __init__(self, definitions: dict[str, L.Definition]) -> None:
        self.definitions = definitions
        self.blocks: dict[str, bool] = {}

    def module(self, m: L.Module) -> bool:
        if isinstance(m, L.LayerCall):
            return m.layer in _FRESH
        if isinstance(m, L.BlockCall) and isinstance(m.callee, L.BlockRef):
            return self.block(m.callee.name)
        return False

    def block(self, name: str) -> bool:
        """Whether the block's output is such a tensor, whatever its input."""
        if name not in self.blocks:
            self.blocks[name] = False  # a recursion reads it as not
            d = self.definitions.get(name)
            if d is not None and d.forward is not None:
                self.blocks[name] = self.end(d.forward, _members(d))
            elif d is not None:
                steps = [s for s in d.body if not isinstance(s, L.Let | L.Require | L.SetChannels)]
                end = steps[-1] if steps else None
                self.blocks[name] = (
                    isinstance(end, L.Member) and end.guard is None and self.module(end.module)
                )
        return self.blocks[name]

    def end(self, flow: L.Flow, members: dict[str, L.Member], before: bool = False) -> bool:
        """Whether ``flow``'s result is such a tensor, ``before``: whether its input is."""
        if isinstance(flow, L.Pipe):
            for step in flow.steps:
                before = self.end(step, members, before)
            return before
        if isinstance(flow, L.Combine):
            return flow.op in _FRESH_COMBINATIONS
        if isinstance(flow, L.UseMember) and flow.member in members:
            s = members[flow.member]
            absent = s.guard is not None or flow.optional  # then its input passes on
            return self.module(s.module) and (before or not absent)
        if isinstance(flow, L.Head):
            return self.end(flow.flow, members, before)
        return False

    def in_place(self, d: L.Definition) -> set[int]:
        """The activation members (their ``id``) that may overwrite their input: it is such
        a tensor at every use."""
        out: set[int] = set()
        members = _members(d)

        def sequence(body: tuple[L.Stmt, ...], ordered: bool) -> None:
            # whether the last item made such a tensor, and the guards of the optional
            # activations since: one of them built, it reads that tensor if no other is
            fresh, chain = False, []
            for s in body:
                if isinstance(s, L.Let | L.Require | L.SetChannels):
                    continue
                if isinstance(s, L.Loop):
                    sequence(s.body, ordered)
                    fresh, chain = False, []
                    continue
                assert isinstance(s, L.Member)
                if isinstance(s.module, L.Sequence):
                    sequence(s.module.body, True)
                if ordered and _activation(s):
                    if fresh and all(_exclusive(g, s.guard) for g in chain):
                        out.add(id(s))
                    if s.guard is None:
                        fresh = False
                    chain.append(s.guard)
                    continue
                fresh, chain = ordered and s.guard is None and self.module(s.module), []

        uses: dict[str, list[bool]] = {}

        def walk(flow: L.Flow, before: bool = False) -> None:
            if isinstance(flow, L.Pipe):
                for step in flow.steps:
                    walk(step, before)
                    before = self.end(step, members, before)
            elif isinstance(flow, L.UseMember):
                uses.setdefault(flow.member, []).append(before)
            elif isinstance(flow, L.Combine):
                for b in flow.branches:
                    walk(b)
                if flow.shortcut is not None:
                    walk(flow.shortcut)
            elif isinstance(flow, L.Branch):
                walk(flow.then)
                walk(flow.orelse)
            elif isinstance(flow, L.Aux | L.Head):
                walk(flow.flow)

        sequence(d.body, d.forward is None)
        if isinstance(d.forward, L.Pipe):  # a feature stage's output is returned as it is
            stages = {f.step for f in d.features if f.item is None}
            before = False
            for k, step in enumerate(d.forward.steps):
                walk(step, before)
                before = self.end(step, members, before) and k not in stages
        elif d.forward is not None:
            walk(d.forward)
        if d.forward is not None:
            for name, fresh in uses.items():
                if name in members and _activation(members[name]) and all(fresh):
                    out.add(id(members[name]))
        return out


def print_torch(model: L.LoweredModel) -> str:
    imports = {
        "torch": False,
        "F": False,
        "math": False,
        "any": True,
        "sequence": False,
        "named_tuple": False,
    }
    helpers = {
        "make_divisible": False,
        "stochastic_depth": False,
        "permute": False,
        "layernorm2d": False,
        "select": False,
        "slice": False,
        "pad_to": False,
        "pad_to_fn": False,
        "window_attention": False,
        "relative_attention": False,
    }
    needs = requirements(model.definitions)
    imports["math"] = "math" in needs
    helpers["make_divisible"] = "make_divisible" in needs
    classes = []
    definitions = {d.name: d for d in model.definitions}
    outputs = Namer({*definitions, *MODULE_NAMES, *(f.name for f in model.factories)})
    fresh = Freshness(definitions)
    for d in model.definitions:
        printer = _DefinitionPrinter(d, definitions, fresh)
        if d.aux_outputs:
            printer.outputs = outputs.new(f"{d.name}Outputs")
            classes.append(_outputs_class(d, printer.outputs))
            imports["named_tuple"] = True
        classes.append(printer.print())
        imports["torch"] |= printer.torch
        imports["F"] |= printer.functional
        imports["sequence"] |= any(p.type == "list" for p in d.params)
        for helper in [h for layer in printer.layers for h in layer.helpers] + sorted(
            printer.fn_helpers
        ):
            helpers[helper] = True
            imports["torch"] = True
    helpers["pad_to_fn"] |= helpers["pad_to"]  # the module calls the function
    imports["F"] |= helpers["layernorm2d"] or helpers["window_attention"] or helpers["pad_to_fn"]
    imports["math"] |= helpers["window_attention"]
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
            feature_info=feature_info(model),
        )
    )


def _outputs_class(d: L.Definition, name: str) -> str:
    """The named tuple an arch with auxiliary heads returns in training, as torchvision's
    GoogLeNetOutputs: the logits, then each auxiliary output, deepest first."""
    optional = [f"    {var}: Optional[Tensor]  # noqa: UP045" for var in reversed(d.aux_outputs)]
    doc = (
        f"`{d.name}`'s outputs in training: the logits, then the auxiliary heads' (deepest first)."
    )
    return "\n".join(
        [f"class {name}(NamedTuple):", *docstring_lines(doc, "    "), "", "    logits: Tensor"]
        + ["    # torch.jit.script reads `Optional[Tensor]` here, not `Tensor | None`"]
        + optional
    )


class _DefinitionPrinter:
    outputs = ""  # the named tuple of the outputs in training, with auxiliary heads

    def __init__(
        self, d: L.Definition, definitions: dict[str, L.Definition], fresh: Freshness
    ) -> None:
        self.d = d
        self.definitions = definitions
        self.torch = False
        self.functional = False
        self.layers: list = []  # type: ignore[type-arg]
        self.fn_helpers: set[str] = set()  # those of the inline operations
        self.fresh = fresh
        self.members = _members(d)
        self.in_place = fresh.in_place(d)

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
                        pre, src = self.module(stmt.module, id(stmt) in self.in_place)
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
                forward = self.methods(d.forward)
        if d.kind == "block":
            assert d.out_channels is not None
            body.append(f"self.out_channels = {_py(d.out_channels)}")
        head = d.head()
        if head is not None:
            body.append(f"self.head_hidden_size: int = {self.classifier_inputs(head)}")
        if d.features and not d.sequential:
            body.append(
                "self.feature_info: list[dict[str, Any]] = [dict(stage) for stage in FEATURE_INFO]"
            )
        body.extend(_init_section(d.init))
        lines = [f"class {d.name}({base}):", *docstring_lines(d.doc, "    "), ""]
        lines.append(f"    def __init__({', '.join(['self', *params])}) -> None:")
        lines.extend(indent(body, 2))
        lines.extend(indent(forward))
        return "\n".join(lines)

    def methods(self, flow: L.Flow) -> list[str]:
        """forward, and for an arch with a classifier head forward_features, forward_head and
        reset_classifier, as timm's models have them."""
        returns = f"Tensor | {self.outputs}" if self.d.aux_outputs else "Tensor"
        head = self.d.head()
        stages = self.forward_stages(flow) if self.d.features else []
        if head is None:
            return [
                "",
                f"def forward(self, x: Tensor) -> {returns}:",
                *indent(self.forward(flow)),
                *stages,
            ]
        steps = flow.steps[:-1] if isinstance(flow, L.Pipe) else ()
        features = L.Pipe(steps=tuple(s for s in steps if not isinstance(s, L.Aux)))
        lines = ["", "def forward_features(self, x: Tensor) -> Tensor:"]
        doc = '"""The features the classifier head reads."""'
        lines += indent([doc, *self.forward(features, auxiliaries=False)])
        lines += stages
        pre = L.Pipe(steps=head.flow.steps[: head.classifier])
        post = L.Pipe(steps=head.flow.steps[head.classifier :])
        lines += ["", "def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:"]
        body = ['"""The head on the features; `pre_logits`: what its classifier reads."""']
        self.namer = Namer({"self", "x", "pre_logits"})
        self.fwd(pre, "x", "x", body)
        # what the classifier layer reads: a fixed sequence's items before it run first
        before = [f"    x = self.{head.member}[{i}](x)" for i in range(head.item or 0)]
        if head.path:
            before = []  # a block's classifier: what the block reads
        body += ["if pre_logits:", *before, "    return x"]
        self.fwd(post, "x", "x", body)
        lines += indent([*body, "return x"])
        lines += ["", f"def forward(self, x: Tensor) -> {returns}:"]
        if self.d.aux_outputs:
            lines += indent(self.forward(flow))
        else:
            lines += indent(["x = self.forward_features(x)", "return self.forward_head(x)"])
        target = _classifier_target(head)
        layer, module = self.classifier_layer(head)
        args, given = layer_arguments(layer, module.args, _py)
        built = str(layer_macro("torch", layer)(args, given, "self.head_hidden_size"))
        lines += ["", "def reset_classifier(self, num_classes: int) -> None:"]
        lines += indent(
            [
                '"""A new classifier layer for `num_classes` classes (0: none, the head then',
                'gives what its classifier reads)."""',
                f"{target} = {built} if num_classes > 0 else nn.Identity()",
            ]
        )
        return lines

    def forward_stages(self, flow: L.Flow) -> list[str]:
        """The output of each feature stage, as timm's `features_only` models return them:
        forward's steps up to the last stage, each stage's output appended; a stage inside a
        sequence is read while its items are applied one by one."""
        self.namer = Namer({"self", "x"})
        stages = self.namer.new("stages")
        body = [
            '"""The output of each feature stage (`feature_info`), shallowest first."""',
            f"{stages}: list[Tensor] = []",
        ]
        # (step, group member) -> the positions of the items that are stages (None: its output)
        at: dict[tuple[int, str | None], list[int | None]] = {}
        for stage in self.d.features:
            at.setdefault((stage.step, stage.member), []).append(stage.item)
        steps = flow.steps if isinstance(flow, L.Pipe) else (flow,)
        for i, step in enumerate(steps[: self.d.features[-1].step + 1]):
            if isinstance(step, L.UseGroup):
                for name in step.members:
                    self.stage(_submodule(name), at.get((i, name), []), stages, body)
            elif isinstance(step, L.UseMember) and None not in at.get((i, step.member), [None]):
                self.stage(f"self.{step.member}", at[(i, step.member)], stages, body)
            elif not isinstance(step, L.Aux):
                self.fwd(step, "x", "x", body)
                member = step.member if isinstance(step, L.UseMember) else None
                if (i, member) in at:
                    body.append(f"{stages}.append(x)")
        body.append(f"return {stages}")
        self.torch = True
        head = ["", "@torch.jit.export", "def forward_stages(self, x: Tensor) -> list[Tensor]:"]
        return [*head, *indent(body)]

    def stage(self, module: str, items: list[int | None], stages: str, body: list[str]) -> None:
        """Apply ``module``, whose output is a stage (``items`` [None]), or some of whose
        items' outputs are (their positions), or none (``items`` empty)."""
        if None in items or not items:
            body.append(f"x = {module}(x)")
            if items:
                body.append(f"{stages}.append(x)")
            return
        i, item = self.namer.new("i"), self.namer.new("module")
        test = f"{i} == {items[0]}" if len(items) == 1 else f"{i} in {items!r}"
        body += [
            f"for {i}, {item} in enumerate({module}):",
            f"    x = {item}(x)",
            f"    if {test}:",
            f"        {stages}.append(x)",
        ]

    def classifier_layer(self, head: L.Head) -> tuple[LayerType, L.LayerCall]:
        body = self.d.body
        module: L.Module | None = None
        for name in (head.member, *head.path):
            member = next(s for s in body if isinstance(s, L.Member) and s.name == name)
            module = member.module
            if isinstance(module, L.BlockCall):
                assert isinstance(module.callee, L.BlockRef)
                body = self.definitions[module.callee.name].body
        assert module is not None
        if isinstance(module, L.Sequence):
            module = [s for s in module.body if isinstance(s, L.Member)][head.item or 0].module
        assert isinstance(module, L.LayerCall)
        layer = get_layer(module.layer)
        assert layer is not None
        return layer, module

    def classifier_inputs(self, head: L.Head) -> str:
        """The classifier layer's input width, read from the built layer."""
        layer, _ = self.classifier_layer(head)
        target = _classifier_target(head)
        attribute = "in_features" if layer.name == "linear" else "in_channels"
        return f"{target}.{attribute}"

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
        pre, src = self.module(stmt.module, id(stmt) in self.in_place)
        if stmt.name is None:
            assert items is not None
            step = pre + [f"{items}.append({src})"]
        elif stmt.suffix is not None:
            add = "register_parameter" if _is_tensor(stmt.module) else "add_module"
            step = pre + [f"self.{add}({member_key(stmt.name, stmt.suffix, _py)}, {src})"]
        else:
            step = pre + [f"self.{stmt.name} = {src}"]
        if stmt.update is not None:
            step.append(f"{stmt.update} = {_py(stmt.out_channels)}")
        if stmt.guard is None:
            return step
        absent = [f"self.{stmt.name} = None"] if stmt.name and stmt.suffix is None else []
        return [*absent, f"if {_py(stmt.guard)}:", *indent(step)]

    def module(self, module: L.Module, in_place: bool = False) -> tuple[list[str], str]:
        """Python source that builds ``module`` (an activation ``in_place``): (statements
        before it, the expression)."""
        c = _py(module.in_channels) if not isinstance(module, L.Sequence) else ""
        if isinstance(module, L.LayerCall):
            layer = get_layer(module.layer)
            assert layer is not None
            self.layers.append(layer)
            args, given = _layer_arguments(layer, module.args, module.known)
            if in_place:
                given.add("inplace")
            text = str(layer_macro("torch", layer)(args, given, c))
            self.torch |= "torch." in text
            return [], text
        if isinstance(module, L.BlockCall):
            parts = [c, *block_arguments(module, self.definitions, _py)]
            return [], f"{_py(module.callee)}({', '.join(parts)})"
        if module.items is None:
            pre: list[str] = []
            srcs = []
            for stmt in module.body:
                if isinstance(stmt, L.Member):
                    inner, src = self.module(stmt.module, id(stmt) in self.in_place)
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
        """Values forward reads in conditions and in operations' arguments: stored on the
        module by the constructor."""
        out: set[str] = set()
        for node in L.walk(flow):
            if isinstance(node, L.Branch):
                out |= {n.name for n in L.walk(node.cond) if isinstance(n, L.Var)}
            if isinstance(node, L.Operation):
                out |= {n.name for a in node.args for n in L.walk(a.value) if isinstance(n, L.Var)}
        return out

    def forward(self, flow: L.Flow, auxiliaries: bool = True) -> list[str]:
        lines: list[str] = []
        self.namer = Namer({"self", "x", *self.d.aux_outputs})
        self.fwd(flow, "x", "x", lines)
        if self.d.aux_outputs and auxiliaries:
            # as torchvision's GoogLeNet: the main output, then the auxiliaries, deepest first;
            # the logits alone without auxiliary heads (all optional, none built)
            outputs = ", ".join(["x", *reversed(self.d.aux_outputs)])
            taps = self.d.taps()
            if all(t.optional for t in taps):
                built = " or ".join(f"{t.var} is not None" for t in taps)
                lines.append(f"if self.training and ({built}):")
            else:
                lines.append("if self.training:")
            lines.append(f"    return {self.outputs}({outputs})")
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
                lines.append(f"{dst} = {_submodule(n)}({src})")
                src = dst
            if not flow.members and src != dst:
                lines.append(f"{dst} = {src}")
        elif isinstance(flow, L.UseMember) and flow.value:
            lines.append(f"{dst} = self.{flow.member}")
        elif isinstance(flow, L.UseMember):
            if flow.optional:
                if src != dst:
                    lines.append(f"{dst} = {src}")
                lines.append(f"if self.{flow.member} is not None:")
                lines.append(f"    {dst} = self.{flow.member}({dst})")
            else:
                call = _member_layer(self.d, flow.member)
                layer = get_layer(call.layer) if call is not None else None
                if layer is not None and layer.torch_call is not None:
                    applied = layer.torch_call.format(m=f"self.{flow.member}", x=src)
                    lines.append(f"{dst} = {applied}")
                else:
                    lines.append(f"{dst} = self.{flow.member}({src})")
        elif isinstance(flow, L.Branch):
            cond = python(flow.cond, _ATTRIBUTES)
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
            if flow.optional:
                assert isinstance(flow.flow, L.UseMember)
                lines.append(f"if self.{flow.flow.member} is not None and self.training:")
            else:
                lines.append("if self.training:")
            lines.extend(indent(tap))
            if src != dst:
                lines.append(f"{dst} = {src}")
        elif isinstance(flow, L.Combine):
            self.combine(flow, src, dst, lines)
        elif isinstance(flow, L.Head):
            self.fwd(flow.flow, src, dst, lines)
        elif isinstance(flow, L.Operation):
            layer = get_layer(flow.layer)
            assert layer is not None
            args, given = _layer_arguments(
                layer, flow.args, flow.known, lambda e: python(e, _ATTRIBUTES)
            )
            text = str(layer_macro("torch", layer, "_fn")(args, given, src))
            self.fn_helpers.update(layer.fn_helpers)
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
            if self.fresh.end(flow.branches[0], self.members):
                lines.append(f"{out} += {identity}")  # torchvision's: no new tensor
                lines.append(f"{dst} = {out}")
            else:
                lines.append(f"{dst} = {out} + {identity}")
            return
        if flow.op == "multiply":
            scale = _value(flow.branches[0])
            if scale is None:
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
            value = _value(b)
            if value is not None and flow.op == "add":
                branches.append(value)
                continue
            if value is not None:  # joined with batched values: one per sample
                ones = ", ".join(["-1"] * (_tensor_rank(self.d, b) - 1))
                branches.append(f"{value}.expand({src}.shape[0], {ones})")
                continue
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


def _is_tensor(module: L.Module) -> bool:
    layer = get_layer(module.layer) if isinstance(module, L.LayerCall) else None
    return layer is not None and layer.axes == "value"


def _value(flow: L.Flow) -> str | None:
    """A learnable tensor read as a value, as source (None: ``flow`` computes something)."""
    if isinstance(flow, L.UseMember) and flow.value:
        return f"self.{flow.member}"
    return None


def _member_layer(d: L.Definition, name: str) -> L.LayerCall | None:
    """The layer a named member of ``d`` builds, if it is one."""
    stmt = next((s for s in d.body if isinstance(s, L.Member) and s.name == name), None)
    return stmt.module if stmt is not None and isinstance(stmt.module, L.LayerCall) else None


def _tensor_rank(d: L.Definition, flow: L.Flow) -> int:
    """The rank of a tensor member's torch shape."""
    assert isinstance(flow, L.UseMember)
    call = _member_layer(d, flow.member)
    assert call is not None
    known = dict(call.known).get("shape")
    if isinstance(known, tuple):
        return len(known)
    shape = dict((a.name, a.value) for a in call.args)["shape"]
    assert isinstance(shape, L.ListOf)
    return len(shape.items)


def _classifier_target(head: L.Head) -> str:
    """The classifier layer as an attribute of the arch's module."""
    target = ".".join(["self", head.member, *head.path])
    return target + (f"[{head.item}]" if head.item is not None else "")


# ---- initialisation ------------------------------------------------------------------------


def _init_call(rule: L.Init, tensor: str) -> str:
    """The ``torch.nn.init`` call with the arguments that differ from its defaults; one that
    reads the arch's parameters is their expression, which ``__init__`` (where the rules are
    printed) has in scope."""
    fn = FUNCTIONS[rule.func]
    given = {a.name: a.value.value if isinstance(a.value, L.Const) else a.value for a in rule.args}
    args = {
        k: _py(v) if isinstance(v, L.Node) else repr(v) for k, v in non_default(fn, given).items()
    }
    parts = [tensor]
    if fn.name == "constant":
        parts.append(args.pop("value"))
    parts += [f"{k}={v}" for k, v in args.items()]
    return f"nn.init.{fn.torch}({', '.join(parts)})"


def _class(layer: LayerType) -> str:
    """The layer's torch class as the generated module names it: torch's, or a helper class
    the module defines."""
    return layer.torch_class if layer.helpers else f"nn.{layer.torch_class}"


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
                lines.append(f"    {'if' if n == 0 else 'elif'} isinstance(m, {_class(layer)}):")
                lines.extend(indent(body, 2))
            continue
        step: list[str]
        if rule.member is None:
            layer = get_layer(rule.layer)
            assert layer is not None
            step = ["for m in self.modules():", f"    if isinstance(m, {_class(layer)}):"]
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
    layer = get_layer(rule.layer)
    # a tensor member is its one tensor
    if layer is not None and layer.axes == "value":
        target = module
    else:  # a tensor of a part of the layer: `cpb_mlp.0.weight` is `cpb_mlp[0].weight`
        parts = (f"[{p}]" if p.isdigit() else f".{p}" for p in rule.tensor.split("."))
        target = module + "".join(parts)
    call = _init_call(rule, target)
    if rule.absent_member and not rule.path:
        checks.append(f"{module} is not None")
    if rule.absent_tensor:
        checks.append(f"{target} is not None")
    if not checks:
        return [call]
    return [f"if {' and '.join(checks)}:", f"    {call}"]
