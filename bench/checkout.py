"""Imported first by every benchmark: this checkout's code comes before an installed copnet.

`pip install -e` puts one checkout on every interpreter's path. Without this, a benchmark run
from a worktree of an older commit (the "before" of a before/after pair) ran the older commit's
server but the installed checkout's code in its own process: its in-process figures measured
the newer code twice.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))
