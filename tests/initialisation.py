"""Whether two tensors were drawn from one distribution, and whether a Keras model starts where
its torch model starts: used by tests/test_init.py and, for every arch declaration's Keras model
on TensorFlow, by tests/keras_backend_check.py (tests/test_keras_backends.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from archdsl.names import torch_path
from archdsl.transfer import tensor_names

# the Keras layers whose weights are drawn (others have none, or derive theirs)
DRAWN = {
    "Conv2D",
    "DepthwiseConv2D",
    "Dense",
    "BatchNormalization",
    "LayerNormalization",
    "Learned",
    "MultiheadAttention",
    "WindowAttention",
    "RelativeAttention",
}


def assert_same_distribution(ours: Any, ref: Any, what: str) -> None:
    """Equal means and standard deviations within sampling error: six standard deviations of
    the difference of two samples' means (sigma sqrt(2 / n)) and standard deviations
    (sigma / sqrt(n)); a constant reference must be matched exactly."""
    ours, ref = torch.as_tensor(ours).flatten(), torch.as_tensor(ref).flatten()
    n = ref.numel()
    ref_std, ref_mean = (float(v) for v in torch.std_mean(ref, correction=0))
    if ref_std == 0 or n == 1:
        assert bool(torch.all(ours == ref[0])), f"{what}: expected every element {float(ref[0])}"
        return
    std, mean = (float(v) for v in torch.std_mean(ours, correction=0))
    mean_tol = 6 * ref_std * math.sqrt(2 / n)
    std_tol = 6 * ref_std / math.sqrt(n)
    assert abs(mean - ref_mean) <= mean_tol, (
        f"{what}: mean {mean:.4g}, reference {ref_mean:.4g} (tolerance {mean_tol:.2g})"
    )
    assert abs(std - ref_std) <= std_tol, (
        f"{what}: std {std:.4g}, reference {ref_std:.4g} (tolerance {std_tol:.2g})"
    )


def assert_keras_starts_as(ours: Any, kmodel: Any, what: str) -> None:
    """Every drawn weight of the freshly built Keras model has the distribution of the torch
    model's tensor of the same name, and every torch parameter has its Keras weight."""
    tensors = {k: v.detach() for k, v in ours.named_parameters()}
    seen = set()
    for layer in kmodel.layers:
        kind = type(layer).__name__
        if not layer.weights or kind not in DRAWN:
            continue
        path = torch_path(layer.name)
        if kind == "Learned":  # a tensor member: its key is its path, in torch's shape
            assert_same_distribution(
                np.asarray(layer.weights[0].numpy()), tensors[path], f"{what} Keras: {path}"
            )
            seen.add(path)
            continue
        # an attention layer's weights are in its torch parameters' order
        names = tensor_names(layer) if kind.endswith("Attention") else ["weight", "bias"]
        for name, weight in zip(names, layer.weights, strict=False):
            key = f"{path}.{name}"
            assert_same_distribution(
                np.asarray(weight.numpy()), tensors[key], f"{what} Keras: {key}"
            )
            seen.add(key)
    assert seen == set(tensors)
