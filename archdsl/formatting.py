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


class Formatter:
    """``ruff format`` started before the code it formats exists: its start-up (half of its
    time) overlaps the compiler's own work. ``format`` once, or ``close``."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [ruff_binary(), "format", "--isolated", "--quiet", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def format(self, source: str) -> str:
        out, err = self.proc.communicate(source.encode("utf-8"))
        if self.proc.returncode != 0:
            raise error(
                "E0904",
                "internal error, please report: generated code does not parse",
                notes=(err.decode("utf-8", "replace").strip()[:2000],),
            )
        return out.decode("utf-8")

    def close(self) -> None:
        if self.proc.poll() is None:  # not used: the compilation failed
            self.proc.kill()
            self.proc.communicate()


def format_python(source: str, formatter: Formatter | None = None) -> str:
    """``source`` as ``ruff format`` lays it out, by ``formatter`` if one was started."""
    formatter = formatter or Formatter()
    try:
        return formatter.format(source)
    finally:
        formatter.close()
