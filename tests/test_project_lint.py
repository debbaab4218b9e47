"""The project's own code is ruff-clean and ruff-formatted."""

from __future__ import annotations

import subprocess

from archdsl.formatting import ruff_binary
from tests.helpers import ROOT


def test_project_is_ruff_clean() -> None:
    check = subprocess.run(
        [ruff_binary(), "check", "archdsl", "tests"], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [ruff_binary(), "format", "--check", "archdsl", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout
