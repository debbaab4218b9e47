"""Test session setup.

torch and torchvision are imported before anything can import tensorflow: the other order
crashes this torch build (triton). test_import_order.py checks that the order stays safe.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import torch  # noqa: E402,F401  (must precede tensorflow)
import torchvision  # noqa: E402,F401

torch.set_num_threads(2)
