"""Keras 3 printer: functional code, one function per definition of the lowered model.

Layers are created where the forward graph applies them and named after the torch module path
of the same spec (``layer1>0>conv1``), so the torch weights load by name on every Keras backend.
The Keras facts live here and in ``templates/keras``: channels-last, symmetric padding as
"same" where it keeps the size at stride 1, else ``ZeroPadding2D`` + "valid" (Keras "same" pads
strided convolutions differently), batch-norm momentum as ``1 - m``, flatten in channels-first
order (``Permute`` first).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    subscript,
)
from archdsl.backends.exprs import (
    Spelling,
    default_value,
    format_source,
    python,
    requirements,
)
from archdsl.backends.text import docstring, docstring_lines
from archdsl.errors import error
from archdsl.initializers import gain
from archdsl.ir import lowered as L
from archdsl.ir.combinators import COMBINATORS
from archdsl.layers.registry import LayerType, get_layer
from archdsl.layers.spatial import flatten_range
from archdsl.names import KERAS_PATH_SEPARATOR, MODULE_NAMES, RESERVED, Namer, snake_case

_PY_TYPES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "list": "Sequence[Any]",
    "size": "int | tuple[int, int]",
    "block": "Callable[..., Any]",
}
_SEP = KERAS_PATH_SEPARATOR


@dataclass(frozen=True)
class LayerName:
    """A Keras layer name as parts: literal text and Python expressions (an f-string)."""

    parts: tuple[tuple[bool, str], ...]  # (is_expression, text)

    def child(self, suffix: str) -> LayerName:
        if not self.parts:
            return LayerName(((False, suffix),))
        return LayerName(self.parts + ((False, _SEP + suffix),))

    def expr_child(self, expr: str, prefix: str = "") -> LayerName:
        sep = _SEP if self.parts else ""
        parts = self.parts + ((False, sep + prefix),) if (sep or prefix) else self.parts
        return LayerName(parts + ((True, expr),))

    def member(self, name: str, suffix: L.Expr, py: Callable[[L.Expr], str]) -> LayerName:
        """A numbered (``layer{index + 1}``) or quoted (``"block{stage}-{index}"``) member."""
        if not isinstance(suffix, L.Format):
            return self.expr_child(py(suffix), name)
        out = self.plus(_SEP + name) if self.parts else LayerName(((False, name),))
        for value, text in zip(suffix.values, suffix.texts[1:], strict=True):
            out = LayerName(out.parts + ((True, py(value)), (False, text)))
        return out

    def plus(self, text: str) -> LayerName:
        return LayerName(self.parts + ((False, text),))

    def source(self) -> str:
        texts, values = [""], []
        for is_expr, text in self.parts:
            if is_expr:
                values.append(text)
                texts.append("")
            else:
                texts[-1] += text
        return format_source(texts, values)


def print_keras(model: L.LoweredModel) -> str:
    # a block's function is its name in snake case, unless a spec value already uses that name
    values: set[str] = set()
    for d in model.definitions:
        values |= {p.name for p in d.params}
        for node in L.walk(d.body):
            if isinstance(node, L.Let):
                values.add(node.name)
            elif isinstance(node, L.Loop | L.Comprehension):
                values |= set(node.targets)
    # nor anything else the module or its functions name: imports, helpers, model functions,
    # factories, the functions' own locals; two blocks that snake-case alike get `_1`
    taken = values | MODULE_NAMES | RESERVED | {"position"}
    taken |= {d.name for d in model.definitions if d.kind == "arch"}
    taken |= {f.name for f in model.factories}
    namer = Namer(taken)
    fn_names = {}
    for d in model.definitions:
        if d.kind == "block":
            name = snake_case(d.name)
            fn_names[d.name] = namer.new(f"{name}_block" if name in taken else name)
    spell = Spelling(block=lambda n: fn_names.get(n, n))
    needs = requirements(model.definitions)
    imports = {
        "math": "math" in needs,
        "sequence": any(p.type == "list" for d in model.definitions for p in d.params),
        "callable": any(p.type == "block" for d in model.definitions for p in d.params),
    }
    helpers = {
        "make_divisible": "make_divisible" in needs,
        "ceil_extra": False,
        "adaptive_avg_pool2d": False,
        "channel_order": False,
        "torch_weight": False,
        "torch_bias": False,
        "trunc_normal": False,
        "learned": False,
        "feature_model": False,
        "attention": False,
        "pad_to": False,
        "window_attention": False,
        "relative_attention": False,
        "reshape_axes": False,
        "same_padding": False,
    }
    arch = model.definition(model.arch)
    init = _Init(arch, helpers, model.definitions, taken | set(fn_names.values()))
    # the layouts of each block's input and output, from their ranks (batch excluded) and
    # where a permute put a map's channels
    layouts = {
        i.type: (
            canonical(len(i.in_shapes[0]), i.in_order),
            canonical(len(i.out_shapes[0]), i.out_order),
        )
        for i in model.instances
        if i.kind == "block" and i.in_shapes
    }
    layouts[arch.name] = (canonical(len(model.input_shape)), canonical(len(model.output_shape)))
    functions = []
    definitions = {d.name: d for d in model.definitions}
    for d in model.definitions:
        printer = _DefinitionPrinter(d, fn_names, spell, helpers, init, definitions, layouts)
        printer.input_size = model.input_size
        functions.append(printer.print())
    imports["math"] |= (
        helpers["torch_bias"]
        or helpers["trunc_normal"]
        or helpers["attention"]
        or helpers["window_attention"]
        or helpers["reshape_axes"]
    )
    imports["sequence"] |= helpers["learned"] or helpers["reshape_axes"]
    factories = [
        {
            "name": f.name,
            "fn": f.arch,
            "args": "".join(f"{a.name!r}: {python(a.value, spell)}, " for a in f.args),
            "doc": docstring(f"{f.arch} configured as `{f.name}`."),
        }
        for f in model.factories
        if f.name != f.arch
    ]
    return (
        environment()
        .get_template("keras/module.py.j2")
        .render(
            title=docstring(model.title),
            version=__version__,
            spec=docstring(model.spec),
            imports=imports,
            helpers=helpers,
            functions=functions,
            factories=factories,
            feature_info=feature_info(model),
        )
    )


class _DefinitionPrinter:
    input_size: L.InputSize | None = None  # whether the model takes other input sizes

    def __init__(
        self,
        d: L.Definition,
        fn_names: dict[str, str],
        spell: Spelling,
        helpers: dict[str, bool],
        init: _Init,
        definitions: dict[str, L.Definition],
        layouts: dict[str, tuple[tuple[int, ...], tuple[int, ...]]],
    ) -> None:
        self.d = d
        self.layouts = layouts
        # each variable's layout: Keras axis i holds torch dimension layout[i] (batch excluded)
        self.lay: dict[str, tuple[int, ...]] = {}
        self.base = LayerName(())  # the names of the definition's layers start so
        self.permutes = 0  # the Permute layers named after their variable so far
        self.definitions = definitions
        self.init = init
        self.owner: str | None = None  # the named member whose sequence is being printed
        self.fn_names = fn_names
        self.spell = spell
        self.helpers = helpers
        self.members = {
            s.name: s for s in d.body if isinstance(s, L.Member) and s.name and s.suffix is None
        }
        self.loops = {s.id: s for s in d.body if isinstance(s, L.Loop)}
        taken = {"x", "name", "inputs", "in_channels", *fn_names.values()}
        taken |= set(init.overrides(d.name))
        if d.kind == "block":
            taken |= set(init.names.values())
        for node in L.walk(d.body):
            if isinstance(node, L.Let):
                taken.add(node.name)
            elif isinstance(node, L.Loop):
                taken |= set(node.targets) | ({node.index} if node.index else set())
        self.namer = Namer(taken | {p.name for p in d.params})
        # while a condition's sides are printed: the steps both sides start with, printed once
        # before it (flow node id -> variable; pipe node id -> (leading steps done, variable))
        self.computed: dict[int, str] = {}
        self.skipped: dict[int, tuple[int, str]] = {}

    def py(self, e: L.Expr) -> str:
        return python(e, self.spell)

    def print(self) -> str:
        d = self.d
        params = ["x: keras.KerasTensor"] if d.kind == "block" else []
        for p in d.params:
            text = f"{p.name}: {_PY_TYPES[p.type]}"
            if p.default is not None:
                text += f" = {default_value(p.default, self.spell)}"
            params.append(text)
        body: list[str] = list_conversions(d)
        if d.input is not None:
            if d.input.parametric:
                # the input size follows the model's parameters (EfficientNet's resolution)
                params.append("input_shape: tuple[int, ...] | None = None")
                body.append("if input_shape is None:")
                body.append(f"    input_shape = {self.channels_last(d.input.shape)}")
            else:
                value = d.input.value
                held = tuple(value[t] for t in canonical(len(value)))
                params.append(f"input_shape: tuple[int, ...] = {held!r}")
            if d.head() is not None:
                params += [
                    "include_top: bool = True",
                    "pooling: str | None = None",
                    'classifier_activation: str | None = "softmax"',
                ]
            if d.features:
                params.append("features_only: bool = False")
            params.append(f'name: str = "{d.name}"')
            if self.input_size is not None and not self.input_size.free:
                # the reason is text of the compiler's: literals only, never an f-string's
                chunks = textwrap.wrap(self.input_size.reason, 60, break_long_words=False)
                reason = [repr(c + " ") for c in chunks[:-1]] + [repr(chunks[-1])]
                body += [
                    f"expected = {self.channels_last(d.input.shape)}",
                    "if tuple(input_shape) != expected:",
                    "    raise ValueError(",
                    f'        f"{d.name} takes only {{expected}} inputs: "',
                    *(f"        {r}" for r in reason),
                    "    )",
                ]
            body.append('inputs = keras.Input(shape=input_shape, name="input")')
            body.append("x = inputs")
            prefix = LayerName(())
        else:
            params.extend(self.init.threaded)
            params.extend(f"{n}: Any = None" for n in self.init.overrides(d.name))
            params.append(f'name: str = "{self.fn_names[d.name]}"')
            prefix = LayerName(((True, "name"),))
        self.base = prefix
        start = len(body)
        lay_in, lay_out = self.layouts.get(d.name, (canonical(3), canonical(3)))
        self.lay["x"] = lay_in
        if d.forward is None:
            self.sequence_body(d.body, "x", prefix, body)
        else:
            for stmt in d.body:
                if isinstance(stmt, L.Let | L.Require):
                    body.extend(self.plain(stmt))
            self.fwd(d.forward, "x", "x", prefix, body)
        self.arrange("x", lay_out, body)
        if d.kind == "block" and any(re.search(r"\bin_channels\b", line) for line in body):
            body.insert(start, "in_channels = x.shape[-1]")  # what the printed layers read
        if d.kind == "arch":
            if d.features and d.head() is None:
                body += self.features_only("x")
            # auxiliary heads are outputs too: the main output, then the auxiliaries deepest first
            outs = ["x", *reversed(d.aux_outputs)]
            outputs = f"[{', '.join(outs)}]" if d.aux_outputs else "x"
            taps = d.taps()
            several = "include_top" if d.head() is not None else ""
            if taps and all(t.optional for t in taps):  # without auxiliary heads, the logits
                body.append(f"outputs = [o for o in ({', '.join(outs)}) if o is not None]")
                outputs = "outputs"
                several = " and ".join(filter(None, ["len(outputs) > 1", several]))
            if d.aux_outputs and several:
                outputs = f"{outputs} if {several} else x"
            body.append(f"return keras.Model(inputs=inputs, outputs={outputs}, name=name)")
            ret, fname = "keras.Model", d.name
        else:
            body.append("return x")
            ret, fname = "keras.KerasTensor", self.fn_names[d.name]
        lines = [f"def {fname}({', '.join(params)}) -> {ret}:", *docstring_lines(d.doc, "    ")]
        lines.extend(indent(body))
        return "\n".join(lines)

    def channels_last(self, shape: L.Expr) -> str:
        """The spec's input shape as Keras holds it (a [C, H, W] image as (H, W, C), any other
        rank as it is), as Python source."""
        rank = len(self.d.input.value) if self.d.input is not None else 3
        if isinstance(shape, L.ListOf):
            items = [self.py(shape.items[t]) for t in canonical(len(shape.items))]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        source = self.py(shape)
        return f"(*{source}[1:], {source}[0])" if rank == 3 else f"tuple({source})"

    def plain(self, stmt: L.Let | L.Require) -> list[str]:
        if isinstance(stmt, L.Let):
            return [f"{stmt.name} = {self.py(stmt.value)}"]
        return [
            f"if {self.py(L.Unary(op='not', operand=stmt.cond))}:",
            f"    raise ValueError({stmt.message!r})",
        ]

    # ---- forward -------------------------------------------------------------------------
    def fwd(self, flow: L.Flow, src: str, dst: str, prefix: LayerName, lines: list[str]) -> None:
        if id(flow) in self.computed:
            self.copy(self.computed[id(flow)], dst, lines)
        elif isinstance(flow, L.Pipe):
            steps = flow.steps
            if id(flow) in self.skipped:
                done, src = self.skipped[id(flow)]
                steps = steps[done:]
            if not steps:
                self.copy(src, dst, lines)
            for step in steps:
                self.fwd(step, src, dst, prefix, lines)
                src = dst
        elif isinstance(flow, L.UseGroup):
            self.copy(src, dst, lines)
            self.loop(self.loops[flow.loop], dst, prefix, lines)
        elif isinstance(flow, L.UseMember):
            self.member(self.members[flow.member], src, dst, prefix.child(flow.label), lines)
        elif isinstance(flow, L.Branch):
            marked = self.hoist_shared_steps(flow, src, prefix, lines)
            then: list[str] = []
            orelse: list[str] = []
            before = dict(self.lay)
            self.fwd(flow.then, src, dst, prefix, then)
            after = self.lay[dst]
            self.lay = before
            self.fwd(flow.orelse, src, dst, prefix, orelse)
            self.arrange(dst, after, orelse)  # both sides leave one layout
            if then:
                lines.append(f"if {self.py(flow.cond)}:")
                lines.extend(indent(then))
                if orelse:
                    lines.append("else:")
                    lines.extend(indent(orelse))
            elif orelse:
                lines.append(f"if {self.py(L.Unary(op='not', operand=flow.cond))}:")
                lines.extend(indent(orelse))
            for key in marked:  # only this condition's: an enclosing one's still hold
                self.computed.pop(key, None)
                self.skipped.pop(key, None)
        elif isinstance(flow, L.Aux) and flow.optional:
            assert isinstance(flow.flow, L.UseMember)
            stmt = self.members[flow.flow.member]
            assert stmt.guard is not None
            tap: list[str] = []
            bare = stmt.replace(guard=None)
            self.member(bare, src, flow.var, prefix.child(flow.flow.label), tap)
            self.arrange(flow.var, canonical(len(self.lay[flow.var])), tap)
            lines += [f"{flow.var} = None", f"if {self.py(stmt.guard)}:", *indent(tap)]
            self.copy(src, dst, lines)
        elif isinstance(flow, L.Aux):
            self.fwd(flow.flow, src, flow.var, prefix, lines)
            self.arrange(flow.var, canonical(len(self.lay[flow.var])), lines)
            self.copy(src, dst, lines)
        elif isinstance(flow, L.Combine):
            self.combine(flow, src, dst, prefix, lines)
        elif isinstance(flow, L.Head):
            self.head(flow, src, dst, prefix, lines)
        elif isinstance(flow, L.Operation):
            layer = get_layer(flow.layer)
            assert layer is not None
            self.layer(flow, src, dst, prefix.child(flow.label), lines)
        else:
            raise error("E0902", f"internal error: the Keras backend cannot print {flow.kind}")

    def head(self, flow: L.Head, src: str, dst: str, prefix: LayerName, lines: list[str]) -> None:
        """The classifier head, as keras.applications builds it: with `include_top`, the head
        and `classifier_activation` on its scores; without, the features, pooled globally by
        `pooling` ("avg" or "max")."""
        src = self.arrange(src, canonical(len(self.lay[src])), lines)  # global pooling reads it
        before = dict(self.lay)
        if self.d.features:
            lines += self.features_only(src)
        top: list[str] = []
        self.fwd(flow.flow, src, dst, prefix, top)
        self.arrange(dst, canonical(len(self.lay[dst])), top)
        self.lay = before
        taken = {
            n.label
            for n in L.walk(self.d.forward)
            if isinstance(n, L.UseMember | L.Operation | L.Combine)
        }
        names = Namer(taken)
        predictions, avg, most = (names.new(n) for n in ("predictions", "avg_pool", "max_pool"))
        top += [
            "if classifier_activation is not None:",
            f"    {dst} = keras.layers.Activation(",
            f'        classifier_activation, name="{predictions}"',
            f"    )({dst})",
        ]
        lines += ["if include_top:", *indent(top)]
        if len(self.lay[src]) != 3:  # the features are no feature map: nothing to pool
            lines += [
                "elif pooling is not None:",
                "    raise ValueError(",
                f'        f"pooling needs feature maps; the features are {{tuple({src}.shape)}}"',
                "    )",
            ]
        else:
            lines += self.pooling(src, dst, avg, most)
        if src != dst:
            lines += ["else:", f"    {dst} = {src}"]
        # either way a canonical layout, of the output's rank with the top, the features' without
        self.lay[dst] = self.layouts[self.d.name][1]

    @staticmethod
    def pooling(src: str, dst: str, avg: str, most: str) -> list[str]:
        return [
            'elif pooling == "avg":',
            f'    {dst} = keras.layers.GlobalAveragePooling2D(name="{avg}")({src})',
            'elif pooling == "max":',
            f'    {dst} = keras.layers.GlobalMaxPooling2D(name="{most}")({src})',
            "elif pooling is not None:",
            "    raise ValueError(",
            '        f"pooling must be None, \\"avg\\" or \\"max\\", not {pooling!r}"',
            "    )",
        ]

    def features_only(self, src: str) -> list[str]:
        """With `features_only`, the model of the feature stages' outputs (``src``: the
        features the head reads): each is the output of the last layer named by the stage's
        path, or inside it, since layers carry the torch module paths."""
        self.helpers["feature_model"] = True
        paths = [s.layer.replace(".", _SEP) for s in self.d.features]
        return [
            "if features_only:",
            f"    return feature_model(inputs, {src}, {paths!r}, name)",
        ]

    def ready(self, flow: L.Flow) -> str | None:
        """The variable that already holds ``flow``'s output, if it was printed before an `if`."""
        if id(flow) in self.computed:
            return self.computed[id(flow)]
        if isinstance(flow, L.Pipe) and id(flow) in self.skipped:
            done, var = self.skipped[id(flow)]
            return var if done == len(flow.steps) else None
        return None

    def hoist_shared_steps(
        self, flow: L.Branch, src: str, prefix: LayerName, lines: list[str]
    ) -> set[int]:
        """Print the layers both sides of a condition apply first once, before the `if`, so
        that each layer is created by one statement (Keras builds layers inline). Returns the
        node ids it marked as printed."""
        a, b = _steps(flow.then), _steps(flow.orelse)
        shared = 0
        while shared < min(len(a), len(b)):
            if a[shared][1] == b[shared][1]:
                shared += 1
                continue
            # a combinator's first branch reads the combinator's input (unless it splits it):
            # compare inside it
            side = next(
                (
                    s
                    for s in (a, b)
                    if isinstance(s[shared][1], L.Combine) and not _splits(s[shared][1])
                ),
                None,
            )
            if side is None:
                break
            combine = side[shared][1]
            assert isinstance(combine, L.Combine)
            side[shared:] = _steps(combine.branches[0])
        var, run = src, None
        marked: set[int] = set()
        for (pa, step), (pb, other) in zip(a[:shared], b[:shared], strict=True):
            if (id(pa), id(pb)) != run:  # a fresh variable per pipe, so each pipe's stays
                run, source, var = (id(pa), id(pb)), var, self.namer.new("out")
                self.fwd(step, source, var, prefix, lines)
            else:
                self.fwd(step, var, var, prefix, lines)
            for pipe, node in ((pa, step), (pb, other)):
                if pipe is None:
                    self.computed[id(node)] = var
                    marked.add(id(node))
                else:
                    done, _ = self.skipped.get(id(pipe), (0, var))
                    self.skipped[id(pipe)] = (done + 1, var)
                    marked.add(id(pipe))
        return marked

    def combine(
        self, flow: L.Combine, src: str, dst: str, prefix: LayerName, lines: list[str]
    ) -> None:
        name = prefix.child(flow.label).source()
        if flow.op == "residual":
            out = self.ready(flow.branches[0]) or self.namer.new("out")
            self.branch(flow.branches[0], src, out, prefix, lines)
            identity = src
            if flow.shortcut is not None:
                identity = self.namer.new("identity")
                self.fwd(flow.shortcut, src, identity, prefix, lines)
            self.arrange(out, self.lay[identity], lines)
            lines.append(f"{dst} = keras.layers.Add(name={name})([{out}, {identity}])")
            self.lay[dst] = self.lay[identity]
            return
        have = self.lay[src]
        axis = None
        if flow.axis is not None:  # torch's dimension, where this layout holds it
            axis = have.index(flow.axis - 1) + 1
            axis = -1 if axis == len(have) else axis
        inputs = [src] * len(flow.branches)
        if flow.op == "chunk":  # branch i reads part i
            inputs = [self.namer.new("part") for _ in flow.branches]
            split = f"keras.ops.split({src}, {len(inputs)}, axis={axis})"
            lines.append(f"{', '.join(inputs)} = {split}")
            for part in inputs:
                self.lay[part] = have
        branches = []
        for b, part in zip(flow.branches, inputs, strict=True):
            var = self.ready(b) or self.namer.new("branch")
            self.branch(b, part, var, prefix, lines, batch=flow.op in ("concat", "chunk"))
            self.arrange(var, have, lines)  # joined in the input's layout
            branches.append(var)
        self.lay[dst] = have
        joined = ", ".join(branches)
        if flow.op == "add":
            lines.append(f"{dst} = keras.layers.Add(name={name})([{joined}])")
        elif flow.op in ("concat", "chunk"):
            lines.append(f"{dst} = keras.layers.Concatenate(axis={axis}, name={name})([{joined}])")
        elif flow.op == "multiply":
            lines.append(f"{dst} = keras.layers.Multiply(name={name})([{src}, {branches[0]}])")
        else:
            raise error("E0902", f"internal error: the Keras backend cannot print `{flow.op}`")

    # ---- members ---------------------------------------------------------------------------
    def member(self, stmt: L.Member, src: str, dst: str, name: LayerName, lines: list[str]) -> None:
        if stmt.implied:  # forward applies it exactly where it exists
            stmt = stmt.replace(guard=None)
        body: list[str] = []
        inner = src
        if stmt.guard is not None:
            self.copy(src, dst, lines)
            inner = dst
        before = self.lay[inner]
        module = stmt.module
        if isinstance(module, L.Sequence):
            self.copy(inner, dst, body)
            outer, self.owner = self.owner, stmt.name
            self.sequence_body(module.body, dst, name, body)
            self.owner = outer
        elif isinstance(module, L.LayerCall):
            self.layer(module, inner, dst, name, body, (stmt.name, None))
        else:
            # a block function takes and returns its tensors in their canonical layout
            callee = module.callee.name if isinstance(module.callee, L.BlockRef) else None
            lay_in, lay_out = self.layouts.get(callee or "", (canonical(len(before)),) * 2)
            inner = self.arrange(inner, lay_in, body)
            parts = [inner, *block_arguments(module, self.definitions, self.py)]
            parts += self.init.values_passed(self.d)
            if stmt.name is not None and stmt.suffix is None:
                parts += self.init.passed(self.d, stmt.name, module.callee, self.py)
            parts.append(f"name={name.source()}")
            body.append(f"{dst} = {self.py(module.callee)}({', '.join(parts)})")
            self.lay[dst] = lay_out
        if stmt.guard is not None:
            self.arrange(dst, before, body)  # the same layout whether it is built or not
            lines.append(f"if {self.py(stmt.guard)}:")
            lines.extend(indent(body))
        else:
            lines.extend(body)

    def layer(
        self,
        call: L.LayerCall | L.Operation,
        src: str,
        dst: str,
        name: LayerName,
        lines: list[str],
        target: tuple[str | None, int | None] = (None, None),
        extra: dict[str, str] | None = None,
    ) -> None:
        layer = get_layer(call.layer)
        assert layer is not None
        have = self.lay[src]
        known = dict(call.known)
        want = _wanted(layer, have, known)
        src = self.arrange(src, want, lines, dst, name.plus(">permute").source())
        args, given = layer_arguments(layer, call.args, self.py)
        args.update(extra or {})
        # a Reshape of the Keras axes that hold the dimensions; where the model takes other
        # input sizes, whose sizes a Reshape cannot name, a layer reading them at run time
        dynamic = self.input_size is not None and self.input_size.free
        if layer.axes == "order":  # Flatten, or a Reshape merging the Keras axes that hold them
            first, last = flatten_range(known["start"], known["end"], len(want))
            if (first, last) != (0, len(want) - 1):
                a, b = want.index(first) + 1, want.index(last) + 1
                args["target"] = _reshaped(src, a, b, len(want), "-1")
                if dynamic:
                    args["axes"] = f"{a}, {b}"
                    self.helpers["reshape_axes"] = True
        if layer.axes == "split":
            k = want.index(known["dim"] - 1) + 1
            sizes = dict((a.name, a.value) for a in call.args)["sizes"]
            parts = (
                ", ".join(self.py(i) for i in sizes.items)
                if isinstance(sizes, L.ListOf)
                else f"*{self.py(sizes)}"
            )
            args["target"] = _reshaped(src, k, k, len(want), parts)
            if dynamic:
                args["axis"], args["parts"] = str(k), f"({parts},)"
                self.helpers["reshape_axes"] = True
        if layer.axes in ("select", "slice"):
            axis = want.index(known["dim"] - 1) + 1
            args["axis"] = str(axis)
            if layer.name == "slice":
                args["subscript"] = subscript(known, axis)
        for helper in ("attention", "pad_to", "window_attention", "relative_attention"):
            self.helpers[helper] |= helper in layer.helpers or layer.name == helper
        exprs = {a.name: a.value for a in call.args}
        for size in layer.sizes:  # the larger dimension, where the code compares it with 1
            args[size + "_max"] = self.size_max(exprs.get(size), args[size])
        if layer.tensors:
            fan = self.kernel_area(exprs.get("kernel"), args.get("kernel", "1"))
            args["init"] = self.init.kwargs(self.d, target, layer, args, src, False, self.py, fan)
            if layer.name == "conv2d":
                args["init_dw"] = self.init.kwargs(
                    self.d, target, layer, args, src, True, self.py, fan
                )
        if layer.name == "stochastic_depth":  # one draw per sample, whatever the rank
            args["noise_shape"] = repr((None, *(1,) * len(want)))
        if layer.name == "conv2d":
            args["pad_mode"] = _pad_mode(args["padding"], known, given)
            if args["pad_mode"] == "runtime":
                self.helpers["same_padding"] = True
                sizes = ", ".join(args[n] for n in ("kernel", "stride", "padding"))
                args["same"] = f"same_padding({sizes})"
        if "ceil_mode" in given:
            self.helpers["ceil_extra"] = True
        if layer.name == "adaptive_avgpool2d" and args["output"] != "1":
            self.helpers["adaptive_avg_pool2d"] = True
        if layer.name == "channel_shuffle":
            self.helpers["channel_order"] = True
        if layer.axes == "value":
            self.helpers["learned"] = True
        if "momentum" in args:
            m = dict((a.name, a.value) for a in call.args).get("momentum")
            if m is None:
                args["keras_momentum"] = repr(round(1 - layer.schema.default("momentum"), 12))
            elif isinstance(m, L.Const):
                args["keras_momentum"] = repr(round(1 - m.value, 12))  # type: ignore[operator]
            else:
                args["keras_momentum"] = f"1 - ({args['momentum']})"
        text = str(
            layer_macro("keras", layer)(
                args, given, dict(call.known), src, dst, lambda s: name.plus(s).source()
            )
        )
        lines.extend(line for line in text.splitlines() if line.strip())
        self.lay[dst] = _arranged(layer, want, known)

    # ---- layouts -------------------------------------------------------------------------
    def copy(self, src: str, dst: str, lines: list[str]) -> None:
        if src != dst:
            lines.append(f"{dst} = {src}")
            self.lay[dst] = self.lay[src]

    def arrange(
        self,
        var: str,
        want: tuple[int, ...],
        lines: list[str],
        dst: str | None = None,
        name: str | None = None,
    ) -> str:
        """``var`` in layout ``want``: a ``Permute`` into ``dst`` (default ``var``) where it is
        held otherwise. Returns the variable that holds it."""
        have = self.lay[var]
        if have == want:
            return var
        out = dst or var
        dims = tuple(have.index(t) + 1 for t in want)
        if name is None:  # a name of its own: Keras's would be `permute`, a torch path too
            self.permutes += 1
            name = self.base.child(f"{out}>permute_{self.permutes}").source()
        lines.append(f"{out} = keras.layers.Permute({dims!r}, name={name})({var})")
        self.lay[out] = want
        return out

    def branch(
        self,
        flow: L.Flow,
        src: str,
        dst: str,
        prefix: LayerName,
        lines: list[str],
        batch: bool = False,
    ) -> None:
        """A combinator's branch: a flow, or a learnable tensor read beside ``src``, in its
        layout (with ``batch``, one copy per sample)."""
        if not (isinstance(flow, L.UseMember) and flow.value):
            self.fwd(flow, src, dst, prefix, lines)
            return
        stmt = self.members[flow.member]
        assert isinstance(stmt.module, L.LayerCall)
        have = self.lay[src]
        shape = dict(stmt.module.known).get("shape")
        rank = len(shape) if isinstance(shape, tuple) else len(have)
        axes = have if rank == len(have) else (0, *(t + 1 for t in have))
        extra = {
            "axes": repr(axes) if axes != tuple(range(rank)) else "",
            "batch": "True" if batch else "",
        }
        self.layer(
            stmt.module, src, dst, prefix.child(flow.label), lines, (flow.member, None), extra
        )
        self.lay[dst] = have

    def maybe_pair(self, e: L.Expr) -> bool:
        """Whether a size argument may be [height, width]: a literal list, or an expression of
        a `size` parameter."""
        sizes = {p.name for p in self.d.params if p.type == "size"}
        return isinstance(e, L.ListOf) or any(
            isinstance(n, L.Var) and n.name in sizes for n in L.walk(e)
        )

    def size_max(self, e: L.Expr | None, source: str) -> str:
        if e is None or not self.maybe_pair(e):
            return source
        if isinstance(e, L.ListOf):
            return f"max({', '.join(self.py(i) for i in e.items)})"
        return f"({source} if isinstance({source}, int) else max({source}))"

    def kernel_area(self, e: L.Expr | None, source: str) -> str:
        """`` * kernel elements`` of a conv's fan-in as source ("" for a 1x1 kernel)."""
        if source == "1":
            return ""
        if e is None or not self.maybe_pair(e):
            return f" * {source} ** 2"
        if isinstance(e, L.ListOf):
            return "".join(f" * {self.py(i)}" for i in e.items)
        return f" * math.prod(({source}, {source}) if isinstance({source}, int) else {source})"

    def sequence_body(
        self, body: tuple[L.Stmt, ...], var: str, prefix: LayerName, lines: list[str]
    ) -> None:
        """Apply anonymous items in order to ``var``; names count up like nn.Sequential indices."""
        position: list[int | str] = [0]  # a fixed index, or the name of a counter variable

        def run(stmts: tuple[L.Stmt, ...], out: list[str]) -> None:
            for stmt in stmts:
                if isinstance(stmt, L.Let | L.Require):
                    out.extend(self.plain(stmt))
                elif isinstance(stmt, L.Member):
                    pos = position[0]
                    if stmt.guard is not None and isinstance(pos, int):
                        counter = self.namer.new("position")
                        out.append(f"{counter} = {pos}")
                        position[0] = pos = counter
                    name = (
                        prefix.child(str(pos)) if isinstance(pos, int) else prefix.expr_child(pos)
                    )
                    step: list[str] = []
                    before = self.lay[var]
                    plain = stmt.replace(guard=None)
                    if isinstance(stmt.module, L.LayerCall):
                        item = pos if isinstance(pos, int) and self.owner else None
                        target = (self.owner, item) if item is not None else (None, None)
                        self.layer(stmt.module, var, var, name, step, target)
                    else:
                        outer, self.owner = self.owner, None
                        self.member(plain, var, var, name, step)
                        self.owner = outer
                    if isinstance(pos, int):
                        position[0] = pos + 1
                    else:
                        step.append(f"{pos} += 1")
                    if stmt.guard is not None:
                        self.arrange(var, before, step)
                        out.append(f"if {self.py(stmt.guard)}:")
                        out.extend(indent(step))
                    else:
                        out.extend(step)
                elif isinstance(stmt, L.Loop):
                    pos = position[0]
                    if isinstance(pos, int):
                        counter = self.namer.new("position")
                        out.append(f"{counter} = {pos}")
                        position[0] = counter
                    inner: list[str] = []
                    entry = self.lay[var]
                    run(stmt.body, inner)
                    self.arrange(var, entry, inner)  # every iteration starts alike
                    out.append(loop_header(stmt, self.py))
                    out.extend(indent(inner or ["pass"]))

        run(body, lines)

    def loop(self, stmt: L.Loop, var: str, prefix: LayerName, lines: list[str]) -> None:
        body: list[str] = []
        entry = self.lay[var]
        for s in stmt.body:
            if isinstance(s, L.Let | L.Require):
                body.extend(self.plain(s))
            elif isinstance(s, L.Loop):
                self.loop(s, var, prefix, body)
            elif isinstance(s, L.Member):
                assert s.name is not None and s.suffix is not None
                name = prefix.member(s.name, s.suffix, self.py)
                self.member(s, var, var, name, body)
        self.arrange(var, entry, body)  # every iteration starts alike
        lines.append(loop_header(stmt, self.py))
        lines.extend(indent(body or ["pass"]))


def canonical(rank: int, order: tuple[int, ...] = ()) -> tuple[int, ...]:
    """How Keras holds a torch tensor of ``rank`` dimensions (batch excluded) between blocks:
    a map as [H, W, C], wherever torch holds its channels (``order``: a permuted map's
    dimensions as [C, H, W] numbers them), any other rank in torch's order."""
    if rank != 3:
        return tuple(range(rank))
    order = order or (0, 1, 2)
    return tuple(order.index(d) for d in (1, 2, 0))


def _reshaped(src: str, a: int, b: int, rank: int, middle: str) -> str:
    """A Reshape's target for ``src``: its Keras axes ``a`` to ``b`` (batch 0) become
    ``middle``, the axes around them as they are."""
    head = f"*{src}.shape[1:{a}], " if a > 1 else ""
    tail = f", *{src}.shape[{b + 1}:]" if b < rank else ""
    return f"({head}{middle}{tail})"


def _wanted(layer: LayerType, have: tuple[int, ...], known: dict[str, Any]) -> tuple[int, ...]:
    """The layout ``layer`` reads its input in, from ``have``: as it is where it can."""
    torch_order = tuple(range(len(have)))
    if layer.axes == "channels":
        return canonical(len(have))
    if layer.axes == "last":
        return have if have[-1] == len(have) - 1 else torch_order
    if layer.axes == "torch":
        return torch_order
    if layer.axes == "order":  # a flatten merges dimensions held side by side, in order
        first, last = flatten_range(known["start"], known["end"], len(have))
        if (first, last) == (0, len(have) - 1):
            return torch_order
        at = [have.index(t) for t in range(first, last + 1)]
        return have if at == list(range(at[0], at[0] + len(at))) else torch_order
    return have


def _arranged(layer: LayerType, have: tuple[int, ...], known: dict[str, Any]) -> tuple[int, ...]:
    """The layout of ``layer``'s output from an input held in ``have``."""
    if layer.axes == "order":  # torch's dimensions first ... last become one
        first, last = flatten_range(known["start"], known["end"], len(have))
        out: list[int] = []
        for t in have:
            if t < first:
                out.append(t)
            elif t == first:
                out.append(first)
            elif t > last:
                out.append(t - (last - first))
        return tuple(out)
    if layer.axes == "split":  # torch's dimension dim becomes `parts` side by side
        at, more = known["dim"] - 1, known["parts"] - 1
        out = []
        for t in have:
            out.extend(range(at, at + more + 1) if t == at else [t + more * (t > at)])
        return tuple(out)
    if layer.axes == "select":  # the dimension is gone
        gone = known["dim"] - 1
        return tuple(t - (t > gone) for t in have if t != gone)
    if layer.axes == "permute":  # torch's dimension j is dimension dims[j] before, batch 0
        inverse = {d - 1: j - 1 for j, d in enumerate(known["dims"]) if j}
        return tuple(inverse[t] for t in have)
    return have


def _splits(flow: L.Combine) -> bool:
    """Whether the combinator's branches read parts of its input (``chunk``)."""
    combinator = COMBINATORS.get(flow.op)
    return combinator is not None and combinator.splits


def _steps(flow: L.Flow) -> list[tuple[L.Pipe | None, L.Flow]]:
    """The steps a flow applies to its input one after another, each with the pipe holding it
    (None for a flow that is one step). A residual's are its main path's: the shortcut reads
    the input, whatever the main path computes."""
    if isinstance(flow, L.Combine) and flow.op == "residual":
        return _steps(flow.branches[0])
    if isinstance(flow, L.Pipe):
        return [(flow, step) for step in flow.steps]
    return [(None, flow)]


# ---- initialisation -------------------------------------------------------------------------

# Keras's keyword for each tensor `init` may set (a depthwise kernel has its own)
_INIT_KWARGS = {
    ("conv2d", "weight"): "kernel_initializer",
    ("conv2d", "bias"): "bias_initializer",
    ("linear", "weight"): "kernel_initializer",
    ("linear", "bias"): "bias_initializer",
    ("batchnorm2d", "weight"): "gamma_initializer",
    ("batchnorm2d", "bias"): "beta_initializer",
    ("layernorm", "weight"): "gamma_initializer",
    ("layernorm", "bias"): "beta_initializer",
    ("layernorm2d", "weight"): "gamma_initializer",
    ("layernorm2d", "bias"): "beta_initializer",
    ("tensor", "value"): "initializer",
    ("attention", "in_proj_weight"): "in_proj_initializer",
    ("attention", "in_proj_bias"): "in_bias_initializer",
    ("attention", "out_proj.weight"): "out_proj_initializer",
    ("attention", "out_proj.bias"): "out_bias_initializer",
    **{
        (kind, tensor): f"{name}_initializer"
        for kind in ("window_attention", "cosine_window_attention")
        for tensor, name in (
            ("relative_position_bias_table", "table"),
            ("logit_scale", "logit_scale"),
            ("qkv.weight", "qkv"),
            ("qkv.bias", "qkv_bias"),
            ("proj.weight", "proj"),
            ("proj.bias", "proj_bias"),
            ("cpb_mlp.0.weight", "cpb"),
            ("cpb_mlp.0.bias", "cpb_bias"),
            ("cpb_mlp.2.weight", "cpb_out"),
        )
    },
    ("relative_attention", "relative_position_bias_table"): "table_initializer",
    ("relative_attention", "to_qkv.weight"): "to_qkv_initializer",
    ("relative_attention", "to_qkv.bias"): "to_qkv_bias_initializer",
    ("relative_attention", "merge.weight"): "merge_initializer",
    ("relative_attention", "merge.bias"): "merge_bias_initializer",
}


def _pad_mode(padding: str, known: dict[str, Any], given: Any) -> str:
    """How a convolution pads as torch does: not at all ("none"); with Keras's "same", which
    at stride 1 pads both sides alike ("same"); with a ZeroPadding2D and "valid" ("explicit");
    or, where instances differ, by ``same_padding`` when the model is built ("runtime").
    Dilated convolutions pad explicitly (they may convolve at stride 1 and subsample)."""
    if padding == "0" or known.get("padding", -1) == 0:
        return "none"
    if "dilation" in given:
        return "explicit"
    same = known.get("same_padding")
    return "runtime" if same is None else "same" if same else "explicit"


# the initializers Keras's layers start from where torch's do the same
_KERAS_DEFAULTS = {"ones": '"ones"', "zeros": '"zeros"', "xavier_uniform": '"glorot_uniform"'}
_ZEROS = _KERAS_DEFAULTS["zeros"]


Step = tuple[str, str]  # (the block or arch, one of its members)


class _Init:
    """The arch's `init` rules, printed into each layer's initializer arguments: Keras layers
    take their initial values when they are created, inside the block functions, so a rule's
    condition travels into every block function as a keyword argument.

    A nested rule (`InceptionAux.conv1.conv.weight`) holds only where the layer's block is
    reached through that path, which the function creating the layer cannot see: every block
    function on the path below the rule's owner takes an override keyword (`conv_weight_init`,
    None by default), which the function above passes down. Where it is given it wins, since it
    is the fold of the rules from the first one that selects this path onwards (later rules of
    any kind included); None leaves the layer to the rules that hold everywhere.

    The arch's parameters that conditions and arguments read are keywords of every block
    function (``names``: the keyword of each, the parameter's own name unless a block function
    already uses it); a rule printed in a block function reads those keywords, in the arch's
    function the parameters themselves."""

    def __init__(
        self,
        arch: L.Definition,
        helpers: dict[str, bool],
        definitions: tuple[L.Definition, ...] = (),
        taken: set[str] | None = None,
    ) -> None:
        self.rules = arch.init
        self.arch = arch.name
        self.helpers = helpers
        params = {p.name: p for p in arch.params}
        self.values = sorted(
            {
                n.name
                for r in self.rules
                for n in L.walk((r.guard, r.args))
                if isinstance(n, L.Var) and n.name in params
            }
        )
        # a threaded keyword clashes with nothing a block function names
        blocks = [d for d in definitions if d.kind == "block"]
        own = set(params) - MODULE_NAMES - RESERVED  # the arch's, which no block function has
        used = (set(taken or ()) - own) | {"x", "name", "inputs", "in_channels"}
        for d in blocks:
            used |= self.values_of(d)
        threads = Namer(used)
        self.names = {v: threads.new(v) for v in self.values}
        self.threaded = []
        for v in self.values:
            p = params[v]
            default = "" if p.default is None else f" = {python(p.default, Spelling())}"
            self.threaded.append(f"{self.names[v]}: {_PY_TYPES[p.type]}{default}")
        self.block_spelling = Spelling(var=lambda n: self.names.get(n, n))
        # (block, path below it, tensor) -> (keyword, the steps from the block, the layer kind)
        self.params: dict[tuple[str, tuple[str, ...], str], tuple[str, tuple[Step, ...], str]] = {}
        defs = {d.name: d for d in definitions}
        namers: dict[str, Namer] = {}
        for rule in self.rules:
            steps = self.route(rule)
            for j in range(1, len(steps)):
                block = steps[j][0]
                key = (block, self.path(steps[j:], rule.item), rule.tensor)
                if key in self.params:
                    continue
                if block not in namers:
                    own = self.values_of(defs.get(block)) | set(self.names.values())
                    namers[block] = Namer(set(taken or ()) | own)
                name = namers[block].new("_".join((*key[1], rule.tensor, "init")))
                self.params[key] = (name, steps[j:], rule.layer)

    def route(self, rule: L.Init) -> tuple[Step, ...]:
        """The members a rule selects through, each with the definition that owns it."""
        if rule.member is None:
            return ()
        owner = rule.block or self.arch
        return ((owner, rule.member), *zip(rule.through, rule.path, strict=True))

    @staticmethod
    def path(steps: tuple[Step, ...], item: int | None) -> tuple[str, ...]:
        return tuple(m for _, m in steps) + (() if item is None else (str(item),))

    @staticmethod
    def values_of(d: L.Definition | None) -> set[str]:
        """The names a block function already uses: its parameters and local values."""
        if d is None:
            return set()
        out = {p.name for p in d.params}
        for node in L.walk(d.body):
            if isinstance(node, L.Let):
                out.add(node.name)
            elif isinstance(node, L.Loop):
                out |= set(node.targets) | ({node.index} if node.index else set())
        return out

    def spelling(self, d: L.Definition) -> Spelling:
        """How a rule's conditions and arguments read the arch's parameters in ``d``'s
        function: through the threaded keywords in a block function."""
        return self.block_spelling if d.kind == "block" else Spelling()

    def values_passed(self, d: L.Definition) -> list[str]:
        """The threaded keywords a call of a block function in ``d``'s function passes."""
        inner = self.spelling(d)
        return [f"{self.names[v]}={inner.var(v)}" for v in self.values]

    def overrides(self, block: str) -> list[str]:
        """The override keywords of a block function, in rule order."""
        return [name for (b, _, _), (name, _, _) in self.params.items() if b == block]

    def fold(
        self,
        start: int,
        steps: tuple[Step, ...],
        item: int | None,
        tensor: str,
        layer: str,
        s: Spelling,
    ) -> str | None:
        """The value the rules from ``start`` on give the layer at ``steps`` (None: none), in
        the function whose spelling is ``s``."""
        value: str | None = None
        for rule in self.rules[start:]:
            if rule.tensor != tensor:
                continue
            mine = self.route(rule)
            if mine:
                holds = rule.item == item and steps[-len(mine) :] == mine
            else:
                holds = rule.layer == layer
            if not holds:
                continue
            spelled = self.spell(rule, False, s)
            if rule.guard is None:
                value = spelled
            else:
                cond = python(rule.guard, s)
                value = f"{spelled} if {cond} else {_grouped(value or 'None')}"
        return value

    def passed(
        self, d: L.Definition, member: str, callee: L.Expr, py: Callable[[L.Expr], str]
    ) -> list[str]:
        """The override keywords a call of block ``callee`` as ``member`` of ``d`` passes."""
        if not isinstance(callee, L.BlockRef):
            return []
        out = []
        for (block, rel, tensor), (name, steps, layer) in self.params.items():
            if block != callee.name:
                continue
            full = ((d.name, member), *steps)
            item = int(rel[-1]) if rel[-1].isdigit() else None
            incoming = self.params.get((d.name, (member, *rel), tensor))
            first = next(
                (
                    i
                    for i, r in enumerate(self.rules)
                    if r.tensor == tensor and r.item == item and self.route(r) == full
                ),
                None,
            )
            own = (
                None
                if first is None
                else self.fold(first, full, item, tensor, layer, self.spelling(d))
            )
            if incoming is not None and own is not None:
                out.append(f"{name}={incoming[0]} or {_grouped(own)}")
            elif incoming is not None:
                out.append(f"{name}={incoming[0]}")
            elif own is not None:
                out.append(f"{name}={own}")
        return out

    def kwargs(
        self,
        d: L.Definition,
        target: tuple[str | None, int | None],
        layer: LayerType,
        args: dict[str, str],
        src: str,
        depthwise: bool,
        py: Callable[[L.Expr], str],
        area: str = "",
    ) -> str:
        out = ""
        for tensor, default in layer.tensors:
            flag = layer.flag_of(tensor)
            if flag is not None and args.get(flag) == "False":  # no such tensor (bias=false)
                continue
            value = self.default(default, layer, args, src, depthwise, area)
            for rule in self.rules:
                if rule.tensor != tensor or not self.applies(rule, d, target, layer):
                    continue
                spelled = self.spell(rule, depthwise, self.spelling(d))
                if rule.guard is None:
                    value = spelled
                else:
                    fallback = value or _KERAS_DEFAULTS.get(default, _ZEROS)
                    cond = python(rule.guard, self.spelling(d))
                    value = f"{spelled} if {cond} else {fallback}"
            member, item = target
            override = None
            if member is not None:
                rel = (member,) + (() if item is None else (str(item),))
                override = self.params.get((d.name, rel, tensor))
            if override is not None:
                value = (
                    f"{override[0]} or {_grouped(value or _KERAS_DEFAULTS.get(default, _ZEROS))}"
                )
            elif value is None or value == _KERAS_DEFAULTS.get(default):
                continue
            kw = (
                "depthwise_initializer"
                if depthwise and tensor == "weight"
                else _INIT_KWARGS[(layer.name, tensor)]
            )
            out += f", {kw}={value}"
        return out

    def applies(
        self, rule: L.Init, d: L.Definition, target: tuple[str | None, int | None], layer: LayerType
    ) -> bool:
        if rule.member is None:
            return rule.layer == layer.name
        if rule.path:  # decided by the functions above, through an override keyword
            return False
        owner = d.kind == "arch" if rule.block is None else rule.block == d.name
        return owner and (rule.member, rule.item) == target

    def default(
        self,
        kind: str,
        layer: LayerType,
        args: dict[str, str],
        src: str,
        depthwise: bool,
        area: str,
    ) -> str | None:
        if kind in _KERAS_DEFAULTS:
            return None
        if kind == "value":  # a tensor's constant, zeros being Learned's own
            value = args["value"]
            return None if value in ("0", "0.0") else f"keras.initializers.Constant({value})"
        if kind == "torch_weight":
            self.helpers["torch_weight"] = True
            return "torch_weight(depthwise=True)" if depthwise else "torch_weight()"
        kind, _, given = kind.partition(":")  # a fixed argument: `trunc_normal:0.02`
        if kind == "trunc_normal":
            self.helpers["trunc_normal"] = True
            return f"TruncNormal(0.0, {given}, -2.0, 2.0)"
        if kind == "constant":
            return f"keras.initializers.Constant({given})"
        self.helpers["torch_bias"] = True
        if given:  # the fan_in of a part of the layer (Swin V2's position bias MLP)
            return f"torch_bias({given})"
        fan_in = f"{src}.shape[-1]"
        if layer.name == "conv2d":
            if args["groups"] != "1":
                fan_in += f" // {args['groups']}"
            fan_in += area
        return f"torch_bias({fan_in})"

    def spell(self, rule: L.Init, depthwise: bool, s: Spelling) -> str:
        """The Keras initializer of ``rule``, its arguments that read the arch's parameters as
        expressions in ``s``'s function (constants as their values)."""
        a = {x.name: x.value for x in rule.args}

        def arg(name: str) -> str:
            v = a[name]
            return repr(v.value) if isinstance(v, L.Const) else python(v, s)

        init = "keras.initializers."
        if rule.func in ("zeros", "ones"):
            return f'"{rule.func}"'
        if rule.func == "constant":
            return f"{init}Constant({arg('value')})"
        if rule.func == "normal":
            given = a["mean"]
            mean = "" if isinstance(given, L.Const) and not given.value else f"mean={arg('mean')}, "
            return f"{init}RandomNormal({mean}stddev={arg('std')})"
        if rule.func == "uniform":
            return f"{init}RandomUniform({arg('a')}, {arg('b')})"
        if rule.func == "trunc_normal":
            self.helpers["trunc_normal"] = True
            return f"TruncNormal({arg('mean')}, {arg('std')}, {arg('a')}, {arg('b')})"
        consts = {k: v.value for k, v in a.items() if isinstance(v, L.Const)}
        scale: L.Expr
        if rule.func.startswith("kaiming"):
            nonlinearity = str(consts["nonlinearity"])
            if nonlinearity == "leaky_relu" and "a" not in consts:  # gain ** 2 = 2 / (1 + a**2)
                square = L.Binary(op="**", left=a["a"], right=L.Const(value=2))
                one_plus = L.Binary(op="+", left=L.Const(value=1), right=square)
                scale = L.Binary(op="/", left=L.Const(value=2), right=one_plus)
            else:
                a_value = float(consts.get("a", 0.0))
                scale = L.Const(value=round(gain(nonlinearity, a_value) ** 2, 12))
            mode = str(consts["mode"])
            if depthwise:
                mode = "fan_out" if mode == "fan_in" else "fan_in"
        else:  # xavier
            g = a["gain"]
            if isinstance(g, L.Const):
                scale = L.Const(value=round(float(g.value) ** 2, 12))
            else:
                scale = L.Binary(op="**", left=g, right=L.Const(value=2))
            mode = "fan_avg"
        dist = "uniform" if rule.func.endswith("uniform") else "untruncated_normal"
        return f'{init}VarianceScaling({python(scale, s)}, "{mode}", "{dist}")'


def _grouped(source: str) -> str:
    """A conditional expression in parentheses, where it is an operand of `or`."""
    return f"({source})" if " if " in source else source
