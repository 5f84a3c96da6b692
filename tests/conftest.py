"""Session-wide test settings.

One torch (OpenMP) thread per test process: the suite runs on ``pytest -n 2`` over two cores, and
two intra-op threads per worker on a loaded machine stall more than they help. Set before torch
is first imported (``setdefault``: a caller's own value wins).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
