"""The last step of code generation: ``ruff format`` makes layout canonical and deterministic."""

from __future__ import annotations

import os
import subprocess

from archdsl.errors import error


def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:  # pragma: no cover - ruff is a core dependency
        raise error(
            "E0903", "internal error: the `ruff` package is missing; reinstall archdsl"
        ) from None
    return os.fsdecode(find_ruff_bin())


def format_python(source: str) -> str:
    proc = subprocess.run(
        [ruff_binary(), "format", "--isolated", "--quiet", "-"],
        input=source.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise error(
            "E0904",
            "internal error, please report: generated code does not parse",
            notes=(proc.stderr.decode("utf-8", "replace").strip()[:2000],),
        )
    return proc.stdout.decode("utf-8")
