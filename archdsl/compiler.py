"""The pipeline as one call: spec file -> program -> inferred model -> backend source."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archdsl.collector import rarely
from archdsl.errors import ArchError, Span, error
from archdsl.ir.evaluate import BlockRef, evaluate
from archdsl.ir.instantiate import Model, constant_argument_errors, infer, with_independent_errors
from archdsl.ir.lower import lower
from archdsl.ir.lowered import LoweredModel, to_json
from archdsl.ir.program import Program, load_program
from archdsl.names import did_you_mean
from archdsl.source import SourceFile
from archdsl.syntax import ast
from archdsl.syntax.parser import parse

if TYPE_CHECKING:
    from archdsl.formatting import Formatter

BACKENDS = ("torch", "keras", "ir")


@dataclass
class Selection:
    """Which model of a spec to build, and with which parameter values."""

    arch: str
    entry: str
    overrides: dict[str, ast.Expr]  # the variant's values (and --set): what inference uses
    values: dict[str, Any]
    sets: dict[str, ast.Expr]  # --set values alone: they become the generated defaults
    spans: dict[str, Span] = field(default_factory=dict)
    factory_args: dict[str, ast.Expr] = field(default_factory=dict)


def select(program: Program, model: str | None, sets: dict[str, str]) -> Selection:
    """Pick the arch or variant (``model``, else the root file's own) and apply ``--set``."""
    candidates = program.models(program.root)
    if model is None:
        archs = [m for m in candidates if m in program.blocks]
        variants = [m for m in candidates if m in program.variants]
        if len(candidates) == 1:
            model = candidates[0]
        elif len(variants) == 1:  # an arch with its one named configuration: build that
            model = variants[0]
        elif len(archs) == 1:
            model = archs[0]
        elif not candidates:
            raise error(
                "E0501",
                f"`{program.root}` declares no arch or variant",
                Span(program.root, 0, 0),
                help="add an `arch` or a `variant`, or compile the spec that uses these blocks",
            )
        else:
            raise error(
                "E0502",
                f"`{program.root}` declares several models: {', '.join(candidates)}",
                help="choose one with --model NAME",
            )
    elif model not in program.models():
        raise error(
            "E0503",
            f"no arch or variant named `{model}`",
            help=did_you_mean(model, program.models())
            or f"available: {', '.join(program.models())}",
        )
    overrides: dict[str, ast.Expr] = {}
    if model in program.variants:
        decl = program.variants[model].decl
        arch = decl.base
        for kw in decl.kwargs:
            overrides[kw.name] = kw.value
        entry = model
    else:
        arch = model
        entry = model.lower()
    variant_overrides = dict(overrides)
    set_exprs: dict[str, ast.Expr] = {}
    params = {p.name for p in program.blocks[arch].params}
    for key, text in sets.items():
        if key not in params:
            raise error(
                "E0504",
                f"`{arch}` has no parameter `{key}` to set",
                help=did_you_mean(key, params)
                or f"parameters: {', '.join(sorted(params)) or 'none'}",
            )
        overrides[key] = set_exprs[key] = _parse_value(key, text)
        variant_overrides.pop(key, None)
    env = {n: BlockRef(n) for n, b in program.blocks.items() if not b.is_arch}
    values = {k: evaluate(v, env) for k, v in overrides.items()}
    spans = {k: v.span for k, v in overrides.items()}
    selection = Selection(arch, entry, overrides, values, set_exprs)
    selection.spans = spans
    selection.factory_args = variant_overrides
    return selection


def _parse_value(key: str, text: str) -> ast.Expr:
    name = f"--set {key}"
    src = SourceFile.from_text(name, f"variant v = A({key}={text})")
    module = parse(src)
    decl = module.decls[0]
    assert isinstance(decl, ast.VariantDecl)
    return decl.kwargs[0].value


@dataclass
class Result:
    program: Program
    selection: Selection
    model: Model
    lowered: LoweredModel
    source: str | None = None


@rarely()
def analyse(
    path: str | os.PathLike[str],
    model: str | None = None,
    sets: dict[str, str] | None = None,
    name: str | None = None,
) -> Result:
    """Parse, resolve and infer: everything but code generation. ``name`` is the file's name in
    diagnostics and headers (default: the path as given, or its base name if absolute)."""
    program = load_program(path, display_name=name or _display(path))
    try:
        selection = select(program, model, sets or {})
        inferred = infer(program, selection.arch, selection.values, selection.spans)
        lowered = _lower(program, selection, inferred)
    except ArchError as err:
        err = with_independent_errors(err, constant_argument_errors(program))
        err.sources = {**program.sources, **err.sources}
        raise err from None
    return Result(program, selection, inferred, lowered)


def _lower(program: Program, sel: Selection, model: Model) -> LoweredModel:
    factories = {sel.entry: sel.factory_args}
    for name, v in program.variants.items():
        if v.file == program.root and v.decl.base == sel.arch and name != sel.entry:
            factories[name] = {kw.name: kw.value for kw in v.decl.kwargs}
    return lower(
        program,
        model,
        entry=sel.entry,
        spec=program.root,
        title=_title(sel),
        factories=factories,
        defaults=sel.sets,
    )


@rarely()
def compile_spec(
    path: str | os.PathLike[str],
    backend: str,
    model: str | None = None,
    sets: dict[str, str] | None = None,
    name: str | None = None,
) -> Result:
    """Compile a spec file to source text for ``backend`` ("torch" or "keras")."""
    if backend not in BACKENDS:
        raise error(
            "E0505", f"unknown backend `{backend}`", help=f"backends: {', '.join(BACKENDS)}"
        )
    from archdsl.formatting import Formatter

    formatter = Formatter() if backend != "ir" else None
    try:
        result = analyse(path, model, sets, name)
        try:
            result.source = generate(result, backend, formatter)
        except ArchError as err:
            err.sources = {**result.program.sources, **err.sources}
            raise
    finally:
        if formatter is not None:
            formatter.close()
    return result


def generate(result: Result, backend: str, formatter: Formatter | None = None) -> str:
    """The source text of ``backend`` for an analysed spec: the lowered model printed."""
    if backend in ("keras", "ir") and result.lowered.input_size is None:
        # Keras models take an input size; whether other sizes fit is inferred once more
        from archdsl.ir.input_size import input_size

        sel = result.selection
        size = input_size(result.program, sel.arch, sel.values, sel.spans, result.model)
        result.lowered = result.lowered.replace(input_size=size)
    if backend == "ir":
        return to_json(result.lowered) + "\n"
    from archdsl.formatting import format_python

    if backend == "torch":
        from archdsl.backends.torch import print_torch

        text = print_torch(result.lowered)
    else:
        from archdsl.backends.keras import print_keras

        text = print_keras(result.lowered)
    return format_python(text, formatter)


def _title(sel: Selection) -> str:
    if sel.entry != sel.arch.lower():
        return f"`{sel.entry}`: the `{sel.arch}` architecture."
    return f"The `{sel.arch}` architecture."


def _display(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    return os.path.basename(text) if os.path.isabs(text) else os.path.normpath(text)
