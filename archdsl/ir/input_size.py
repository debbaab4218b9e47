"""Whether a model takes other input sizes than the one it declares: the Keras factories'
`input_shape`, `(None, None, 3)` included.

A model's parameter shapes may depend on its input's height and width: a `flatten` of
convolution features feeding a `linear` (LeNet-5) has as many weights as the features have
positions. Such a model takes only its declared size. The check infers the model again at twice
its declared height and width: every instance must keep its parameter counts, and the shapes
must still fit, for the model to take any size (from its declared one up).
"""

from __future__ import annotations

from typing import Any

from archdsl.errors import ArchError, Span
from archdsl.ir import lowered as L
from archdsl.ir.instantiate import Model, infer
from archdsl.ir.program import Program


def input_size(
    program: Program,
    arch: str,
    values: dict[str, Any],
    spans: dict[str, Span],
    model: Model,
) -> L.InputSize:
    shape = model.input_shape
    if len(shape) != 3:
        return L.InputSize(free=False, reason="its input is not an image [C, H, W]")
    c, h, w = shape
    try:
        other = infer(program, arch, values, spans, input_shape=(c, 2 * h, 2 * w))
    except ArchError as err:
        message = err.diagnostics[0].message
        return L.InputSize(
            free=False, reason=f"at {2 * h}x{2 * w} its shapes do not fit ({message})"
        )
    first = {i.path: i for i in model.root.walk()}
    for inst in other.root.walk():
        same = first.get(inst.path)
        if same is None or (same.trainable, same.stats) != (inst.trainable, inst.stats):
            where = f"`{inst.path}` ({inst.type})" if inst.path else "the model"
            return L.InputSize(
                free=False, reason=f"the parameters of {where} depend on the input's size"
            )
    return L.InputSize(free=True)
