"""Coverage-guided fuzz target (atheris): whatever the bytes, compiling them as a spec file for
either backend gives generated code or an `ArchError`, never another exception.

    pip install atheris
    python fuzz/fuzz_compile.py fuzz/corpus -max_total_time=1800 -timeout=10 -rss_limit_mb=2048

Inputs are written as a spec file beside copies of the project's specs, so imports resolve as
they do in `specs/`. A crash is saved by libFuzzer as `crash-*`; turn it into a golden case
under `tests/diagnostics/`. `fuzz/corpus/` holds the seeds (small specs, one construct each).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from archdsl.compiler import compile_spec
    from archdsl.errors import ArchError

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="archdsl-fuzz-"))
for spec in (ROOT / "specs").glob("*.arch"):
    shutil.copy(spec, WORK / spec.name)
TARGET = WORK / "fuzzed.arch"


def one_input(data: bytes) -> None:
    TARGET.write_bytes(data)
    for backend in ("torch", "keras"):
        try:
            result = compile_spec(TARGET, backend, name="fuzzed.arch")
        except ArchError as err:
            if any(d.code.startswith("E09") for d in err.diagnostics):
                raise AssertionError(f"internal error: {err}") from None
            return
        assert result.source, "compiled to nothing"


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
