"""Block diagrams of an inferred model, as Graphviz DOT, from archdsl's own data.

The nodes are the module instances at the chosen depth (``depth=1``: the arch's members, ResNet's
stages; a large depth: every layer); instances above that depth become clusters around their
members. The edges follow the forward flows of the syntax tree (``archdsl.flows``) as the torch
model runs them in eval mode, each labelled with the shape it carries (batch excluded): residual
and ``add`` branches meet at a "+" node, ``concat`` branches at a "concat" node, ``multiply`` at a
"x" node fed by both the input and the branch, so skips and branches are visible edges.
Auxiliary heads hang off the flow on dashed edges. Rendering to SVG or PNG runs Graphviz's
``dot`` program; DOT text needs nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from archdsl.errors import error
from archdsl.flows import BlockFlow, block_flow
from archdsl.ir.combinators import COMBINATORS
from archdsl.ir.evaluate import evaluate
from archdsl.ir.instantiate import Instance, Model
from archdsl.ir.program import Program
from archdsl.layers.registry import Shape, get_layer
from archdsl.syntax import ast

FORMATS = ("dot", "svg", "png")
INSTALL_HELP = (
    "install Graphviz, which provides `dot`: `apt-get install graphviz` (Debian, Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`; or write a `.dot` file, "
    "which needs no Graphviz"
)
_JOIN = {"residual": "+", "add": "+", "concat": "concat", "chunk": "concat", "multiply": "×"}


@dataclass
class Node:
    id: str
    label: str
    kind: str  # "module", "op", "join", "input", "output"
    path: str = ""  # the instance path, for module nodes
    cluster: str = ""  # the innermost cluster's instance path ("" for the top level)


@dataclass
class Edge:
    src: str
    dst: str
    shape: Shape
    kind: str = "flow"  # "flow", "skip" (a branch that joins later), "aux"


@dataclass
class Graph:
    name: str
    depth: int
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)  # path -> label, outermost first
    parents: dict[str, str] = field(default_factory=dict)  # cluster path -> enclosing cluster

    def dot(self) -> str:
        """The graph as DOT text (deterministic)."""
        lines = [
            f"digraph {_quote(self.name)} {{",
            "  rankdir=TB;",
            '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica",'
            " fontsize=10];",
            '  edge [fontname="Helvetica", fontsize=8];',
        ]
        by_cluster: dict[str, list[Node]] = {}
        for node in self.nodes:
            by_cluster.setdefault(node.cluster, []).append(node)
        children: dict[str, list[str]] = {}
        for path in self.clusters:
            children.setdefault(self.parents.get(path, ""), []).append(path)

        def emit(cluster: str, indent: str) -> None:
            for node in by_cluster.get(cluster, []):
                lines.append(f"{indent}{_quote(node.id)} [{_node_attrs(node)}];")
            for sub in children.get(cluster, []):
                lines.append(f"{indent}subgraph {_quote('cluster_' + sub)} {{")
                lines.append(f'{indent}  label={_quote(self.clusters[sub])}; style="rounded";')
                emit(sub, indent + "  ")
                lines.append(f"{indent}}}")

        emit("", "  ")
        for e in self.edges:
            attrs = [f"label={_quote(shape_label(e.shape))}"]
            if e.kind == "skip":
                attrs.append('color="#c0392b"')
            elif e.kind == "aux":
                attrs.append("style=dashed")
            lines.append(f"  {_quote(e.src)} -> {_quote(e.dst)} [{', '.join(attrs)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def build_graph(program: Program, model: Model, depth: int = 1) -> Graph:
    """The diagram of ``model`` with modules down to ``depth`` as nodes."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise error("E0530", f"graph depth must be a non-negative integer, got {depth!r}")
    return _Builder(program, model, depth).run()


def render(dot: str, fmt: str) -> bytes:
    """Run Graphviz's ``dot`` on ``dot`` text; ``fmt`` is "svg" or "png"."""
    if fmt not in ("svg", "png"):
        raise error(
            "E0531", f"cannot render a graph as `{fmt}`", help=f"formats: {', '.join(FORMATS)}"
        )
    exe = shutil.which("dot")
    if exe is None:
        raise error("E0532", "Graphviz's `dot` program is not installed", help=INSTALL_HELP)
    proc = subprocess.run(
        [exe, f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, timeout=300
    )
    if proc.returncode != 0:
        raise error(
            "E0533",
            f"Graphviz's `dot` failed with exit code {proc.returncode}",
            notes=(proc.stderr.decode("utf-8", "replace").strip()[-2000:],),
        )
    return proc.stdout


def shape_label(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


class _Builder:
    def __init__(self, program: Program, model: Model, depth: int) -> None:
        self.program = program
        self.model = model
        self.depth = depth
        self.graph = Graph(model.arch, depth)
        self.uses: dict[int, int] = {}
        self.ids: set[str] = set()
        self.cluster = ""

    def run(self) -> Graph:
        m = self.model
        src = self.node("input", f"input\n{shape_label(m.input_shape)}", "input")
        end = self.instance(m.root, (src, m.input_shape), 0)
        out = self.node("output", "output", "output")
        self.edge(end, out)
        return self.graph

    # ---- nodes and edges ------------------------------------------------------------
    def node(self, base: str, label: str, kind: str, path: str = "") -> str:
        nid, n = base, 1
        while nid in self.ids:
            n += 1
            nid = f"{base}#{n}"
        self.ids.add(nid)
        self.graph.nodes.append(Node(nid, label, kind, path, self.cluster))
        return nid

    def edge(self, src: tuple[str, Shape], dst: str, kind: str = "flow") -> None:
        self.graph.edges.append(Edge(src[0], dst, src[1], kind))

    # ---- instances ----------------------------------------------------------------------
    def instance(self, inst: Instance, src: tuple[str, Shape], level: int) -> tuple[str, Shape]:
        use = self.uses.get(id(inst), 0)
        self.uses[id(inst)] = use + 1
        out_shape = inst.out_shapes[min(use, len(inst.out_shapes) - 1)]
        if level > 0 and (level >= self.depth or not inst.children):
            nid = self.node(inst.path, _label(inst), "module", inst.path)
            self.edge(src, nid)
            return nid, out_shape
        outer = self.cluster
        if level > 0:
            self.graph.clusters[inst.path] = f"{inst.path} ({_type(inst)})"
            self.graph.parents[inst.path] = outer
            self.cluster = inst.path
        cur = src
        if inst.kind == "sequential":
            for child in inst.children.values():
                cur = self.instance(child, cur, level + 1)
        else:
            flow = block_flow(self.program, inst)
            if flow.flow is None:
                for child in inst.children.values():
                    cur = self.instance(child, cur, level + 1)
            else:
                cur = self.walk(flow.flow, cur, flow, level + 1)
        self.cluster = outer
        return cur

    def walk(
        self, e: ast.Expr, src: tuple[str, Shape], flow: BlockFlow, level: int
    ) -> tuple[str, Shape]:
        if isinstance(e, ast.Pipe):
            for stage in e.stages:
                src = self.walk(stage, src, flow, level)
            return src
        if isinstance(e, ast.Name):
            for child in flow.members(e.id):
                src = self.instance(child, src, level)
            return src
        if isinstance(e, ast.IfExp):
            return self.walk(e.then if flow.condition(e.cond) else e.orelse, src, flow, level)
        assert isinstance(e, ast.Call)
        if e.func == "aux":
            n_edges = len(self.graph.edges)
            end = self.walk(e.args[0], src, flow, level)
            if len(self.graph.edges) > n_edges:
                self.graph.edges[n_edges].kind = "aux"
            out = self.node("aux", "auxiliary output", "output")
            self.edge(end, out, "aux")
            return src
        if e.func in _JOIN:
            ends: list[tuple[str, Shape]] = []
            if e.func == "multiply":
                ends.append(src)
            start = src
            combinator = COMBINATORS[e.func]
            if combinator.splits:  # a split node; each branch reads one part
                part = self.node(f"{flow.inst.path or 'model'}.split", e.func, "op")
                self.edge(src, part)
                dim = next((k.value for k in e.kwargs if k.name == "dim"), None)
                axis = (evaluate(dim, flow.env()) if dim is not None else 1) - 1
                shape = list(src[1])
                shape[axis] //= len(e.args)
                start = (part, tuple(shape))
            for arg in e.args:
                ends.append(self.walk(arg, start, flow, level))
            shortcut = next((k.value for k in e.kwargs if k.name == "shortcut"), None)
            if e.func == "residual":
                ends.append(self.walk(shortcut, src, flow, level) if shortcut else src)
            join = self.node(f"{flow.inst.path or 'model'}.{e.func}", _JOIN[e.func], "join")
            for i, end in enumerate(ends):
                skip = end[0] == start[0] or (e.func == "residual" and i == len(ends) - 1)
                self.edge(end, join, "skip" if skip else "flow")
            return join, _join_shape(e, [s for _, s in ends], flow)
        if e.func == "identity":
            return src
        if e.func in ("head", "feature"):  # a head or a stage mark: its steps, as the others
            return self.walk(e.args[0], src, flow, level)
        layer = get_layer(e.func)
        assert layer is not None
        args = _bind(layer, e, flow)
        out = layer.shape(args, src[1])
        nid = self.node(f"{flow.inst.path or 'model'}.{e.func}", e.func, "op")
        self.edge(src, nid)
        return nid, out


def _bind(layer: Any, call: ast.Call, flow: BlockFlow) -> Any:
    from archdsl.ir.evaluate import evaluate

    fields = list(layer.schema._fields)
    values: dict[str, Any] = {}
    env = flow.env()
    for name, arg in zip(fields, call.args, strict=False):
        values[name] = evaluate(arg, env)
    for kw in call.kwargs:
        values[kw.name] = evaluate(kw.value, env)
    return layer.schema(**values)


def _join_shape(call: ast.Call, shapes: list[Shape], flow: BlockFlow) -> Shape:
    if COMBINATORS[call.func].joins:
        dim = next((k.value for k in call.kwargs if k.name == "dim"), None)
        axis = (evaluate(dim, flow.env()) if dim is not None else 1) - 1
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return tuple(out)
    return shapes[0]


def _type(inst: Instance) -> str:
    if inst.kind == "layer":
        layer = get_layer(inst.type)
        return layer.torch_class if layer is not None else inst.type
    return "Sequential" if inst.kind == "sequential" else inst.type


def _label(inst: Instance) -> str:
    params = inst.totals()[0]
    text = f"{inst.path}\n{_type(inst)}"
    return text + (f"\n{params:,} params" if params else "")


def _node_attrs(node: Node) -> str:
    attrs = [f"label={_quote(node.label)}"]
    if node.kind == "join":
        attrs.append('shape=circle, fillcolor="#fdebd0"' if len(node.label) == 1 else "")
        if len(node.label) > 1:
            attrs[-1] = 'shape=box, fillcolor="#fdebd0"'
    elif node.kind == "op":
        attrs.append('shape=ellipse, fillcolor="#f4f6f6"')
    elif node.kind in ("input", "output"):
        attrs.append('shape=oval, fillcolor="#d5f5e3"')
    return ", ".join(attrs)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
