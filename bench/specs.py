"""Generated specs for the scaling benchmark: four shapes of network, each at a requested number
of module instances ("layers": what ``archdsl check`` counts and the instance limit bounds)."""

from __future__ import annotations

from collections.abc import Callable

# A repeat count above this is written as two nested repeats (the per-loop limit).
_MAX_LOOP = 10_000


def _repeat(n: int, body: str, indent: str = "    ") -> str:
    """``repeat n { body }``, as two nested loops when ``n`` is over one loop's limit."""
    if n <= _MAX_LOOP:
        return f"{indent}repeat {n} {{\n{indent}  {body}\n{indent}}}\n"
    outer = -(-n // _MAX_LOOP)
    while n % outer:
        outer += 1
    inner = n // outer
    return (
        f"{indent}repeat {outer} {{\n{indent}  repeat {inner} {{\n{indent}    {body}\n"
        f"{indent}  }}\n{indent}}}\n"
    )


def flat(n: int) -> str:
    """``n`` convolutions written out one per line inside one sequential: the text grows with
    the model (about 10 bytes a layer), so parsing is measured too."""
    lines = "".join("    conv2d(8)\n" for _ in range(max(1, n - 1)))
    return f"arch Flat {{\n  input [8, 4, 4]\n  body = sequential {{\n{lines}  }}\n}}\n"


def residual(n: int) -> str:
    """A deep stack of residual blocks (4 instances each: the block, conv, norm, activation)."""
    blocks = max(1, (n - 1) // 4)
    return (
        "block Res(c: int) {\n"
        "  conv = conv2d(c, kernel=3, padding=1, bias=false)\n"
        "  bn = batchnorm2d()\n"
        "  relu = relu()\n"
        "  forward: residual(conv -> bn) -> relu\n"
        "}\n\n"
        "arch Deep {\n  input [8, 4, 4]\n  body = sequential {\n"
        + _repeat(blocks, "Res(8)")
        + "  }\n}\n"
    )


def concat(n: int) -> str:
    """A stack of blocks that concatenate eight branches and project back (10 instances each)."""
    blocks = max(1, (n - 1) // 10)
    members = "".join(f"  b{i} = conv2d(1)\n" for i in range(8))
    names = ", ".join(f"b{i}" for i in range(8))
    return (
        "block Wide {\n"
        + members
        + "  project = conv2d(8)\n"
        + f"  forward: concat({names}) -> project\n"
        + "}\n\n"
        + "arch Concat {\n  input [8, 4, 4]\n  body = sequential {\n"
        + _repeat(blocks, "Wide()")
        + "  }\n}\n"
    )


def nesting(n: int) -> str:
    """Blocks nested ``k`` deep, each calling the one below twice: ``3 * 2 ** k - 1`` instances
    (the blocks and a convolution in each innermost one) from ``k + 1`` declarations, with the
    largest ``k`` that stays within ``n``."""
    k = 1
    while 3 * 2 ** (k + 1) - 1 <= n:
        k += 1
    decls = ["block N0 {\n  conv = conv2d(8)\n}\n"]
    for i in range(1, k + 1):
        decls.append(f"block N{i} {{\n  left = N{i - 1}()\n  right = N{i - 1}()\n}}\n")
    arch = f"arch Nested {{\n  input [8, 4, 4]\n  body = N{k}()\n}}\n"
    return "\n".join([*decls, arch])


FAMILIES: dict[str, Callable[[int], str]] = {
    "flat": flat,
    "residual": residual,
    "concat": concat,
    "nesting": nesting,
}
