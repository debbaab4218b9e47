"""The Python API for notebooks and scripts: ``archdsl.load(...)`` returns a ``Spec``.

A ``Spec`` is a spec file (or text) with a chosen model and parameter overrides. Shapes, counts,
the summary and the diagram come from inference alone; ``.torch()`` and ``.keras()`` generate the
code and build the live model in one call, importing torch before tensorflow so that both can live
in one process. A ``Spec`` pickles (it keeps the text and the overrides, and infers again when
needed); the models it builds pickle as far as their framework allows: the generated torch
classes are registered as modules, so ``pickle`` finds them in the same process.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from archdsl.compiler import Result, analyse, generate
from archdsl.graph import Graph, build_graph
from archdsl.layers.registry import Shape
from archdsl.summary import DEFAULT_DEPTH, Summary, summarize

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load(source: str | os.PathLike[str], model: str | None = None, **overrides: Any) -> Spec:
    """A spec from a file path or from spec text; ``model`` picks an arch or variant and
    ``overrides`` set model parameters (``num_classes=10``, ``block="BasicBlock"``)."""
    if isinstance(source, os.PathLike) or (
        "\n" not in source and "{" not in source and source.strip().endswith(".arch")
    ):
        path = Path(source)
        return Spec(path=str(path), text=None, model=model, overrides=dict(overrides))
    return Spec(path=None, text=str(source), model=model, overrides=dict(overrides))


class Spec:
    """One model of a spec with its parameter values."""

    def __init__(
        self, path: str | None, text: str | None, model: str | None, overrides: dict[str, Any]
    ) -> None:
        self.path = path
        self.text = text
        self.model = model
        self.overrides = overrides
        self._result: Result | None = None

    # ---- pickling: the analysis is derived data ----------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_result"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._result = None

    def __repr__(self) -> str:
        where = self.path if self.path is not None else "<text>"
        r = self.result
        return (
            f"<archdsl.Spec {r.selection.entry} from {where}: "
            f"{list(r.model.input_shape)} -> {list(r.model.output_shape)}, "
            f"{r.model.trainable:,} parameters>"
        )

    # ---- analysis ---------------------------------------------------------------------
    @property
    def result(self) -> Result:
        """The compiler's analysis (program, selection, inferred model)."""
        if self._result is None:
            self._result = self._analyse()
        return self._result

    def _analyse(self) -> Result:
        if self.text is None:
            assert self.path is not None
            return analyse(self.path, self.model, self._sets(Path(self.path)))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "spec.arch"
            path.write_text(self.text, encoding="utf-8")
            return analyse(path, self.model, self._sets(path), name="<spec>")

    def _sets(self, path: Path) -> dict[str, str]:
        if not self.overrides:
            return {}
        from archdsl.ir.program import load_program

        blocks = set(load_program(path, display_name="<spec>").blocks)
        return {k: _spec_value(v, blocks) for k, v in self.overrides.items()}

    @property
    def name(self) -> str:
        """The factory function's name (the variant's, or the arch's in lower case)."""
        return self.result.selection.entry

    @property
    def input_shape(self) -> Shape:
        return self.result.model.input_shape

    @property
    def output_shape(self) -> Shape:
        return self.result.model.output_shape

    @property
    def shapes(self) -> dict[str, list[Shape]]:
        """Every module's output shapes (one per use), by module path."""
        return {p: list(i.out_shapes) for p, i in self.result.model.instances().items()}

    @property
    def params(self) -> int:
        """Trainable parameters."""
        return self.result.model.trainable

    @property
    def stats(self) -> int:
        """Batch-norm statistics (running means and variances)."""
        return self.result.model.stats

    def summary(
        self,
        batch: int = 1,
        depth: int = DEFAULT_DEPTH,
        columns: list[str] | tuple[str, ...] | None = None,
        row_settings: list[str] | tuple[str, ...] | None = None,
    ) -> Summary:
        """torchinfo's summary, computed statically (see ``archdsl.summary``)."""
        r = self.result
        return summarize(r.program, r.model, batch, depth, columns, row_settings)

    def graph(self, depth: int = 1) -> Graph:
        """The block diagram; ``.dot()`` gives DOT text."""
        return build_graph(self.result.program, self.result.model, depth)

    def _repr_html_(self) -> str:
        return self.summary(columns=["input_size", "output_size", "num_params", "mult_adds"]).html()

    # ---- code and live models ------------------------------------------------------------
    def source(self, backend: str = "torch") -> str:
        """The generated module's source, as ``archdsl compile --backend BACKEND`` writes it."""
        if backend not in ("torch", "keras"):
            from archdsl.errors import error

            raise error("E0505", f"unknown backend `{backend}`", help="backends: torch, keras")
        return generate(self.result, backend)

    def module(self, backend: str = "torch") -> types.ModuleType:
        """The generated module, imported (registered in ``sys.modules``, so that pickle finds
        its classes)."""
        if backend == "torch":
            import torch  # noqa: F401  (before tensorflow)
        else:
            _import_keras()
        text = self.source(backend)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        name = f"archdsl_generated_{self.name}_{backend}_{digest}"
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__file__ = f"<archdsl {name}>"
            sys.modules[name] = module
            exec(compile(text, module.__file__, "exec"), module.__dict__)
        return sys.modules[name]

    def torch(self, **kwargs: Any) -> Any:
        """A live ``torch.nn.Module``; ``kwargs`` go to the generated factory."""
        return getattr(self.module("torch"), self.name)(**kwargs)

    def keras(self, **kwargs: Any) -> Any:
        """A live ``keras.Model``; ``kwargs`` go to the generated factory."""
        return getattr(self.module("keras"), self.name)(**kwargs)


def _import_keras() -> None:
    try:  # torch and torchvision first: the other order crashes some torch builds
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError:
        pass
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras  # noqa: F401


def _spec_value(value: Any, blocks: set[str]) -> str:
    """A Python value as spec expression text, for ``--set``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_spec_value(v, blocks) for v in value) + "]"
    if isinstance(value, str):
        if value in blocks and _IDENT.fullmatch(value):
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    from archdsl.errors import error

    raise error(
        "E0525",
        f"cannot pass a {type(value).__name__} as a spec parameter: {value!r}",
        help="parameters take bools, numbers, strings, block names and lists of them",
    )
