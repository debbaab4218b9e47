"""The compiler never loads a framework nor pydantic's model machinery (records are validated
by pydantic models made on first use); and the framework import order used here is safe."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.framework

_CHECK = """
import sys
import archdsl
from archdsl.compiler import compile_spec
from archdsl.cli import cli
for backend in ("torch", "keras"):
    compile_spec("specs/resnet50.arch", backend)
frameworks = {"torch", "tensorflow", "keras", "jax", "numpy"}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in frameworks)
machinery = ("pydantic.main", "pydantic.fields", "annotated_types")
heavy += [m for m in machinery if m in sys.modules]
print(heavy)
"""


def test_compiling_imports_no_framework() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_torch_then_tensorflow_import_order_is_safe() -> None:
    code = (
        "import torch, torchvision\n"
        "import os; os.environ['KERAS_BACKEND'] = 'tensorflow'\n"
        "import keras, tensorflow\n"
        "from archdsl.transfer import torch_to_keras\n"
        "print(keras.backend.backend())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("tensorflow")
