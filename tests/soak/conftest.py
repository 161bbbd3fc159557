"""The soak's smoke versions run the code of `bench/soak.py` at a small size; the bench modules import each
other by their plain names (they are scripts), so their folder goes on the path here."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)
