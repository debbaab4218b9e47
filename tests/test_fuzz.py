"""Guarantee G3: whatever the text, the compiler either succeeds or raises ArchError (a
diagnostic), never another exception. Hypothesis mutates the real specs: deletions, insertions
of tokens and characters, and replacements."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from archdsl.compiler import compile_spec
from archdsl.errors import ArchError
from tests.strategies import SOURCES, examples, mutated


@seed(4242)
@settings(
    max_examples=examples(150),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(case=mutated(), backend=st.sampled_from(["torch", "keras"]))
def test_mutated_specs_give_diagnostics_not_tracebacks(tmp_path_factory, case, backend) -> None:  # type: ignore[no-untyped-def]
    name, text = case
    work: Path = tmp_path_factory.mktemp("fuzz")
    for other, source in SOURCES.items():  # imports resolve as in specs/
        (work / other).write_text(source)
    path = work / name
    path.write_text(text)
    try:
        result = compile_spec(path, backend)
    except ArchError as err:
        assert err.diagnostics and all(d.code.startswith("E") for d in err.diagnostics)
        assert not any(d.code.startswith("E09") for d in err.diagnostics), err
    else:
        assert result.source
