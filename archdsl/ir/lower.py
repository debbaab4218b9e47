"""Lowering: the resolved program and the inferred model become the ``LoweredModel``.

This is where the generated code's semantics are decided, once for every backend: the
constructor statements of each block in definition (state_dict) order, every member's input and
output channels as expressions over the block's parameters (``planes * 4``), loops with their
counters, the running channel count where a closed expression does not exist, the forward graph
with each combinator's arguments, the members each loop group contributes (from inference, the
same in every instance or an error), the arguments that differ from a layer's defaults, and the
names of generated locals. Every check a backend would otherwise need ends here, so ``check``
and every backend accept the same specs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from archdsl.errors import ArchError, Span, error
from archdsl.ir import lowered as L
from archdsl.ir.combinators import COMBINATORS, concat_axis
from archdsl.ir.evaluate import BlockRef, evaluate
from archdsl.ir.features import feature_stages
from archdsl.ir.init_rules import lower_rules
from archdsl.ir.instantiate import Instance, Model
from archdsl.ir.program import Program
from archdsl.layers.registry import LayerType, Shape, carried, channel_axis, get_layer
from archdsl.layers.spatial import flatten_range, pair
from archdsl.names import MODULE_NAMES, RESERVED, Namer
from archdsl.records import REQUIRED
from archdsl.syntax import ast

Subst = dict[str, L.Expr]
_OPAQUE = L.Var(name="<opaque>")  # channels known only when the module is built
# names every generated function has in scope, whatever its spec says
_LOCALS_TAKEN = RESERVED | {"Tensor"}


def lower(
    program: Program,
    model: Model,
    *,
    entry: str,
    spec: str,
    title: str,
    factories: dict[str, dict[str, ast.Expr]],
    defaults: dict[str, ast.Expr],
) -> L.LoweredModel:
    """``factories``: factory name -> the arguments its variant gives the arch; ``defaults``:
    new defaults for the arch's parameters (``--set``)."""
    low = _Lowering(program, model, defaults)
    order = _block_order(program, model.arch, list(model.params.values()))
    low.reachable = set(order)
    definitions = tuple(low.definition(name) for name in order)
    made: list[L.Factory] = []
    for name, args in factories.items():
        if any(f.name == name for f in made):
            continue
        made.append(L.Factory(name=name, arch=model.arch, args=low.factory_args(args)))
    _check_module_names(program, definitions, made)
    return L.LoweredModel(
        spec=spec,
        title=title,
        arch=model.arch,
        entry=entry,
        definitions=definitions,
        factories=tuple(made),
        input_shape=model.input_shape,
        output_shape=model.output_shape,
        aux_shapes=tuple(model.aux_shapes),
        trainable=model.trainable,
        stats=model.stats,
        instances=tuple(
            L.InstanceFacts(
                path=i.path,
                type=i.type,
                kind=i.kind,  # type: ignore[arg-type]
                in_shapes=tuple(i.in_shapes),
                out_shapes=tuple(i.out_shapes),
                in_order=getattr(i.in_shapes[0], "order", ()) if i.in_shapes else (),
                out_order=getattr(i.out_shapes[0], "order", ()) if i.out_shapes else (),
                trainable=i.trainable,
                stats=i.stats,
            )
            for i in model.root.walk()
        ),
    )


# ---- expressions ---------------------------------------------------------------------------


def convert(e: ast.Expr, subst: Subst, blocks: set[str]) -> L.Expr:
    """A spec expression as an IR expression, with ``subst`` applied to its names."""
    c = lambda x: convert(x, subst, blocks)  # noqa: E731
    if isinstance(e, ast.Bool | ast.Num | ast.Str):
        return L.Const(value=e.value)
    if isinstance(e, ast.Name):
        if e.id in subst:
            return subst[e.id]
        if e.id in blocks:
            return L.BlockRef(name=e.id)
        return L.Var(name=e.id)
    if isinstance(e, ast.ListExpr):
        return L.ListOf(items=tuple(c(i) for i in e.items))
    if isinstance(e, ast.ListComp):
        inner = {k: v for k, v in subst.items() if k not in e.targets}
        bound = blocks - set(e.targets)
        return L.Comprehension(
            value=convert(e.value, inner, bound),
            targets=e.targets,
            iterable=c(e.iterable),
            cond=convert(e.cond, inner, bound) if e.cond is not None else None,
        )
    if isinstance(e, ast.Format):
        return L.Format(texts=e.texts, values=tuple(c(v) for v in e.values))
    if isinstance(e, ast.BinOp):
        return L.Binary(op=e.op, left=c(e.left), right=c(e.right))  # type: ignore[arg-type]
    if isinstance(e, ast.UnaryOp):
        return L.Unary(op=e.op, operand=c(e.operand))  # type: ignore[arg-type]
    if isinstance(e, ast.IfExp):
        return L.Choice(cond=c(e.cond), then=c(e.then), orelse=c(e.orelse))
    if isinstance(e, ast.Index):
        return L.Subscript(value=c(e.value), index=c(e.index))
    if isinstance(e, ast.Slice):
        start, end, step = (None if b is None else c(b) for b in (e.start, e.end, e.step))
        return L.Slice(value=c(e.value), start=start, end=end, step=step)
    if isinstance(e, ast.Call):
        args = tuple(c(a) for a in e.args)
        kwargs = tuple(L.Argument(name=k.name, value=c(k.value)) for k in e.kwargs)
        strict = e.func == "zip" and not _same_known_length(args)
        return L.FunctionCall(func=e.func, args=args, kwargs=kwargs, strict=strict)
    raise error("E0901", "internal error: cannot lower expression", e.span)


def _same_known_length(args: tuple[L.Expr, ...]) -> bool:
    lengths = {len(a.items) if isinstance(a, L.ListOf) else None for a in args}
    return len(lengths) == 1 and None not in lengths


def substitute(e: L.Expr, mapping: Subst) -> L.Expr:
    """Replace variables by expressions."""
    if isinstance(e, L.Var):
        return mapping.get(e.name, e)
    if isinstance(e, L.Comprehension):
        inner = {k: v for k, v in mapping.items() if k not in e.targets}
        return e.replace(
            value=substitute(e.value, inner),
            iterable=substitute(e.iterable, mapping),
            cond=substitute(e.cond, inner) if e.cond is not None else None,
        )
    updates: dict[str, Any] = {}
    for name in type(e)._fields:
        value = getattr(e, name)
        if isinstance(value, L.Node) and name != "kind":
            updates[name] = (
                L.Argument(name=value.name, value=substitute(value.value, mapping))
                if isinstance(value, L.Argument)
                else substitute(value, mapping)  # type: ignore[arg-type]
            )
        elif isinstance(value, tuple) and value and isinstance(value[0], L.Node):
            updates[name] = tuple(
                L.Argument(name=v.name, value=substitute(v.value, mapping))
                if isinstance(v, L.Argument)
                else substitute(v, mapping)
                for v in value
            )
    return e.replace(**updates) if updates else e


def _last_member(block: L.Definition) -> L.Member | None:
    """The last member a block applies that can hold a classifier (a layer with weights, a
    sequence or a block): in forward's top-level steps, or in order without a forward; None when
    that is not one fixed, named member."""
    members = {s.name: s for s in block.body if isinstance(s, L.Member)}
    if block.forward is None or block.sequential:
        applied = [s for s in block.body if isinstance(s, L.Member)]
    else:
        steps = block.forward.steps if isinstance(block.forward, L.Pipe) else (block.forward,)
        applied = [members[s.member] for s in steps if isinstance(s, L.UseMember)]
    holders = [
        m for m in applied if not isinstance(m.module, L.LayerCall) or _has_weights(m.module)
    ]
    last = holders[-1] if holders else None
    if last is None or last.name is None or last.suffix is not None or last.guard is not None:
        return None
    return last


def _has_weights(module: L.Module) -> bool:
    layer = get_layer(module.layer) if isinstance(module, L.LayerCall) else None
    return layer is not None and layer.has_weights


def variables(e: Any) -> set[str]:
    """Variables an expression reads (comprehension targets excluded)."""
    if isinstance(e, L.Var):
        return {e.name}
    if isinstance(e, L.Comprehension):
        inner = variables(e.value) | variables(e.cond)
        return variables(e.iterable) | (inner - set(e.targets))
    out: set[str] = set()
    if isinstance(e, L.Node):
        for name in type(e)._fields:
            out |= variables(getattr(e, name))
    elif isinstance(e, tuple):
        for item in e:
            out |= variables(item)
    return out


def _runtime(e: L.Expr) -> bool:
    return any(isinstance(n, L.OutChannels) for n in L.walk(e)) or e == _OPAQUE


def _add(a: L.Expr, b: L.Expr) -> L.Expr:
    if isinstance(a, L.Const) and isinstance(b, L.Const):
        return L.Const(value=a.value + b.value)  # type: ignore[operator]
    (m, term), (n, other) = _multiple(a), _multiple(b)
    if term == other:  # like terms: four concatenated copies are `4 * in_channels`
        return L.Binary(op="*", left=L.Const(value=m + n), right=term)
    return L.Binary(op="+", left=a, right=b)


def _multiple(e: L.Expr) -> tuple[int, L.Expr]:
    """``e`` as an integer multiple of a term: ``3 * c`` is (3, c), ``c`` itself (1, c)."""
    if isinstance(e, L.Binary) and e.op == "*":
        for k, term in ((e.left, e.right), (e.right, e.left)):
            if isinstance(k, L.Const) and type(k.value) is int:
                return k.value, term
    return 1, e


def _mul(a: L.Expr, b: int) -> L.Expr:
    if b == 1:
        return a
    return L.Binary(op="*", left=a, right=L.Const(value=b))


def _choose(cond: L.Expr, then: L.Expr, orelse: L.Expr) -> L.Expr:
    if isinstance(cond, L.Const) and isinstance(cond.value, bool):
        return then if cond.value else orelse
    then, orelse = _assume(then, cond, True), _assume(orelse, cond, False)
    return then if then == orelse else L.Choice(cond=cond, then=then, orelse=orelse)


def _assume(e: L.Expr, cond: L.Expr, value: bool) -> L.Expr:
    """``e`` where ``cond`` is known to be ``value``: choices on the same condition decided."""
    if isinstance(e, L.Choice):
        if e.cond == cond or e.cond == L.Unary(op="not", operand=cond):
            decided = value if e.cond == cond else not value
            return _assume(e.then if decided else e.orelse, cond, value)
        return L.Choice(
            cond=e.cond, then=_assume(e.then, cond, value), orelse=_assume(e.orelse, cond, value)
        )
    if isinstance(e, L.Binary):
        return e.replace(left=_assume(e.left, cond, value), right=_assume(e.right, cond, value))
    return e


def _decide(e: L.Expr) -> L.Expr:
    """``e`` with the choices whose condition is a constant comparison decided (a block's
    output channels once the caller's constant arguments are substituted: `stride > 1` at
    stride 2)."""
    if isinstance(e, L.Choice):
        known = _constant(e.cond)
        if isinstance(known, bool):
            return _decide(e.then if known else e.orelse)
        return _choose(e.cond, _decide(e.then), _decide(e.orelse))
    if isinstance(e, L.Binary):
        return e.replace(left=_decide(e.left), right=_decide(e.right))
    return e


_COMPARE = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "//": lambda a, b: a // b if b else None,
    "%": lambda a, b: a % b if b else None,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _constant_value(e: L.Expr) -> Any:
    """A constant number or list of numbers (a dimension argument), else None."""
    if isinstance(e, L.ListOf):
        items = tuple(_constant_value(i) for i in e.items)
        return items if all(isinstance(i, int) for i in items) else None
    if isinstance(e, L.Unary) and e.op == "-":
        v = _constant_value(e.operand)
        return -v if isinstance(v, int) else None
    v = _constant(e)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _constant(e: L.Expr) -> Any:
    """The value of an expression over constants (integer arithmetic, comparisons, `and`, `or`,
    `not`), else None."""
    if isinstance(e, L.Const):
        return e.value
    if isinstance(e, L.Unary) and e.op == "not":
        v = _constant(e.operand)
        return not v if isinstance(v, bool) else None
    if isinstance(e, L.Binary):
        a, b = _constant(e.left), _constant(e.right)
        if e.op in ("and", "or"):
            if isinstance(a, bool) and isinstance(b, bool):
                return (a and b) if e.op == "and" else (a or b)
            return None
        numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b))
        if e.op in _COMPARE and numbers:
            return _COMPARE[e.op](a, b)
    return None


# ---- the definitions ------------------------------------------------------------------------


@dataclass
class _Seq:
    """A sequence being built: its list local, its channel local and the current channels."""

    items: str | None
    channels: str | None
    cur: L.Expr


@dataclass
class _Labels:
    """Names of the layers one forward creates: a member's first use is its name, a second use
    of a parameter-free member `relu_1`, an inline layer its type (`add`, `flatten_1`). No two
    are equal, and no inline layer takes a member's name."""

    members: frozenset[str] = frozenset()
    uses: dict[str, int] = field(default_factory=dict)
    issued: set[str] = field(default_factory=set)

    def next(self, key: str, base: str) -> str:
        n = self.uses.get(key, 0)
        while True:
            label = base if n == 0 else f"{base}_{n}"
            n += 1
            own = key == base and label == base
            if label not in self.issued and (own or label not in self.members):
                break
        self.uses[key] = n
        self.issued.add(label)
        return label


class _Lowering:
    def __init__(self, program: Program, model: Model, defaults: dict[str, ast.Expr]) -> None:
        self.prog = program
        self.model = model
        self.defaults = defaults
        self.blocks = {n for n, b in program.blocks.items() if not b.is_arch}
        self.outs: dict[str, L.Expr] = {}
        self.reachable: set[str] = set()  # the definitions this model builds
        self.done: dict[str, L.Definition] = {}
        self.loop_ids = 0
        self.by_span: dict[Span, list[Instance]] = {}
        for inst in model.root.walk():
            self.by_span.setdefault(inst.span, []).append(inst)

    def conv(self, e: ast.Expr, subst: Subst | None = None) -> L.Expr:
        return convert(e, subst or {}, self.blocks)

    def definition(self, name: str) -> L.Definition:
        if name not in self.done:
            self.done[name] = _Definition(self, self.prog.blocks[name]).lower()
        return self.done[name]

    def block_out(self, name: str) -> L.Expr:
        """A block's output channels in its own parameters and ``in_channels``."""
        if name not in self.outs:
            self.definition(name)
        return self.outs[name]

    def factory_args(self, args: dict[str, ast.Expr]) -> tuple[L.Argument, ...]:
        decl = self.prog.blocks[self.model.arch]
        env = {n: BlockRef(n) for n in self.blocks}
        out = []
        for p in decl.params:
            if p.name not in args:
                continue
            default = self.defaults.get(p.name, p.default)
            value = evaluate(args[p.name], env)
            if default is not None and _same_value(value, evaluate(default, env), p.type):
                continue
            out.append(L.Argument(name=p.name, value=self.conv(args[p.name])))
        return tuple(out)


def _check_module_names(
    program: Program, definitions: tuple[L.Definition, ...], factories: list[L.Factory]
) -> None:
    """Classes (torch), model functions (Keras) and factories share the generated module's
    namespace with its imports and helpers: refuse two of them under one name (E0228). Keras
    block functions are renamed instead (backends/keras.py), since no one imports them."""
    seen: dict[str, tuple[Span, str]] = {}
    claims = [(d.name, program.blocks[d.name].span, f"{d.kind} `{d.name}`") for d in definitions]
    for f in factories:
        variant = program.variants.get(f.name)
        span = variant.decl.span if variant is not None else program.blocks[f.arch].span
        what = f"variant `{f.name}`" if variant is not None else f"the factory of arch `{f.arch}`"
        claims.append((f.name, span, what))
    for name, span, what in claims:
        if name in MODULE_NAMES:
            raise error(
                "E0228",
                f"{what} would be generated as `{name}`, which the generated module imports "
                "or defines",
                span,
                "declared here",
                help=f"rename it; the generated modules use {', '.join(sorted(MODULE_NAMES))}",
            )
        if name in seen:
            other_span, other = seen[name]
            raise error(
                "E0228",
                f"{what} and {other} would both be generated as `{name}`",
                span,
                "declared here",
                secondary=((other_span, f"{other} is declared here"),),
                help="rename one of them; an arch's own factory is its name in snake case, so "
                "archs are named in CamelCase (`Net` gives `net`)",
            )
        seen[name] = (span, what)


def _same_value(a: Any, b: Any, type_name: str) -> bool:
    if type_name == "float":
        return float(a) == float(b)
    return type(a) is type(b) and a == b


class _Definition:
    def __init__(self, low: _Lowering, decl: ast.BlockDecl) -> None:
        self.low = low
        self.decl = decl
        self.members, self.groups = _units(decl)
        self.sequence = ast.first_anonymous(decl.body) is not None
        taken = {p.name for p in decl.params} | _bound_names(decl.body) | _LOCALS_TAKEN
        self.namer = Namer(taken | set(low.prog.blocks))
        self.member_ir: dict[str, L.Member] = {}
        self.member_out: dict[str, L.Expr] = {}
        # each member's input channels where forward first uses it, and the sides of the
        # conditions (IfExp node, then-side) it sits in
        self.member_in: dict[str, tuple[L.Expr, tuple[tuple[int, bool], ...]]] = {}
        self.sides: list[tuple[int, bool]] = []
        self.conditions: dict[int, L.Expr] = {}
        self.unit_ir: dict[int, L.Loop] = {}
        self.unit_pre: dict[int, list[L.Stmt]] = {}  # statements the loop needs before it
        self.unit_out: dict[int, L.Expr] = {}
        self.lets = {s.name: s.value for s in decl.body if isinstance(s, ast.Let)}
        self.labels = _Labels(members=frozenset(self.members))
        self.channel_locals: set[str] = set()
        self.aux: list[str] = []
        self.instances = low.model.block_instances.get(decl.name, [])
        # members that forward applies only under conditions: the condition they exist under
        self.use_conditions: dict[str, ast.Expr] = {}

    def layer_of(self, module: ast.Call | ast.Sequential) -> LayerType | None:
        """The registry layer a member builds (None: a sequence, or a block, which a spec's
        block of that name is, even where a layer has the name)."""
        if not isinstance(module, ast.Call) or module.func in self.low.prog.blocks:
            return None
        return get_layer(module.func)

    def called_apart(self) -> bool:
        """Whether a member needs a call of its own in forward (attention reads its input three
        times), so that the module cannot be an nn.Sequential even without a forward."""
        return any(
            (layer := self.layer_of(stmt.module)) is not None and layer.torch_call is not None
            for stmt in self.decl.body
            if isinstance(stmt, ast.Member)
        )

    def in_channels(self) -> L.Expr:
        if self.decl.is_arch:  # what layers read: an image's channels, a vector's features
            shape = self.low.model.input_shape
            return L.Const(value=shape[0] if len(shape) == 3 else shape[-1])
        return L.Var(name="in_channels")

    # ---- entry -------------------------------------------------------------------------------
    def lower(self) -> L.Definition:
        decl = self.decl
        forward: L.Flow | None = None
        if self.sequence:
            seq = _Seq(None, None, self.in_channels())
            body: list[L.Stmt] = []
            direct = self.direct_items(decl.body, seq.cur, {})
            if direct is not None:
                body, out = direct
                items = None
            else:
                items = self.namer.new("layers")
                seq.items = items
                for stmt in decl.body:
                    self.sequence_stmt(stmt, seq, {}, body)
                out = seq.cur
        else:
            items = None
            flow = _forward_of(decl)
            self.use_conditions = _use_conditions(flow, set(self.members))
            out = self.flow_channels(flow, self.in_channels())
            forward = self.flow(flow)
            body = []
            for stmt in decl.body:
                if isinstance(stmt, ast.Let):
                    body.append(L.Let(name=stmt.name, value=self.low.conv(stmt.value)))
                elif isinstance(stmt, ast.Require):
                    body.append(L.Require(cond=self.low.conv(stmt.cond), message=stmt.message))
                elif isinstance(stmt, ast.Member) and stmt.target is not None:
                    name = stmt.target.name
                    if name not in self.member_ir:
                        raise error(
                            "E0403",
                            f"member `{name}` is never used in forward",
                            stmt.span,
                            "defined here",
                            help="use it in `forward`, or remove it",
                        )
                    body.append(self.member_ir[name])
                elif isinstance(stmt, ast.For | ast.Repeat) and id(stmt) in self.unit_ir:
                    body.extend(self.unit_pre[id(stmt)])
                    body.append(self.unit_ir[id(stmt)])
        features, marked = self.features(forward)
        out = _inline_lets(out, {k: self.low.conv(v) for k, v in self.lets.items()})
        # a caller can substitute the output channels unless they live in this block's locals
        local = bool(variables(out) & self.channel_locals)
        self.low.outs[decl.name] = _OPAQUE if local else out
        return L.Definition(
            name=decl.name,
            kind="arch" if decl.is_arch else "block",
            doc=_doc(self.low.prog, decl),
            params=tuple(self.parameter(p) for p in decl.params),
            sequential=self.sequence
            or not (any(isinstance(s, ast.Forward) for s in decl.body) or self.called_apart()),
            body=tuple(body),
            forward=forward,
            out_channels=None if decl.is_arch else out,
            input=self.input_shape() if decl.is_arch else None,
            aux_outputs=tuple(self.aux),
            items=items,
            init=self.init_rules() if decl.is_arch else (),
            features=features,
            features_marked=bool(marked),
        )

    def features(self, forward: L.Flow | None) -> tuple[tuple[L.Stage, ...], dict[int, Span]]:
        """The compiled arch's feature stages, and the steps `feature(...)` marks; none for a
        block, another arch, or an arch that applies its members in order (no forward)."""
        decl = self.decl
        fwd = next((s for s in decl.body if isinstance(s, ast.Forward)), None)
        if decl.name != self.low.model.arch or forward is None or fwd is None:
            return (), {}
        stages = fwd.flow.stages if isinstance(fwd.flow, ast.Pipe) else (fwd.flow,)
        marked = {
            i: s.span
            for i, s in enumerate(stages)
            if isinstance(s, ast.Call) and s.func == "feature"
        }
        sequential = lambda b: self.low.definition(b).sequential  # noqa: E731
        return feature_stages(forward, marked, self.low.model, sequential), marked

    def init_rules(self) -> tuple[L.Init, ...]:
        """The arch's rules; one for a block this model does not build selects nothing. Their
        arguments are checked with the values of this compilation's parameters."""
        assert self.decl.name == self.low.model.arch  # an arch is never another's member
        rules = lower_rules(self.low.prog.blocks, self.decl, self.low.conv, self.low.model.params)
        return tuple(r for r in rules if r.block is None or r.block in self.low.reachable)

    def parameter(self, p: ast.Param) -> L.Parameter:
        default = p.default
        if self.decl.is_arch and self.decl.name == self.low.model.arch:
            default = self.low.defaults.get(p.name, default)
        return L.Parameter(
            name=p.name,
            type=p.type,  # type: ignore[arg-type]
            default=None if default is None else self.low.conv(default),
            input_only=p.name in self.input_only,
        )

    @functools.cached_property
    def input_only(self) -> set[str]:
        """The parameters only the arch's `input` reads."""
        inputs = [s for s in self.decl.body if isinstance(s, ast.Input)]
        if not inputs:
            return set()
        read: set[str] = set()
        for stmt in self.decl.body:
            if not isinstance(stmt, ast.Input):
                read |= ast.free_names(stmt)
        return ast.free_names(inputs[0]) - read

    def input_shape(self) -> L.InputShape:
        stmt = next(s for s in self.decl.body if isinstance(s, ast.Input))
        shape = self.low.conv(stmt.shape)
        params = {p.name for p in self.decl.params}
        return L.InputShape(
            shape=shape,
            value=self.low.model.input_shape,
            parametric=bool(variables(shape) & params),
        )

    # ---- channels along the forward flow (lowers each member at its first use) ----------------
    def flow_channels(self, flow: ast.Expr, c: L.Expr) -> L.Expr:
        if isinstance(flow, ast.Pipe):
            for stage in flow.stages:
                c = self.flow_channels(stage, c)
            return c
        if isinstance(flow, ast.Name):
            if flow.id in self.groups:
                loop = self.groups[flow.id]
                if id(loop) not in self.unit_ir:
                    seq = _Seq(None, None, c)
                    stmts: list[L.Stmt] = []
                    self.sequence_stmt(loop, seq, {}, stmts, group=flow.id)
                    assert isinstance(stmts[-1], L.Loop)
                    self.unit_ir[id(loop)] = stmts[-1]
                    self.unit_pre[id(loop)] = stmts[:-1]
                    self.unit_out[id(loop)] = seq.cur
                return self.unit_out[id(loop)]
            stmt = self.members[flow.id]
            if flow.id not in self.member_ir:
                self.member_ir[flow.id], self.member_out[flow.id] = self.named_member(stmt, c)
                self.member_in[flow.id] = (c, tuple(self.sides))
                return self.member_out[flow.id]
            first, path = self.member_in[flow.id]
            merged = self.merge_inputs(first, path, c) if c != first else None
            if merged is not None:  # one module for both sides of a condition: build it once
                self.member_in[flow.id] = merged
                self.member_ir[flow.id], self.member_out[flow.id] = self.named_member(
                    stmt, merged[0]
                )
            module = stmt.module
            if isinstance(module, ast.Call) and module.func not in self.low.prog.blocks:
                layer = get_layer(module.func)
                if layer is not None and layer.channels is None:
                    return c  # a channel-preserving layer used again keeps its new input's
            return self.member_out[flow.id]
        if isinstance(flow, ast.IfExp):
            cond = self.low.conv(flow.cond)
            self.conditions[id(flow)] = cond
            self.sides.append((id(flow), True))
            a = self.flow_channels(flow.then, c)
            self.sides[-1] = (id(flow), False)
            b = self.flow_channels(flow.orelse, c)
            self.sides.pop()
            return _choose(cond, a, b)
        assert isinstance(flow, ast.Call)
        if flow.func in COMBINATORS:
            combinator = COMBINATORS[flow.func]
            along_channels = combinator.joins and self.concat_dim(flow) - 1 == self.channel_of(
                flow.span
            )
            part = c
            if combinator.splits and along_channels:  # each branch reads its share
                part = L.Binary(op="//", left=c, right=L.Const(value=len(flow.args)))
                known = _constant(part)
                if isinstance(known, int):
                    part = L.Const(value=known)
            outs = [self.flow_channels(a, part) for a in flow.args]
            for kw in flow.kwargs:
                if kw.name in combinator.flow_keywords:
                    self.flow_channels(kw.value, c)
            if along_channels:
                total = outs[0]
                for o in outs[1:]:
                    total = _add(total, o)
                return total
            if flow.func in ("multiply", "aux"):
                return c
            return outs[0]
        layer = get_layer(flow.func)
        assert layer is not None
        return self.layer_channels(layer, flow, c, {})

    def merge_inputs(
        self, first: L.Expr, path: tuple[tuple[int, bool], ...], c: L.Expr
    ) -> tuple[L.Expr, tuple[tuple[int, bool], ...]] | None:
        """A member met again on the other side of a condition, with other input channels
        (ShuffleNet's branch2 reads half the input at stride 1, all of it at stride 2): its
        input is the choice between the two, made by the condition where the uses part."""
        now = tuple(self.sides)
        k = 0
        while k < min(len(path), len(now)) and path[k] == now[k]:
            k += 1
        if k == len(path) or k == len(now) or path[k][0] != now[k][0]:
            return None  # not on two sides of one condition: inference compared the shapes
        node, first_then = path[k]
        cond = self.conditions[node]
        merged = _choose(cond, first, c) if first_then else _choose(cond, c, first)
        return merged, path[:k]

    def channel_of(self, span: Span) -> int:
        """Where the input of the operation at ``span`` holds its channels (0 for an image)."""
        shapes = self.low.model.op_shapes.get(span, set())
        return channel_axis(next(iter(shapes))) if shapes else 0

    def concat_dim(self, call: ast.Call) -> int:
        """The constant `dim` a joining (and splitting) combinator works along."""
        kw = next((k for k in call.kwargs if k.name == "dim"), None)
        if kw is None:
            return 1
        shapes = self.low.model.op_shapes.get(call.span, set())
        if any(_names(kw.value)):
            raise error(
                "E0414",
                f"`{call.func}` needs a constant `dim`",
                kw.span,
                "depends on the block's values",
                help="write the dim as a number (1 is the channels)",
            )
        shape = next(iter(shapes)) if shapes else (0, 0, 0)
        return concat_axis(evaluate(kw.value, {}), shape, kw.span, call.func)

    def layer_channels(self, layer: LayerType, call: ast.Call, c: L.Expr, subst: Subst) -> L.Expr:
        """The block-input channels after ``layer``, from ``c`` before it (see
        ``registry.Carried``): a rearrangement merges, slices or moves them; a layer that
        reads another dimension leaves them."""
        if layer.flattens:  # the channels times the other extents it merges them with
            for extent in self.merged_at(call, layer):
                c = _mul(c, extent)
            return c
        if layer.axes in ("select", "split", "permute"):
            return c  # moved, or gone (then read from inference where a layer reads them)
        if layer.axes == "slice":
            return self.sliced_channels(call, layer, c)
        shapes = self.low.model.op_shapes.get(call.span, set())
        if any(carried(s) != channel_axis(s) for s in shapes):
            return c
        given = {k: self.low.conv(v, subst) for k, v in _call_arguments(layer, call).items()}
        return layer.out_channels(given, c)  # type: ignore[arg-type]

    def read(self, c: L.Expr, shapes: Iterable[Shape], span: Span, what: str) -> L.Expr:
        """The channels a layer or block reads from inputs of ``shapes``, ``c`` counting the
        block-input channels: ``c`` where they are what it reads, else the size it reads, one
        in every instance."""
        shapes = list(shapes)
        if all(carried(s) == channel_axis(s) for s in shapes):
            return c
        sizes = {s[channel_axis(s)] for s in shapes}
        if len(sizes) != 1:
            raise error(
                "E0411",
                f"`{what}` reads different sizes where it reads channels",
                span,
                "the generated code needs one size here",
                help="the block's channels are elsewhere in this tensor: permute them to "
                "where it reads them",
            )
        return L.Const(value=sizes.pop())

    def sliced_channels(self, call: ast.Call, layer: LayerType, c: L.Expr) -> L.Expr:
        """The channels after a slice (or a padding): the input's unless it slices them, else
        what it keeps of them, one size in every instance."""
        shapes = self.low.model.op_shapes.get(call.span, set())
        dims = self.dims(layer, call)
        at = dims["dim"] - 1
        kept = {
            layer.shape(layer.schema.unchecked(**dims), s)[at] for s in shapes if carried(s) == at
        }
        if not kept:
            return c
        if len(kept) != 1 or len(kept) != len(shapes):
            raise error(
                "E0411",
                f"`{layer.name}` leaves different sizes where layers read the channels",
                call.span,
                "the generated code needs one size here",
            )
        return L.Const(value=next(iter(kept)))

    def merged_at(self, call: ast.Call, layer: LayerType) -> tuple[int, ...]:
        """The extents a flatten merges with the channels (none where it leaves them)."""
        shapes = self.low.model.op_shapes.get(call.span, set())
        if not shapes:
            return ()
        dims = self.dims(layer, call)
        shape = next(iter(shapes))
        first, last = flatten_range(dims["start"], dims["end"], len(shape))
        at = carried(shape)
        if at is None or not first <= at <= last:
            return ()
        keep = [i for i in range(first, last + 1) if i != at]
        extents = {tuple(s[i] for i in keep) for s in shapes}
        if len(extents) != 1:
            raise error(
                "E0411",
                f"`{layer.name}` sees different spatial sizes in different instances",
                call.span,
                "the generated code needs one size here",
                help="flatten in the arch, after pooling to a fixed size",
            )
        return next(iter(extents))

    def named_member(self, stmt: ast.Member, c: L.Expr) -> tuple[L.Member, L.Expr]:
        assert stmt.target is not None
        module, out = self.module(stmt.module, c, {}, stmt.target.name)
        # a layer's channels follow from its arguments and input (a ReLU after a block has the
        # block's); only a block's instance reports its own
        if out == _OPAQUE or (_runtime(out) and not isinstance(module, L.LayerCall)):
            out = L.OutChannels(member=stmt.target.name)
        declared = stmt.guard
        implied = None if declared is not None else self.use_conditions.get(stmt.target.name)
        if implied is not None:
            self.check_defined_before(stmt, implied)
            declared = implied
        guard = self.low.conv(declared) if declared is not None else None
        member = L.Member(
            name=stmt.target.name,
            guard=guard,
            module=module,
            out_channels=out,
            implied=implied is not None,
        )
        if guard is not None:
            out = _choose(guard, out, c)
        return member, out

    def check_defined_before(self, stmt: ast.Member, cond: ast.Expr) -> None:
        """A member built only under a condition of forward is built where it is declared:
        the values the condition reads must be known there."""
        known = {p.name for p in self.decl.params}
        for s in self.decl.body:
            if s is stmt:
                break
            if isinstance(s, ast.Let):
                known.add(s.name)
        late = sorted(ast.free_names(cond) - known)
        if late:
            assert stmt.target is not None
            raise error(
                "E0403",
                f"member `{stmt.target.name}` is applied only when `{late[0]}` holds, "
                "which is defined after it",
                stmt.span,
                "declared here",
                help=f"define `{late[0]}` before the member, or give it a `when` condition",
            )

    # ---- modules -------------------------------------------------------------------------------
    def module(
        self, module: ast.Call | ast.Sequential, c: L.Expr, subst: Subst, hint: str
    ) -> tuple[L.Module, L.Expr]:
        if isinstance(module, ast.Sequential):
            return self.sequential(module, c, subst, hint)
        layer = get_layer(module.func)
        if layer is not None and module.func not in self.low.prog.blocks:
            call = self.layer_call(layer, module, c, subst)
            return call, self.layer_channels(layer, module, c, subst)
        args = tuple(self.low.conv(a, subst) for a in module.args)
        kwargs = tuple(
            L.Argument(name=k.name, value=self.low.conv(k.value, subst)) for k in module.kwargs
        )
        callee = self.low.conv(ast.Name(module.func), subst)
        insts = self.low.by_span.get(module.span, [])
        c = self.read(c, (s for i in insts for s in i.in_shapes), module.span, module.func)
        ir = L.BlockCall(callee=callee, in_channels=c, args=args, kwargs=kwargs)
        if module.func not in self.low.prog.blocks:
            return ir, _OPAQUE
        inner = self.low.block_out(module.func)
        if _runtime(inner):
            return ir, _OPAQUE
        decl = self.low.prog.blocks[module.func]
        mapping: Subst = {"in_channels": c}
        positional = dict(zip([p.name for p in decl.params], args, strict=False))
        named = {k.name: k.value for k in kwargs}
        for p in decl.params:
            value = named.get(p.name, positional.get(p.name))
            if value is None:
                assert p.default is not None
                value = self.low.conv(p.default)
            mapping[p.name] = value
        return ir, _decide(substitute(inner, mapping))

    def layer_call(self, layer: LayerType, call: ast.Call, c: L.Expr, subst: Subst) -> L.LayerCall:
        schema = layer.schema
        args = []
        for fname, value in _call_arguments(layer, call).items():
            ir = self.low.conv(value, subst)
            default = schema.default(fname)
            if isinstance(ir, L.Const) and _same_const(ir.value, default):
                continue
            args.append(L.Argument(name=fname, value=ir))
        order = schema._fields
        args.sort(key=lambda a: order.index(a.name))
        known = self.known(layer, call)
        have = dict(known)
        dims = self.dims(layer, call, subst)
        known = (*known, *((n, v) for n, v in dims.items() if n not in have))
        if layer.axes == "split":  # how many dimensions it makes, for a printer's layout
            known = (*known, ("parts", self.parts(call)))
        if layer.has_weights:
            shapes = self.low.model.op_shapes.get(call.span, set())
            c = self.read(c, shapes, call.span, layer.name)
        return L.LayerCall(layer=layer.name, in_channels=c, args=tuple(args), known=known)

    def parts(self, call: ast.Call) -> int:
        """How many dimensions an unflatten makes: one number in every instance."""
        sizes = _call_arguments(get_layer(call.func), call)["sizes"]  # type: ignore[arg-type]
        if isinstance(sizes, ast.ListExpr):
            return len(sizes.items)
        counts = {len(i.args.sizes) for i in self.low.by_span.get(call.span, [])}
        if len(counts) != 1:
            raise error(
                "E0241",
                f"`{call.func}`'s `sizes` differ in length between instances",
                call.span,
                "the generated code needs one number of dimensions here",
                help="write the sizes as a list literal, `[-1, size]`",
            )
        return counts.pop()

    def dims(self, layer: LayerType, call: ast.Call, subst: Subst | None = None) -> dict[str, Any]:
        """A layer's dimension arguments (``LayerType.dim_args``), each one value in every
        instance: the instances', else the constant the call gives (inline in forward there is
        no instance to ask), else the default; E0241 otherwise."""
        have = dict(self.known(layer, call))
        given = _call_arguments(layer, call)
        schema = layer.schema
        out = {}
        for name in layer.dim_args:
            if name in have:
                out[name] = have[name]
                continue
            if name in given:
                value = _constant_value(self.low.conv(given[name], subst))
                known = value is not None
            else:
                value = schema.default(name)
                known = value is not REQUIRED
            if not known:
                raise error(
                    "E0241",
                    f"`{layer.name}`'s `{name}` differs between instances",
                    call.span,
                    "the generated code needs one value here",
                    help=f"give `{name}` as a constant, the same in every instance",
                )
            out[name] = value
        return out

    def known(self, layer: LayerType, call: ast.Call) -> tuple[tuple[str, Any], ...]:
        """Arguments (and `depthwise`) that take one value in every instance of this call."""
        insts = [i for i in self.low.by_span.get(call.span, []) if i.kind in ("layer", "tensor")]
        if not insts:
            return ()
        out = []
        for fname in layer.schema._fields:
            values = {getattr(i.args, fname) for i in insts}
            if fname in layer.sizes:  # a square size is its int
                values = {v[0] if isinstance(v, tuple) and v[0] == v[1] else v for v in values}
            if len(values) == 1:
                out.append((fname, next(iter(values))))
        if "groups" in layer.schema._fields:
            dw = {
                i.args.groups == i.in_shapes[0][0] == i.args.out and i.args.groups > 1
                for i in insts
            }
            if len(dw) == 1:
                out.append(("depthwise", next(iter(dw))))
        if _PADDED <= set(layer.schema._fields):
            same = {_same_padding(i.args) for i in insts}
            if len(same) == 1:
                out.append(("same_padding", next(iter(same))))
        return tuple(out)

    def sequential(
        self, module: ast.Sequential, c: L.Expr, subst: Subst, hint: str
    ) -> tuple[L.Sequence, L.Expr]:
        direct = self.direct_items(module.body, c, subst)
        if direct is not None:
            stmts, out = direct
            return L.Sequence(body=tuple(stmts)), out
        seq = _Seq(self.namer.new(hint), None, c)
        stmts = []
        for stmt in module.body:
            self.sequence_stmt(stmt, seq, subst, stmts)
        return L.Sequence(body=tuple(stmts), items=seq.items, channels=seq.channels), seq.cur

    def direct_items(
        self, body: tuple[ast.Stmt, ...], c: L.Expr, subst: Subst
    ) -> tuple[list[L.Stmt], L.Expr] | None:
        """A fixed list of items (no loop, no optional item, channels known)."""
        if not all(
            isinstance(s, ast.Let | ast.Require)
            or (isinstance(s, ast.Member) and s.guard is None and s.target is None)
            for s in body
        ):
            return None
        stmts: list[L.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ast.Let):
                stmts.append(L.Let(name=stmt.name, value=self.low.conv(stmt.value, subst)))
            elif isinstance(stmt, ast.Require):
                stmts.append(L.Require(cond=self.low.conv(stmt.cond, subst), message=stmt.message))
            else:
                assert isinstance(stmt, ast.Member)
                module, out = self.module(stmt.module, c, subst, "layers")
                if out == _OPAQUE:
                    return None
                stmts.append(L.Member(name=None, module=module, out_channels=out))
                c = out
        return stmts, c

    def flush(self, seq: _Seq, stmts: list[L.Stmt]) -> None:
        """Keep the running channel count in a local before a loop or an optional item."""
        if seq.channels is None:
            # `channels` where it is free; a nested sequence's own is named after its list
            plain = seq.items is None or "channels" not in self.namer.taken
            seq.channels = self.namer.new("channels" if plain else f"{seq.items}_channels")
            self.channel_locals.add(seq.channels)
        var = L.Var(name=seq.channels)
        if seq.cur != var:
            stmts.append(L.SetChannels(var=seq.channels, value=seq.cur))
            seq.cur = var

    def sequence_stmt(
        self,
        stmt: ast.Stmt,
        seq: _Seq,
        subst: Subst,
        stmts: list[L.Stmt],
        group: str | None = None,
    ) -> None:
        if isinstance(stmt, ast.Let):
            stmts.append(L.Let(name=stmt.name, value=self.low.conv(stmt.value, subst)))
        elif isinstance(stmt, ast.Require):
            stmts.append(L.Require(cond=self.low.conv(stmt.cond, subst), message=stmt.message))
        elif isinstance(stmt, ast.For | ast.Repeat):
            self.flush(seq, stmts)
            loop, inner = self.loop_header(stmt, subst)
            body: list[L.Stmt] = []
            for s in stmt.body:
                self.sequence_stmt(s, seq, inner, body)
            self.flush(seq, body)
            stmts.append(loop.replace(body=tuple(body), group=group))
        elif isinstance(stmt, ast.Member):
            hint = stmt.target.name if stmt.target is not None else self.item_hint(seq)
            module, out = self.module(stmt.module, seq.cur, subst, hint)
            name = suffix = None
            if stmt.target is not None:
                assert stmt.target.suffix is not None
                name = stmt.target.name
                suffix = self.low.conv(stmt.target.suffix, subst)
                fetch = L.OutChannels(member=name, suffix=suffix)
            else:
                fetch = L.OutChannels(items=seq.items)
            guard = self.low.conv(stmt.guard, subst) if stmt.guard is not None else None
            if guard is not None or out == _OPAQUE:
                before = seq.cur
                self.flush(seq, stmts)
                if out == _OPAQUE:
                    out = fetch
                assert seq.channels is not None
                # the local holds what came before: a member that keeps it need not set it
                update = seq.channels if out not in (seq.cur, before) else None
                stmts.append(
                    L.Member(
                        name=name,
                        suffix=suffix,
                        guard=guard,
                        module=module,
                        out_channels=out,
                        update=update,
                    )
                )
            else:
                stmts.append(L.Member(name=name, suffix=suffix, module=module, out_channels=out))
                seq.cur = out

    def has_weights(self, stmt: ast.Member) -> bool:
        """Whether any instance of the member holds parameters or statistics."""
        return any(sum(i.totals()) for i in self.low.by_span.get(stmt.module.span, []))

    def item_hint(self, seq: _Seq) -> str:
        """The list local of an unnamed sequence inside another (a stage of a stage table)."""
        if seq.items is None:
            return "layers"
        free = (n for n in ("stage", "layers", "blocks") if n not in self.namer.taken)
        return next(free, "stage")

    def loop_header(self, stmt: ast.For | ast.Repeat, subst: Subst) -> tuple[L.Loop, Subst]:
        """The loop's counter and the substitutions its body is lowered with."""
        counted = bool(_own_names(stmt.body) & {"index", "first", "last"})
        depth = sum(1 for v in subst.values() if isinstance(v, L.Var) and v.name in "ijklmn")
        index = self.namer.new("ijklmn"[depth] if depth < 6 else "i") if counted else None
        inner = dict(subst)
        self.low.loop_ids += 1
        loop_id = self.low.loop_ids
        idx = L.Var(name=index or "_")
        inner["index"] = idx
        inner["first"] = L.Binary(op="==", left=idx, right=L.Const(value=0))
        if isinstance(stmt, ast.Repeat):
            count = self.low.conv(stmt.count, subst)
            inner["last"] = L.Binary(
                op="==", left=idx, right=L.Binary(op="-", left=count, right=L.Const(value=1))
            )
            return L.Loop(id=loop_id, index=index, count=count, body=()), inner
        iterable = self.low.conv(stmt.iterable, subst)
        # zip is strict: its length is its first list's (len() of a zip object fails)
        counted = (
            iterable.args[0]
            if isinstance(iterable, L.FunctionCall) and iterable.func == "zip"
            else iterable
        )
        length = L.FunctionCall(func="len", args=(counted,))
        inner["last"] = L.Binary(
            op="==", left=idx, right=L.Binary(op="-", left=length, right=L.Const(value=1))
        )
        for t in stmt.targets:
            inner.pop(t, None)
        loop = L.Loop(id=loop_id, index=index, targets=stmt.targets, iterable=iterable, body=())
        return loop, inner

    # ---- the forward graph ------------------------------------------------------------------
    def flow(self, flow: ast.Expr) -> L.Flow:
        if isinstance(flow, ast.Pipe):
            return L.Pipe(steps=tuple(self.flow(s) for s in flow.stages))
        if isinstance(flow, ast.Name):
            if flow.id in self.groups:
                loop = self.unit_ir[id(self.groups[flow.id])]
                # without a forward of its own the block applies its members in order (an
                # nn.Sequential), so loops may differ in length between instances
                explicit = any(isinstance(s, ast.Forward) for s in self.decl.body)
                members = self.group_members(flow) if explicit else ()
                return L.UseGroup(group=flow.id, loop=loop.id, members=members)
            stmt = self.members[flow.id]
            label = self.labels.next(flow.id, flow.id)
            if label != flow.id and self.has_weights(stmt):
                raise error(
                    "E0227",
                    f"member `{flow.id}` has weights and is applied twice in forward",
                    flow.span,
                    "applied again here",
                    help="declare a second member for the second use (torch would share the "
                    "weights, Keras would create a second layer)",
                )
            optional = stmt.guard is not None or flow.id in self.use_conditions
            layer = self.layer_of(stmt.module)
            value = layer is not None and layer.axes == "value"
            return L.UseMember(member=flow.id, optional=optional, label=label, value=value)
        if isinstance(flow, ast.IfExp):
            before, issued = dict(self.labels.uses), set(self.labels.issued)
            then = self.flow(flow.then)
            after_then, self.labels.uses = self.labels.uses, before  # the branches exclude
            then_issued, self.labels.issued = self.labels.issued, issued
            orelse = self.flow(flow.orelse)
            for key, n in after_then.items():
                self.labels.uses[key] = max(n, self.labels.uses.get(key, 0))
            self.labels.issued |= then_issued
            return L.Branch(cond=self.low.conv(flow.cond), then=then, orelse=orelse)
        assert isinstance(flow, ast.Call)
        combinator = COMBINATORS.get(flow.func)
        if combinator is not None:
            if flow.func == "aux":
                target = flow.args[0]
                # `logits` is the main output's field in torch's named tuple of outputs
                base = target.id if isinstance(target, ast.Name) else "aux"
                var = self.namer.new(base if base != "logits" else "aux_logits")
                self.aux.append(var)
                tap = self.flow(target)
                optional = isinstance(tap, L.UseMember) and tap.optional
                if optional:
                    tap = tap.replace(optional=False)
                return L.Aux(flow=tap, var=var, optional=optional)
            if flow.func == "head":
                return self.head(flow)
            if flow.func == "feature":  # a mark: the stages are data of the definition
                return self.flow(flow.args[0])
            branches = tuple(self.flow(a) for a in flow.args)
            shortcut = None
            for kw in flow.kwargs:
                if kw.name in combinator.flow_keywords:
                    shortcut = self.flow(kw.value)
            base = "add" if flow.func == "residual" else flow.func
            return L.Combine(
                op=flow.func,
                branches=branches,
                shortcut=shortcut,
                axis=self.concat_dim(flow) if combinator.joins else None,
                label=self.labels.next("op:" + base, base),
            )
        layer = get_layer(flow.func)
        assert layer is not None
        call = self.layer_call(layer, flow, L.Const(value=0), {})
        return L.Operation(
            layer=layer.name,
            args=call.args,
            known=call.known,
            label=self.labels.next("op:" + flow.func, flow.func),
        )

    def head(self, call: ast.Call) -> L.Head:
        """The arch's classifier head: its last member applied at the head's top level is the
        classifier: a layer with `num_classes` outputs, a fixed sequence ending in one, or a
        block whose last member is one of these, given `num_classes` (timm's ClassifierHead)."""
        flow = self.flow(call.args[0])
        pipe = flow if isinstance(flow, L.Pipe) else L.Pipe(steps=(flow,))
        arg = call.args[0]
        stages = arg.stages if isinstance(arg, ast.Pipe) else (arg,)
        uses = [i for i, s in enumerate(pipe.steps) if isinstance(s, L.UseMember)]
        hint = (
            "end the head with a member `fc = linear(num_classes)` (or a fixed `sequential` "
            "whose last layer is one), the arch having a parameter `num_classes`"
        )

        def fail(message: str, span: Span, help: str = hint) -> ArchError:
            return error("E0233", message, span, "classifier here", help=help)

        if not uses:
            raise fail("`head` has no classifier member", call.span)
        step = uses[-1]
        use = pipe.steps[step]
        assert isinstance(use, L.UseMember)
        span = stages[step].span
        if use.optional:
            raise fail("the classifier is optional", span)
        module = self.member_ir[use.member].module
        classes = "num_classes" if "num_classes" in {p.name for p in self.decl.params} else ""
        path: list[str] = []
        while isinstance(module, L.BlockCall) and isinstance(module.callee, L.BlockRef):
            block = self.low.definition(module.callee.name)
            given = dict(zip((p.name for p in block.params), module.args, strict=False))
            given |= {k.name: k.value for k in module.kwargs}
            receive = [n for n, v in given.items() if isinstance(v, L.Var) and v.name == classes]
            last = _last_member(block)
            if len(receive) != 1 or last is None:
                raise fail("the classifier block does not end in a classifier", span)
            classes = receive[0]
            path.append(last.name or "")
            module = last.module
        item = None
        if isinstance(module, L.Sequence):
            layers = [s for s in module.body if isinstance(s, L.Member)]
            if module.items is not None or len(layers) != len(module.body):
                raise fail("the classifier's sequence has loops or conditions", span)
            scoring = [i for i, s in enumerate(layers) if _has_weights(s.module)]
            if not scoring:
                raise fail("the classifier has no layer with weights", span)
            item = scoring[-1]
            module = layers[item].module
        if not isinstance(module, L.LayerCall) or not _has_weights(module):
            raise fail("the classifier is not a layer with weights", span)
        args = {a.name: a.value for a in module.args}
        out = args.pop("out", None)
        if not (classes and isinstance(out, L.Var) and out.name == classes):
            raise fail("the classifier's outputs are not the arch's `num_classes`", span)
        if any(variables(v) for v in args.values()):
            raise fail(
                "the classifier's arguments besides `num_classes` are not constants",
                span,
                "the classifier is rebuilt for another number of classes from its arguments: "
                "give them as constants",
            )
        return L.Head(flow=pipe, classifier=step, member=use.member, path=tuple(path), item=item)

    def group_members(self, flow: ast.Name) -> tuple[str, ...]:
        """The members a loop group gives: the same list in every instance, or an error."""
        seen = {inst.groups.get(flow.id, ()) for inst in self.instances}
        if len(seen) != 1:
            loop = self.groups[flow.id]
            raise error(
                "E0412",
                f"the members of `{flow.id}` differ between instances of `{self.decl.name}`",
                loop.span,
                "the generated forward needs one fixed list",
                help="give every instance the same number of iterations",
            )
        return next(iter(seen))


# ---- syntax queries --------------------------------------------------------------------------


_names = ast.free_names


def _same_const(value: Any, default: Any) -> bool:
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    if isinstance(default, int | float) and isinstance(value, int | float):
        return value == default
    return False


_PADDED = {"kernel", "stride", "padding", "dilation"}


def _same_padding(args: Any) -> bool:
    """Whether a convolution's padding on each side is what keeps the size at stride 1 (Keras's
    "same", which pads the two sides alike only then)."""
    names = ("kernel", "stride", "padding", "dilation")
    sizes = zip(*(pair(getattr(args, n)) for n in names), strict=True)
    return all(s == 1 and 2 * p == d * (k - 1) for k, s, p, d in sizes)


def _call_arguments(layer: LayerType, call: ast.Call) -> dict[str, ast.Expr]:
    """A layer call's arguments by field name (positional ones bind in schema order)."""
    out: dict[str, ast.Expr] = dict(zip(layer.schema._fields, call.args, strict=False))
    out.update({k.name: k.value for k in call.kwargs})
    return out


def _inline_lets(e: L.Expr, lets: Subst) -> L.Expr:
    for _ in range(len(lets) + 1):
        if not variables(e) & set(lets):
            break
        e = substitute(e, lets)
    return e


def _units(decl: ast.BlockDecl) -> tuple[dict[str, ast.Member], dict[str, ast.For | ast.Repeat]]:
    """Top-level named members, and each group name -> the loop that declares it."""
    members: dict[str, ast.Member] = {}
    groups: dict[str, ast.For | ast.Repeat] = {}
    for stmt in decl.body:
        if isinstance(stmt, ast.Member) and stmt.target is not None:
            members[stmt.target.name] = stmt
        elif isinstance(stmt, ast.For | ast.Repeat):
            for s in stmt.walk_statements():
                if isinstance(s, ast.Member) and s.target is not None:
                    groups[s.target.name] = stmt
    return members, groups


def _forward_of(decl: ast.BlockDecl) -> ast.Expr:
    """The explicit forward flow, or the members (and loop groups) in definition order."""
    for stmt in decl.body:
        if isinstance(stmt, ast.Forward):
            return stmt.flow
    stages: list[ast.Expr] = []
    for stmt in decl.body:
        if isinstance(stmt, ast.Member) and stmt.target is not None:
            stages.append(ast.Name(stmt.target.name, span=stmt.span))
        elif isinstance(stmt, ast.For | ast.Repeat):
            names = [
                s.target.name
                for s in stmt.walk_statements()
                if isinstance(s, ast.Member) and s.target is not None
            ]
            if names:
                stages.append(ast.Name(names[0], span=stmt.span))
    return ast.Pipe(tuple(stages))


def _bound_names(body: tuple[ast.Stmt, ...]) -> set[str]:
    """Names a block binds itself: lets, loop targets and comprehension targets."""
    out: set[str] = set()
    for stmt in body:
        for node in stmt.walk():
            if isinstance(node, ast.Let):
                out.add(node.name)
            elif isinstance(node, ast.For | ast.ListComp):
                out |= set(node.targets)
    return out


def _own_names(body: tuple[ast.Stmt, ...]) -> set[str]:
    """Names a loop body reads at its own level: nested loops rebind index, first and last."""
    out: set[str] = set()
    for s in body:
        for e in s.expressions():
            out |= _names(e)
        if isinstance(s, ast.Member) and isinstance(s.module, ast.Sequential):
            out |= _own_names(s.module.body)
        elif isinstance(s, ast.For | ast.Repeat):
            out |= _own_names(s.body) - {"index", "first", "last"}
    return out


def _block_order(program: Program, root: str, extra: list[Any]) -> list[str]:
    """Blocks the root arch needs, callees before callers, in declaration order otherwise."""
    needed: list[str] = []
    seen: set[str] = set()
    blocks = {n for n, b in program.blocks.items() if not b.is_arch}

    def refs(decl: ast.BlockDecl) -> list[str]:
        out: list[str] = []
        for p in decl.params:
            if p.default is not None:
                out.extend(sorted(_names(p.default) & blocks))
        for stmt in decl.body:
            for node in stmt.walk():
                if isinstance(node, ast.Member) and isinstance(node.module, ast.Call):
                    if node.module.func in program.blocks:
                        out.append(node.module.func)
                    for e in node.expressions():
                        out.extend(sorted(_names(e) & blocks))
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


def _doc(program: Program, decl: ast.BlockDecl) -> str:
    """The comment lines right above the declaration, else a plain description."""
    source = program.sources.get(decl.span.file)
    if source is not None:
        line, _ = source.line_col(decl.span.start)
        lines: list[str] = []
        n = line - 1
        while n >= 1:
            text = source.line_text(n).strip()
            if not text.startswith("#"):
                break
            lines.insert(0, text.lstrip("#").strip())
            n -= 1
        text = " ".join(part for part in lines if part)
        if text:
            return text
    kind = "Model" if decl.is_arch else "Block"
    return f"{kind} `{decl.name}` from the spec."


def _use_conditions(flow: ast.Expr, members: set[str]) -> dict[str, ast.Expr]:
    """Members that ``flow`` applies only on sides of conditions, with the condition under
    which some use is reached (`a if wide else b`: `a` when `wide`, `b` when `not wide`): the
    generated constructor builds such a member only then, as forward only then applies it.
    A path is the conditions passed on the way, each with the side taken; two paths that
    differ only in the side of their last condition merge into the shorter one."""
    Key = tuple[str, int, int]  # a condition's place in the source: a stable order
    Path_ = tuple[tuple[Key, bool], ...]
    conds: dict[Key, ast.Expr] = {}
    uses: dict[str, set[Path_]] = {}

    def visit(e: ast.Node, path: Path_) -> None:
        if isinstance(e, ast.Name) and e.id in members:
            uses.setdefault(e.id, set()).add(path)
        elif isinstance(e, ast.IfExp):
            key = (e.cond.span.file, e.cond.span.start, e.cond.span.end)
            conds[key] = e.cond
            visit(e.then, (*path, (key, True)))
            visit(e.orelse, (*path, (key, False)))
        else:
            for child in e.children():
                visit(child, path)

    visit(flow, ())
    out: dict[str, ast.Expr] = {}
    for name, paths in uses.items():
        merged = True
        while merged:
            merged = False
            for p in sorted(paths, key=len, reverse=True):
                if p and (*p[:-1], (p[-1][0], not p[-1][1])) in paths:
                    paths -= {p, (*p[:-1], (p[-1][0], not p[-1][1]))}
                    paths.add(p[:-1])
                    merged = True
                    break
        if () in paths:
            continue
        guard: ast.Expr | None = None
        for p in sorted(paths):
            term: ast.Expr | None = None
            for key, side in p:
                lit = conds[key] if side else ast.UnaryOp("not", conds[key])
                term = lit if term is None else ast.BinOp("and", term, lit)
            assert term is not None
            guard = term if guard is None else ast.BinOp("or", guard, term)
        assert guard is not None
        out[name] = guard
    return out
