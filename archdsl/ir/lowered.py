"""The lowered model: what every backend prints.

Made once from the resolved program and the inferred model (``archdsl.ir.lower``). It is plain
data: frozen records (``archdsl.records``) that serialise to JSON and back unchanged
(``archdsl compile SPEC --backend ir``; ``archdsl schema`` prints the JSON Schema). Everything a
backend needs is here and already decided: each definition's parameters and constructor
statements in state_dict order, every member's module with its input and output channels as
expressions, loops and optional members as statements, the forward graph with every operation's
arguments, the names of generated locals, and the per-instance shapes and counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from archdsl.records import Record, to_data

FORMAT_VERSION = 6


class Node(Record):
    """Nodes built by the compiler (``archdsl.ir.lower``) are constructed unchecked; what is read
    from outside (``from_json``) is validated in full, and the test suite validates the lowered
    model of every spec by a JSON round trip, which fails if lowering built anything the schema
    refuses."""


# ---- expressions -------------------------------------------------------------------------


class Const(Node):
    kind: Literal["const"] = "const"
    value: bool | int | float | str


class Var(Node):
    """A name in the generated code: a parameter, a `let`, a loop variable or a local."""

    kind: Literal["var"] = "var"
    name: str


class BlockRef(Node):
    """A block used as a value (ResNet's `block=Bottleneck`)."""

    kind: Literal["block_ref"] = "block_ref"
    name: str


class ListOf(Node):
    kind: Literal["list"] = "list"
    items: tuple[Expr, ...]


class Comprehension(Node):
    kind: Literal["comprehension"] = "comprehension"
    value: Expr
    targets: tuple[str, ...]
    iterable: Expr
    cond: Expr | None = None  # the rows kept (None: all)


class Format(Node):
    """Text with values: ``texts[0] + str(values[0]) + texts[1] + ...``; a quoted member
    name's holes (``"block{stage}-{index}"``)."""

    kind: Literal["format"] = "format"
    texts: tuple[str, ...]
    values: tuple[Expr, ...]


class Binary(Node):
    kind: Literal["binary"] = "binary"
    op: Literal["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or"]
    left: Expr
    right: Expr


class Unary(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["-", "+", "not"]
    operand: Expr


class Choice(Node):
    kind: Literal["choice"] = "choice"
    cond: Expr
    then: Expr
    orelse: Expr


class Subscript(Node):
    kind: Literal["subscript"] = "subscript"
    value: Expr
    index: Expr


class Slice(Node):
    """`xs[start:end:step]`: each bound optional."""

    kind: Literal["slice"] = "slice"
    value: Expr
    start: Expr | None = None
    end: Expr | None = None
    step: Expr | None = None


class FunctionCall(Node):
    """A built-in function of the spec language. ``zip`` has ``strict`` set when its lists are
    not all of one known length, so the generated code checks what the compiler checked."""

    kind: Literal["function"] = "function"
    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[Argument, ...] = ()
    strict: bool = False


class OutChannels(Node):
    """The channels a module built at run time reports (`self.layer1.out_channels`): used where
    they are not a closed expression (after a loop, or a block passed in as a parameter).
    ``member`` names an attribute (with ``suffix`` for a numbered one); without it, the last
    module appended to the list ``items``."""

    kind: Literal["out_channels"] = "out_channels"
    member: str | None = None
    suffix: Expr | None = None
    items: str | None = None


Expr = (
    Const
    | Var
    | BlockRef
    | ListOf
    | Comprehension
    | Format
    | Binary
    | Unary
    | Choice
    | Subscript
    | Slice
    | FunctionCall
    | OutChannels
)


class Argument(Node):
    name: str
    value: Expr


# ---- modules and constructor statements ----------------------------------------------------

# an argument's value (a size [height, width], a permutation) or a fact, one in every instance
Known = bool | int | float | str | tuple[int, ...] | None


class LayerCall(Node):
    """One registry layer. ``args`` holds only the arguments that differ from the layer's
    defaults; ``known`` the arguments (and facts such as ``depthwise``) that take one value in
    every instance of the enclosing definition, so printers may specialise on them."""

    kind: Literal["layer"] = "layer"
    layer: str
    in_channels: Expr
    args: tuple[Argument, ...] = ()
    known: tuple[tuple[str, Known], ...] = ()


class BlockCall(Node):
    """A block, named (``callee`` a BlockRef) or passed in as a parameter (a Var)."""

    kind: Literal["block_call"] = "block_call"
    callee: Expr
    in_channels: Expr
    args: tuple[Expr, ...] = ()
    kwargs: tuple[Argument, ...] = ()


class Sequence(Node):
    """An ``nn.Sequential``-like container of anonymous items. ``items`` is the local list it is
    built into when it has loops or optional items; None when its items are a fixed list."""

    kind: Literal["sequence"] = "sequence"
    body: tuple[Stmt, ...]
    items: str | None = None
    channels: str | None = None


Module = LayerCall | BlockCall | Sequence


class Let(Node):
    kind: Literal["let"] = "let"
    name: str
    value: Expr


class Require(Node):
    kind: Literal["require"] = "require"
    cond: Expr
    message: str


class Member(Node):
    """A module the definition owns. ``name`` is its attribute (None: the next anonymous item of
    the enclosing sequence); ``suffix`` numbers it inside a loop (``layer{index + 1}``);
    ``guard`` makes it optional. ``out_channels`` is what follows it, the guard included."""

    kind: Literal["member"] = "member"
    name: str | None
    suffix: Expr | None = None
    guard: Expr | None = None
    module: Module
    out_channels: Expr
    update: str | None = None  # the channel local that takes out_channels once it is built
    # the guard is the condition under which forward applies the member (`a if wide else b`):
    # a printer need not test it again where forward applies it
    implied: bool = False


class Loop(Node):
    """``for``/``repeat``. ``index`` is the loop counter's local name when the body reads
    ``index``, ``first`` or ``last`` (already substituted in the body); ``group`` the member
    group a top-level loop declares."""

    kind: Literal["loop"] = "loop"
    id: int
    index: str | None
    targets: tuple[str, ...] = ()
    iterable: Expr | None = None
    count: Expr | None = None
    body: tuple[Stmt, ...]
    group: str | None = None


class SetChannels(Node):
    """The running channel count kept in a local while loops or optional items build."""

    kind: Literal["set_channels"] = "set_channels"
    var: str
    value: Expr


Stmt = Let | Require | Member | Loop | SetChannels


# ---- forward graph -------------------------------------------------------------------------


class UseMember(Node):
    """Apply a member. ``label`` names this use among the definition's layers (second uses
    of a parameter-free member get ``relu_1``, ...)."""

    kind: Literal["use"] = "use"
    member: str
    optional: bool = False
    label: str
    value: bool = False  # the member is a learnable tensor: its use is its value


class UseGroup(Node):
    """Apply a loop's members in order; ``members`` is the fixed list every instance has."""

    kind: Literal["use_group"] = "use_group"
    group: str
    loop: int
    members: tuple[str, ...]


class Operation(Node):
    """A parameter-free layer called inline in forward."""

    kind: Literal["operation"] = "operation"
    layer: str
    args: tuple[Argument, ...] = ()
    known: tuple[tuple[str, Known], ...] = ()
    label: str


class Combine(Node):
    """A combinator from ``archdsl.ir.combinators``: its branches, optional shortcut and the
    axis it joins along, and a splitting one (``chunk``) splits along, in torch's numbering
    (batch 0, channels 1, channels-first)."""

    kind: Literal["combine"] = "combine"
    op: str
    branches: tuple[Flow, ...]
    shortcut: Flow | None = None
    axis: int | None = None
    label: str


class Branch(Node):
    kind: Literal["branch"] = "branch"
    cond: Expr
    then: Flow
    orelse: Flow


class Aux(Node):
    """A training-mode auxiliary output tapped from the current value into local ``var``.
    ``optional``: the tapped member has a `when` guard; without it the output is None."""

    kind: Literal["aux"] = "aux"
    flow: Flow
    var: str
    optional: bool = False


class Pipe(Node):
    kind: Literal["pipe"] = "pipe"
    steps: tuple[Flow, ...]


class Head(Node):
    """The classifier head an arch's forward ends with (``head(...)``), left out of its features.
    Step ``classifier`` of ``flow`` applies member ``member``, the classifier. The layer that gives
    the class scores is that member, or the member ``path`` names inside it (through blocks, each
    name a member of the block the one before builds), or item ``item`` of that sequence: a layer
    whose ``out`` is the arch's ``num_classes`` and whose other arguments are constants, so that a
    printer can rebuild it for another number of classes."""

    kind: Literal["head"] = "head"
    flow: Pipe
    classifier: int
    member: str
    path: tuple[str, ...] = ()
    item: int | None = None


Flow = UseMember | UseGroup | Operation | Combine | Branch | Aux | Head | Pipe


# ---- definitions and the module --------------------------------------------------------------


class Parameter(Node):
    """``input_only``: only the arch's `input` reads it (EfficientNet's `resolution`): it sets
    a Keras model's default input size and the static figures; a torch module, which takes
    any size, accepts it as every other parameter and builds the same model whatever it is."""

    name: str
    type: Literal["int", "float", "bool", "str", "list", "size", "block"]
    default: Expr | None = None
    input_only: bool = False


class InputShape(Node):
    shape: Expr
    value: tuple[int, ...]
    parametric: bool  # the shape reads the arch's parameters


class Init(Node):
    """An arch's `init` rule: once the model is built, ``tensor`` of the selected layers is
    drawn from ``func`` with ``args`` (every argument, defaults filled in: a constant, or an
    expression of the arch's parameters, whose value this compilation's parameters have
    checked), when ``guard`` holds; rules apply in order, a later one overriding an earlier
    one. The selection is every layer of kind ``layer`` (``member`` None), or member ``member``
    (item ``item`` of it when it is a sequence) of every instance of ``block``, or of the arch
    itself (``block`` None).
    A nested selection goes on through block members: ``path`` names the members below
    ``member``, each a member of the block in ``through`` at the same position (the block the
    member before it builds), the last one the layer (or the sequence holding ``item``).
    ``absent_member``: the member is optional, and ``absent_path`` each of ``path``'s;
    ``absent_tensor``: a selected layer may lack the tensor (a convolution with ``bias=false``)."""

    layer: str
    tensor: str
    block: str | None = None
    member: str | None = None
    path: tuple[str, ...] = ()
    through: tuple[str, ...] = ()
    absent_path: tuple[bool, ...] = ()
    item: int | None = None
    func: str
    args: tuple[Argument, ...] = ()
    guard: Expr | None = None
    absent_member: bool = False
    absent_tensor: bool = False


class Stage(Node):
    """A feature stage of the arch (``archdsl.ir.features``): the output of top-level step
    ``step`` of its forward; of the loop group's member ``member`` where that step applies a
    group; of the item at position ``item`` of the sequence (or sequential block) that step or
    member applies, where the stage lies inside one. ``module`` is its module path as torch
    names it (timm's `module`; an inline layer's or combinator's label, which torch applies as a
    function), ``layer`` the same path as the Keras printer names its layers (a second use of a
    parameter-free member is `relu_1`). ``channels`` and ``reduction`` (the input's height over
    the stage's) are those of the compiled configuration."""

    step: int
    member: str | None = None
    item: int | None = None
    module: str
    layer: str
    channels: int
    reduction: int


class Definition(Node):
    """One block or arch: a torch class, a Keras function."""

    name: str
    kind: Literal["block", "arch"]
    doc: str
    params: tuple[Parameter, ...]
    sequential: bool  # members applied in order: no forward of its own
    body: tuple[Stmt, ...]
    items: str | None = None  # a sequential block built into this list local
    forward: Flow | None = None
    out_channels: Expr | None = None
    input: InputShape | None = None
    aux_outputs: tuple[str, ...] = ()  # locals of the auxiliary outputs, in tap order
    init: tuple[Init, ...] = ()  # an arch's initialisation rules, in order
    # an arch's feature stages, shallowest first; ``marked``: by `feature(...)` in its forward,
    # rather than the rule (the last step at each resolution)
    features: tuple[Stage, ...] = ()
    features_marked: bool = False

    def head(self) -> Head | None:
        """The classifier head the forward ends with, if any."""
        last = self.forward.steps[-1] if isinstance(self.forward, Pipe) else self.forward
        return last if isinstance(last, Head) else None

    def taps(self) -> list[Aux]:
        """The auxiliary outputs forward taps, in order."""
        return [n for n in walk(self.forward) if isinstance(n, Aux)]


class Factory(Node):
    """A named configuration of the arch: only the arguments that differ from its defaults."""

    name: str
    arch: str
    args: tuple[Argument, ...] = ()


class InstanceFacts(Node):
    path: str
    type: str
    kind: Literal["layer", "block", "sequential", "tensor"]
    in_shapes: tuple[tuple[int, ...], ...]
    out_shapes: tuple[tuple[int, ...], ...]
    # where a `permute` reordered a [C, H, W] input or output: order[i] is the [C, H, W]
    # dimension at position i ((1, 2, 0): channels last); empty where it is [C, H, W]
    in_order: tuple[int, ...] = ()
    out_order: tuple[int, ...] = ()
    trainable: int
    stats: int


class InputSize(Node):
    """Whether the model takes input sizes other than its declared one (``archdsl.ir.input_size``):
    ``free``, or ``reason`` says why not."""

    free: bool
    reason: str = ""


class LoweredModel(Node):
    format_version: Literal[6] = FORMAT_VERSION
    spec: str
    title: str
    arch: str
    entry: str
    definitions: tuple[Definition, ...]  # callees before callers
    factories: tuple[Factory, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    aux_shapes: tuple[tuple[int, ...], ...] = ()
    # analysed for the printers that need it (Keras, the IR as JSON); None: not analysed
    input_size: InputSize | None = None
    trainable: int
    stats: int
    instances: tuple[InstanceFacts, ...]

    def definition(self, name: str) -> Definition:
        for d in self.definitions:
            if d.name == name:
                return d
        raise KeyError(name)


def walk(node: Any) -> Iterator[Node]:
    """Every IR node under ``node`` (itself included), depth first, in field order."""
    if isinstance(node, Node):
        yield node
        for name in type(node)._fields:
            yield from walk(getattr(node, name))
    elif isinstance(node, tuple):
        for item in node:
            yield from walk(item)


def to_json(model: LoweredModel) -> str:
    """The lowered model as JSON (``--backend ir``), fields in declaration order."""
    import json

    return json.dumps(to_data(model), indent=2, ensure_ascii=False)


def from_json(text: str | bytes) -> LoweredModel:
    """A lowered model read from JSON, validated in full (pydantic's ``ValidationError``)."""
    from archdsl.validation import validate_json

    out = validate_json(LoweredModel, text)
    assert isinstance(out, LoweredModel)
    return out


def schema() -> dict[str, Any]:
    """The JSON Schema of the lowered model, for tools that consume ``--backend ir``."""
    from archdsl.validation import json_schema

    out = json_schema(LoweredModel)
    out["$id"] = f"https://archdsl.invalid/lowered-ir/v{FORMAT_VERSION}.json"
    return out
