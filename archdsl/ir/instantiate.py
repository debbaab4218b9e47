"""Expansion and static inference: an arch and its parameter values become a tree of module
instances, each with its path ("layer2.0.downsample.0"), its input and output shapes (one pair per
use in the forward pass) and its parameter counts. Nothing here imports a framework."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import ValidationError

from archdsl.errors import ArchError, Diagnostic, Label, Span, error
from archdsl.ir.combinators import COMBINATORS, Applied, split_part
from archdsl.ir.evaluate import BlockRef, evaluate, reset_budget
from archdsl.ir.program import Program
from archdsl.layers.binding import bind
from archdsl.layers.registry import (
    Arranged,
    Carried,
    LayerType,
    Shape,
    ShapeError,
    carried,
    channel_axis,
    channels_at,
    channels_last,
    get_layer,
)
from archdsl.layers.spatial import flatten_range
from archdsl.names import bad_identifier, bad_member_key, did_you_mean
from archdsl.syntax import ast

MAX_INSTANCES = 100_000
MAX_REPEAT = 10_000
MAX_DEPTH = 64
MAX_DIM = 2**31 - 1
MAX_PARAMETERS = 10**11


@dataclass
class Instance:
    path: str
    kind: str  # "layer", "block", "sequential" or "tensor" (a learnable tensor member)
    type: str  # layer type, block name, or "sequential"
    args: Any
    span: Span
    children: dict[str, Instance] = field(default_factory=dict)
    in_shapes: list[Shape] = field(default_factory=list)
    out_shapes: list[Shape] = field(default_factory=list)
    trainable: int = 0  # own parameters (layers only)
    stats: int = 0  # own batch-norm statistics (layers only)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # loop group -> members

    def walk(self) -> Iterator[Instance]:
        """This instance and every one under it, depth first in definition order; with a stack,
        not nested generators, so a deep tree costs no more per instance than a flat one."""
        stack = [self]
        while stack:
            inst = stack.pop()
            yield inst
            if inst.children:
                stack.extend(reversed(inst.children.values()))

    def totals(self) -> tuple[int, int]:
        """Trainable parameters and statistics of this instance and everything under it. Computed
        once per instance (each reads its children's), so asking every instance is linear; the
        tree is complete when anything asks (inference asks last, at the root)."""
        cached = self.__dict__.get("_totals")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        t, s = self.trainable, self.stats
        for child in self.children.values():
            ct, cs = child.totals()
            t += ct
            s += cs
        self.__dict__["_totals"] = (t, s)
        return t, s


@dataclass
class Model:
    """The result of inference for one arch and one set of parameter values."""

    arch: str
    params: dict[str, Any]
    input_shape: Shape
    root: Instance
    # Shapes seen by parameter-free operations, keyed by the span of the node that applied them;
    # code generation reads the spatial size at a flatten here.
    op_shapes: dict[Span, set[Shape]] = field(default_factory=dict)
    block_instances: dict[str, list[Instance]] = field(default_factory=dict)
    aux_shapes: list[Shape] = field(default_factory=list)  # training-mode outputs, in tap order
    # the output of each top-level step of the arch's forward, in order
    step_shapes: list[Shape] = field(default_factory=list)

    @property
    def output_shape(self) -> Shape:
        return self.root.out_shapes[-1]

    @property
    def trainable(self) -> int:
        return self.root.totals()[0]

    @property
    def stats(self) -> int:
        return self.root.totals()[1]

    def instances(self) -> dict[str, Instance]:
        """Every module instance by path; tensor members are their owners' parameters (torch
        has no module for them) and are counted in their owners' totals only."""
        return {i.path: i for i in self.root.walk() if i.path and i.kind != "tensor"}


@dataclass
class _MemberDef:
    name: str
    path: str
    stmt: ast.Member
    env: dict[str, Any]
    present: bool
    instance: Instance | None = None


@dataclass
class _Scope:
    """One block instance being built."""

    decl: ast.BlockDecl | None
    env: dict[str, Any]
    members: dict[str, _MemberDef] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group name -> its loop's members
    unit: list[str] | None = None  # the members of the top-level loop being collected
    anonymous: list[_MemberDef] = field(default_factory=list)


class _Builder:
    def __init__(self, program: Program) -> None:
        self.prog = program
        self.count = 0
        self.declared = 0  # members declared (built or not yet)
        self.loop_product = 1  # iterations of the loops being unrolled, multiplied
        self.loop_base = 0  # instances declared before the outermost loop being unrolled
        self.depth = 0
        self.model: Model | None = None
        self.globals: dict[str, Any] = {
            n: BlockRef(n) for n, b in program.blocks.items() if not b.is_arch
        }
        # Validated layer arguments (frozen), shared by the instances that pass equal values: a
        # stack of 10,000 equal convolutions is validated once.
        self.bound: dict[tuple[Any, ...], Any] = {}

    # ---- entry --------------------------------------------------------------
    def build(
        self,
        arch: str,
        overrides: dict[str, Any],
        override_spans: dict[str, Span],
        input_shape: Shape | None = None,
    ) -> Model:
        decl = self.prog.blocks[arch]
        params = self.bind_params(
            decl,
            [],
            {k: (v, override_spans.get(k, decl.span)) for k, v in overrides.items()},
            decl.span,
        )
        inp = next(s for s in decl.body if isinstance(s, ast.Input))
        shape_val = evaluate(inp.shape, {**self.globals, **params})
        if (
            not isinstance(shape_val, tuple)
            or not 1 <= len(shape_val) <= 3
            or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape_val)
        ):
            raise error(
                "E0401",
                "input must be a list of one to three integers",
                inp.shape.span,
                "[channels, height, width] or [features]",
            )
        for d in shape_val:
            if not 1 <= d <= MAX_DIM:
                raise error(
                    "E0401",
                    f"input dimension {d} is out of range",
                    inp.shape.span,
                    "must be at least 1",
                )
        in_shape: Shape = tuple(shape_val) if input_shape is None else input_shape
        root = Instance("", "block", arch, params, decl.span)
        self.model = Model(arch, params, in_shape, root)
        self.model.block_instances.setdefault(arch, []).append(root)
        out = self.block_body(decl, params, in_shape, root)
        root.in_shapes.append(in_shape)
        root.out_shapes.append(out)
        total = root.totals()[0]
        if total > MAX_PARAMETERS:
            raise error(
                "E0405",
                f"model has {total:,} parameters, over the limit of {MAX_PARAMETERS:,}",
                decl.span,
            )
        return self.model

    # ---- binding ---------------------------------------------------------------
    def bind_params(
        self,
        decl: ast.BlockDecl,
        args: list[tuple[Any, Span]],
        kwargs: dict[str, tuple[Any, Span]],
        call_span: Span,
    ) -> dict[str, Any]:
        params = decl.params
        if len(args) > len(params):
            raise error(
                "E0601",
                f"`{decl.name}` takes {len(params)} arguments, {len(args)} given",
                args[len(params)][1],
                "extra argument",
            )
        given: dict[str, tuple[Any, Span]] = {}
        for p, a in zip(params, args, strict=False):
            given[p.name] = a
        names = {p.name for p in params}
        for k, v in kwargs.items():
            if k not in names:
                raise error(
                    "E0204",
                    f"`{decl.name}` has no parameter `{k}`",
                    v[1],
                    "unknown parameter",
                    help=did_you_mean(k, names),
                )
            if k in given:
                raise error("E0601", f"parameter `{k}` given twice", v[1], "given again here")
            given[k] = v
        env: dict[str, Any] = dict(self.globals)
        for p in params:
            if p.name in given:
                value, span = given[p.name]
            elif p.default is not None:
                value, span = evaluate(p.default, env), p.default.span
            else:
                raise error(
                    "E0607",
                    f"missing argument `{p.name}` for `{decl.name}`",
                    call_span,
                    f"`{p.name}` has no default",
                )
            env[p.name] = _check_type(p, value, span)
        return {p.name: env[p.name] for p in params}

    # ---- bodies ---------------------------------------------------------------
    def block_body(
        self, decl: ast.BlockDecl, params: dict[str, Any], in_shape: Shape, inst: Instance
    ) -> Shape:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error("E0404", f"blocks are nested more than {MAX_DEPTH} deep", decl.span)
        if isinstance(in_shape, Carried):  # a block's channels are what it reads
            in_shape = tuple(in_shape)
        env = {**self.globals, **params}
        env["in_channels"] = in_shape[channel_axis(in_shape)]
        scope = _Scope(decl, env)
        self.collect(decl.body, scope, inst.path, env)
        if scope.anonymous:
            shape = self.run_sequence(scope.anonymous, in_shape)
        else:
            fwd = next((s for s in decl.body if isinstance(s, ast.Forward)), None)
            flow: ast.Expr = fwd.flow if fwd else _default_flow(scope)
            if self.model is not None and inst is self.model.root:
                # the arch's forward step by step: feature stages are read from its steps
                shape = in_shape
                for stage in flow.stages if isinstance(flow, ast.Pipe) else (flow,):
                    shape = self.flow(stage, shape, scope)
                    self.model.step_shapes.append(shape)
            else:
                shape = self.flow(flow, in_shape, scope)
            named = {n.id for n in flow.walk() if isinstance(n, ast.Name)}
            for m in scope.members.values():
                if m.present and m.instance is None and m.name in named and m.stmt.guard is None:
                    m.present = False  # applied only on a side of a condition not taken here
                elif m.present and m.instance is None:
                    raise error(
                        "E0403",
                        f"member `{m.name}` is never used in forward",
                        m.stmt.span,
                        "defined here",
                        help="use it in `forward`, or remove it",
                    )
        inst.groups = {g: tuple(names) for g, names in scope.groups.items()}
        defs = scope.anonymous or list(scope.members.values())
        for m in defs:
            if m.instance is not None:
                inst.children[m.name] = m.instance
        self.depth -= 1
        return shape

    def collect(
        self, body: tuple[ast.Stmt, ...], scope: _Scope, prefix: str, env: dict[str, Any]
    ) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Let):
                env[stmt.name] = evaluate(stmt.value, env)
            elif isinstance(stmt, ast.Require):
                ok = evaluate(stmt.cond, env)
                if ok is not True:
                    raise error(
                        "E0413",
                        stmt.message,
                        stmt.cond.span,
                        "this requirement does not hold"
                        if ok is False
                        else f"a requirement must be a bool, got {ok!r}",
                        notes=(_describe(stmt.cond, env),),
                    )
            elif isinstance(stmt, ast.Member):
                self.declare(stmt, scope, prefix, env)
            elif (
                isinstance(stmt, ast.For | ast.Repeat)
                and scope.unit is None
                and scope.decl is not None
            ):
                scope.unit = []
                self.collect((stmt,), scope, prefix, env)
                scope.unit = None
            elif isinstance(stmt, ast.For):
                rows = evaluate(stmt.iterable, env)
                if not isinstance(rows, tuple):
                    raise error(
                        "E0603", "`for` iterates over a list", stmt.iterable.span, "not a list"
                    )
                self.check_repeat(len(rows), stmt.iterable.span)
                self.loop_product *= max(1, len(rows))
                for i, row in enumerate(rows):
                    inner = dict(env)
                    if len(stmt.targets) == 1:
                        inner[stmt.targets[0]] = row
                    else:
                        if not isinstance(row, tuple) or len(row) != len(stmt.targets):
                            raise error(
                                "E0608",
                                f"row {i} does not have {len(stmt.targets)} values",
                                stmt.iterable.span,
                                f"expected ({', '.join(stmt.targets)})",
                            )
                        inner.update(zip(stmt.targets, row, strict=True))
                    inner.update(index=i, first=i == 0, last=i == len(rows) - 1)
                    self.collect(stmt.body, scope, prefix, inner)
                self.loop_product //= max(1, len(rows))
            elif isinstance(stmt, ast.Repeat):
                n = evaluate(stmt.count, env)
                literal = not ast.free_names(stmt.count)
                if not isinstance(n, int) or isinstance(n, bool) or (n < 0 and literal):
                    raise error(
                        "E0603",
                        "repeat count must be a non-negative integer",
                        stmt.count.span,
                        f"got {n!r}",
                    )
                # a count computed below zero repeats nothing, as the generated code's
                # range() does (ShuffleNet's `repeats - 1` of a stage of none)
                n = max(n, 0)
                self.check_repeat(n, stmt.count.span)
                self.loop_product *= max(1, n)
                for i in range(n):
                    inner = dict(env, index=i, first=i == 0, last=i == n - 1)
                    self.collect(stmt.body, scope, prefix, inner)
                self.loop_product //= max(1, n)

    def check_repeat(self, n: int, span: Span) -> None:
        """Refuse a loop before unrolling it when its count, times the counts of the loops
        around it, would pass the instance limit (guarantee G4)."""
        if self.loop_product == 1:
            self.loop_base = self.declared
        # the iterations of every enclosing loop, done or not, from where the outermost began:
        # counting what is declared already as well would refuse loops that fit
        total = self.loop_product * n
        if n > MAX_REPEAT or self.loop_base + total > MAX_INSTANCES:
            around = (
                f" inside loops of {self.loop_product:,} iterations"
                if self.loop_product > 1
                else ""
            )
            raise error(
                "E0406",
                f"repeating {n:,} times{around} goes over the limit of "
                f"{MAX_INSTANCES:,} module instances",
                span,
                "too many repetitions",
            )

    def declare(self, stmt: ast.Member, scope: _Scope, prefix: str, env: dict[str, Any]) -> None:
        self.declared += 1
        if self.declared > MAX_INSTANCES:
            raise error(
                "E0406",
                f"the model declares more than {MAX_INSTANCES:,} module instances",
                stmt.span,
                "one too many",
            )
        present = True
        if stmt.guard is not None:
            g = evaluate(stmt.guard, env)
            if not isinstance(g, bool):
                raise error("E0603", "`when` needs a bool", stmt.guard.span, f"got {g!r}")
            present = g
        if stmt.target is None:
            if not present:
                return
            name = str(len(scope.anonymous))
            m = _MemberDef(name, _join(prefix, name), stmt, dict(env), True)
            scope.anonymous.append(m)
            return
        name = stmt.target.name
        if stmt.target.suffix is not None:
            suffix = evaluate(stmt.target.suffix, env)
            if isinstance(suffix, bool) or not isinstance(suffix, int | str):
                raise error("E0603", "a member number must be an integer", stmt.target.suffix.span)
            group = name
            name = f"{name}{suffix}"
            if stmt.target.quoted:
                why = bad_member_key(name)
                if why:
                    raise error(
                        "E0234",
                        f"`{name.encode('unicode_escape').decode()[:80]}` cannot name a member",
                        stmt.target.span,
                        why,
                        help="a member's name is one part of its state_dict key "
                        "(`trunk.block1-0.conv.weight`)",
                    )
            else:
                why = bad_identifier(name)
                if why:
                    raise error(
                        "E0202", f"`{name}` cannot be used as a name", stmt.target.span, why
                    )
            if name in scope.members:
                raise error(
                    "E0212",
                    f"member `{name}` is defined twice",
                    stmt.target.span,
                    "this numbered name repeats",
                    secondary=((scope.members[name].stmt.span, "first defined here"),),
                )
            assert scope.unit is not None
            scope.unit.append(name)
            scope.groups[group] = scope.unit
        scope.members[name] = _MemberDef(name, _join(prefix, name), stmt, dict(env), present)

    def run_sequence(self, items: list[_MemberDef], shape: Shape) -> Shape:
        for m in items:
            layer = _layer_of(m.stmt.module, self.prog)
            if layer is not None and layer.torch_call is not None:
                raise error(
                    "E0242",
                    f"`{layer.name}` is not an item of a sequence",
                    m.stmt.span,
                    "a sequence passes each item its input once",
                    help=f"make it a named member (`attn = {layer.example}`) and apply it "
                    "in forward",
                )
            if _is_tensor(m.stmt.module, self.prog):
                raise error(
                    "E0240",
                    "a tensor is a value, not an item of a sequence",
                    m.stmt.span,
                    "a sequence applies its items to the input in turn",
                    help="make it a named member of the block and combine it with the input "
                    "in forward: `multiply(scale)`",
                )
            shape = self.apply_member(m, shape, m.stmt.span)
        return shape

    # ---- forward flows ----------------------------------------------------------
    def flow(self, flow: ast.Expr, shape: Shape, scope: _Scope, branch: bool = False) -> Shape:
        """``branch``: ``flow`` is a whole branch of a combinator, where a tensor member may
        stand as a value."""
        if isinstance(flow, ast.Pipe):
            for stage in flow.stages:
                shape = self.flow(stage, shape, scope)
            return shape
        if isinstance(flow, ast.Name):
            if flow.id in scope.groups:
                for n in scope.groups[flow.id]:
                    shape = self.apply_member(scope.members[n], shape, flow.span)
                return shape
            member = scope.members[flow.id]
            if not branch and _is_tensor(member.stmt.module, self.prog):
                raise error(
                    "E0240",
                    f"tensor `{flow.id}` is a value, not a step of the flow",
                    flow.span,
                    "applied to the input here",
                    help=f"combine it with the input: `multiply({flow.id})`, "
                    f"`add(identity(), {flow.id})` or `concat({flow.id}, identity(), dim=1)`",
                )
            return self.apply_member(member, shape, flow.span)
        if isinstance(flow, ast.IfExp):
            cond = evaluate(flow.cond, scope.env)
            if not isinstance(cond, bool):
                raise error("E0603", "condition must be a bool", flow.cond.span)
            return self.flow(flow.then if cond else flow.orelse, shape, scope)
        assert isinstance(flow, ast.Call)
        if flow.func in COMBINATORS:
            return self.combine(flow, shape, scope)
        layer = get_layer(flow.func)
        assert layer is not None
        args = self.bind_layer(layer, flow, scope.env)
        out = self.layer_shape(layer, args, shape, flow)
        assert self.model is not None
        self.model.op_shapes.setdefault(flow.span, set()).add(shape)
        return out

    def combine(self, call: ast.Call, shape: Shape, scope: _Scope) -> Shape:
        combinator = COMBINATORS[call.func]
        kw = {k.name: k for k in call.kwargs}

        def keyword_values() -> dict[str, Any]:
            return {
                name: check(evaluate(kw[name].value, scope.env), shape, kw[name].span)
                for name, check in combinator.value_keywords.items()
                if name in kw
            }

        if combinator.splits:  # the branches read equal parts: `dim` is needed first
            values = keyword_values()
            part = split_part(call, shape, values.get("dim", 1))
            outs = [self.flow(a, part, scope, branch=True) for a in call.args]
        else:
            outs = [self.flow(a, shape, scope, branch=True) for a in call.args]
        if combinator.joins:
            for arg in call.args:
                member = scope.members.get(arg.id) if isinstance(arg, ast.Name) else None
                if member is None or member.instance is None or member.instance.kind != "tensor":
                    continue
                if len(member.instance.args.shape) != len(shape) + 1:
                    raise error(
                        "E0240",
                        f"tensor `{arg.id}` is joined with batched values but has no batch "
                        "dimension",
                        arg.span,
                        f"shape {list(member.instance.args.shape)} beside an input of "
                        f"{len(shape)} dimensions",
                        help="give it a leading 1 for the batch (as torchvision's class token, "
                        "[1, 1, D]): each sample gets a copy",
                    )
        shortcut = None
        for name in combinator.flow_keywords & set(kw):
            shortcut = self.flow(kw[name].value, shape, scope)
        if not combinator.splits:
            values = keyword_values()
        out = combinator.shape(Applied(call, shape, outs, shortcut, values))
        assert self.model is not None
        self.model.op_shapes.setdefault(call.span, set()).add(shape)
        if call.func == "aux":
            absent = _absent_member(call.args[0], scope)
            if absent is not None:
                # an optional auxiliary head is inferred where it would tap, unattached: its
                # definition, built when the option is on, needs its shapes
                self.build_module(absent.stmt.module, absent.path, absent.env, shape)  # type: ignore[arg-type]
            else:
                assert self.model is not None
                self.model.aux_shapes.append(outs[0])
        return out

    # ---- members -------------------------------------------------------------------
    def apply_member(self, m: _MemberDef, shape: Shape, use_span: Span) -> Shape:
        if not m.present:
            return shape
        if m.instance is None:
            self.count += 1
            if self.count > MAX_INSTANCES:
                raise error(
                    "E0406",
                    f"the model has more than {MAX_INSTANCES:,} module instances",
                    m.stmt.span,
                )
            m.instance = self.build_module(m.stmt.module, m.path, m.env, shape)
            return m.instance.out_shapes[-1]
        inst = m.instance
        if inst.kind != "layer" or (get_layer(inst.type) or _NOLAYER).has_weights:
            if shape != inst.in_shapes[0]:
                raise error(
                    "E0408",
                    f"member `{m.name}` is used again with a different input",
                    use_span,
                    f"input {_fmt(shape)}, first used with {_fmt(inst.in_shapes[0])}",
                    help="declare a second member for the second use",
                )
            inst.in_shapes.append(shape)
            inst.out_shapes.append(inst.out_shapes[0])
            return inst.out_shapes[0]
        layer = get_layer(inst.type)
        assert layer is not None
        out = self.layer_shape(layer, inst.args, shape, m.stmt.module)
        inst.in_shapes.append(shape)
        inst.out_shapes.append(out)
        return out

    def build_module(
        self, module: ast.Call | ast.Sequential, path: str, env: dict[str, Any], shape: Shape
    ) -> Instance:
        if isinstance(module, ast.Sequential):
            inst = Instance(path, "sequential", "sequential", None, module.span)
            scope = _Scope(None, env)
            self.collect(module.body, scope, path, dict(env))
            out = self.run_sequence(scope.anonymous, shape)
            for m in scope.anonymous:
                assert m.instance is not None
                inst.children[m.name] = m.instance
            inst.in_shapes.append(shape)
            inst.out_shapes.append(out)
            return inst
        func = module.func
        value = env.get(func)
        if isinstance(value, BlockRef):
            func = value.name
        layer = get_layer(func)
        if layer is not None and func not in self.prog.blocks:
            args = self.bind_layer(layer, module, env)
            out = self.layer_shape(layer, args, shape, module)
            trainable, stats = layer.count(args, shape)
            assert self.model is not None
            self.model.op_shapes.setdefault(module.span, set()).add(shape)
            kind = "tensor" if layer.axes == "value" else "layer"
            inst = Instance(path, kind, func, args, module.span, trainable=trainable, stats=stats)
            inst.in_shapes.append(shape)
            inst.out_shapes.append(out)
            return inst
        decl = self.prog.blocks[func]
        args = [(evaluate(a, env), a.span) for a in module.args]
        kwargs = {k.name: (evaluate(k.value, env), k.span) for k in module.kwargs}
        params = self.bind_params(decl, args, kwargs, module.span)
        inst = Instance(path, "block", func, params, module.span)
        assert self.model is not None
        self.model.block_instances.setdefault(func, []).append(inst)
        try:
            out = self.block_body(decl, params, shape, inst)
        except ArchError as e:
            raise _in_instance(e, module.span, path or func) from None
        inst.in_shapes.append(shape)
        inst.out_shapes.append(out)
        return inst

    def bind_layer(self, layer: LayerType, call: ast.Call, env: dict[str, Any]) -> Any:
        fields = _fields(layer)
        if len(call.args) > len(fields):
            raise error(
                "E0601",
                f"`{layer.name}` takes at most {len(fields)} positional arguments",
                call.args[len(fields)].span,
                "extra argument",
                help=f"example: {layer.example}",
            )
        values: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for f, a in zip(fields, call.args, strict=False):
            values[f] = evaluate(a, env)
            spans[f] = a.span
        for kw in call.kwargs:
            if kw.name not in fields:
                raise error(
                    "E0204",
                    f"`{layer.name}` has no argument `{kw.name}`",
                    kw.span,
                    "unknown argument",
                    help=did_you_mean(kw.name, fields) or f"example: {layer.example}",
                )
            if kw.name in values:
                raise error(
                    "E0601", f"argument `{kw.name}` given twice", kw.span, "given again here"
                )
            values[kw.name] = evaluate(kw.value, env)
            spans[kw.name] = kw.span
        key = _args_key(layer, values)
        if key is not None:
            cached = self.bound.get(key)
            if cached is not None:
                return cached
        try:
            bound = bind(layer.schema, values)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = str(err["loc"][0]) if err["loc"] else ""
            if err["type"] == "missing":
                raise error(
                    "E0607",
                    f"missing argument `{loc}` for `{layer.name}`",
                    call.span,
                    f"`{loc}` is required",
                    help=f"example: {layer.example}",
                ) from None
            msg = err["msg"].replace("Input should be", "should be").lower()
            raise error(
                "E0610",
                f"invalid argument `{loc}` for `{layer.name}`: {msg}",
                spans.get(loc, call.span),
                f"got {values.get(loc)!r}",
                help=f"example: {layer.example}",
            ) from None
        if key is not None:
            self.bound[key] = bound
        return bound

    def layer_shape(
        self, layer: LayerType, args: Any, shape: Shape, call: ast.Call | ast.Sequential
    ) -> Shape:
        if layer.axes in ("last", "torch") and len(shape) == 3 and not channels_last(shape):
            what = "the last dimension" if layer.axes == "last" else "channels-last [H, W, C]"
            raise error(
                "E0409",
                f"`{layer.name}` reads {what}, and {_fmt(shape)} is [C, H, W]",
                _call_span(call),
                "its last dimension is the width",
                help="add `flatten()` before it, or `permute([0, 2, 3, 1])` to apply it to the "
                "channels at each position"
                if layer.axes == "last"
                else "`permute([0, 2, 3, 1])` before it puts the channels last",
            )
        out = self._layer_shape(layer, args, shape, call)
        if len(shape) == 3 == len(out):
            if layer.axes == "permute":
                before = shape.order if isinstance(shape, Arranged) else (0, 1, 2)
                order = tuple(before[d] for d in args.order)
                return Arranged(out, order) if order != (0, 1, 2) else tuple(out)
            if isinstance(shape, Arranged) and layer.axes in ("any", "last", "torch", "slice"):
                return Arranged(out, shape.order)
        return channels_at(out, _channels_after(layer, args, shape, out))

    def _layer_shape(
        self, layer: LayerType, args: Any, shape: Shape, call: ast.Call | ast.Sequential
    ) -> Shape:
        if layer.ranks is not None and len(shape) not in layer.ranks:
            kinds = {1: "[features]", 2: "[L, D]", 3: "[C, H, W]"}
            need = " or ".join(kinds.get(r, f"{r} dimensions") for r in layer.ranks)
            raise error(
                "E0409",
                f"`{layer.name}` expects {need}, got {_fmt(shape)}",
                _call_span(call),
                "wrong input rank",
                help="add `flatten()` before a linear layer" if layer.ranks == (1,) else None,
            )
        try:
            out = layer.shape(args, shape)
        except ShapeError as exc:
            span = _arg_span(call, exc.arg, layer)
            raise error("E0410", str(exc), span, f"input is {_fmt(shape)}", help=exc.help) from None
        for d in out:
            if d < 1:
                raise error(
                    "E0410", f"`{layer.name}` gives an empty output {_fmt(out)}", _call_span(call)
                )
            if d > MAX_DIM:
                raise error(
                    "E0410", f"`{layer.name}` gives a dimension over {MAX_DIM}", _call_span(call)
                )
        return out


def _channels_after(layer: LayerType, args: Any, shape: Shape, out: Shape) -> int | None:
    """Where ``layer``'s output holds the block-input channels its input holds at
    ``carried(shape)``: a rearrangement moves, merges, splits or drops them; a layer keeping
    the positions keeps them; one that makes channels makes them where they are read."""
    at = carried(shape)
    if at is None:
        return None
    if layer.axes == "permute":
        return args.order.index(at)
    if layer.axes == "order":
        first, last = flatten_range(args.start, args.end, len(shape))
        return at if at < first else first if at <= last else at - (last - first)
    if layer.axes in ("select", "split"):
        gone = args.dim - 1
        if at == gone:
            return None
        return at if at < gone else at + len(out) - len(shape)
    if len(out) == len(shape) and layer.axes in ("any", "last", "torch", "slice"):
        return at
    return channel_axis(out)


class _NoLayer:
    has_weights = True


_NOLAYER = _NoLayer()


def _layer_of(module: ast.Call | ast.Sequential, program: Program) -> LayerType | None:
    if not isinstance(module, ast.Call) or module.func in program.blocks:
        return None
    return get_layer(module.func)


def _is_tensor(module: ast.Call | ast.Sequential, program: Program) -> bool:
    layer = _layer_of(module, program)
    return layer is not None and layer.axes == "value"


def _call_span(call: ast.Call | ast.Sequential) -> Span:
    return call.func_span if isinstance(call, ast.Call) else call.span


def _arg_span(call: ast.Call | ast.Sequential, arg: str | None, layer: LayerType) -> Span:
    if not isinstance(call, ast.Call) or arg is None:
        return _call_span(call)
    for kw in call.kwargs:
        if kw.name == arg:
            return kw.span
    fields = _fields(layer)
    if arg in fields and fields.index(arg) < len(call.args):
        return call.args[fields.index(arg)].span
    return call.func_span


_FIELDS: dict[type, list[str]] = {}
_SCALARS = (bool, int, float, str)


def _fields(layer: LayerType) -> list[str]:
    """The layer's argument names in positional order."""
    names = _FIELDS.get(layer.schema)
    if names is None:
        names = _FIELDS[layer.schema] = list(layer.schema._fields)
    return names


def _args_key(layer: LayerType, values: dict[str, Any]) -> tuple[Any, ...] | None:
    """A key equal only for argument values that validate alike: the type is part of each
    entry, since ``True == 1`` and strict validation refuses one and takes the other."""
    key: list[Any] = [layer.name]
    for name, v in values.items():
        if type(v) not in _SCALARS and not (
            type(v) is tuple and all(type(i) is int for i in v)  # a size [height, width]
        ):
            return None
        key.append((name, type(v), v))
    return tuple(key)


def _default_flow(scope: _Scope) -> ast.Expr:
    stages: list[ast.Expr] = []
    seen_units: set[int] = set()
    group_of = {n: g for g, ns in scope.groups.items() for n in ns}
    for name in scope.members:
        g = group_of.get(name)
        if g is not None:
            if id(scope.groups[g]) not in seen_units:
                seen_units.add(id(scope.groups[g]))
                stages.append(ast.Name(g))
        else:
            stages.append(ast.Name(name, span=scope.members[name].stmt.span))
    return ast.Pipe(tuple(stages))


def _check_type(p: ast.Param, value: Any, span: Span) -> Any:
    ok = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "list": lambda v: isinstance(v, tuple),
        # a layer's size argument: an int for both dimensions or [height, width]
        "size": lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, tuple) and len(v) == 2 and all(_is_int(i) for i in v))
        ),
        "block": lambda v: isinstance(v, BlockRef),
    }[p.type](value)
    if not ok:
        raise error(
            "E0611",
            f"parameter `{p.name}` is {_article(p.type)}, got {value!r}",
            span,
            f"expected {_article(p.type)}",
        )
    return float(value) if p.type == "float" else value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _describe(cond: ast.Expr, env: dict[str, Any]) -> str:
    shown = [f"`{n}` = {env[n]!r}" for n in sorted(ast.free_names(cond)) if n in env]
    return "with " + ", ".join(shown) if shown else "the condition is false"


def _article(type_name: str) -> str:
    if type_name == "size":
        return "a size (an int or [height, width])"
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def _fmt(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def infer(
    program: Program,
    arch: str,
    overrides: dict[str, Any] | None = None,
    override_spans: dict[str, Span] | None = None,
    input_shape: Shape | None = None,
) -> Model:
    """Expand ``arch`` with ``overrides`` applied to its parameters and infer every shape;
    ``input_shape`` replaces the arch's declared input."""
    reset_budget()
    try:
        return _Builder(program).build(arch, overrides or {}, override_spans or {}, input_shape)
    except RecursionError:
        raise ArchError(
            [
                error(
                    "E0404", "the model is nested too deeply", program.blocks[arch].span
                ).diagnostics[0]
            ]
        ) from None


_INSTANCE_LABEL = "in instance "


def _in_instance(e: ArchError, use: Span, path: str) -> ArchError:
    """``e`` with the instance it failed in as a secondary label at the instance's use: an
    error inside a block used many times says which use (the innermost block only)."""
    if not e.diagnostics:
        return e
    first = e.diagnostics[0]
    if any(label.message.startswith(_INSTANCE_LABEL) for label in first.labels):
        return e
    if len(path) > 60:
        path = "..." + path[-57:]
    label = Label(use, f"{_INSTANCE_LABEL}`{path}`", primary=False)
    labelled = dataclasses.replace(first, labels=(*first.labels, label))
    return ArchError([labelled, *e.diagnostics[1:]], sources=e.sources)


MAX_REPORTED = 20  # diagnostics one failed compilation reports at most


def constant_argument_errors(program: Program) -> list[Diagnostic]:
    """The errors of layer calls whose arguments are all constants, wherever they are: they do
    not depend on shapes or parameter values, so a compilation that failed elsewhere reports
    them too instead of one error per run."""
    builder = _Builder(program)
    found: list[Diagnostic] = []
    for decl in program.blocks.values():
        params = {p.name for p in decl.params}
        for node in decl.walk():
            if not isinstance(node, ast.Call) or node.func in program.blocks or node.func in params:
                continue
            layer = get_layer(node.func)
            values = (*node.args, *(k.value for k in node.kwargs))
            if layer is None or any(ast.free_names(v) for v in values):
                continue
            try:
                builder.bind_layer(layer, node, {})
            except ArchError as e:
                found.extend(e.diagnostics)
    return found


def with_independent_errors(err: ArchError, extra: list[Diagnostic]) -> ArchError:
    """``err`` followed by the ``extra`` diagnostics at other places, in source order."""
    seen = {d.primary_span for d in err.diagnostics}
    more = sorted(
        (d for d in extra if d.primary_span not in seen),
        key=lambda d: (d.primary_span or Span("", 0, 0)).start,
    )
    unique: list[Diagnostic] = []
    for d in more:
        if d.primary_span not in {u.primary_span for u in unique}:
            unique.append(d)
    diagnostics = [*err.diagnostics, *unique][:MAX_REPORTED]
    return ArchError(diagnostics, sources=err.sources)


def _absent_member(flow: ast.Expr, scope: _Scope) -> _MemberDef | None:
    """The member a flow names when its `when` guard is false (an absent auxiliary head)."""
    if isinstance(flow, ast.Name) and flow.id in scope.members:
        member = scope.members[flow.id]
        return None if member.present else member
    return None
