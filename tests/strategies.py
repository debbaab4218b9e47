"""Hypothesis strategies for valid architectures, drawn as a small model and rendered to spec text.

The strategy tracks the spatial size while it draws, so every drawn spec is valid; a spec that
fails to compile is a bug in archdsl (or in this file), never an expected outcome.
"""

from __future__ import annotations

import os

from hypothesis import strategies as st

from tests.helpers import SPECS

ACTIVATIONS = ["relu", "relu6", "tanh", "sigmoid", "silu", "hardswish", "hardsigmoid"]

RESIDUAL_BLOCK = """
# two convolutions with a projection shortcut when the shape changes
block Residual(planes: int, stride: int = 1, bias: bool = false) {{
  conv1 = conv2d(planes, kernel=3, stride=stride, padding=1, bias=bias)
  bn1 = batchnorm2d()
  act = {act}()
  conv2 = conv2d(planes, kernel=3, padding=1, bias=bias)
  bn2 = batchnorm2d()
  proj = sequential {{
    conv2d(planes, kernel=1, stride=stride, bias=false)
    batchnorm2d()
  }} when stride != 1 or in_channels != planes
  forward: residual(conv1 -> bn1 -> act -> conv2 -> bn2, shortcut=proj) -> act
}}
"""

BRANCH_BLOCK = """
block Branches(a: int, b: int) {{
  left = conv2d(a, kernel=1)
  middle = sequential {{
    conv2d(b, kernel=1, bias=false)
    batchnorm2d()
    {act}()
    conv2d(b, kernel=3, padding=1)
  }}
  right = sequential {{
    maxpool2d(3, stride=1, padding=1)
    conv2d(a, kernel=1)
  }}
  forward: concat(left, middle, right)
}}
"""

SHUFFLE_BLOCK = """
# half the channels kept, half convolved, then interleaved (ShuffleNet V2's stride-1 unit)
block Shuffle {{
  branch = sequential {{
    conv2d(in_channels // 2, kernel=1, bias=false)
    batchnorm2d()
    {act}()
  }}
  forward: chunk(identity(), branch) -> channel_shuffle(2)
}}
"""


@st.composite
def layer_items(draw: st.DrawFn, size: list[int], channels: list[int], depth: int = 0) -> list[str]:
    """Items of a sequential body; ``size`` and ``channels`` are updated as items are drawn."""
    items: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        h = size[0]
        kind = draw(
            st.sampled_from(
                ["conv", "conv", "bn", "act", "pool", "residual", "branch", "shuffle", "repeat"]
            )
        )
        if kind == "conv":
            kernel = draw(st.sampled_from([k for k in (1, 3, 5) if k <= h + 2]))
            padding = draw(st.integers(0, kernel // 2))
            stride = draw(st.sampled_from([1, 1, 2]))
            out = draw(st.integers(1, 12))
            if draw(st.integers(0, 3)) == 0:
                out = channels[0]
            groups = 1
            if channels[0] % 2 == 0 and out % 2 == 0 and draw(st.booleans()):
                groups = 2
            if out == channels[0] and draw(st.booleans()):
                groups = out  # depthwise
            bias = draw(st.booleans())
            if h + 2 * padding < kernel:
                continue
            size[0] = (h + 2 * padding - kernel) // stride + 1
            channels[0] = out
            args = f"{out}, kernel={kernel}, stride={stride}, padding={padding}"
            if groups != 1:
                args += f", groups={groups}"
            items.append(f"conv2d({args}, bias={'true' if bias else 'false'})")
        elif kind == "bn":
            items.append("batchnorm2d()")
        elif kind == "act":
            items.append(f"{draw(st.sampled_from(ACTIVATIONS))}()")
        elif kind == "pool" and h >= 2:
            kernel = draw(st.sampled_from([k for k in (2, 3) if k <= h]))
            stride = draw(st.sampled_from([1, 2]))
            padding = draw(st.integers(0, kernel // 2))
            pool = draw(st.sampled_from(["maxpool2d", "avgpool2d"]))
            size[0] = (h + 2 * padding - kernel) // stride + 1
            items.append(f"{pool}({kernel}, stride={stride}, padding={padding})")
        elif kind == "residual":
            planes = draw(st.integers(1, 12))
            stride = draw(st.sampled_from([1, 2]))
            size[0] = (h - 1) // stride + 1
            channels[0] = planes
            bias = draw(st.booleans())
            items.append(f"Residual({planes}, stride={stride}, bias={'true' if bias else 'false'})")
        elif kind == "branch":
            a, b = draw(st.integers(1, 8)), draw(st.integers(1, 8))
            channels[0] = 2 * a + b
            items.append(f"Branches(a={a}, b={b})")
        elif kind == "shuffle" and channels[0] % 2 == 0:
            items.append("Shuffle()")  # keeps the shape
        elif kind == "repeat" and depth == 0:
            # a repeated body must keep its shape: a residual block at stride 1
            planes = channels[0]
            n = draw(st.integers(0, 3))
            items.append(f"repeat {n} {{\n      Residual({planes}, stride=1)\n    }}")
    return items or ["identity()"]


@st.composite
def architectures(draw: st.DrawFn) -> str:
    c = draw(st.integers(1, 4))
    h = draw(st.integers(6, 20))
    size, channels = [h], [c]
    act = draw(st.sampled_from(ACTIVATIONS))
    items = draw(layer_items(size, channels))
    pooled = draw(st.booleans())
    hidden = draw(st.integers(1, 16))
    classes = draw(st.integers(1, 10))
    head = ["flatten()"] if not pooled else ["adaptive_avgpool2d(1)", "flatten()"]
    body = "\n    ".join(items)
    text = RESIDUAL_BLOCK.format(act=act) + BRANCH_BLOCK.format(act=act)
    text += SHUFFLE_BLOCK.format(act=act)
    text += f"""
arch Drawn(num_classes: int = {classes}) {{
  input [{c}, {h}, {h}]
  features = sequential {{
    {body}
  }}
  classifier = sequential {{
    linear({hidden})
    {act}()
    linear(num_classes)
  }}
  forward: features -> {" -> ".join(head)} -> classifier
}}
"""
    return text


def examples(n: int) -> int:
    """``n`` hypothesis examples per CI run; ARCHDSL_LONG=k runs k times as many (the long
    local profile: ARCHDSL_LONG=400 gives the fuzz properties 50,000-odd mutations)."""
    return n * max(1, int(os.environ.get("ARCHDSL_LONG", "1")))


SOURCES = {p.name: p.read_text() for p in sorted(SPECS.glob("*.arch"))}
TOKENS = [
    "{", "}", "(", ")", "[", "]", ",", "=", "->", ":", "when", "for", "in", "repeat", "let",
    "require", "aux(", "residual(", "concat(", "chunk(", "channel_shuffle(2)", "0", "-1",
    "1e999", "true", '"x"', "index",
    "in_channels", "conv2d(", "linear(", "flatten()", "\n", "#", "[x for x in []]", "\u202e",
    "**", "log(", " if ", '"a{index}-"', '"{', "}\"", ".",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = min(len(text), i + draw(st.integers(0, 12)))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=3)))
        text = text[:i] + piece + text[j:]
    return name, text
