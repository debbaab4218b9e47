"""Golden diagnostics: each tests/diagnostics/NAME.arch has its exact expected output in
NAME.expected (stderr and exit code), and so has the failing example of every entry of the
error-code catalogue (catalogue_CODE.expected). ARCHDSL_UPDATE_GOLDEN=1 (or ARCHDSL_ACCEPT=1)
rewrites the expectations."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from archdsl.cli import cli
from archdsl.codes import CATALOGUE
from tests.catalogue import run_example
from tests.helpers import ROOT

CASES_DIR = Path(__file__).parent / "diagnostics"
CASES = sorted(p.stem for p in CASES_DIR.glob("*.arch"))
UPDATE = "1" in (os.environ.get("ARCHDSL_UPDATE_GOLDEN"), os.environ.get("ARCHDSL_ACCEPT"))


def run(name: str, *extra: str) -> tuple[int, str]:
    runner = CliRunner()
    rel = os.path.relpath(CASES_DIR / f"{name}.arch", ROOT)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = runner.invoke(cli, ["compile", rel, *extra])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stderr + result.stdout


@pytest.mark.parametrize("name", CASES)
def test_diagnostic(name: str) -> None:
    code, output = run(name)
    text = f"exit code: {code}\n{output}"
    expected_path = CASES_DIR / f"{name}.expected"
    if UPDATE:
        expected_path.write_text(text, encoding="utf-8")
    assert "Traceback" not in output
    assert code == 1
    assert expected_path.read_text(encoding="utf-8") == text


def test_every_diagnostic_points_at_the_source() -> None:
    for name in CASES:
        _, output = run(name)
        first = output.splitlines()[0]
        assert first.startswith("tests/diagnostics/"), first
        assert ": error[E" in first
        if name not in {"files_invalid_utf8", "files_empty"}:
            assert any(
                line.lstrip().startswith("|") and "^" in line for line in output.splitlines()
            ), name


def test_suite_covers_each_category() -> None:
    categories = {name.split("_")[0] for name in CASES}
    assert {"syntax", "names", "args", "shapes", "structure", "files"} <= categories
    assert len(CASES) >= 15


def test_json_error_format() -> None:
    import json

    code, output = run("names_unknown_layer", "--error-format", "json")
    assert code == 1
    data = json.loads(output)
    assert data[0]["code"] == "E0214"
    assert data[0]["labels"][0]["line"] == 3
    assert data[0]["help"] == "did you mean `conv2d`?"


CATALOGUE_CASES = [c for c, e in CATALOGUE.items() if e.failing is not None]


@pytest.mark.parametrize("code", CATALOGUE_CASES)
def test_catalogue_diagnostic(code: str, tmp_path: Path) -> None:
    example = CATALOGUE[code].failing
    assert example is not None
    exit_code, output, codes = run_example(example, tmp_path)
    text = f"exit code: {exit_code}\n{output}"
    expected_path = CASES_DIR / f"catalogue_{code}.expected"
    if UPDATE:
        expected_path.write_text(text, encoding="utf-8")
    assert set(codes) == {code}
    assert expected_path.read_text(encoding="utf-8") == text


def test_every_code_has_a_golden_case() -> None:
    from tests.test_explain import raised_codes

    seen: set[str] = set()
    for path in CASES_DIR.glob("*.expected"):
        seen |= set(
            re.findall(r"error\[(E\d{4})\]", path.read_text(encoding="utf-8", errors="replace"))
        )
    unreachable = {c for c, e in CATALOGUE.items() if e.unreachable is not None}
    missing = sorted(raised_codes() - seen - unreachable)
    assert not missing, f"no golden case shows {missing}"
    stale = {p.stem.removeprefix("catalogue_") for p in CASES_DIR.glob("catalogue_*.expected")}
    assert stale <= set(CATALOGUE_CASES), sorted(stale - set(CATALOGUE_CASES))
    assert len(CASES) + len(CATALOGUE_CASES) >= 80
