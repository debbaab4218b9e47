"""Shared helpers: compile a spec, load the generated module, build reference models."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from archdsl.compiler import Result, compile_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@functools.cache
def compiled(spec: str, backend: str, model: str | None = None) -> Result:
    return compile_spec(SPECS / spec, backend, model, name=f"specs/{spec}")


FORBIDDEN_NAMES = {
    "eval", "exec", "compile", "__import__", "open", "pickle", "Lambda", "globals", "getattr",
    "setattr",
}  # fmt: skip
ALLOWED_MODULES = {"__future__", "math", "typing", "collections", "torch", "keras"}


def assert_safe_module(source: str) -> None:
    """Guarantees G1, G2 and G7 on one generated module: no forbidden name, no lambda, imports
    only from the allowed modules, and nothing at module level but the docstring, imports,
    classes, functions and constants given as literals (`FEATURE_INFO`), so importing it only
    defines them."""
    import ast

    tree = ast.parse(source)
    compile(tree, "<generated>", "exec")  # what parsing lets through: a repeated argument name
    for i, stmt in enumerate(tree.body):
        docstring = i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            assert stmt.value is not None
            ast.literal_eval(stmt.value)  # data only: raises on anything but a literal
            continue
        assert docstring or isinstance(
            stmt, ast.Import | ast.ImportFrom | ast.ClassDef | ast.FunctionDef
        ), ast.unparse(stmt)[:200]
    for node in ast.walk(tree):
        assert not isinstance(node, ast.Lambda), "generated code contains a lambda"
        if isinstance(node, ast.Name):
            assert node.id not in FORBIDDEN_NAMES, node.id
        if isinstance(node, ast.Attribute):
            assert node.attr not in FORBIDDEN_NAMES, node.attr
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for m in names:
                assert (m or "").split(".")[0] in ALLOWED_MODULES, m


def load(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)
    return module


def torch_model(spec: str, model: str | None = None, **kwargs: Any) -> tuple[Any, Result]:
    result = compiled(spec, "torch", model)
    module = load(result.source or "", f"{spec}_torch")
    return getattr(module, result.selection.entry)(**kwargs), result


def keras_model(
    spec: str, model: str | None = None, *, transfer: bool = False, **kwargs: Any
) -> tuple[Any, Result]:
    """The spec's Keras model giving logits (``classifier_activation=None`` where it has a
    head), as the torch model does. ``transfer``: its weights are about to be replaced by the
    torch model's, so its layers start at zero instead of drawing initial values."""
    result = compiled(spec, "keras", model)
    module = load(result.source or "", f"{spec}_keras")
    kwargs = {**logits(getattr(module, result.lowered.arch)), **kwargs}
    with zero_initialised() if transfer else contextlib.nullcontext():
        return getattr(module, result.selection.entry)(**kwargs), result


def logits(keras_arch: Any) -> dict[str, Any]:
    """The keyword that makes a generated Keras model give logits, as the torch model does:
    `classifier_activation=None` where it has a classifier head."""
    parameters = inspect.signature(keras_arch).parameters
    return {"classifier_activation": None} if "classifier_activation" in parameters else {}


@contextlib.contextmanager
def zero_initialised() -> Iterator[None]:
    """Keras layers created inside start at zero: for models whose weights are then replaced
    (a transfer from torch) or only counted. Drawing initial values is most of a Keras build
    (on JAX each initializer compiles for each weight shape); tests/test_init.py and
    tests/test_keras_backends.py check them. The zeros are numpy's, which every backend takes
    as they are (Keras's own zeros initializer compiles on JAX too, once per shape)."""
    import keras
    from keras.src.layers.layer import Layer

    original = Layer.add_weight

    def zeros(shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return np.zeros(shape, dtype=keras.backend.standardize_dtype(dtype or "float32"))

    def add_weight(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) >= 2:
            args = (args[0], zeros, *args[2:])
        else:
            kwargs["initializer"] = zeros
        return original(self, *args, **kwargs)

    Layer.add_weight = add_weight  # type: ignore[method-assign]
    try:
        yield
    finally:
        Layer.add_weight = original  # type: ignore[method-assign]


def randomise(model: Any, seed: int = 0) -> None:
    """Random batch-norm statistics and affine parameters (layer norms' too), random biases,
    and random learnable tensors of other modules (ConvNeXt's layer scale, 1e-6 when fresh),
    so that a transfer or a layout that drops any of them cannot pass: fresh references start
    with zero biases (VGG, SqueezeNet) or zero norm weights (timm's seresnet50 bn3)."""
    import torch

    layers = (torch.nn.Conv2d, torch.nn.Linear, torch.nn.BatchNorm2d, torch.nn.LayerNorm)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                if m.weight is not None:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            elif not isinstance(m, layers):
                for _, p in m.named_parameters(recurse=False):
                    p.copy_(torch.rand(p.shape, generator=gen) * 0.5 + 0.25)
            if isinstance(m, torch.nn.BatchNorm2d):
                shape = m.running_mean.shape
                m.running_mean.copy_(torch.rand(shape, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(shape, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(shape, generator=gen) + 0.5)
            if isinstance(m, layers):
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)


@functools.cache
def reduced_input(spec: str, small: int = 64) -> tuple[int, ...]:
    """The spec's input at ``small`` x ``small`` where its torch model (in eval and training
    mode, auxiliary heads included) takes that size; its declared input otherwise."""
    import torch

    result = compiled(spec, "torch")
    shape = result.model.input_shape
    module = load(result.source or "", "probe")
    model = getattr(module, result.selection.entry)()
    if len(shape) == 3 and shape[1] > small:
        try:
            with torch.no_grad():
                model.eval()(torch.zeros(1, shape[0], small, small))
                model.train()(torch.zeros(2, shape[0], small, small))
            return (shape[0], small, small)
        except RuntimeError:
            pass
    return shape


def to_channels_last(x: np.ndarray) -> np.ndarray:
    return np.transpose(x, (0, 2, 3, 1)) if x.ndim == 4 else x


def count(model: Any) -> int:
    """A torch model's trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def assert_same_state_dict_layout(ours: Any, ref: Any) -> None:
    """The reference's state_dict keys in order, each with the reference's shape."""
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]


def assert_same_outputs(ours: Any, ref: Any, x: Any) -> None:
    """Eval-mode outputs equal (`torch.testing.assert_close` defaults) on ``x``."""
    import torch

    ours.eval()
    ref.eval()
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    torch.testing.assert_close(got, expected)


def trainable_count(keras_model: Any) -> int:
    return sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)


@functools.cache
def arch_specs() -> list[str]:
    """Every spec that declares an arch itself (not only a variant of an imported one)."""
    from archdsl.ir.program import load_program

    out = []
    for name in all_specs():
        program = load_program(SPECS / name, display_name=f"specs/{name}")
        if any(n in program.blocks for n in program.models(program.root)):
            out.append(name)
    return out


@functools.cache
def all_specs() -> list[str]:
    """Every spec that declares a model of its own (block libraries excluded)."""
    from archdsl.ir.program import load_program

    out = []
    for path in sorted(SPECS.glob("*.arch")):
        program = load_program(path, display_name=f"specs/{path.name}")
        if program.models(program.root):
            out.append(path.name)
    return out


LARGE = 30_000_000  # trainable parameters


@functools.cache
def ci_specs() -> list[str]:
    """Every spec, except that of the variants of one arch larger than LARGE (30M) only the smallest
    runs in CI, besides the arch declaration itself: they share their arch's generated code,
    and building a 100M-parameter model costs seconds. ``ARCHDSL_LONG=1`` runs them all."""
    if os.environ.get("ARCHDSL_LONG"):
        return all_specs()
    sizes = {s: compiled(s, "torch").lowered for s in all_specs()}
    smallest: dict[str, str] = {}
    for spec, low in sorted(sizes.items(), key=lambda kv: kv[1].trainable):
        smallest.setdefault(low.arch, spec)
    archs = set(arch_specs())
    return [
        s
        for s, low in sizes.items()
        if s in archs or low.trainable <= LARGE or smallest[low.arch] == s
    ]


def outputs_compared(spec: str) -> bool:
    """Whether CI runs the spec's torch model against its reference for real: the specs
    ci_specs keeps. The others (variants over 30M parameters, the same generated code with other
    arguments) are compared on the meta device in CI, keys in order, shapes, a strict load and
    counts (assert_same_structure), and for real with ``ARCHDSL_LONG=1``."""
    return spec in ci_specs()


def assert_same_structure(ours: Any, ref: Any) -> None:
    """The same state_dict keys in order with the same shapes, and a strict load of the
    reference's tensors (on the meta device: ``assign``)."""
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert [v.shape for v in our_sd.values()] == [v.shape for v in ref_sd.values()]
    ours.load_state_dict(ref_sd, strict=True, assign=True)
    assert count(ours) == count(ref)


def assert_instances_match_torch(model: Any, result: Result) -> None:
    """Every inferred instance's output shapes (per use) and counts equal what torch reports."""
    from collections import defaultdict

    import torch

    # auxiliary heads (training-only outputs) run and are checked in training mode; other
    # models run in eval mode, where batch norm on the meta device skips the batch statistics
    model.train(bool(result.model.aux_shapes))
    inferred = result.model.instances()
    seen: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    modules = dict(model.named_modules())
    hooks = [
        m.register_forward_hook(
            # nn.MultiheadAttention returns (output, weights)
            lambda mod, inp, out, name=name: seen[name].append(
                tuple((out[0] if isinstance(out, tuple) else out).shape[1:])
            )
        )
        for name, m in modules.items()
        if name
    ]
    try:
        with torch.no_grad():
            out = model(torch.randn(2, *result.model.input_shape))
    finally:
        for h in hooks:
            h.remove()
    if isinstance(out, tuple):
        out, *aux = out
        assert [tuple(a.shape[1:]) for a in aux] == result.model.aux_shapes[::-1]
    assert tuple(out.shape[1:]) == result.model.output_shape
    # a layer's own parts (nn.MultiheadAttention's out_proj, window attention's projections
    # and position bias MLP) are its parameter layout, not instances of the spec
    inner = {
        f"{n}.{c}"
        for n, m in modules.items()
        if _is_composite_layer(m)
        for c, _ in m.named_modules()
        if c
    }
    assert set(inferred) == {n for n in modules if n and n not in inner}
    for path, inst in inferred.items():
        assert seen[path] == inst.out_shapes, path
        module = modules[path]
        params = sum(p.numel() for p in module.parameters())
        # batch-norm statistics; window attention's buffers are derived from its window
        stats = sum(
            b.numel()
            for n, b in module.named_buffers()
            if n.endswith(("running_mean", "running_var"))
        )
        assert inst.totals() == (params, stats), path
    assert result.model.trainable == sum(p.numel() for p in model.parameters())


def _is_composite_layer(module: Any) -> bool:
    """Whether ``module`` is one layer of the spec with modules of its own inside."""
    from archdsl.layers.registry import all_layers

    composite = {layer.torch_class for layer in all_layers().values() if not layer.torch_leaf}
    return type(module).__name__ in composite


def assert_backends_agree(text: str, tmp_path: Path, name: str = "spec.arch") -> Result:
    """Compile ``text`` for both backends; check static figures against torch and Keras, and
    Keras outputs against torch after the weight transfer. Returns the torch result."""
    import torch

    from archdsl.transfer import torch_to_keras

    path = tmp_path / name
    path.write_text(text)
    tr = compile_spec(path, "torch", name=name)
    kr = compile_spec(path, "keras", name=name)
    entry = tr.selection.entry
    torch.manual_seed(0)
    tm = getattr(load(tr.source or "", "t_torch"), entry)()
    keras_module = load(kr.source or "", "t_keras")
    km = getattr(keras_module, entry)(**logits(getattr(keras_module, kr.lowered.arch)))
    assert_instances_match_torch(tm, tr)
    assert trainable_count(km) == tr.model.trainable
    randomise(tm)
    torch_to_keras(tm.state_dict(), km)
    x = np.random.default_rng(0).standard_normal((2, *tr.model.input_shape)).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    import keras

    got = keras.ops.convert_to_numpy(km(to_channels_last(x), training=False))
    if expected.ndim == 4:
        got = np.transpose(got, (0, 3, 1, 2))
    np.testing.assert_allclose(
        got, expected, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(expected).max())
    )
    return tr


def assert_keras_matches_torch(tm: Any, km: Any, shape: tuple[int, ...], seed: int = 0) -> Any:
    """Move ``tm``'s weights into ``km`` and compare their eval outputs on a random input of
    ``shape`` (batch and channels first): rtol 1e-4, atol 1e-4 x max|y|. Returns the outputs."""
    import torch

    from archdsl.transfer import torch_to_keras

    assert torch_to_keras(tm.state_dict(), km), "no weights were transferred"
    x = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    with torch.no_grad():
        expected = tm.eval()(torch.from_numpy(x)).numpy()
    import keras

    got = keras.ops.convert_to_numpy(km(to_channels_last(x), training=False))
    assert got.shape == expected.shape
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    return got


def assert_training_pass_matches(ours: Any, ref: Any, x: Any) -> None:
    """With the same seed, a training pass (stochastic depth, dropout, batch statistics) of
    ``ours`` equals the reference's on ``x``; two passes differ."""
    import torch

    ours.train()
    ref.train()
    with torch.no_grad():
        torch.manual_seed(1)
        first = ours(x)
        second = ours(x)
        torch.manual_seed(1)
        expected = ref(x)
    assert not torch.allclose(first, second)
    torch.testing.assert_close(first, expected)


@dataclasses.dataclass(frozen=True)
class ZooCase:
    """A torchvision model and the spec of the same name (its variant)."""

    name: str  # the torchvision model, the spec file's stem and its variant
    params: int  # torchvision's published parameter count (its weights' metadata)
    resolution: int  # the crop size of torchvision's default weights, the spec's input
    outputs: bool  # outputs compared at the resolution; False: built on the meta device

    @property
    def spec(self) -> str:
        return f"{self.name}.arch"


def assert_torchvision_table(prefix: str, cases: list[ZooCase]) -> None:
    """``cases`` are torchvision's models named ``prefix*``, with its weights' parameter
    counts and crop sizes."""
    import torchvision
    from torchvision.models import get_model_weights

    names = [n for n in torchvision.models.list_models() if n.startswith(prefix)]
    assert sorted(names) == sorted(c.name for c in cases)
    for case in cases:
        weights = get_model_weights(case.name).DEFAULT
        assert weights.meta["num_params"] == case.params
        assert weights.transforms().crop_size == [case.resolution]
