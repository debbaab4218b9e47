"""Generated Keras models compute the torch models' function once the weights are transferred."""

from __future__ import annotations

import pytest
import torch

from archdsl.transfer import torch_to_keras
from tests.helpers import (
    assert_keras_matches_torch,
    keras_model,
    randomise,
    torch_model,
    trainable_count,
)

pytestmark = pytest.mark.framework

# every arch declaration's default variant is compared on each Keras backend in
# test_keras_backends.py; these add the BasicBlock family and the smallest model
SPECS = ["lenet5.arch", "resnet18.arch"]


@pytest.mark.parametrize("spec", SPECS)
def test_keras_matches_torch(spec: str) -> None:
    torch.manual_seed(0)
    tm, result = torch_model(spec)
    tm.eval()
    randomise(tm)
    km, _ = keras_model(spec)
    n_torch = sum(p.numel() for p in tm.parameters() if p.requires_grad)
    assert trainable_count(km) == n_torch == result.model.trainable
    assert_keras_matches_torch(tm, km, (2, *result.model.input_shape))


def test_transfer_refuses_a_partial_match() -> None:
    tm, _ = torch_model("lenet5.arch")
    km, _ = keras_model("lenet5.arch")
    state = dict(tm.state_dict())
    state["extra.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match="without a Keras layer"):
        torch_to_keras(state, km)
    del state["extra.weight"]
    del state["classifier.0.weight"]
    with pytest.raises(ValueError, match="no torch tensor"):
        torch_to_keras(state, km)


def test_lenet5_has_61706_parameters_everywhere() -> None:
    tm, result = torch_model("lenet5.arch")
    km, _ = keras_model("lenet5.arch")
    assert result.model.trainable == 61_706
    assert sum(p.numel() for p in tm.parameters()) == 61_706
    assert trainable_count(km) == 61_706
    assert result.model.output_shape == (10,)
