"""Property: for random valid architectures, archdsl's static shapes and parameter counts equal
what the generated torch and Keras models report, and the two models compute the same function."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, seed, settings

from archdsl.compiler import compile_spec
from archdsl.transfer import torch_to_keras
from tests.helpers import (
    assert_instances_match_torch,
    assert_safe_module,
    load,
    randomise,
    to_channels_last,
    trainable_count,
)
from tests.strategies import architectures

pytestmark = pytest.mark.framework


@seed(20261122)
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=architectures())
def test_random_architectures_agree_across_backends(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("spec") / "drawn.arch"
    path.write_text(text)
    torch_result = compile_spec(path, "torch", name="drawn.arch")
    keras_result = compile_spec(path, "keras", name="drawn.arch")
    assert_safe_module(torch_result.source or "")
    assert_safe_module(keras_result.source or "")
    tm = load(torch_result.source or "", "drawn_torch").drawn()
    km = load(keras_result.source or "", "drawn_keras").drawn()
    assert_instances_match_torch(tm, torch_result)
    static = torch_result.model
    assert trainable_count(km) == static.trainable
    assert sum(int(np.prod(w.shape)) for w in km.non_trainable_weights) == static.stats
    randomise(tm)
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(1).standard_normal((2, *static.input_shape)).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    got = np.asarray(km(to_channels_last(x), training=False))
    assert got.shape == expected.shape == (2, *static.output_shape)
    np.testing.assert_allclose(
        got, expected, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(expected).max())
    )
