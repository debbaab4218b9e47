"""The README's first lines are the quick start, and its architecture table is true."""

from __future__ import annotations

import re

from archdsl.compiler import analyse
from tests.helpers import ROOT, SPECS, all_specs

README = (ROOT / "README.md").read_text(encoding="utf-8")
ROW = re.compile(
    r"^\| `specs/(\w+\.arch)` \| `archdsl compile specs/\1(?: [^`]*)?` "
    r"\| ([\d,]+) \| (.+) \|$",
    re.M,
)


def test_quick_start_comes_first() -> None:
    lines = [line for line in README.splitlines() if line.strip()]
    assert lines[1] == "```sh"
    assert lines[2] == "pip install -e . && archdsl compile specs/resnet50.arch --backend torch"
    assert lines[3] == 'pip install -e ".[dev]" && python -m pytest -q'


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]" && python -m pytest -q' in ci


def test_architecture_table_lists_every_model_with_its_count() -> None:
    rows = {spec: int(count.replace(",", "")) for spec, count, _ in ROW.findall(README)}
    imported = set()
    for path in SPECS.glob("*.arch"):
        imported |= set(re.findall(r'^import "([\w.]+)"', path.read_text(), re.M))
    assert set(rows) == set(all_specs()) - imported
    for spec, count in rows.items():
        assert analyse(SPECS / spec).model.trainable == count, spec
