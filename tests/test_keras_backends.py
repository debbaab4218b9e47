"""Every arch declaration's Keras model (its default variant) computes the torch model's
function on each Keras 3 backend, TensorFlow, JAX and torch, once the weights are transferred;
every spec's Keras model builds (on Keras's torch backend, the quickest to build) with
archdsl's trainable count (in CI the variants over 30M parameters but the smallest of their
arch: tests.helpers.ci_specs). A model whose shapes allow any input size
(archdsl.ir.input_size: all but LeNet-5, whose flatten feeds a linear layer, and ViT, whose
position embedding has one token per patch) is built with `input_shape=(None, None, C)` and
compared at 64x64 (or its declared size where torch needs that much) and, on TensorFlow and
torch, at a second size, 32 more; the others at their declared input. JAX compiles a model for
each input size, so it compares one.

On TensorFlow the same build is also checked before and after the comparison: freshly built,
each weight has the distribution of its torch tensor (tests/initialisation.py, as
tests/test_init.py checks torch against the references), and after it one SGD step changes
the weights, with dropout and stochastic depth active in training only
(tests/training_step.py, as tests/test_training.py checks torch).

One process per backend (Keras picks its backend at import); the three run side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from archdsl.errors import ArchError
from archdsl.ir.instantiate import infer
from tests.helpers import ROOT, arch_specs, ci_specs, compiled, reduced_input
from tests.training_step import stochastic

pytestmark = pytest.mark.framework

BACKENDS = ["tensorflow", "jax", "torch"]


def _second_size(result: Any, shape: tuple[int, ...]) -> list[int] | None:
    """Another size a model taking other sizes is compared at: 32 more in each dimension,
    or, where check refuses that, twice the width, else twice the size (MaxViT's maps must be
    whole partitions: 224x448)."""
    if len(shape) != 3:
        return None
    c, h, w = shape
    sel = result.selection
    for size in ((h + 32, w + 32), (h, 2 * w), (2 * h, 2 * w)):
        try:
            infer(result.program, sel.arch, sel.values, sel.spans, input_shape=(c, *size))
        except ArchError:
            continue
        return list(size)
    return None


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("keras_backends")
    cases = []
    archs = arch_specs()
    for spec in ci_specs():
        tr, kr = compiled(spec, "torch"), compiled(spec, "keras")
        stem = spec.removesuffix(".arch")
        (work / f"{stem}_torch.py").write_text(tr.source or "")
        (work / f"{stem}_keras.py").write_text(kr.source or "")
        compare = spec in archs
        cases.append(
            {
                "spec": spec,
                "entry": tr.selection.entry,
                "arch": tr.lowered.arch,
                "torch": str(work / f"{stem}_torch.py"),
                "keras": str(work / f"{stem}_keras.py"),
                "input_shape": list(reduced_input(spec)) if compare else None,
                "free": bool(kr.lowered.input_size and kr.lowered.input_size.free),
                "second": _second_size(kr, reduced_input(spec)) if compare else None,
                "trainable": tr.model.trainable,
                "stochastic": compare and stochastic(spec),
                "compare": compare,
                # the variants' code is their arch's, compared on every backend: each variant
                # is built (and its trainable count checked) on Keras's torch backend
                "backends": BACKENDS if compare else ["torch"],
            }
        )
    manifest = work / "manifest.json"
    manifest.write_text(json.dumps(cases))
    # Eager JAX compiles every operation with XLA (each initializer of each layer shape, while
    # the models are built): without XLA's expensive optimisations a build takes a third less.
    xla = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "OMP_NUM_THREADS": "1",
        "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {xla}".strip(),
    }
    script = str(ROOT / "tests" / "keras_backend_check.py")
    runs = {
        b: subprocess.Popen(
            [sys.executable, script, b, str(manifest)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for b in BACKENDS
    }
    out: dict[str, Any] = {}
    for backend, run in runs.items():
        stdout, stderr = run.communicate(timeout=900)
        assert run.returncode == 0, stderr[-3000:]
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        for line in lines:
            line["static_trainable"] = next(c for c in cases if c["spec"] == line["spec"])[
                "trainable"
            ]
        out[backend] = lines
    out["free"] = {c["spec"]: c["free"] for c in cases if c["compare"]}
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_arch_agrees_with_torch_on_keras_backend(
    backend: str, reports: dict[str, Any]
) -> None:
    report = reports[backend]
    expected = ci_specs() if backend == "torch" else arch_specs()
    assert [r["spec"] for r in report] == expected
    failures = [r for r in report if not r.get("agree")]
    assert not failures, failures
    print({r["spec"]: r["seconds"] for r in report})
    for r in report:
        assert r["backend"] == backend
        assert r["trainable"] == r["static_trainable"], r
    sizes = {r["spec"]: len(r["sizes"]) for r in report if "sizes" in r}
    sizes_taken = 1 if backend == "jax" else 2
    assert sizes == {s: sizes_taken if free else 1 for s, free in reports["free"].items()}
    # LeNet-5's flatten feeds a linear layer, ViT's position embedding has one token per patch
    fixed = sorted(s for s, free in reports["free"].items() if not free)
    assert fixed == ["lenet5.arch", "vit.arch"]


def _tensorflow_failures(reports: dict[str, Any], check: str) -> dict[str, str]:
    """What failed of ``check`` (a key of the TensorFlow reports) per arch; an arch whose
    report lacks the key failed before reaching it."""
    report = reports["tensorflow"]
    assert [r["spec"] for r in report] == arch_specs()
    out = {r["spec"]: r[check] if check in r else r.get("error", "not run") for r in report}
    return {spec: failure for spec, failure in out.items() if failure is not None}


def test_every_keras_model_starts_as_its_torch_model(reports: dict[str, Any]) -> None:
    failures = _tensorflow_failures(reports, "init_failure")
    assert not failures, failures


def test_every_keras_model_trains(reports: dict[str, Any]) -> None:
    failures = _tensorflow_failures(reports, "training_failure")
    assert not failures, failures
