"""Guarantee G1 at its sink: any text (file names, spec comments, messages) that reaches
generated code through `archdsl.backends.text` stays inside its literal: it decodes back to
exactly the text, and can neither close the literal nor add a statement."""

from __future__ import annotations

import ast

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from archdsl.backends.text import docstring, docstring_lines

HOSTILE = st.just(" " * 120) | st.text(
    alphabet=st.one_of(
        st.sampled_from(['"', "'", "\\", "\n", "\r", "\t", "\x00", "\u2028", "\u202e", "{", "}"]),
        st.characters(),
    ),
    max_size=80,
)


@seed(7)
@settings(max_examples=400, deadline=None, database=None)
@given(text=HOSTILE)
def test_a_docstring_decodes_to_exactly_its_text(text: str) -> None:
    source = '"""' + docstring(text) + '"""'
    tree = ast.parse(source)
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
    assert ast.literal_eval(source) == text
    assert "\n" not in source and "\r" not in source


@seed(8)
@settings(max_examples=300, deadline=None, database=None)
@given(text=HOSTILE, indent=st.sampled_from(["", "    ", "        "]))
def test_a_wrapped_docstring_is_one_statement(text: str, indent: str) -> None:
    lines = docstring_lines(text, indent + "    ")
    module = f"{indent}def f():\n" + "\n".join(lines) + f"\n{indent}    return 1\n"
    tree = ast.parse(module.replace(indent, "", 1) if indent else module)
    (fn,) = tree.body
    assert isinstance(fn, ast.FunctionDef) and len(fn.body) == 2
    doc = ast.get_docstring(fn, clean=False)
    assert doc is not None
    # wrapping only turns spaces into line breaks: the words are the text's
    assert doc.split() == ast.literal_eval('"""' + docstring(text) + '"""').split()
