"""Run the examples of the error-code catalogue (archdsl/codes.py) as the command line would."""

from __future__ import annotations

import os
import re
from pathlib import Path

from click.testing import CliRunner

from archdsl.cli import _exit_code, cli
from archdsl.codes import Example
from archdsl.diagnostics import render_text
from archdsl.errors import ArchError

SPEC = "spec.arch"


def materialise(example: Example, directory: Path) -> None:
    """Write the example's spec and files; the spec sits in ``directory/project``."""
    project = directory / "project"
    project.mkdir(parents=True, exist_ok=True)
    if example.spec is not None:
        (project / SPEC).write_bytes(example.data())
    for name, text in example.files:
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def run_example(example: Example, directory: Path) -> tuple[int, str, list[str]]:
    """Exit code, output (stderr then stdout) and the error codes in it."""
    materialise(example, directory)
    cwd = os.getcwd()
    os.chdir(directory / "project")
    try:
        if example.python is not None:
            return _run_python(example.python)
        args = [a.replace("{spec}", SPEC) for a in example.args]
        argv = (
            [example.command, *args]
            if example.command == "explain"
            else [example.command, SPEC, *args]
        )
        result = CliRunner().invoke(cli, argv)
    finally:
        os.chdir(cwd)
    output = result.stderr + result.stdout
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, output, re.findall(r"error\[(E\d{4})\]", result.stderr)


def _run_python(source: str) -> tuple[int, str, list[str]]:
    try:
        exec(compile(source, "<example>", "exec"), {})  # noqa: S102 (the catalogue's own text)
    except ArchError as err:
        text = "\n".join(render_text(d, err.sources) for d in err.diagnostics)  # type: ignore[arg-type]
        return _exit_code(err), text + "\n", [d.code for d in err.diagnostics]
    return 0, "", []
