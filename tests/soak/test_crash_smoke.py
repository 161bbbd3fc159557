"""A busy server killed with SIGKILL and restarted, small: every 2xx is booked, nothing else, nothing half."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.databases import PG_URL, require_pg


@pytest.mark.postgres
def test_server_killed_while_booking_loses_and_doubles_nothing(tmp_path: Path) -> None:
    require_pg()
    from soak import CRASH_POLICY
    from soak_runs import Shape, run_crash

    # One uvicorn worker: a restart imports the app once instead of three times, which keeps the smoke short;
    # the full soak restarts two workers.
    shape = Shape(tills=4, gates=2, media_per_device=6, setup_processes=1, server_workers=1)
    outcome = run_crash(
        "pg", PG_URL, tmp_path, kills=3, interval_s=(0.5, 1.5), shape=shape, policy=CRASH_POLICY, seed=11
    )
    figures = outcome.figures()

    assert figures["kills"] == 3
    assert figures["broken_connections"] > 0  # clients did hit the dead server and retried across restarts
    assert figures["writes_acknowledged"] > 0
    assert figures["duplicates"] == 0, figures["examples"]
    assert figures["lost_acknowledged"] == 0, figures["examples"]
    assert figures["partial"] == 0, figures["examples"]
    assert figures["unexplained"] == 0, figures["examples"]
    assert figures["replay_mismatches"] == 0
    assert figures["gate_refusals"] == 0
    assert outcome.verdict.check_clean, outcome.verdict.check_output
    assert outcome.ok
