"""archdsl: neural-network architectures as text, compiled to PyTorch and Keras code.

Importing this package loads neither torch nor tensorflow; ``archdsl.load`` (``archdsl.api``) is
imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Spec", "__version__", "load"]

if TYPE_CHECKING:
    from archdsl.api import Spec, load


def __getattr__(name: str) -> Any:
    if name in ("load", "Spec"):
        from archdsl import api

        return getattr(api, name)
    raise AttributeError(f"module 'archdsl' has no attribute {name!r}")
