"""Source files: decoding with hygiene checks, and offset <-> line/column mapping."""

from __future__ import annotations

import bisect
import os
import stat
import unicodedata
from dataclasses import dataclass, field

from archdsl.errors import Span, error

# One spec file, and all the files one compilation reads together (the root and its imports).
# Parsing dense spec text (a written-out layer per line) runs at about 20-40 KB/s on two cores,
# and these bound a compilation's time to seconds (tests/test_limits.py drives them to the
# maximum and measures); the largest spec in specs/ is under 10 KB.
MAX_SOURCE_BYTES = 128_000
MAX_TOTAL_SOURCE_BYTES = 160_000


class UnreadableFile(Exception):
    """A spec file that cannot be read: ``reason`` says why (no such file, not a regular file,
    permission denied, ...); ``size`` is set when the file is over the size limit."""

    def __init__(self, reason: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.size = size


def read_bounded(path: str | os.PathLike[str], limit: int = MAX_SOURCE_BYTES) -> bytes:
    """Read a regular file of at most ``limit`` bytes, checking before reading: ``stat`` first
    (a FIFO, a device or a directory is never opened), then a non-blocking open, ``fstat`` again on
    the open file, and a read of at most ``limit + 1`` bytes, so a file that grows is refused too.
    Raises ``UnreadableFile``."""
    try:
        info = os.stat(path)
    except ValueError:
        raise UnreadableFile("the path contains a NUL character") from None
    except OSError as exc:
        raise UnreadableFile(_reason(exc)) from None
    _check_regular(info, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(_reason(exc)) from None
    try:
        _check_regular(os.fstat(fd), limit)  # the path may have changed since the stat
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(_reason(exc)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableFile("the file is too large", size)
    return b"".join(chunks)


def _check_regular(info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise UnreadableFile(f"{kind} (directories, FIFOs and devices are not spec files)")
    if info.st_size > limit:
        raise UnreadableFile("the file is too large", info.st_size)


def _reason(exc: OSError) -> str:
    text = exc.strerror or type(exc).__name__
    return text[:1].lower() + text[1:]


_BIDI_CONTROLS = {
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}


@dataclass
class SourceFile:
    name: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> SourceFile:
        if len(data) > MAX_SOURCE_BYTES:
            raise error(
                "E0003",
                f"file is too large ({len(data)} bytes, the limit is {MAX_SOURCE_BYTES})",
                Span(name, 0, 0),
            )
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = data[: exc.start].decode("utf-8", errors="replace")
            err = error(
                "E0001",
                f"invalid UTF-8 at byte offset {exc.start}",
                Span(name, len(prefix), len(prefix) + 1),
                "this byte is not valid UTF-8",
                help="save the file as UTF-8",
            )
            shown = data.decode("utf-8", errors="replace").replace("\x00", " ")
            err.sources[name] = cls(name, shown.replace("\r\n", "\n"))
            raise err from None
        return cls.from_text(name, text)

    @classmethod
    def from_text(cls, name: str, text: str) -> SourceFile:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        src = cls(name, text)
        for i, ch in enumerate(text):
            if ch == "\x00":
                err = error("E0002", "NUL byte in source", Span(name, i, i + 1), "remove this byte")
                err.sources[name] = src
                raise err
            if ch in _BIDI_CONTROLS:
                err = error(
                    "E0002",
                    f"bidirectional control character U+{ord(ch):04X} in source",
                    Span(name, i, i + 1),
                    "this character can make the code display differently from how it parses",
                    help="remove the character",
                )
                err.sources[name] = src
                raise err
        return src

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (columns count characters, a tab counts as one)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end != -1 else len(self.text)]

    def display_width(self, s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
