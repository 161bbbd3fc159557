"""One line for `make bench`: the HTTP booking object with the gate run's object under "gate" and the daily
job's under "daily".

Reads var/bench/http.json (bench/http_booking.py), var/bench/gate.json (bench/gate_taps.py) and
var/bench/daily.json (bench/daily_job.py) and prints one line of JSON:
{"pg": {...}, "sqlite": {...}, "gate": {"pg": {...}, "sqlite": {...}}, "daily": {"pg": {...}, "sqlite": {...}}}.

Usage:
    .venv/bin/python bench/summary.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"


def load(name: str) -> dict[str, Any]:
    path = BENCH_DIR / name
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        sys.exit(f"{path} is missing: run `make bench` (or the script that writes it) first")
    except json.JSONDecodeError as error:
        sys.exit(f"{path} is not JSON: {error}")
    if not isinstance(data, dict):
        sys.exit(f"{path} does not hold a JSON object")
    return data


def main() -> int:
    summary = dict(load("http.json"))
    summary["gate"] = load("gate.json")
    summary["daily"] = load("daily.json")
    print(json.dumps(summary, separators=(", ", ": ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
