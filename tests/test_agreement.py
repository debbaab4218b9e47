"""Property: `archdsl check`, `--backend torch` and `--backend keras` accept and refuse exactly
the same inputs, with the same first diagnostic, over mutated project specs and over mutated
random architectures; and whatever they accept builds in both frameworks with the predicted
figures (the small random architectures are built, the project specs' sources are compiled)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from archdsl.compiler import analyse, compile_spec
from archdsl.errors import ArchError
from tests.helpers import assert_instances_match_torch, assert_safe_module, load, trainable_count
from tests.strategies import SOURCES, architectures, examples, mutated

Outcome = tuple[str, ...]


def outcomes(path: Path) -> tuple[Outcome, list[str | None]]:
    """The accept/refuse outcome of check, torch and keras (equal, or the test fails), and the
    two generated sources."""
    seen: list[Outcome] = []
    sources: list[str | None] = []
    for backend in (None, "torch", "keras"):
        try:
            if backend is None:
                analyse(path, name=path.name)
            else:
                sources.append(compile_spec(path, backend, name=path.name).source)
        except ArchError as err:
            d = err.diagnostics[0]
            seen.append(("refused", d.code, d.message, str(d.primary_span)))
        else:
            seen.append(("accepted",))
    assert seen[0] == seen[1] == seen[2], seen
    return seen[0], sources


@seed(11)
@settings(
    max_examples=examples(120),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(case=mutated())
def test_check_and_backends_agree_on_mutated_specs(tmp_path_factory, case) -> None:  # type: ignore[no-untyped-def]
    name, text = case
    work: Path = tmp_path_factory.mktemp("agree")
    for other, source in SOURCES.items():
        (work / other).write_text(source)
    (work / name).write_text(text)
    outcome, sources = outcomes(work / name)
    if outcome == ("accepted",):
        for source in sources:
            assert_safe_module(source or "")


NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


@st.composite
def mutated_architectures(draw: st.DrawFn) -> str:
    """A random valid architecture with some of its numbers replaced: many become invalid
    (kernels larger than the input, channels that groups do not divide, empty stages)."""
    text = draw(architectures())
    for _ in range(draw(st.integers(1, 3))):
        i, j = draw(st.sampled_from([m.span() for m in NUMBER.finditer(text)]))
        text = text[:i] + str(draw(st.sampled_from([0, 1, 2, 3, 5, 7, 16]))) + text[j:]
    return text


@pytest.mark.framework
@seed(12)
@settings(
    max_examples=examples(60), deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(text=mutated_architectures())
def test_check_and_backends_agree_on_mutated_architectures(tmp_path_factory, text) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("agree") / "drawn.arch"
    path.write_text(text)
    outcome, sources = outcomes(path)
    if outcome != ("accepted",):
        return
    torch_source, keras_source = sources
    assert_safe_module(torch_source or "")
    assert_safe_module(keras_source or "")
    result = compile_spec(path, "torch", name="drawn.arch")
    assert_instances_match_torch(load(torch_source or "", "agree_torch").drawn(), result)
    km = load(keras_source or "", "agree_keras").drawn()
    assert trainable_count(km) == result.model.trainable
