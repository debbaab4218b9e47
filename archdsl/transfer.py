"""Move weights from a generated torch model to the Keras model of the same spec.

Keras layers carry the torch module paths as names (``layer1>0>conv1`` for ``layer1.0.conv1``:
Keras 3's torch backend refuses dots in names), so the transfer is a lookup plus the layout
changes: conv kernels ``(O, I, kH, kW) -> (kH, kW, I, O)``, dense kernels transposed, batch-norm
statistics copied; a learnable tensor (``Learned``) is held in torch's shape. Importing this
module loads neither framework; it works on array-likes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archdsl.names import torch_path


def _array(value: Any) -> Any:
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def torch_to_keras(
    state_dict: Mapping[str, Any], keras_model: Any, *, headless: bool = False
) -> list[str]:
    """Copy every weight of ``state_dict`` into ``keras_model``; returns the layer names filled.

    Raises ``ValueError`` when a tensor has no Keras counterpart or a Keras weight is left unset,
    so a partial transfer never passes silently. ``headless``: the Keras model was built with
    ``include_top=False``, so the torch tensors it has no layer for (the head's) are left out;
    every Keras weight must still be filled.
    """
    tensors = {k: _array(v) for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
    used: set[str] = set()
    filled: list[str] = []
    for layer in _layers(keras_model):
        if not layer.weights:
            continue
        kind = type(layer).__name__
        name = torch_path(layer.name)

        def take(suffix: str, name: str = name) -> Any:
            key = f"{name}.{suffix}"
            if key not in tensors:
                raise ValueError(f"no torch tensor `{key}` for Keras layer `{name}`")
            used.add(key)
            return tensors[key]

        if kind == "Conv2D":
            values = [take("weight").transpose(2, 3, 1, 0)]
            if layer.use_bias:
                values.append(take("bias"))
        elif kind == "DepthwiseConv2D":
            values = [take("weight").transpose(2, 3, 0, 1)]
            if layer.use_bias:
                values.append(take("bias"))
        elif kind == "Dense":
            values = [take("weight").T]
            if layer.use_bias:
                values.append(take("bias"))
        elif kind == "BatchNormalization":
            values = [take("weight"), take("bias"), take("running_mean"), take("running_var")]
        elif kind == "LayerNormalization":
            values = [take("weight")]
            if layer.center:
                values.append(take("bias"))
        elif kind == "MultiheadAttention":  # torch's layout, tensor for tensor
            values = [take(key) for key in tensor_names(layer)]
        elif kind in ("WindowAttention", "RelativeAttention"):  # kernels (in, out), as Dense's
            values = [
                take(key).T if key.endswith("weight") else take(key) for key in tensor_names(layer)
            ]
            # its buffers (relative position indices, coordinates) follow from its window
            used.update(f"{name}.{b}" for b in ("relative_position_index", "relative_coords_table"))
        elif kind == "Learned":  # a tensor member: its key is the member's path, same shape
            if name not in tensors:
                raise ValueError(f"no torch tensor `{name}` for Keras layer `{name}`")
            used.add(name)
            values = [tensors[name]]
        else:
            raise ValueError(f"cannot transfer weights into Keras layer `{name}` ({kind})")
        layer.set_weights(values)
        filled.append(name)
    unused = sorted(set(tensors) - used)
    if unused and not headless:
        raise ValueError(f"torch tensors without a Keras layer: {', '.join(unused[:5])}")
    return filled


def tensor_names(layer: Any) -> list[str]:
    """The torch tensors of a Keras attention layer's weights, in its weights' order."""
    kind = type(layer).__name__
    if kind == "MultiheadAttention":
        names = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
        return [n for n in names if layer.use_bias or not n.endswith("bias")]
    if kind == "WindowAttention":
        names = ["logit_scale" if layer.cosine else "relative_position_bias_table"]
        for part in ("qkv", "proj"):
            names += [f"{part}.weight", f"{part}.bias"] if layer.use_bias else [f"{part}.weight"]
        if layer.cosine:
            names += ["cpb_mlp.0.weight", "cpb_mlp.0.bias", "cpb_mlp.2.weight"]
        return names
    if kind == "RelativeAttention":
        names = ["relative_position_bias_table"]
        return names + [f"{part}.{t}" for part in ("to_qkv", "merge") for t in ("weight", "bias")]
    raise ValueError(f"`{layer.name}` ({kind}) is not an attention layer")


def _layers(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            out.extend(_layers(layer))
        else:
            out.append(layer)
    return out
