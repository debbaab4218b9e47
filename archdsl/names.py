"""Identifier rules shared by the resolver and the backends (guarantee G1), and "did you mean"."""

from __future__ import annotations

import difflib
import keyword
import re

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

# Names the generated modules use themselves, and the spec language's own scope names.
RESERVED = frozenset(
    {
        "torch", "nn", "F", "Tensor", "keras", "ops", "np", "self", "forward", "super",
        "x", "name", "inputs", "outputs", "model", "math", "annotations",
        "make_divisible", "in_channels", "index", "first", "last", "print", "eval",
        "exec", "open", "input", "type", "object", "list", "int", "float", "bool", "str", "range",
        "len", "min", "max", "round", "zip", "sum", "abs", "None", "True", "False", "init",
    }
)  # fmt: skip


def bad_identifier(name: str) -> str | None:
    """Why ``name`` may not name a block, parameter, member or variable; None if it may."""
    if not IDENT.fullmatch(name):
        return "identifiers are at most 64 ASCII letters, digits and underscores"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"`{name}` is a Python keyword"
    if name.startswith("__"):
        return "identifiers may not start with `__`"
    if name in RESERVED:
        return f"`{name}` is reserved for the generated code"
    return None


MAX_SUGGESTION_CANDIDATES = 100  # names compared with an unknown one, at most


def did_you_mean(name: str, candidates: object) -> str | None:
    """A close match among ``candidates``. At most ``MAX_SUGGESTION_CANDIDATES`` of them are
    compared in full (those starting with the same letter first, then the closest in length), so
    a spec with thousands of names does not make each unknown name cost thousands of
    comparisons; a suggestion may then be missed, never wrong."""
    names = sorted({str(c) for c in candidates})  # type: ignore[attr-defined]
    shortlist = names
    if len(names) > MAX_SUGGESTION_CANDIDATES:
        n, head = len(name), name[:1].lower()
        near = [c for c in names if abs(len(c) - n) <= 2]  # farther ones cannot pass 0.6 often
        same = [c for c in near if c[:1].lower() == head]
        shortlist = sorted(same, key=lambda c: abs(len(c) - n))[:MAX_SUGGESTION_CANDIDATES]
        if len(shortlist) < MAX_SUGGESTION_CANDIDATES:
            rest = sorted((c for c in near if c[:1].lower() != head), key=lambda c: abs(len(c) - n))
            shortlist += rest[: MAX_SUGGESTION_CANDIDATES - len(shortlist)]
    close = difflib.get_close_matches(name, shortlist, n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean `{close[0]}`?" if close else None


def snake_case(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


# Keras layer names spell torch module paths with this separator: Keras 3 on torch refuses
# dots, and `>` appears in no torch module name and is valid in TensorFlow op names.
KERAS_PATH_SEPARATOR = ">"


def torch_path(keras_name: str) -> str:
    """The torch module path a generated Keras layer name stands for."""
    return keras_name.replace(KERAS_PATH_SEPARATOR, ".")


class Namer:
    """Local names for one generated function that clash with nothing else in it."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def new(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            name = f"{base}_{n}"
            n += 1
        self.taken.add(name)
        return name
