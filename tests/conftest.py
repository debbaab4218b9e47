"""Test session setup.

torch and torchvision are imported before anything can import tensorflow: the other order
crashes this torch build (triton). test_import_order.py checks that the order stays safe.

The suite runs in two pytest-xdist workers, one file per worker at a time (pyproject's
addopts), each torch on one thread; the files that take longest start first, so that neither
worker is left with a long file at the end.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# one thread per process, as torch below: two workers and the Keras backend processes share
# two cores, and TensorFlow's pools, two threads each by default, spin while they wait (under
# that load a TensorFlow check took 24% more CPU with them)
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import torch  # noqa: E402,F401  (must precede tensorflow)
import torchvision  # noqa: E402,F401

torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)

# the longest files (minutes of Keras builds on three backends, trainings, reference models)
LONGEST_FIRST = (
    "test_keras_backends.py",
    "test_training.py",
    "test_reference_zoo.py",
    "test_reference_classic.py",
    "test_reference_resnets.py",
    "test_reference_mobile.py",
    "test_lowered.py",
    "test_init.py",
    "test_torch_reference.py",
    "test_packaging.py",
    "test_overrides.py",
    "test_agreement.py",
)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    def rank(item: Any) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
