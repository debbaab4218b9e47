"""Static inference against torch: every module instance's output shapes (forward hooks) and
parameter counts, for every spec in specs/."""

from __future__ import annotations

from collections import defaultdict

import pytest
import torch

from tests.helpers import all_specs, torch_model


@pytest.mark.parametrize("spec", all_specs())
def test_static_shapes_and_counts_equal_torch(spec: str) -> None:
    model, result = torch_model(spec)
    model.eval()
    inferred = result.model.instances()
    seen: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    modules = dict(model.named_modules())
    hooks = [
        m.register_forward_hook(
            lambda mod, inp, out, name=name: seen[name].append(tuple(out.shape[1:]))
        )
        for name, m in modules.items()
        if name
    ]
    with torch.no_grad():
        out = model(torch.randn(2, *result.model.input_shape))
    for h in hooks:
        h.remove()
    assert tuple(out.shape[1:]) == result.model.output_shape
    assert set(inferred) == {n for n in modules if n}
    for path, inst in inferred.items():
        assert seen[path] == inst.out_shapes, path
        module = modules[path]
        params = sum(p.numel() for p in module.parameters())
        stats = sum(
            b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked")
        )
        assert inst.totals() == (params, stats), path
    assert result.model.trainable == sum(p.numel() for p in model.parameters())
