"""torchinfo's model summary, computed statically from the inferred model.

torchinfo 1.8 runs the model with hooks: one row per module call in execution order (a module
called again is a "recursive" row), nested by module depth; the totals come from those rows. Here
the same rows come from the instance tree and the forward flows (``archdsl.flows``), in eval mode
as torchinfo runs by default, and every figure follows torchinfo's definitions
(``torchinfo/layer_info.py``, ``model_statistics.py``):

- mult-adds: per leaf call, each layer type's ``macs`` rule (``archdsl/layers``) times the batch;
  a container shows the sum of its leaves at the deepest level shown;
- params: leaves once each (not their repeat calls), plus parameters that no executed leaf holds
  (GoogLeNet's auxiliary heads in eval mode), counted at their containers as torchinfo does;
- forward/backward pass size: the float32 outputs of every leaf call that has parameters, x2;
- params size: the float32 parameters of executed leaves;
- input size: ``sys.getsizeof`` of the input tensor's storage, that is its bytes plus 64.

Nothing here imports a framework or prints; ``archdsl.cli`` renders the result.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from archdsl.errors import error
from archdsl.flows import BlockFlow, block_flow
from archdsl.ir.combinators import COMBINATORS
from archdsl.ir.instantiate import Instance, Model
from archdsl.ir.program import Program
from archdsl.layers.registry import InnerCall, Shape, get_layer
from archdsl.syntax import ast

COLUMNS = (
    "input_size",
    "output_size",
    "num_params",
    "params_percent",
    "kernel_size",
    "mult_adds",
    "trainable",
)
HEADER_TITLES = {
    "kernel_size": "Kernel Shape",
    "input_size": "Input Shape",
    "output_size": "Output Shape",
    "num_params": "Param #",
    "params_percent": "Param %",
    "mult_adds": "Mult-Adds",
    "trainable": "Trainable",
}
ROW_SETTINGS = ("depth", "var_names", "ascii_only")
DEFAULT_COLUMNS = ("output_size", "num_params")  # torchinfo's defaults with an input size
DEFAULT_ROW_SETTINGS = ("depth",)
DEFAULT_DEPTH = 3
FORMATS = ("table", "text", "markdown", "json", "csv")
FLOAT_BYTES = 4  # torchinfo's input is float32, and so are the generated models' parameters
STORAGE_OVERHEAD = 64  # sys.getsizeof(UntypedStorage) - nbytes, with torch 2.x on CPython 3.11
COL_WIDTH = 25
MAX_BATCH = 1_000_000


@dataclass
class Row:
    """One module call, with torchinfo's ``LayerInfo`` fields."""

    path: str
    class_name: str
    var_name: str
    depth: int
    is_leaf: bool
    is_recursive: bool
    input_size: list[int]
    output_size: list[int]
    kernel_size: int | list[int] | None
    num_params: int
    trainable_params: int
    macs: int  # leaves: torchinfo's count; containers: positive when they hold parameters
    output_bytes: int
    depth_index: int = 0
    children: list[Row] = field(default_factory=list, repr=False)  # every row below, in order

    def leftover_params(self) -> int:
        return self.num_params - sum(
            c.num_params if c.is_leaf else c.leftover_params()
            for c in self.children
            if not c.is_recursive
        )

    def leftover_trainable_params(self) -> int:
        return self.trainable_params - sum(
            c.trainable_params if c.is_leaf else c.leftover_trainable_params()
            for c in self.children
            if not c.is_recursive
        )

    # ---- torchinfo's cell texts -------------------------------------------------------
    @property
    def trainable(self) -> str:
        if self.num_params == 0:
            return "--"
        if self.trainable_params == 0:
            return "False"
        return "True" if self.num_params == self.trainable_params else "Partial"

    def shown_macs(self, at_max_depth: bool) -> int | None:
        if self.macs <= 0:
            return None
        if self.is_leaf:
            return self.macs
        if at_max_depth:
            return sum(c.macs for c in self.children if c.is_leaf)
        return None

    def shown_params(self, at_max_depth: bool) -> str:
        if self.num_params == 0:
            return "--"
        if self.is_recursive:
            return "(recursive)"
        if at_max_depth or self.is_leaf:
            text = f"{self.num_params:,}"
            return text if self.trainable_params else f"({text})"
        left = self.leftover_params()
        return f"{left:,}" if left > 0 else "--"

    def params_percent(self, total: int, at_max_depth: bool) -> str:
        zero = "     --"
        if total == 0:
            return zero
        if self.is_recursive:
            return "(recursive)"
        params = self.num_params if at_max_depth or self.is_leaf else self.leftover_params()
        return zero if params == 0 else f"{params / total:>7.2%}"

    def name(self, var_names: bool, depth: bool) -> str:
        text = self.class_name
        if var_names and self.var_name:
            text += f" ({self.var_name})"
        if depth and self.depth > 0:
            text += f": {self.depth}-{self.depth_index}"
        return text


@dataclass
class Totals:
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_bytes: int
    output_bytes: int  # forward/backward pass
    param_bytes: int

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.output_bytes + self.param_bytes

    def megabytes(self) -> dict[str, float]:
        return {
            "input_size": self.input_bytes / 1e6,
            "forward_backward_pass_size": self.output_bytes / 1e6,
            "params_size": self.param_bytes / 1e6,
            "estimated_total_size": self.total_bytes / 1e6,
        }


@dataclass
class Summary:
    """Rows (every module call, all depths) and totals; ``depth``, ``columns`` and
    ``row_settings`` choose what the renderings show, as torchinfo's arguments do."""

    model_name: str
    batch: int
    input_shape: Shape
    rows: list[Row]
    totals: Totals
    depth: int = DEFAULT_DEPTH
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    row_settings: tuple[str, ...] = DEFAULT_ROW_SETTINGS

    def shown(self) -> list[Row]:
        return [r for r in self.rows if r.depth <= self.depth]

    def cells(self, row: Row) -> dict[str, str]:
        """torchinfo's cell texts for ``row`` (every column)."""
        at_max = row.depth == self.depth
        macs = row.shown_macs(at_max)
        return {
            "kernel_size": _str(row.kernel_size),
            "input_size": _str(row.input_size),
            "output_size": _str(row.output_size),
            "num_params": row.shown_params(at_max),
            "params_percent": row.params_percent(self.totals.total_params, at_max),
            "mult_adds": f"{macs:,}" if macs else "--",
            "trainable": row.trainable,
        }

    def layer_name(self, row: Row) -> str:
        return row.name("var_names" in self.row_settings, "depth" in self.row_settings)

    def header_name(self) -> str:
        extra = ""
        if "var_names" in self.row_settings:
            extra += " (var_name)"
        if "depth" in self.row_settings:
            extra += ":depth-idx"
        return f"Layer (type{extra})"

    def tree_prefix(self, depth: int) -> str:
        ascii_only = "ascii_only" in self.row_settings
        if depth == 0:
            return ""
        if depth == 1:
            return "+ " if ascii_only else "├─"
        return ("|    " if ascii_only else "│    ") * (depth - 1) + ("+ " if ascii_only else "└─")

    def totals_lines(self) -> list[str]:
        """torchinfo's totals block, line for line."""
        t = self.totals
        mb = t.megabytes()
        return [
            f"Total params{_num(t.total_params, none=True)}",
            f"Trainable params{_num(t.trainable_params, none=True)}",
            f"Non-trainable params{_num(t.non_trainable_params, none=True)}",
            f"Total mult-adds{_num(t.total_mult_adds)}",
            f"Input size (MB): {mb['input_size']:0.2f}",
            f"Forward/backward pass size (MB): {mb['forward_backward_pass_size']:0.2f}",
            f"Params size (MB): {mb['params_size']:0.2f}",
            f"Estimated Total Size (MB): {mb['estimated_total_size']:0.2f}",
        ]

    # ---- renderings -------------------------------------------------------------------
    def text(self) -> str:
        """The text ``str(torchinfo.summary(...))`` gives for the same settings."""
        var_names = "var_names" in self.row_settings
        depth = "depth" in self.row_settings
        width = 40
        longest = max(
            (len(r.name(var_names, depth)) + r.depth * 5 + 1 for r in self.rows), default=0
        )
        if longest >= width:
            width = math.ceil(longest / 5) * 5
        total_width = len(self.columns) * COL_WIDTH + width

        def line(name: str, values: dict[str, str]) -> str:
            out = f"{name:<{width}} "
            for col in self.columns:
                out += f"{values.get(col, ''):<{COL_WIDTH}} "
            return out.rstrip() + "\n"

        divider = "=" * total_width
        body = "".join(
            line(self.tree_prefix(r.depth) + self.layer_name(r), self.cells(r))
            for r in self.shown()
        )
        totals = self.totals_lines()
        return (
            f"{divider}\n{line(self.header_name(), HEADER_TITLES)}{divider}\n{body}{divider}\n"
            + "\n".join(totals[:4])
            + f"\n{divider}\n"
            + "\n".join(totals[4:])
            + f"\n{divider}"
        )

    def table_rows(self) -> list[list[str]]:
        """Header and rows as cell texts (tree prefixes included), for tables."""
        out = [[self.header_name(), *(HEADER_TITLES[c] for c in self.columns)]]
        for r in self.shown():
            cells = self.cells(r)
            out.append(
                [self.tree_prefix(r.depth) + self.layer_name(r), *(cells[c] for c in self.columns)]
            )
        return out

    def markdown(self) -> str:
        rows = self.table_rows()
        lines = ["| " + " | ".join(_md(c) for c in rows[0]) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * len(self.columns)) + "|")
        for r in rows[1:]:
            lines.append("| " + " | ".join(_md(c) for c in r) + " |")
        lines.append("")
        lines.extend(f"- {t}" for t in self.totals_lines())
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["path", "layer", "depth", *self.columns])
        for r in self.shown():
            cells = self.cells(r)
            writer.writerow(
                [r.path, self.layer_name(r), r.depth, *(cells[c] for c in self.columns)]
            )
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.shown():
            at_max = r.depth == self.depth
            rows.append(
                {
                    "path": r.path,
                    "type": r.class_name,
                    "var_name": r.var_name,
                    "depth": r.depth,
                    "depth_index": r.depth_index,
                    "leaf": r.is_leaf,
                    "recursive": r.is_recursive,
                    "input_size": r.input_size,
                    "output_size": r.output_size,
                    "kernel_size": r.kernel_size,
                    "num_params": r.num_params,
                    "trainable_params": r.trainable_params,
                    "mult_adds": r.shown_macs(at_max) or 0,
                    "cells": {c: self.cells(r)[c] for c in self.columns},
                }
            )
        t = self.totals
        return {
            "model": self.model_name,
            "batch": self.batch,
            "input_shape": list(self.input_shape),
            "depth": self.depth,
            "columns": list(self.columns),
            "rows": rows,
            "totals": {
                "total_params": t.total_params,
                "trainable_params": t.trainable_params,
                "non_trainable_params": t.non_trainable_params,
                "total_mult_adds": t.total_mult_adds,
                "input_bytes": t.input_bytes,
                "forward_backward_pass_bytes": t.output_bytes,
                "params_bytes": t.param_bytes,
                "estimated_total_bytes": t.total_bytes,
                "megabytes": {k: round(v, 2) for k, v in t.megabytes().items()},
            },
        }

    def json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def rich_table(self) -> Any:
        """A ``rich.table.Table`` of the rows, with the totals as its caption."""
        from rich import box
        from rich.table import Table

        rows = self.table_rows()
        table = Table(
            title=f"{self.model_name}, batch {self.batch}",
            box=box.SIMPLE_HEAVY,
            caption="\n".join(self.totals_lines()),
            caption_justify="left",
        )
        table.add_column(rows[0][0], no_wrap=True)
        for title in rows[0][1:]:
            table.add_column(title, justify="right", no_wrap=True)
        for r in rows[1:]:
            table.add_row(*r)
        return table

    def render(self, fmt: str) -> str:
        if fmt == "text":
            return self.text() + "\n"
        if fmt == "markdown":
            return self.markdown()
        if fmt == "json":
            return self.json()
        if fmt == "csv":
            return self.csv()
        if fmt == "table":
            from rich.console import Console

            console = Console(file=io.StringIO(), width=1000, color_system=None)
            console.print(self.rich_table())
            out = console.file.getvalue()
            assert isinstance(out, str)
            return out
        raise error("E0520", f"unknown summary format `{fmt}`", help=f"formats: {_list(FORMATS)}")

    def html(self) -> str:
        """An HTML table (notebooks' ``_repr_html_``)."""
        from html import escape

        rows = self.table_rows()
        head = "".join(f"<th>{escape(c)}</th>" for c in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:]
        )
        totals = "<br>".join(escape(t) for t in self.totals_lines())
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p style='font-family: monospace'>{totals}</p>"
        )


def summarize(
    program: Program,
    model: Model,
    batch: int = 1,
    depth: int = DEFAULT_DEPTH,
    columns: tuple[str, ...] | list[str] | None = None,
    row_settings: tuple[str, ...] | list[str] | None = None,
) -> Summary:
    """The summary of ``model`` (inferred from ``program``) for a batch of ``batch``."""
    cols = tuple(DEFAULT_COLUMNS if columns is None else columns)
    settings = tuple(DEFAULT_ROW_SETTINGS if row_settings is None else row_settings)
    check_options(batch, depth, cols, settings)
    rows = _Tracer(program, batch).run(model)
    counters: dict[int, int] = {}
    for i, row in enumerate(rows):
        counters[row.depth] = counters.get(row.depth, 0) + 1
        row.depth_index = counters[row.depth]
        end = i + 1
        while end < len(rows) and rows[end].depth > row.depth:
            end += 1
        row.children = rows[i + 1 : end]
    return Summary(
        model.arch,
        batch,
        model.input_shape,
        rows,
        _totals(rows, model, batch),
        depth,
        cols,
        settings,
    )


def check_options(
    batch: int, depth: int, columns: tuple[str, ...], row_settings: tuple[str, ...]
) -> None:
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise error(
            "E0521", f"batch size must be an integer from 1 to {MAX_BATCH:,}, got {batch!r}"
        )
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise error("E0522", f"depth must be a non-negative integer, got {depth!r}")
    for col in columns:
        if col not in COLUMNS:
            raise error("E0523", f"unknown column `{col}`", help=f"columns: {_list(COLUMNS)}")
    for setting in row_settings:
        if setting not in ROW_SETTINGS:
            raise error(
                "E0524", f"unknown row setting `{setting}`", help=f"settings: {_list(ROW_SETTINGS)}"
            )


def _totals(rows: list[Row], model: Model, batch: int) -> Totals:
    total = trainable = macs = out_bytes = param_bytes = 0
    for r in rows:
        if r.is_leaf:
            macs += r.macs
            if r.num_params > 0:
                out_bytes += 2 * r.output_bytes  # x2 for gradients
            if r.is_recursive:
                continue
            total += r.num_params
            trainable += r.trainable_params
            param_bytes += FLOAT_BYTES * r.num_params
        elif not r.is_recursive:
            total += max(r.leftover_params(), 0)
            trainable += max(r.leftover_trainable_params(), 0)
    input_bytes = FLOAT_BYTES * batch * math.prod(model.input_shape) + STORAGE_OVERHEAD
    return Totals(total, trainable, macs, input_bytes, out_bytes, param_bytes)


class _Tracer:
    """Module calls in the order the generated torch model makes them in eval mode."""

    def __init__(self, program: Program, batch: int) -> None:
        self.program = program
        self.batch = batch
        self.rows: list[Row] = []
        self.called: set[int] = set()
        self.uses: dict[int, int] = {}

    def run(self, model: Model) -> list[Row]:
        self.call(model.root, model.arch, 0)
        return self.rows

    def call(self, inst: Instance, var_name: str, depth: int) -> None:
        if inst.kind == "tensor":  # a parameter of its block, which torchinfo counts there
            return
        use = self.uses.get(id(inst), 0)
        self.uses[id(inst)] = use + 1
        use = min(use, len(inst.in_shapes) - 1)
        in_shape, out_shape = inst.in_shapes[use], inst.out_shapes[use]
        recursive = id(inst) in self.called
        self.called.add(id(inst))
        b = self.batch
        params = inst.totals()[0]
        layer = get_layer(inst.type) if inst.kind == "layer" else None
        if layer is not None:
            class_name = layer.torch_class
            leaf = layer.torch_leaf
            macs = layer.macs(inst.args, in_shape, out_shape) * b if layer.macs else 0
            kernel = layer.kernel_size(inst.args) if layer.kernel_size else None
        else:
            class_name = "Sequential" if inst.kind == "sequential" else inst.type
            leaf = not inst.children
            macs = 1 if params > 0 else 0
            kernel = None
        self.rows.append(
            Row(
                path=inst.path,
                class_name=class_name,
                var_name=var_name,
                depth=depth,
                is_leaf=leaf,
                is_recursive=recursive,
                input_size=[b, *in_shape],
                output_size=[b, *out_shape],
                kernel_size=kernel,
                num_params=params,
                trainable_params=params,
                macs=macs,
                output_bytes=FLOAT_BYTES * b * math.prod(out_shape),
            )
        )
        if layer is not None and layer.inner_calls is not None:
            self.inner(inst, layer.inner_calls(inst.args, in_shape), depth)
        if inst.kind == "sequential":
            for name, child in inst.children.items():
                self.call(child, name, depth + 1)
        elif inst.kind == "block":
            flow = block_flow(self.program, inst)
            if flow.flow is None:
                for name, child in inst.children.items():
                    self.call(child, name, depth + 1)
            else:
                self.walk(flow.flow, flow, depth + 1)

    def inner(self, inst: Instance, calls: tuple[InnerCall, ...], depth: int) -> None:
        """The rows of the modules a layer calls on tensors of their own (not the batch's)."""
        paths = [inst.path]
        for c in calls:
            del paths[c.depth :]
            paths.append(f"{paths[-1]}.{c.name}")
            batch = [self.batch] if c.batched else []
            output = [*batch, *c.output_size]
            self.rows.append(
                Row(
                    path=paths[-1],
                    class_name=c.torch_class,
                    var_name=c.name,
                    depth=depth + c.depth,
                    is_leaf=c.leaf,
                    is_recursive=False,
                    input_size=[*batch, *c.input_size],
                    output_size=output,
                    kernel_size=None,
                    num_params=c.params,
                    trainable_params=c.params,
                    # torchinfo: each parameter once per sample of the output's first dimension
                    macs=output[0] * c.params if c.leaf else int(c.params > 0),
                    output_bytes=FLOAT_BYTES * math.prod(output),
                )
            )

    def walk(self, e: ast.Expr, flow: BlockFlow, depth: int) -> None:
        if isinstance(e, ast.Pipe):
            for stage in e.stages:
                self.walk(stage, flow, depth)
        elif isinstance(e, ast.Name):
            for child in flow.members(e.id):
                self.call(child, _last(child.path), depth)
        elif isinstance(e, ast.IfExp):
            self.walk(e.then if flow.condition(e.cond) else e.orelse, flow, depth)
        elif isinstance(e, ast.Call):
            if e.func == "aux":  # training mode only
                return
            combinator = COMBINATORS.get(e.func)
            if combinator is not None:
                for arg in e.args:
                    self.walk(arg, flow, depth)
                for kw in e.kwargs:
                    if kw.name in combinator.flow_keywords:
                        self.walk(kw.value, flow, depth)
            # any other call is an inline layer: a function, not a module, in torch


def _last(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _str(value: Any) -> str:
    return str(value) if value else "--"


def _num(n: int, none: bool = False) -> str:
    """torchinfo's ``format_output_num``: parameters without units, mult-adds in M, G or T."""
    if none:
        return f": {n:,}"
    if n >= 1e12:
        unit, value = "T", n / 1e12
    elif n >= 1e9:
        unit, value = "G", n / 1e9
    else:
        unit, value = "M", n / 1e6
    if value.is_integer():
        return f" ({unit}): {int(value):,}"
    return f" ({unit}): {value:,.2f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(items)
