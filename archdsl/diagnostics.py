"""Render diagnostics as rustc-style text or JSON. Pure functions; nothing here prints."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping

from archdsl.errors import Diagnostic, Span
from archdsl.source import SourceFile


def _location(span: Span, sources: Mapping[str, SourceFile]) -> tuple[int, int] | None:
    src = sources.get(span.file)
    return src.line_col(span.start) if src else None


def _is_control(ch: str) -> bool:
    # controls, format characters (bidi overrides, zero-width ones) and line/paragraph separators
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def escape(text: str) -> str:
    """Text from a spec (a message, a name, a file name) made safe for one line of a terminal:
    control, format and separator characters become ``\\n``, ``\\x1b``, ``\\u202e``..., so spec
    text can neither forge a diagnostic line nor send escape sequences."""
    if not any(_is_control(c) for c in text):
        return text
    out = []
    for c in text:
        if not _is_control(c):
            out.append(c)
        elif c in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[c])
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    return "".join(out)


def _shown_line(text: str) -> str:
    """A source line as shown under a diagnostic: one column per character, so the carets stay
    aligned; control characters are shown as U+FFFD."""
    return "".join("\ufffd" if _is_control(c) else c for c in text.replace("\t", " "))


def render_text(diag: Diagnostic, sources: Mapping[str, SourceFile]) -> str:
    """``file:line:col: error[CODE]: message``, then the source line, a caret line and notes.
    Every piece of spec text is escaped (``escape``); JSON output carries it unchanged."""
    span = diag.primary_span
    loc = _location(span, sources) if span else None
    message = escape(diag.message)
    if span is not None and loc is not None:
        head = f"{escape(span.file)}:{loc[0]}:{loc[1]}: {diag.severity}[{diag.code}]: {message}"
    elif span is not None:
        head = f"{escape(span.file)}: {diag.severity}[{diag.code}]: {message}"
    else:
        head = f"{diag.severity}[{diag.code}]: {message}"
    lines = [head]
    for label in sorted(diag.labels, key=lambda lab: (not lab.primary, lab.span.start)):
        lines.extend(_snippet(label.span, escape(label.message), label.primary, sources))
    for note in diag.notes:
        lines.append(f"   = note: {escape(note)}")
    if diag.help:
        lines.append(f"   = help: {escape(diag.help)}")
    return "\n".join(lines)


def _snippet(
    span: Span, message: str, primary: bool, sources: Mapping[str, SourceFile]
) -> list[str]:
    src = sources.get(span.file)
    if src is None:
        return []
    line, col = src.line_col(span.start)
    text = _shown_line(src.line_text(line))
    end_line, end_col = src.line_col(max(span.start, span.end))
    width = (end_col - col) if end_line == line else len(text) - col + 1
    width = max(1, width)
    gutter = " " * len(str(line))
    marker = "^" if primary else "-"
    pad = " " * src.display_width(text[: col - 1])
    out = []
    if not primary:
        out.append(f"{gutter} ::: {escape(span.file)}:{line}:{col}")
    out.append(f"{gutter} |")
    out.append(f"{line} | {text}")
    caret = f"{gutter} | {pad}{marker * width}"
    out.append(f"{caret} {message}".rstrip())
    return out


def render_json(diags: list[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    items = []
    for d in diags:
        labels = []
        for lab in d.labels:
            loc = _location(lab.span, sources)
            labels.append(
                {
                    "file": lab.span.file,
                    "start": lab.span.start,
                    "end": lab.span.end,
                    "line": loc[0] if loc else None,
                    "column": loc[1] if loc else None,
                    "message": lab.message,
                    "primary": lab.primary,
                }
            )
        items.append(
            {
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "labels": labels,
                "notes": list(d.notes),
                "help": d.help,
            }
        )
    return json.dumps(items, indent=2, sort_keys=True)
