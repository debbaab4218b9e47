"""Static inference against torch: every module instance's output shapes (forward hooks) and
parameter counts, for every spec in specs/."""

from __future__ import annotations

import pytest

from tests.helpers import all_specs, assert_instances_match_torch, torch_model

pytestmark = pytest.mark.framework


@pytest.mark.parametrize("spec", all_specs())
def test_static_shapes_and_counts_equal_torch(spec: str) -> None:
    # on torch's meta device: the shapes and counts are torch's own, with no arithmetic done
    # (the models run for real in the reference, training and Keras comparisons)
    import torch

    with torch.device("meta"):
        model, result = torch_model(spec)
        assert_instances_match_torch(model, result)
