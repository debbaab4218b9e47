"""The error-code catalogue: every code the compiler raises has an entry whose failing example
produces exactly that code and whose fixed example compiles; `archdsl explain` prints them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from archdsl.cli import EXIT_INTERNAL, _exit_code, cli
from archdsl.codes import CATALOGUE
from archdsl.errors import ArchError, Diagnostic
from tests.catalogue import run_example
from tests.helpers import ROOT

PACKAGE = ROOT / "archdsl"


def raised_codes() -> set[str]:
    """Every code literal in the package's source, the catalogue itself excepted."""
    codes: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "codes.py" and path.parent == PACKAGE:
            continue
        codes |= set(re.findall(r'"(E\d{4})"', path.read_text(encoding="utf-8")))
    return codes


def test_every_raised_code_has_an_entry() -> None:
    codes = raised_codes()
    assert len(codes) > 60
    missing = sorted(codes - set(CATALOGUE))
    assert not missing, f"add entries to archdsl/codes.py for {missing}"


def test_every_entry_is_a_raised_code() -> None:
    stale = sorted(set(CATALOGUE) - raised_codes() - {"E0507"})
    assert not stale, f"no source raises {stale}"
    assert '"E0507"' in (PACKAGE / "codes.py").read_text(encoding="utf-8")


REACHABLE = [c for c, e in CATALOGUE.items() if e.unreachable is None]
WITH_FIX = [c for c, e in CATALOGUE.items() if e.fixed is not None]


@pytest.mark.parametrize("code", REACHABLE)
def test_failing_example_produces_exactly_its_code(code: str, tmp_path: Path) -> None:
    example = CATALOGUE[code].failing
    assert example is not None
    exit_code, output, codes = run_example(example, tmp_path)
    assert codes and set(codes) == {code}, output
    assert exit_code == _exit_code(ArchError([Diagnostic(code, "")]))
    assert "Traceback" not in output


@pytest.mark.parametrize("code", WITH_FIX)
def test_fixed_example_compiles(code: str, tmp_path: Path) -> None:
    example = CATALOGUE[code].fixed
    assert example is not None
    exit_code, output, codes = run_example(example, tmp_path)
    assert (exit_code, codes) == (0, []), output


def test_unreachable_codes_say_why_and_are_internal_or_environmental() -> None:
    unreachable = {c: e for c, e in CATALOGUE.items() if e.unreachable is not None}
    assert set(unreachable) == {"E0532", "E0533", "E0901", "E0902", "E0903", "E0904"}
    for code, entry in unreachable.items():
        assert entry.failing is None and entry.unreachable
        if code.startswith("E09"):
            assert _exit_code(ArchError([Diagnostic(code, "")])) == EXIT_INTERNAL
            assert entry.fixed is None


def test_explain_prints_the_entry() -> None:
    result = CliRunner().invoke(cli, ["explain", "E0402"])
    assert result.exit_code == 0
    entry = CATALOGUE["E0402"]
    assert entry.failing is not None and entry.fixed is not None
    assert result.stdout.startswith("E0402: branches of a sum have different shapes\n")
    assert entry.explanation in result.stdout
    assert "      forward: residual(conv)\n" in result.stdout
    assert "      forward: residual(conv, shortcut=proj)\n" in result.stdout
    assert CliRunner().invoke(cli, ["explain", "e0402"]).stdout == result.stdout


def test_explain_shows_invisible_characters_escaped() -> None:
    result = CliRunner().invoke(cli, ["explain", "E0002"])
    assert result.exit_code == 0
    assert "# total \\u202e 1 + 2" in result.stdout
    assert "\u202e" not in result.stdout


def test_explain_lists_codes() -> None:
    result = CliRunner().invoke(cli, ["explain", "--list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(CATALOGUE)
    assert "E0402  branches of a sum have different shapes" in lines


def test_unknown_code_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["explain", "E0418"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error[E0507]: unknown error code `E0418`\n")
    assert "   = help: " in result.stderr
