"""Diagnostics as data: spans, labels, and the one exception the library raises."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open byte range ``[start, end)`` of one source file's text."""

    file: str
    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(self.file, min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True, slots=True)
class Label:
    span: Span
    message: str = ""
    primary: bool = True


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error: a stable code, a message, labelled spans, notes and a hint."""

    code: str
    message: str
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    severity: str = "error"

    @property
    def primary_span(self) -> Span | None:
        for label in self.labels:
            if label.primary:
                return label.span
        return self.labels[0].span if self.labels else None


@dataclass
class ArchError(Exception):
    """Raised by every stage with the diagnostics it collected; rendered once by the CLI."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The source files the spans point into, attached at stage boundaries for rendering.
    sources: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.diagnostics[0].message if self.diagnostics else "archdsl error")

    def __str__(self) -> str:
        return "; ".join(f"error[{d.code}]: {d.message}" for d in self.diagnostics)


def error(
    code: str,
    message: str,
    span: Span | None = None,
    label: str = "",
    *,
    help: str | None = None,
    notes: tuple[str, ...] = (),
    secondary: tuple[tuple[Span, str], ...] = (),
) -> ArchError:
    """Build an ``ArchError`` holding a single diagnostic."""
    labels: list[Label] = []
    if span is not None:
        labels.append(Label(span, label, True))
    labels.extend(Label(s, m, False) for s, m in secondary)
    return ArchError([Diagnostic(code, message, tuple(labels), notes, help)])
