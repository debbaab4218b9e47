"""Per-construct goldens: each file in tests/snippets/ is one construct in a minimal spec; its
`.expected` file holds the torch and Keras code the construct compiles to (the definitions, after
the module header and imports). ARCHDSL_UPDATE_GOLDEN=1 rewrites them. Every snippet also
builds in both frameworks with archdsl's shapes and counts, and computes one function."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from archdsl.compiler import compile_spec
from tests.helpers import assert_backends_agree

SNIPPETS = Path(__file__).parent / "snippets"
CASES = sorted(p.stem for p in SNIPPETS.glob("*.arch"))
UPDATE = os.environ.get("ARCHDSL_UPDATE_GOLDEN") == "1"


def definitions(source: str) -> str:
    """The generated module from its first class or function on: what the spec decided."""
    tree = ast.parse(source)
    first = next(n for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef))
    lines = source.splitlines()
    start = first.lineno - 1 - len(first.decorator_list)
    return "\n".join(lines[start:]).rstrip() + "\n"


def rendered(name: str) -> str:
    path = SNIPPETS / f"{name}.arch"
    parts = []
    for backend in ("torch", "keras"):
        source = compile_spec(path, backend, name=f"snippets/{name}.arch").source or ""
        parts.append(f"# ---- {backend} ----\n\n{definitions(source)}")
    return "\n\n".join(parts)


@pytest.mark.parametrize("name", CASES)
def test_snippet_golden(name: str) -> None:
    expected = SNIPPETS / f"{name}.expected"
    got = rendered(name)
    if UPDATE:
        expected.write_text(got, encoding="utf-8")
    assert expected.exists(), f"missing {expected.name}; run with ARCHDSL_UPDATE_GOLDEN=1"
    assert got == expected.read_text(encoding="utf-8")


def test_every_snippet_has_a_golden_and_a_comment() -> None:
    assert len(CASES) >= 12
    assert {p.stem for p in SNIPPETS.glob("*.expected")} == set(CASES)
    for name in CASES:
        assert (SNIPPETS / f"{name}.arch").read_text().startswith("# "), name


@pytest.mark.framework
@pytest.mark.parametrize("name", CASES)
def test_snippet_builds_and_agrees(name: str, tmp_path: Path) -> None:
    assert_backends_agree((SNIPPETS / f"{name}.arch").read_text(), tmp_path, f"{name}.arch")
