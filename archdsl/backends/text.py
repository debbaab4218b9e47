"""The one sink for free text (file names, spec comments, messages) that reaches generated
code: as the body of a docstring or as a string literal, escaped so that no text can end the
literal, add a line of code, or hide characters."""

from __future__ import annotations


def docstring(text: str) -> str:
    """``text`` as the inside of a triple-quoted docstring: backslashes, quotes and every
    non-printable character escaped, one line."""
    out = []
    for i, ch in enumerate(text):
        if ch == '"' and (
            i + 1 == len(text) or '"' in text[max(0, i - 1) : i] + text[i + 1 : i + 2]
        ):
            out.append('\\"')  # no two quotes in a row, none at the end: nothing can close it
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable() and ch.isascii():
            out.append(ch)
        elif ch.isprintable() and ch not in "\u2028\u2029":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def docstring_lines(text: str, indent: str, width: int = 88) -> list[str]:
    """A docstring for ``text`` at ``indent``, wrapped to ``width``: the lines to emit."""
    import textwrap

    body = docstring(text)
    if len(indent) + len(body) + 6 <= width or not body.strip():
        return [f'{indent}"""{body.strip()}"""']
    # break at spaces only: a long word may hold an escape (\U0003134b) that must stay whole;
    # every line leaves room for the quotes, which the formatter moves onto the last line
    lines = textwrap.wrap(
        body, width - len(indent) - 6, break_on_hyphens=False, break_long_words=False
    )
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}" for line in lines[1:]), f'{indent}"""']
