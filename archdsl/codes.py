"""The error-code catalogue behind ``archdsl explain CODE``: what each diagnostic means, a spec
that produces it and the same spec fixed. ``tests/test_explain.py`` compiles every example."""

from __future__ import annotations

from dataclasses import dataclass, field

from archdsl.errors import ArchError, error
from archdsl.source import MAX_SOURCE_BYTES, MAX_TOTAL_SOURCE_BYTES


@dataclass(frozen=True, slots=True)
class Example:
    """A spec file ``spec.arch`` (with ``files`` beside it) and the command run on it.

    ``args`` follow the spec path; ``{spec}`` in them is the spec's path. ``pad_to`` appends
    comment lines until the file has that many bytes. A ``spec`` of None writes no file.
    ``python`` is a snippet run instead of the command line (for API-only codes).
    """

    spec: str | None
    command: str = "check"
    args: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    pad_to: int = 0
    python: str | None = None

    def data(self) -> bytes:
        """The spec file's bytes (lone surrogates in ``spec`` stand for undecodable bytes)."""
        text = self.spec or ""
        raw = text.encode("utf-8", "surrogateescape")
        if self.pad_to > len(raw):
            line = b"#" + b"x" * 78 + b"\n"
            raw += line * ((self.pad_to - len(raw)) // len(line) + 1)
        return raw

    def shown(self) -> str:
        """The example as ``explain`` prints it: invisible characters escaped."""
        text = (self.spec or "").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        out = "".join(
            ch
            if ch in "\n" or (ch.isprintable() and not 0x202A <= ord(ch) <= 0x2069)
            else f"\\u{ord(ch):04x}"
            for ch in text
        )
        lines = [f"$ archdsl {self.command} spec.arch {' '.join(self.args)}".rstrip()]
        if self.python is not None:
            lines = ["$ python", self.python.rstrip()]
        elif self.spec is None:
            lines.append("(spec.arch does not exist)")
        else:
            lines += ["--- spec.arch", out.rstrip("\n")]
        for name, text in self.files:
            lines += [f"--- {name}", text.rstrip("\n")]
        if self.pad_to:
            lines.append(f"(then comment lines up to {self.pad_to:,} bytes)")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    title: str
    explanation: str
    failing: Example | None
    fixed: Example | None
    # Why no spec can produce this code, for internal errors and the environment's failures.
    unreachable: str | None = None
    notes: tuple[str, ...] = field(default=())


NET = "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n}\n"
NORMED = (
    "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n  bn = batchnorm2d()\n"
    "  forward: conv -> bn\n"
)
VEC = "arch Net {{\n  input [8]\n{body}\n}}\n"


def _vec(body: str) -> str:
    return VEC.format(body=body)


def _chain(n: int) -> tuple[tuple[str, str], ...]:
    files = [(f"chain{i}.arch", f'import "chain{i + 1}.arch"\n') for i in range(n)]
    return (*files, (f"chain{n}.arch", "block Leaf {\n  relu = relu()\n}\n"))


_BIG = MAX_SOURCE_BYTES - 1000
_PARTS = MAX_TOTAL_SOURCE_BYTES // _BIG + 1

_ENTRIES = [
    # ---- E00xx: files and encoding ----
    Entry(
        "E0001",
        "invalid UTF-8",
        "Spec files are UTF-8. A byte that is not valid UTF-8 (a file saved as Latin-1, or a "
        "binary file) stops the compiler at that byte.",
        Example("# caf\udce9 au lait\n" + NET),
        Example("# caf\u00e9 au lait\n" + NET),
    ),
    Entry(
        "E0002",
        "NUL byte or bidirectional control character",
        "NUL bytes and Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069) are refused "
        "anywhere, comments included: bidi controls can make code display differently from how it "
        "parses (Trojan Source).",
        Example("# total \u202e 1 + 2\n" + NET),
        Example("# total 1 + 2\n" + NET),
    ),
    Entry(
        "E0003",
        "file too large",
        f"A spec file may hold at most {MAX_SOURCE_BYTES:,} bytes; the size is checked before the "
        "file is read. Split a large spec into files that import each other.",
        Example(NET, pad_to=MAX_SOURCE_BYTES + 1),
        Example(NET),
    ),
    Entry(
        "E0004",
        "cannot read the spec",
        "The spec named on the command line does not exist, is a directory or another "
        "non-regular file, or cannot be read. This is a usage error (exit code 2).",
        Example(None),
        Example(NET),
    ),
    Entry(
        "E0006",
        "cannot write the output",
        "`compile -o FILE` could not write FILE: its directory does not exist or is not writable. "
        "The output is written to a temporary file first, so an old FILE is never left truncated.",
        Example(NET, "compile", ("-o", "missing/net.py")),
        Example(NET, "compile", ("-o", "net.py")),
    ),
    Entry(
        "E0007",
        "output would overwrite an input",
        "`-o FILE` names the spec itself or a file it imports; writing the generated code there "
        "would destroy the spec.",
        Example(NET, "compile", ("-o", "{spec}")),
        Example(NET, "compile", ("-o", "net.py")),
    ),
    # ---- E01xx: syntax ----
    Entry(
        "E0101",
        "unexpected end of file",
        "The file ends inside a declaration or an expression; usually a closing `}`, `)` or `]` "
        "is missing.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"),
        Example(NET),
    ),
    Entry(
        "E0102",
        "unexpected or non-ASCII character",
        "A character that no token starts with. Names and syntax are ASCII; a letter from another "
        "script that looks like a Latin one (Cyrillic `\u0430`) is named in the message.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3) $\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0103",
        "unexpected token",
        "The parser found a token where the grammar allows others; the label lists what it "
        "expected. A missing `,` between arguments is the most common cause.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4 kernel=3)\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0104",
        "brackets nested too deeply",
        "More than 64 nested brackets are refused before parsing, so that no input can exhaust "
        "the parser's stack.",
        Example(_vec("  let nested = " + "[" * 65 + "1" + "]" * 65 + "\n  fc = linear(4)")),
        Example(_vec("  let nested = [[1]]\n  fc = linear(4)")),
    ),
    Entry(
        "E0105",
        "empty spec file",
        "The file holds only whitespace. A spec declares at least one `block`, `arch` or "
        "`variant`.",
        Example("\n"),
        Example(NET),
    ),
    Entry(
        "E0106",
        "number literal too long",
        "A number literal has more than 24 digits, or a float literal overflows to infinity.",
        Example(_vec("  fc = linear(1000000000000000000000000000)")),
        Example(_vec("  fc = linear(1000)")),
    ),
    Entry(
        "E0107",
        "positional argument after a keyword argument",
        "Positional arguments bind in order, so they come before every `name=value` argument.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(kernel=3, 4)\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0108",
        "expression nested too deeply",
        "An expression nests more than 100 operators or calls (without brackets, so E0104 does "
        "not catch it). Name intermediate values with `let`.",
        Example(_vec("  let deep = " + "-" * 101 + "1\n  fc = linear(4)")),
        Example(_vec("  let deep = --1\n  fc = linear(4)")),
    ),
    Entry(
        "E0109",
        "invalid string escape",
        "String literals know the escapes `\\\\`, `\\\"`, `\\'`, `\\n`, `\\t`, `\\r`, `\\xHH`, "
        "`\\uHHHH` and `\\UHHHHHHHH`; any other backslash sequence, NUL and surrogates are "
        "refused.",
        Example(_vec('  require true, "a \\q in the message"\n  fc = linear(4)')),
        Example(_vec('  require true, "a \\\\q in the message"\n  fc = linear(4)')),
    ),
    Entry(
        "E0110",
        "malformed quoted member name",
        'A quoted member name (`"block{stage}-{index}" = ...`, for names that are not identifiers) '
        "holds ASCII letters, digits, `_` and `-`, and `{expr}` holes with one expression each. "
        "Anything else is refused where it is written: `.` (which separates the parts of a "
        "state_dict key), spaces, quotes and escapes, an empty `{}`, an unclosed `{` or a stray "
        "`}`, and an empty name.",
        Example(_vec('  repeat 2 {\n    "fc.{index}" = linear(8)\n  }')),
        Example(_vec('  repeat 2 {\n    "fc-{index}" = linear(8)\n  }')),
    ),
    # ---- E02xx: names ----
    Entry(
        "E0201",
        "declared twice",
        "Two blocks, archs or variants share a name (across imports too), or a parameter list "
        "repeats a name.",
        Example("block B {\n  relu = relu()\n}\n\nblock B {\n  relu = relu()\n}\n\n" + NET),
        Example("block B {\n  relu = relu()\n}\n\n" + NET),
    ),
    Entry(
        "E0202",
        "not a usable name",
        "The name is a keyword, starts with `__`, or is reserved because the generated Python "
        "uses it (`self`, `nn`, `keras`, `forward`, `input`, ...), or is an attribute of torch's "
        "nn.Module, which every generated class is (`training`, `to`, `out_channels`, ...).",
        Example(
            "arch Net {\n  input [3, 8, 8]\n  let self = 4\n  conv = conv2d(self, kernel=3)\n}\n"
        ),
        Example(
            "arch Net {\n  input [3, 8, 8]\n  let width = 4\n  conv = conv2d(width, kernel=3)\n}\n"
        ),
    ),
    Entry(
        "E0203",
        "variant of an unknown arch",
        "`variant name = Base(...)` names an arch that neither this file nor its imports declare.",
        Example(NET + "\nvariant small = Nte()\n"),
        Example(NET + "\nvariant small = Net()\n"),
    ),
    Entry(
        "E0204",
        "unknown parameter",
        "A keyword argument names no parameter of the layer, block or arch it is given to.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernal=3)\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0205",
        "unknown parameter type",
        "Parameter types are `int`, `float`, `bool`, `str`, `list` and `block`.",
        Example("arch Net(width: integer = 4) {\n  input [8]\n  fc = linear(width)\n}\n"),
        Example("arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n"),
    ),
    Entry(
        "E0206",
        "arch parameter without a default",
        "An arch is built without arguments (`Net()` in the generated code), so each of its "
        "parameters needs a default; a variant or `--set` changes it.",
        Example("arch Net(width: int) {\n  input [8]\n  fc = linear(width)\n}\n"),
        Example("arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n"),
    ),
    Entry(
        "E0207",
        "positional variant argument",
        "A variant names each parameter it overrides: `variant small = Net(width=2)`.",
        Example(
            "arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n\n"
            "variant small = Net(2)\n"
        ),
        Example(
            "arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n\n"
            "variant small = Net(width=2)\n"
        ),
    ),
    Entry(
        "E0208",
        "input declared wrongly",
        "Every arch declares its input shape once, with `input [C, H, W]` (or `[F]`); blocks take "
        "their input from where they are used and declare none.",
        Example("arch Net {\n  conv = conv2d(4, kernel=3)\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0209",
        "forward declared wrongly",
        "A block declares `forward` at most once, and a block of anonymous members (which run in "
        "order) has no forward at all.",
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  forward: fc\n  forward: fc\n}\n"),
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  forward: fc\n}\n"),
    ),
    Entry(
        "E0210",
        "named and anonymous members mixed",
        "A block's members are either all named (used by name in `forward`) or all anonymous "
        "(numbered 0, 1, ... and run in order); members inside `sequential` are anonymous.",
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  relu()\n}\n"),
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  act = relu()\n}\n"),
    ),
    Entry(
        "E0211",
        "block without members",
        "A block or arch must contain at least one layer or block.",
        Example("block Empty {\n  let width = 1\n}\n\narch Net {\n  input [8]\n  e = Empty()\n}\n"),
        Example("block Act {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  e = Act()\n}\n"),
    ),
    Entry(
        "E0212",
        "member defined twice",
        "Two members of one block have the same name, or a numbered loop name such as "
        "`layer{index}` repeats between iterations.",
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  fc = linear(2)\n}\n"),
        Example("arch Net {\n  input [8]\n  fc1 = linear(4)\n  fc2 = linear(2)\n}\n"),
    ),
    Entry(
        "E0213",
        "unnumbered member in a loop",
        "A named member inside `for` or `repeat` would get the same name every iteration; number "
        "it with the loop index: `fc{index} = ...`.",
        Example("arch Net {\n  input [8]\n  repeat 2 {\n    fc = linear(8)\n  }\n}\n"),
        Example("arch Net {\n  input [8]\n  repeat 2 {\n    fc{index} = linear(8)\n  }\n}\n"),
    ),
    Entry(
        "E0214",
        "unknown layer or block",
        "A call names no registered layer, no block of this file or its imports, and no "
        "block-typed parameter. The help suggests the nearest name.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2dd(4, kernel=3)\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0215",
        "arch used as a member",
        "Archs are whole models; only blocks can be members of other blocks and archs.",
        Example(NET + "\narch Big {\n  input [3, 8, 8]\n  net = Net()\n}\n"),
        Example(
            "block Net {\n  conv = conv2d(4, kernel=3)\n}\n\narch Big {\n  input [3, 8, 8]\n"
            "  net = Net()\n}\n"
        ),
    ),
    Entry(
        "E0216",
        "unknown member in forward",
        "`forward` refers to a name that is not a member of this block.",
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  forward: fc -> act\n}\n"),
        Example(
            "arch Net {\n  input [8]\n  fc = linear(4)\n  act = relu()\n  forward: fc -> act\n}\n"
        ),
    ),
    Entry(
        "E0217",
        "unknown keyword of a combinator",
        "A combinator in `forward` got a keyword it does not take: `residual` takes `shortcut=`, "
        "the others none.",
        Example("arch Net {\n  input [8]\n  fc = linear(8)\n  forward: residual(fc, skip=fc)\n}\n"),
        Example("arch Net {\n  input [8]\n  fc = linear(8)\n  forward: residual(fc)\n}\n"),
    ),
    Entry(
        "E0218",
        "call not allowed in forward",
        "`forward` calls combinators (`residual`, `add`, `concat`, `multiply`, `aux`) and "
        "parameter-free layers; a layer with arguments is declared as a member and used by name.",
        Example("arch Net {\n  input [8]\n  fc = linear(8)\n  forward: fc -> linear(4)\n}\n"),
        Example(
            "arch Net {\n  input [8]\n  fc = linear(8)\n  out = linear(4)\n"
            "  forward: fc -> out\n}\n"
        ),
    ),
    Entry(
        "E0219",
        "not a flow, or a flow outside forward",
        "`forward` takes members, combinators and `->` (a number is not a flow); and `->` builds "
        "flows only inside `forward`.",
        Example("arch Net {\n  input [8]\n  fc = linear(8)\n  forward: fc -> 3\n}\n"),
        Example("arch Net {\n  input [8]\n  fc = linear(8)\n  forward: fc\n}\n"),
    ),
    Entry(
        "E0220",
        "unknown name",
        "An expression uses a name that is no parameter, `let`, loop variable or built-in value "
        "(`in_channels`, `index`, `first`, `last`) in scope.",
        Example("arch Net {\n  input [8]\n  fc = linear(widht)\n}\n"),
        Example("arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n"),
    ),
    Entry(
        "E0221",
        "unknown function",
        "An expression calls a function that is not built in. The functions are `min max round "
        "ceil floor int float abs len sum zip range make_divisible`.",
        Example("arch Net {\n  input [8]\n  fc = linear(maximum(2, 4))\n}\n"),
        Example("arch Net {\n  input [8]\n  fc = linear(max(2, 4))\n}\n"),
    ),
    Entry(
        "E0222",
        "recursive block",
        "A block uses itself, directly or through other blocks; the model would be infinite.",
        Example("block Loop {\n  inner = Loop()\n}\n\narch Net {\n  input [8]\n  l = Loop()\n}\n"),
        Example("block Leaf {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  l = Leaf()\n}\n"),
    ),
    Entry(
        "E0223",
        "aux outside an arch's forward",
        "`aux(member)` (an auxiliary output in training) is a step of an arch's forward, and takes "
        "exactly one member.",
        Example(
            "block Head {\n  fc = linear(4)\n  extra = linear(4)\n  forward: fc -> aux(extra)\n}"
            "\n\narch Net {\n  input [8]\n  head = Head()\n}\n"
        ),
        Example(
            "block Head {\n  fc = linear(4)\n}\n\narch Net {\n  input [8]\n  head = Head()\n"
            "  extra = linear(2)\n  forward: aux(extra) -> head\n}\n"
        ),
    ),
    Entry(
        "E0224",
        "value named like a block",
        "A parameter, `let` or loop variable takes a block's name, which would hide the block.",
        Example(
            "block Stem {\n  relu = relu()\n}\n\narch Net(Stem: int = 4) {\n  input [8]\n"
            "  stem = Stem()\n}\n"
        ),
        Example(
            "block Stem {\n  relu = relu()\n}\n\narch Net(width: int = 4) {\n  input [8]\n"
            "  stem = Stem()\n}\n"
        ),
    ),
    Entry(
        "E0225",
        "value called as a module",
        "A member calls a name that holds a value (a parameter, `let` or `in_channels`), not a "
        "layer or block.",
        Example("arch Net(width: int = 4) {\n  input [8]\n  fc = width()\n}\n"),
        Example("arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n"),
    ),
    Entry(
        "E0226",
        "parameter without a default after one with a default",
        "As in Python, parameters with defaults come after those without.",
        Example(
            "block B(width: int = 8, depth: int) {\n  fc = linear(width * depth)\n}\n\n"
            "arch Net {\n  input [8]\n  b = B(depth=2)\n}\n"
        ),
        Example(
            "block B(depth: int, width: int = 8) {\n  fc = linear(width * depth)\n}\n\n"
            "arch Net {\n  input [8]\n  b = B(depth=2)\n}\n"
        ),
    ),
    Entry(
        "E0227",
        "member with weights applied twice",
        "Forward applies a member that has parameters or statistics more than once. torch would "
        "share its weights between the uses and Keras would create a second layer, so the two "
        "models would differ; parameter-free members (`relu = relu()`) may be reused.",
        Example("arch Net {\n  input [3, 8, 8]\n  c = conv2d(3, kernel=1)\n  forward: c -> c\n}\n"),
        Example(
            "arch Net {\n  input [3, 8, 8]\n  c = conv2d(3, kernel=1)\n  d = conv2d(3, kernel=1)\n"
            "  act = relu()\n  forward: c -> act -> d -> act\n}\n"
        ),
    ),
    Entry(
        "E0228",
        "two declarations generated under one name",
        "Classes (torch), model functions (Keras) and factories share the generated module's "
        "namespace with its imports and helpers (`nn`, `Any`, `Sequence`, `make_divisible`, ...). "
        "An arch's own factory is its name in snake case, so `arch net` (factory `net`) or a "
        "block `net` beside `arch Net` would be two things under one name.",
        Example("block net {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  n = net()\n}\n"),
        Example("block Stem {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  n = Stem()\n}\n"),
    ),
    Entry(
        "E0229",
        "`init` outside the arch",
        "Initialisation rules apply to the whole model once it is built, as the reference "
        "constructors do in one place: they are statements at the top of the arch, and select "
        "a block's member as `Block.member.tensor`.",
        Example(
            "block B {\n  conv = conv2d(4, kernel=3)\n  init conv.weight = zeros()\n}\n\n"
            "arch Net {\n  input [3, 8, 8]\n  b = B()\n}\n"
        ),
        Example(
            "block B {\n  conv = conv2d(4, kernel=3)\n}\n\n"
            "arch Net {\n  input [3, 8, 8]\n  b = B()\n  init B.conv.weight = zeros()\n}\n"
        ),
    ),
    Entry(
        "E0230",
        "`init` selects no tensor",
        "A rule selects a layer kind (`conv2d.weight`: every convolution), a member of a block "
        "(`Bottleneck.bn3.weight`) or a member of the arch (`fc.weight`; `classifier.1.weight` "
        "for item 1 of a fixed `sequential`), then one of that layer's tensors.",
        Example(NORMED + "  init bn.kernel = zeros()\n}\n"),
        Example(NORMED + "  init bn.weight = zeros()\n}\n"),
    ),
    Entry(
        "E0231",
        "unknown or misused initialisation",
        "An `init` rule calls one of torch.nn.init's functions by its name without the "
        "underscore (`kaiming_normal`, `normal`, `trunc_normal`, `zeros`, ...), with arguments "
        'in their domains (a positive `std`, `mode` "fan_in" or "fan_out"). A number may be an '
        "expression of the arch's parameters (`std=(1 / width) ** 0.5`), checked with the "
        "model's values; `mode` and `nonlinearity` are constants.",
        Example(NORMED + '  init conv2d.weight = kaiming_normal(mode="fan_middle")\n}\n'),
        Example(NORMED + '  init conv2d.weight = kaiming_normal(mode="fan_out")\n}\n'),
    ),
    Entry(
        "E0232",
        "`head` not at the end of an arch's forward",
        "`head(flow)` marks the classifier head: the steps after the features, which a backbone "
        "leaves out (`forward_features` in torch, `include_top=False` in Keras). It is the last "
        "step of an arch's forward, takes one flow, and taps no auxiliary output.",
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n  forward: head(conv) -> flatten() -> fc\n}\n"
        ),
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n  forward: conv -> head(flatten() -> fc)\n}\n"
        ),
    ),
    Entry(
        "E0233",
        "`head` without a classifier",
        "The last member a `head` applies is its classifier: a layer with weights whose outputs "
        "are the arch's `num_classes` (`fc = linear(num_classes)`), a fixed `sequential` ending in "
        "one, or a block whose last member is one of these and which is given `num_classes`. Its "
        "other arguments are constants, so that the torch model's `reset_classifier` can build it "
        "again for another number of classes.",
        Example(
            "arch Net(classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(classes)\n  forward: conv -> head(flatten() -> fc)\n}\n"
        ),
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n  forward: conv -> head(flatten() -> fc)\n}\n"
        ),
    ),
    Entry(
        "E0234",
        "quoted member name is not a state_dict key",
        "A quoted member name's value, once its holes are filled, is one part of the member's "
        "state_dict key and of its Keras layer's name: at most 64 ASCII letters, digits, `_` and "
        "`-`, not empty, not starting with `__`, and not an attribute of torch's nn.Module "
        "(`training`, `forward`, ...), which `add_module` refuses. A hole's string value can "
        "break this where the quoted text cannot.",
        Example(
            "block Stage(tag: str) {\n  repeat 2 {\n"
            '    "{tag}{index}" = linear(8)\n  }\n}\n\n'
            'arch Net {\n  input [8]\n  stage = Stage("a.")\n}\n'
        ),
        Example(
            "block Stage(tag: str) {\n  repeat 2 {\n"
            '    "{tag}{index}" = linear(8)\n  }\n}\n\n'
            'arch Net {\n  input [8]\n  stage = Stage("a-")\n}\n'
        ),
    ),
    Entry(
        "E0235",
        "numbered or quoted member name outside a loop",
        'A numbered name (`layer{index + 1}`) or a quoted one (`"block{stage}-{index}"`) names '
        "the members a `for` or `repeat` loop declares, one per iteration, and the forward flow "
        "applies them as a group. Outside a loop a member is a single one: give it a plain name.",
        Example(_vec("  fc{1} = linear(8)")),
        Example(_vec("  fc1 = linear(8)")),
    ),
    Entry(
        "E0236",
        "`feature` not marking one step of an arch's forward",
        "`feature(step)` marks a feature stage (timm's `features_only`): the output of a step "
        "of an arch's forward, at its top level before the head, is one of the outputs of "
        "`forward_stages` in torch and of `features_only=True` in Keras. It marks one member, "
        "loop group (each member a stage) or inline layer; marks replace the rule that picks "
        "the last step at each reduction.",
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n"
            "  forward: feature(conv -> relu()) -> head(flatten() -> fc)\n}\n"
        ),
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n"
            "  forward: conv -> feature(relu()) -> head(flatten() -> fc)\n}\n"
        ),
    ),
    Entry(
        "E0237",
        "feature stage is not a feature map",
        "A feature stage is a feature map with the input's rank (`[C, H, W]` for an image): "
        "its channels and reduction (the input's height over its own) describe it. A step "
        "after flattening or global pooling to a vector cannot be one.",
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n"
            "  forward: conv -> feature(flatten()) -> head(fc)\n}\n"
        ),
        Example(
            "arch Net(num_classes: int = 4) {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n"
            "  fc = linear(num_classes)\n"
            "  forward: feature(conv) -> flatten() -> head(fc)\n}\n"
        ),
    ),
    Entry(
        "E0240",
        "tensor used as a step",
        "A `tensor` member (a class token, a position embedding, a layer scale) is a value, "
        "not a layer: forward reads it as a whole branch of a combinator, which says how it "
        "meets the input (`multiply(scale)`, `add(identity(), pos)`, `concat(token, identity(), "
        "dim=1)`), never as a step that would replace the input, nor as an item of a sequence. "
        "Joined with batched values (`concat`), it needs a leading 1 for the batch.",
        Example(
            "arch Net {\n  input [4, 8, 8]\n  scale = tensor([4, 1, 1], value=0.5)\n"
            "  forward: scale\n}\n"
        ),
        Example(
            "arch Net {\n  input [4, 8, 8]\n  scale = tensor([4, 1, 1], value=0.5)\n"
            "  forward: multiply(scale)\n}\n"
        ),
    ),
    Entry(
        "E0241",
        "dimension argument varies between instances",
        "The Keras model holds tensors channels-last and follows each `permute`, `flatten` and "
        "`select` at compile time, so the dimensions they name (a permutation, a flatten's "
        "`start` and `end`, a select's `dim` and `index`) must be constants, the same in every "
        "instance of their block.",
        Example(
            "block P(order: list) {\n  p = permute(order)\n}\n\narch Net {\n"
            "  input [4, 8, 8]\n  a = P([0, 2, 3, 1])\n  b = P([0, 3, 2, 1])\n"
            "  forward: a -> b\n}\n",
            "compile",
        ),
        Example(
            "block P {\n  p = permute([0, 2, 3, 1])\n}\n\narch Net {\n"
            "  input [4, 8, 8]\n  a = P()\n  b = P()\n  forward: a -> b\n}\n",
            "compile",
        ),
    ),
    Entry(
        "E0242",
        "layer used as an item of a sequence",
        "`attention` reads its input three times (queries, keys and values: torch calls "
        "`attn(x, x, x)`), so it cannot be an item of a `sequential`, which passes each item its "
        "input once. Make it a named member and apply it in forward (a block without a forward "
        "applies its named members in order, and that works too).",
        Example("arch Net {\n  input [5, 8]\n  blocks = sequential {\n    attention(2)\n  }\n}\n"),
        Example("arch Net {\n  input [5, 8]\n  attn = attention(2)\n}\n"),
    ),
    # ---- E03xx: imports ----
    Entry(
        "E0301",
        "import outside the project",
        "Imports are relative paths that resolve inside the directory of the root spec, so a "
        "downloaded spec cannot read other files of the machine.",
        Example('import "/etc/blocks.arch"\n\n' + NET),
        Example(
            'import "blocks.arch"\n\n' + NET,
            files=(("blocks.arch", "block B {\n  relu = relu()\n}\n"),),
        ),
    ),
    Entry(
        "E0302",
        "import cycle",
        "A file imports a file that (directly or not) imports it back.",
        Example('import "a.arch"\n\n' + NET, files=(("a.arch", 'import "spec.arch"\n'),)),
        Example(
            'import "a.arch"\n\n' + NET, files=(("a.arch", "block A {\n  relu = relu()\n}\n"),)
        ),
    ),
    Entry(
        "E0303",
        "imports nested too deeply",
        "A chain of imports is more than 32 files long.",
        Example('import "chain0.arch"\n\n' + NET, files=_chain(40)),
        Example('import "chain0.arch"\n\n' + NET, files=_chain(8)),
    ),
    Entry(
        "E0304",
        "cannot import",
        "The imported file does not exist, is not a regular file, or its path holds a control "
        "character.",
        Example('import "blocks.arch"\n\n' + NET),
        Example(
            'import "blocks.arch"\n\n' + NET,
            files=(("blocks.arch", "block B {\n  relu = relu()\n}\n"),),
        ),
    ),
    Entry(
        "E0305",
        "imports too large in all",
        f"The spec and all its imports may hold at most {MAX_TOTAL_SOURCE_BYTES:,} bytes together.",
        Example(
            "".join(f'import "part{i}.arch"\n' for i in range(_PARTS)) + "\n" + NET,
            files=tuple(
                (f"part{i}.arch", f"block P{i} {{\n  relu = relu()\n}}\n" + "#" * _BIG + "\n")
                for i in range(_PARTS)
            ),
        ),
        Example(
            'import "part0.arch"\n\n' + NET,
            files=(("part0.arch", "block P0 {\n  relu = relu()\n}\n"),),
        ),
    ),
    # ---- E04xx: shapes and structure ----
    Entry(
        "E0401",
        "bad input shape",
        "`input` is a list of one to three positive integers: `[C, H, W]` for images, `[F]` for "
        "vectors.",
        Example("arch Net {\n  input [3, 0, 8]\n  conv = conv2d(4, kernel=1)\n}\n"),
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=1)\n}\n"),
    ),
    Entry(
        "E0402",
        "branches of a sum have different shapes",
        "`residual(body)` adds the body's output to its input, and `add(f, g)` sums its branches, "
        "so the shapes must be equal: give the residual a `shortcut=` projection when the body "
        "changes the channels or the size.",
        Example(
            "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(8, kernel=3, padding=1)\n"
            "  forward: residual(conv)\n}\n"
        ),
        Example(
            "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(8, kernel=3, padding=1)\n"
            "  proj = conv2d(8, kernel=1)\n  forward: residual(conv, shortcut=proj)\n}\n"
        ),
    ),
    Entry(
        "E0403",
        "member never used",
        "A named member that `forward` never uses would still hold weights (and break the "
        "state_dict's correspondence); remove it or use it.",
        Example(
            "arch Net {\n  input [8]\n  fc = linear(4)\n  spare = linear(4)\n  forward: fc\n}\n"
        ),
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  forward: fc\n}\n"),
    ),
    Entry(
        "E0404",
        "blocks nested too deeply",
        "Blocks used inside blocks more than 64 levels deep.",
        Example(
            "".join(f"block B{i} {{\n  inner = B{i + 1}()\n}}\n\n" for i in range(70))
            + "block B70 {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  b = B0()\n}\n"
        ),
        Example(
            "".join(f"block B{i} {{\n  inner = B{i + 1}()\n}}\n\n" for i in range(8))
            + "block B8 {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  b = B0()\n}\n"
        ),
    ),
    Entry(
        "E0405",
        "too many parameters",
        "The model would have more than 10^11 trainable parameters.",
        Example("arch Net {\n  input [100000]\n  fc = linear(2000000)\n}\n"),
        Example("arch Net {\n  input [1000]\n  fc = linear(2000)\n}\n"),
    ),
    Entry(
        "E0406",
        "too many module instances",
        "The model would declare more than 100,000 module instances; repeat counts are multiplied "
        "through nested loops before anything is unrolled.",
        Example(
            "arch Net {\n  input [8]\n  body = sequential {\n    repeat 1000 {\n"
            "      repeat 1000 {\n        identity()\n      }\n    }\n  }\n}\n"
        ),
        Example(
            "arch Net {\n  input [8]\n  body = sequential {\n    repeat 10 {\n"
            "      repeat 10 {\n        identity()\n      }\n    }\n  }\n}\n"
        ),
    ),
    Entry(
        "E0407",
        "concat branches differ in size",
        "`concat` (and `chunk`) joins its branches along the channels (or `dim`), so every "
        "other dimension must agree.",
        Example(
            "arch Net {\n  input [3, 8, 8]\n  a = conv2d(4, kernel=1)\n"
            "  b = conv2d(4, kernel=3, stride=2, padding=1)\n  forward: concat(a, b)\n}\n"
        ),
        Example(
            "arch Net {\n  input [3, 8, 8]\n  a = conv2d(4, kernel=1)\n"
            "  b = conv2d(4, kernel=3, padding=1)\n  forward: concat(a, b)\n}\n"
        ),
    ),
    Entry(
        "E0414",
        "concat along a dim it cannot join",
        "`concat(..., dim=N)` and `chunk(..., dim=N)` count dims as torch does: 0 is the batch, "
        "1 the channels, then the spatial dims. `dim` must be a constant integer naming a dim "
        "other than the batch.",
        Example(
            "arch Net {\n  input [3, 8, 8]\n  a = conv2d(4, kernel=1)\n"
            "  b = conv2d(4, kernel=1)\n  forward: concat(a, b, dim=0)\n}\n"
        ),
        Example(
            "arch Net {\n  input [3, 8, 8]\n  a = conv2d(4, kernel=1)\n"
            "  b = conv2d(4, kernel=1)\n  forward: concat(a, b, dim=3)\n}\n"
        ),
    ),
    Entry(
        "E0415",
        "chunk cannot split its input equally",
        "`chunk(f, g, ...)` splits its input's channels (or `dim`) into as many equal parts as "
        "it has branches, branch i reading part i, so the number of branches must divide the "
        "channel count. `identity()` keeps a part as it is.",
        Example(
            "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=1)\n"
            "  forward: chunk(identity(), conv)\n}\n"
        ),
        Example(
            "arch Net {\n  input [4, 8, 8]\n  conv = conv2d(4, kernel=1)\n"
            "  forward: chunk(identity(), conv)\n}\n"
        ),
    ),
    Entry(
        "E0408",
        "member reused with a different input",
        "A member used twice in forward is one module, so both uses must see the same input "
        "shape (and only a parameter-free member may be used twice: E0227).",
        Example("arch Net {\n  input [8]\n  fc = linear(4)\n  forward: fc -> fc\n}\n"),
        Example(
            "arch Net {\n  input [8]\n  act = relu()\n  fc = linear(8)\n"
            "  forward: act -> fc -> act\n}\n"
        ),
    ),
    Entry(
        "E0409",
        "wrong input rank",
        "A layer got an input of the wrong rank, e.g. a convolution after `flatten()`, or "
        "`linear` after a convolution without `flatten()` in between: a linear layer (and "
        "`layernorm`) reads the last dimension, which a [C, H, W] tensor holds its width in, "
        "until a `permute` puts the channels last.",
        Example(
            "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n  fc = linear(10)\n}\n"
        ),
        Example(
            "arch Net {\n  input [3, 8, 8]\n  conv = conv2d(4, kernel=3)\n  flat = flatten()\n"
            "  fc = linear(10)\n}\n"
        ),
    ),
    Entry(
        "E0410",
        "layer does not fit its input",
        "A layer's output would be empty or too large, or its arguments do not fit the input "
        "(a kernel larger than the padded input, groups that do not divide the channels).",
        Example("arch Net {\n  input [3, 4, 4]\n  conv = conv2d(4, kernel=7)\n}\n"),
        Example("arch Net {\n  input [3, 4, 4]\n  conv = conv2d(4, kernel=3)\n}\n"),
    ),
    Entry(
        "E0411",
        "flatten sees different sizes in different instances",
        "The generated code writes one class per block, and a `flatten` followed by a layer needs "
        "one spatial size; instances of the block that see different sizes cannot share the code.",
        Example(
            "block Head {\n  fc = linear(10)\n  forward: flatten() -> fc\n}\n\narch Net {\n"
            "  input [3, 8, 8]\n  pool = maxpool2d(2)\n  big = Head()\n  small = Head()\n"
            "  forward: add(big, pool -> small)\n}\n",
            "compile",
        ),
        Example(
            "block Head {\n  fc = linear(10)\n  forward: flatten() -> fc\n}\n\narch Net {\n"
            "  input [3, 8, 8]\n  pool = maxpool2d(2)\n  big = Head()\n  small = Head()\n"
            "  forward: add(pool -> big, pool -> small)\n}\n",
            "compile",
        ),
    ),
    Entry(
        "E0412",
        "loop members differ between instances",
        "A block's forward uses a loop's group of members, and the generated torch forward lists "
        "them once per class; instances whose loops create different members cannot share it.",
        Example(
            "block Stage(widths: list) {\n  for w in widths {\n    fc{index} = linear(w)\n  }\n"
            "  act = relu()\n  forward: fc -> act\n}\n\narch Net {\n  input [8]\n"
            "  a = Stage([8])\n  b = Stage([8, 8])\n}\n",
            "compile",
        ),
        Example(
            "block Stage(widths: list) {\n  for w in widths {\n    fc{index} = linear(w)\n  }\n"
            "  act = relu()\n  forward: fc -> act\n}\n\narch Net {\n  input [8]\n"
            "  a = Stage([8, 8])\n  b = Stage([8, 8])\n}\n",
            "compile",
        ),
    ),
    Entry(
        "E0413",
        "requirement fails",
        'A `require cond, "message"` of a block does not hold for the arguments it was given. '
        "The message is the block author's; the generated code raises the same ValueError.",
        Example(
            'block B(groups: int = 1) {\n  require groups == 1, "B only supports groups=1"\n'
            "  fc = linear(4)\n}\n\narch Net {\n  input [8]\n  b = B(groups=2)\n}\n"
        ),
        Example(
            'block B(groups: int = 1) {\n  require groups == 1, "B only supports groups=1"\n'
            "  fc = linear(4)\n}\n\narch Net {\n  input [8]\n  b = B()\n}\n"
        ),
    ),
    # ---- E05xx: command line and API selection ----
    Entry(
        "E0501",
        "no model in the file",
        "The spec declares only blocks; compile the spec that imports them and declares an arch or "
        "variant.",
        Example("block B {\n  relu = relu()\n}\n"),
        Example("block B {\n  relu = relu()\n}\n\narch Net {\n  input [8]\n  b = B()\n}\n"),
    ),
    Entry(
        "E0502",
        "several models: choose one",
        "The file declares several archs or variants; pick one with `--model NAME`.",
        Example(NET + "\n" + NET.replace("Net", "Other")),
        Example(NET + "\n" + NET.replace("Net", "Other"), args=("--model", "Other")),
    ),
    Entry(
        "E0503",
        "no such model",
        "`--model NAME` names no arch or variant of the file or its imports.",
        Example(NET, args=("--model", "Nte")),
        Example(NET, args=("--model", "Net")),
    ),
    Entry(
        "E0504",
        "no such parameter to set",
        "`--set NAME=VALUE` names no parameter of the chosen arch.",
        Example(
            "arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n",
            args=("--set", "widht=2"),
        ),
        Example(
            "arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n",
            args=("--set", "width=2"),
        ),
    ),
    Entry(
        "E0505",
        "unknown backend",
        "The backends are `torch` and `keras`. The command line offers only those, so this comes "
        "from the Python API.",
        Example(NET, python="import archdsl\narchdsl.load('spec.arch').source('tensorflow')\n"),
        Example(NET, python="import archdsl\narchdsl.load('spec.arch').source('keras')\n"),
    ),
    Entry(
        "E0506",
        "--set takes one value",
        "`--set NAME=VALUE` takes one spec expression; `--set 'a=1, b=2'` would silently drop a "
        "value, so each parameter gets its own `--set` (the command line reports it as a usage "
        "error of --set).",
        Example(
            "arch Net(a: int = 4, b: int = 4) {\n  input [8]\n  fc = linear(a * b)\n}\n",
            python="from archdsl.syntax.parser import parse_override\n"
            "parse_override('a', '1, b=2')\n",
        ),
        Example(
            "arch Net(a: int = 4, b: int = 4) {\n  input [8]\n  fc = linear(a * b)\n}\n",
            args=("--set", "a=1", "--set", "b=2"),
        ),
    ),
    Entry(
        "E0520",
        "unknown summary format",
        "Summaries render as table, text, markdown, json or csv. The command line offers only "
        "those, so this comes from the Python API.",
        Example(NET, python="import archdsl\narchdsl.load('spec.arch').summary().render('xml')\n"),
        Example(NET, python="import archdsl\narchdsl.load('spec.arch').summary().render('csv')\n"),
    ),
    Entry(
        "E0521",
        "bad batch size",
        "`summary --batch N` takes an integer of at least 1.",
        Example(NET, "summary", ("--batch", "0")),
        Example(NET, "summary", ("--batch", "32")),
    ),
    Entry(
        "E0522",
        "bad summary depth",
        "`summary --depth D` takes a non-negative integer.",
        Example(NET, "summary", ("--depth", "-1")),
        Example(NET, "summary", ("--depth", "2")),
    ),
    Entry(
        "E0523",
        "unknown summary column",
        "`--columns` takes torchinfo's column names: input_size, output_size, num_params, "
        "params_percent, kernel_size, mult_adds, trainable.",
        Example(NET, "summary", ("--columns", "output_size,weights")),
        Example(NET, "summary", ("--columns", "output_size,num_params")),
    ),
    Entry(
        "E0524",
        "unknown summary row setting",
        "`--row-settings` takes var_names, depth and ascii_only.",
        Example(NET, "summary", ("--row-settings", "names")),
        Example(NET, "summary", ("--row-settings", "var_names")),
    ),
    Entry(
        "E0525",
        "value not usable as a spec parameter",
        "The Python API passes keyword arguments as spec parameters; they must be bools, numbers, "
        "strings, block names or lists of them.",
        Example(
            "arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n",
            python="import archdsl\narchdsl.load('spec.arch', width={1, 2}).source()\n",
        ),
        Example(
            "arch Net(width: int = 4) {\n  input [8]\n  fc = linear(width)\n}\n",
            python="import archdsl\narchdsl.load('spec.arch', width=2).source()\n",
        ),
    ),
    Entry(
        "E0530",
        "bad graph depth",
        "`graph --depth D` takes a non-negative integer.",
        Example(NET, "graph", ("-o", "net.dot", "--depth", "-1")),
        Example(NET, "graph", ("-o", "net.dot", "--depth", "1")),
    ),
    Entry(
        "E0531",
        "unknown graph format",
        "Graphs render as .dot, .svg or .png. `graph -o FILE` checks the extension itself, so "
        "this comes from the Python API.",
        Example(None, python="from archdsl.graph import render\nrender('digraph {}', 'gif')\n"),
        Example(NET, "graph", ("-o", "net.dot")),
    ),
    Entry(
        "E0532",
        "Graphviz is not installed",
        "Rendering .svg or .png runs Graphviz's `dot` program, which is not on PATH. Install "
        "Graphviz, or write `.dot` and render it elsewhere.",
        None,
        Example(NET, "graph", ("-o", "net.dot")),
        unreachable="depends on the machine: Graphviz's `dot` is missing from PATH",
    ),
    Entry(
        "E0533",
        "Graphviz failed",
        "Graphviz's `dot` exited with an error; its message is shown as a note.",
        None,
        Example(NET, "graph", ("-o", "net.dot")),
        unreachable="depends on the machine: the installed Graphviz fails",
    ),
    Entry(
        "E0507",
        "unknown error code",
        "`archdsl explain CODE` knows the codes of this catalogue; `archdsl explain --list` "
        "lists them.",
        Example(None, "explain", ("E0999",)),
        Example(None, "explain", ("E0402",)),
    ),
    # ---- E06xx: arguments and values ----
    Entry(
        "E0601",
        "too many arguments, or one given twice",
        "A block got more positional arguments than it has parameters, or a parameter both "
        "positionally and by name.",
        Example(
            "block B(width: int) {\n  fc = linear(width)\n}\n\narch Net {\n  input [8]\n"
            "  b = B(4, width=4)\n}\n"
        ),
        Example(
            "block B(width: int) {\n  fc = linear(width)\n}\n\narch Net {\n  input [8]\n"
            "  b = B(width=4)\n}\n"
        ),
    ),
    Entry(
        "E0602",
        "value not finite, or over the element budget",
        "Arithmetic produced an infinite or NaN value, or expressions built more than "
        "1,000,000 list elements in one compilation (the budget that keeps small specs fast).",
        Example(_vec("  let big = 1e300 * 1e300\n  fc = linear(4)")),
        Example(_vec("  let big = 1e30 * 1e30\n  fc = linear(4)")),
    ),
    Entry(
        "E0603",
        "wrong type of value",
        "An operator or function got a value of the wrong type: arithmetic on a string, an "
        "integer argument given a float, an index that is not an integer.",
        Example(_vec('  fc = linear(4 + "a")')),
        Example(_vec("  fc = linear(4 + 1)")),
    ),
    Entry(
        "E0604",
        "index out of range",
        "A list index is past the end of the list (or before its start, counting from the end).",
        Example(_vec("  let widths = [4, 8]\n  fc = linear(widths[2])")),
        Example(_vec("  let widths = [4, 8]\n  fc = linear(widths[1])")),
    ),
    Entry(
        "E0605",
        "division by zero",
        "`/`, `//` or `%` by zero.",
        Example(_vec("  let groups = 0\n  fc = linear(8 // groups)")),
        Example(_vec("  let groups = 2\n  fc = linear(8 // groups)")),
    ),
    Entry(
        "E0606",
        "bad call of a built-in function",
        "A built-in function got the wrong number of arguments, an unknown keyword, an empty "
        "list (`max([])`), or a value outside its range (`round(x, n)` with |n| over 24, "
        "`make_divisible` by zero).",
        Example(_vec("  fc = linear(abs(1, 2))")),
        Example(_vec("  fc = linear(abs(-2))")),
    ),
    Entry(
        "E0607",
        "missing argument",
        "A required argument of a layer or block was not given.",
        Example("arch Net {\n  input [3, 8, 8]\n  conv = conv2d(kernel=3)\n}\n"),
        Example(NET),
    ),
    Entry(
        "E0608",
        "row of the wrong length",
        "`for (a, b, c) in table` (or a comprehension) unpacks each row into its names, so every "
        "row must have that many values.",
        Example(_vec("  for (w, n) in [[8, 1], [8]] {\n    fc{index} = linear(w * n)\n  }")),
        Example(_vec("  for (w, n) in [[8, 1], [8, 1]] {\n    fc{index} = linear(w * n)\n  }")),
    ),
    Entry(
        "E0609",
        "combinator without branches",
        "`add`, `concat` and `multiply` need at least one branch; `residual` takes exactly one "
        "body and an optional `shortcut=`.",
        Example("arch Net {\n  input [8]\n  fc = linear(8)\n  forward: fc -> add()\n}\n"),
        Example(
            "arch Net {\n  input [8]\n  fc = linear(8)\n  fc2 = linear(8)\n"
            "  forward: add(fc, fc2)\n}\n"
        ),
    ),
    Entry(
        "E0610",
        "invalid layer argument",
        "A layer argument has the wrong type or is out of its range (e.g. a dropout probability "
        "above 1); the message quotes the layer's schema.",
        Example(_vec("  drop = dropout(1.5)")),
        Example(_vec("  drop = dropout(0.5)")),
    ),
    Entry(
        "E0611",
        "argument of the wrong parameter type",
        "A block or arch parameter declared `int` got a float, `list` got a number, and so on.",
        Example(
            "block B(width: int) {\n  fc = linear(width)\n}\n\narch Net {\n  input [8]\n"
            "  b = B(2.5)\n}\n"
        ),
        Example(
            "block B(width: int) {\n  fc = linear(width)\n}\n\narch Net {\n  input [8]\n"
            "  b = B(2)\n}\n"
        ),
    ),
    Entry(
        "E0612",
        "zip of lists of different lengths",
        "`zip` requires lists of equal length (Python's `strict=True`), so a stage table with a "
        "missing row is an error rather than a silently shorter model.",
        Example(_vec("  for (w, n) in zip([8, 16], [1]) {\n    fc{index} = linear(w * n)\n  }")),
        Example(_vec("  for (w, n) in zip([8, 16], [1, 1]) {\n    fc{index} = linear(w * n)\n  }")),
    ),
    Entry(
        "E0613",
        "outside the domain of a power or logarithm",
        "`log(x)` needs a positive `x` (and `log(x, base)` a positive base other than 1); `a ** b` "
        "refuses zero to a negative power and a negative number to a fractional power (whose "
        "value would be complex). An integer power too large for the value bounds is E0602.",
        Example(_vec("  let w_m = 0\n  fc = linear(round(8 * log(w_m)))")),
        Example(_vec("  let w_m = 2\n  fc = linear(round(8 * log(w_m)))")),
    ),
    # ---- E09xx: internal errors ----
    Entry(
        "E0901",
        "internal error: expression cannot be rendered",
        "A backend met an expression it has no Python rendering for. Every expression the parser "
        "accepts can be rendered, so this is a bug in archdsl: please report it with the spec.",
        None,
        None,
        unreachable="an internal consistency check of the backends",
    ),
    Entry(
        "E0902",
        "internal error: no template for a layer",
        "A layer of the registry has no macro in a backend's templates. This is a bug in archdsl "
        "(or a partial installation): please report it.",
        None,
        None,
        unreachable="an internal consistency check between the layer registry and the templates",
    ),
    Entry(
        "E0903",
        "internal error: ruff is missing",
        "Generated code is formatted with ruff, a dependency of archdsl; reinstall archdsl.",
        None,
        None,
        unreachable="depends on the installation: the `ruff` package is missing",
    ),
    Entry(
        "E0904",
        "internal error: generated code does not parse",
        "ruff could not parse the generated code. This is a bug in archdsl: please report it "
        "with the spec.",
        None,
        None,
        unreachable="an internal consistency check of the generated code",
    ),
]

CATALOGUE: dict[str, Entry] = {e.code: e for e in _ENTRIES}


def lookup(code: str) -> Entry:
    """The entry for ``code`` (case-insensitive); an ``ArchError`` for an unknown code."""
    key = code.strip().upper()
    if key in CATALOGUE:
        return CATALOGUE[key]
    from archdsl.names import did_you_mean

    raise error(
        "E0507",
        f"unknown error code `{code}`",
        help=did_you_mean(key, list(CATALOGUE))
        or "codes look like E0402; see `archdsl explain --list`",
    )


def explain(entry: Entry) -> str:
    """The text ``archdsl explain`` prints."""
    out = [f"{entry.code}: {entry.title}", "", entry.explanation]
    if entry.unreachable:
        out += ["", f"No spec produces this error by itself: {entry.unreachable}."]
    if entry.failing is not None:
        out += ["", "Example that fails:", "", _indent(entry.failing.shown())]
    if entry.fixed is not None:
        out += ["", "Fixed:", "", _indent(entry.fixed.shown())]
    return "\n".join(out) + "\n"


def _indent(text: str) -> str:
    return "\n".join(f"    {line}".rstrip() for line in text.split("\n"))


__all__ = ["CATALOGUE", "ArchError", "Entry", "Example", "explain", "lookup"]
