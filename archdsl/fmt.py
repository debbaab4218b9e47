"""``archdsl fmt``: spec files in their canonical layout (``syntax/printer.py``), and the safe
in-place rewrite. Nothing here prints."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archdsl.errors import ArchError, error
from archdsl.source import SourceFile
from archdsl.syntax.printer import format_source


@dataclass(frozen=True, slots=True)
class Formatted:
    path: Path
    original: str
    formatted: str

    @property
    def changed(self) -> bool:
        return self.original != self.formatted

    def diff(self) -> str:
        name = str(self.path)
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.formatted.splitlines(keepends=True),
            fromfile=name,
            tofile=f"{name} (formatted)",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def format_path(path: Path) -> Formatted:
    """Read and format one spec file. Raises ``ArchError`` (with its source attached) when the
    file cannot be read or does not parse."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error("E0004", f"cannot read `{name}`: {exc.strerror or exc}") from None
    src = SourceFile.from_bytes(name, data)
    try:
        formatted = format_source(src)
    except ArchError as err:
        err.sources.setdefault(name, src)
        raise
    return Formatted(path, data.decode("utf-8"), formatted)


def write_in_place(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically: a temporary file in the same directory, then
    ``os.replace``, so an interrupted write never leaves a truncated spec."""
    directory = path.resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        mode = path.stat().st_mode & 0o7777
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
