"""Locate the grammar and templates: in an installed wheel, or beside the package in a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """``grammars`` or ``templates``: ``archdsl/<name>`` in a wheel, top-level in a checkout."""
    packaged = resources.files("archdsl") / name
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"archdsl installation is missing its {name}/ directory")
