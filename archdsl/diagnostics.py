"""Render diagnostics as rustc-style text or JSON. Pure functions; nothing here prints."""

from __future__ import annotations

import json
from collections.abc import Mapping

from archdsl.errors import Diagnostic, Span
from archdsl.source import SourceFile


def _location(span: Span, sources: Mapping[str, SourceFile]) -> tuple[int, int] | None:
    src = sources.get(span.file)
    return src.line_col(span.start) if src else None


def render_text(diag: Diagnostic, sources: Mapping[str, SourceFile]) -> str:
    """``file:line:col: error[CODE]: message``, then the source line, a caret line and notes."""
    span = diag.primary_span
    loc = _location(span, sources) if span else None
    if span is not None and loc is not None:
        head = f"{span.file}:{loc[0]}:{loc[1]}: {diag.severity}[{diag.code}]: {diag.message}"
    elif span is not None:
        head = f"{span.file}: {diag.severity}[{diag.code}]: {diag.message}"
    else:
        head = f"{diag.severity}[{diag.code}]: {diag.message}"
    lines = [head]
    for label in sorted(diag.labels, key=lambda lab: (not lab.primary, lab.span.start)):
        lines.extend(_snippet(label.span, label.message, label.primary, sources))
    for note in diag.notes:
        lines.append(f"   = note: {note}")
    if diag.help:
        lines.append(f"   = help: {diag.help}")
    return "\n".join(lines)


def _snippet(
    span: Span, message: str, primary: bool, sources: Mapping[str, SourceFile]
) -> list[str]:
    src = sources.get(span.file)
    if src is None:
        return []
    line, col = src.line_col(span.start)
    text = src.line_text(line).replace("\t", " ")
    end_line, end_col = src.line_col(max(span.start, span.end))
    width = (end_col - col) if end_line == line else len(text) - col + 1
    width = max(1, width)
    gutter = " " * len(str(line))
    marker = "^" if primary else "-"
    pad = " " * src.display_width(text[: col - 1])
    out = []
    if not primary:
        out.append(f"{gutter} ::: {span.file}:{line}:{col}")
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
