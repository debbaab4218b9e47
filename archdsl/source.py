"""Source files: decoding with hygiene checks, and offset <-> line/column mapping."""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass, field

from archdsl.errors import Span, error

MAX_SOURCE_BYTES = 1_000_000
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
