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


SPEC = (
    '# """; import os; os.system("echo pwned") #\n'
    "arch Net() {\n  input [3, 8, 8]\n  c = conv2d(4)\n  forward: c\n}\n"
)
FILE_NAMES = [
    'a""".arch',
    '"""; import os; os.system("echo pwned"); """.arch',
    "back\\slash\\.arch",
    "new\nline.arch",
    "\u202ereversed.arch",
]
ALLOWED = {"__future__", "typing", "math", "torch", "keras"}


def test_hostile_file_names_and_comments_stay_inside_their_literals(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archdsl.compiler import compile_spec

    for file_name in FILE_NAMES:
        path = tmp_path / file_name
        path.write_text(SPEC)
        for backend in ("torch", "keras"):
            source = compile_spec(path, backend, name=file_name).source or ""
            tree = ast.parse(source)
            modules = {
                (node.module if isinstance(node, ast.ImportFrom) else alias.name) or ""
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names
            }
            assert {m.split(".")[0] for m in modules} <= ALLOWED, modules
            calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
            assert not any(c.startswith("os.") for c in calls)
            # the name is in the header, whole (a long one wrapped at its spaces)
            header = ast.get_docstring(tree, clean=False) or ""
            assert "".join(file_name.split()) in "".join(header.split()), (file_name, header)
