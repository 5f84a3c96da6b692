"""Makes ``benchmarks/`` importable here: the walker tests use its scripted gait (``walker_gait``).

A conftest runs in every pytest-xdist worker before the test modules are imported, so the path is
set wherever the tests run.
"""

import sys
from pathlib import Path

_BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
if _BENCHMARKS not in sys.path:
    sys.path.append(_BENCHMARKS)  # appended: nothing there can shadow an installed module
