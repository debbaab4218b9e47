"""`archdsl graph`: the DOT structure follows the inferred model, and Graphviz renders it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from archdsl.cli import cli
from archdsl.compiler import Result, analyse
from archdsl.graph import Graph, build_graph, render, shape_label
from tests.helpers import ROOT, SPECS

SPECS_DRAWN = ["resnet50", "mobilenet_v2", "googlenet", "densenet121"]
STAGE, LAYER = 1, 99


def _result(spec: str) -> Result:
    return analyse(SPECS / f"{spec}.arch")


def _incoming(graph: Graph, node: str) -> list[str]:
    return [e.src for e in graph.edges if e.dst == node]


def _joins(graph: Graph, label: str) -> list[str]:
    return [n.id for n in graph.nodes if n.kind == "join" and n.label == label]


@pytest.mark.parametrize("spec", SPECS_DRAWN)
def test_stage_level_nodes_are_the_arch_members(spec: str) -> None:
    result = _result(spec)
    graph = build_graph(result.program, result.model, STAGE)
    drawn = {n.path for n in graph.nodes if n.kind == "module"}
    assert drawn == set(result.model.root.children)
    assert not graph.clusters
    # one chain from input to output, every edge labelled with its shape
    dot = graph.dot()
    assert dot.count(" -> ") == len(graph.edges)
    assert all(e.shape for e in graph.edges)
    assert [e for e in graph.edges if e.dst == "output"][0].shape == result.model.output_shape


@pytest.mark.parametrize("spec", SPECS_DRAWN)
def test_layer_level_nodes_are_the_layers_with_their_shapes(spec: str) -> None:
    result = _result(spec)
    graph = build_graph(result.program, result.model, LAYER)
    instances = result.model.instances()
    leaves = {p for p, i in instances.items() if not i.children}
    drawn = [n for n in graph.nodes if n.kind == "module"]
    assert {n.path for n in drawn} == leaves
    uses = Counter(n.path for n in drawn)
    assert all(uses[p] == len(instances[p].out_shapes) for p in leaves)
    clusters = {p for p, i in instances.items() if i.children}
    assert set(graph.clusters) == clusters
    seen: Counter[str] = Counter()
    for node in drawn:
        out = [e for e in graph.edges if e.src == node.id]
        assert out, node.id
        k = seen[node.path]
        seen[node.path] += 1
        assert out[0].shape == instances[node.path].out_shapes[k], node.id
        assert f'label="{shape_label(out[0].shape)}"' in graph.dot()


def test_resnet50_residuals_are_edges() -> None:
    result = _result("resnet50")
    bottlenecks = result.model.block_instances["Bottleneck"]
    for depth in (3, LAYER):
        graph = build_graph(result.program, result.model, depth)
        joins = _joins(graph, "+")
        assert len(joins) == len(bottlenecks)
        for j in joins:
            edges = [e for e in graph.edges if e.dst == j]
            assert len(edges) == 2
            assert [e.kind for e in edges] == ["flow", "skip"]
            assert edges[0].shape == edges[1].shape
        # the first block's shortcut runs through its downsample projection
        first = [e for e in graph.edges if e.dst == "layer1.0.residual"]
        assert first[1].src.startswith("layer1.0.downsample")


def test_mobilenet_v2_residuals_where_shapes_allow() -> None:
    result = _result("mobilenet_v2")
    blocks = result.model.block_instances["InvertedResidual"]
    expected = sum(1 for b in blocks if b.in_shapes[0] == b.out_shapes[0])
    graph = build_graph(result.program, result.model, 3)  # blocks as clusters
    assert 0 < expected < len(blocks)
    assert len(_joins(graph, "+")) == expected


def test_googlenet_concatenates_four_branches() -> None:
    result = _result("googlenet")
    inceptions = result.model.block_instances["Inception"]
    graph = build_graph(result.program, result.model, 2)
    joins = _joins(graph, "concat")
    assert len(joins) == len(inceptions)
    for j, inst in zip(joins, inceptions, strict=True):
        edges = [e for e in graph.edges if e.dst == j]
        assert len(edges) == 4
        assert sum(e.shape[0] for e in edges) == inst.out_shapes[0][0]
        assert [e.shape for e in graph.edges if e.src == j][0] == inst.out_shapes[0]
    # auxiliary heads hang off the flow on dashed edges
    assert sum(1 for e in graph.edges if e.kind == "aux") == 2 * len(result.model.aux_shapes)


def test_densenet121_concat_keeps_the_input() -> None:
    result = _result("densenet121")
    layers = [i for name, ii in result.model.block_instances.items() for i in ii if "Layer" in name]
    graph = build_graph(result.program, result.model, LAYER)
    joins = _joins(graph, "concat")
    assert len(joins) == len(layers) > 0
    for j in joins:
        edges = [e for e in graph.edges if e.dst == j]
        assert [e.kind for e in edges] == ["skip", "flow"]


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@needs_dot
@pytest.mark.parametrize("depth", [STAGE, LAYER])
@pytest.mark.parametrize("spec", SPECS_DRAWN)
def test_svg_renders(spec: str, depth: int, tmp_path: Path) -> None:
    out = tmp_path / f"{spec}.svg"
    run = CliRunner().invoke(
        cli, ["graph", str(SPECS / f"{spec}.arch"), "-o", str(out), "--depth", str(depth)]
    )
    assert run.exit_code == 0, run.output
    root = ET.fromstring(out.read_bytes())
    assert root.tag.endswith("svg")
    assert root.findall(".//{http://www.w3.org/2000/svg}g")


@needs_dot
def test_png_renders() -> None:
    result = _result("resnet50")
    data = render(build_graph(result.program, result.model, STAGE).dot(), "png")
    assert data.startswith(b"\x89PNG")


def test_missing_dot_is_a_usage_error_and_dot_files_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    spec = str(SPECS / "resnet50.arch")
    run = CliRunner().invoke(cli, ["graph", spec, "-o", str(tmp_path / "g.svg")])
    assert run.exit_code == 2
    assert "E0532" in run.stderr and "apt-get install graphviz" in run.stderr
    assert not (tmp_path / "g.svg").exists()
    run = CliRunner().invoke(cli, ["graph", spec, "-o", str(tmp_path / "g.dot")])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "g.dot").read_text().startswith('digraph "ResNet" {')


def test_bad_output_suffix_and_depth() -> None:
    spec = str(SPECS / "resnet50.arch")
    run = CliRunner().invoke(cli, ["graph", spec, "-o", "g.pdf"])
    assert run.exit_code == 2
    assert ".svg, .png or .dot" in run.stderr
    run = CliRunner().invoke(cli, ["graph", spec, "-o", "g.dot", "--depth", "-1"])
    assert run.exit_code == 2
    assert "E0530" in run.stderr


def test_dot_is_deterministic_and_needs_no_framework() -> None:
    code = (
        "import sys\n"
        "from archdsl.compiler import analyse\n"
        "from archdsl.graph import build_graph\n"
        "r = analyse('specs/googlenet.arch')\n"
        "sys.stdout.write(build_graph(r.program, r.model, 3).dot())\n"
        "frameworks = {'torch', 'tensorflow', 'keras', 'jax', 'numpy'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in frameworks))\n"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert outs[0] == outs[1]
    assert outs[0].rstrip().endswith("[]")
