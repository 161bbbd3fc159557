"""Blind retries against a real `tapzone serve`, small: every write exactly once, nothing lost or extra."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.databases import PG_URL, require_pg

SMALL = {"tills": 4, "gates": 2, "media_per_device": 6, "setup_processes": 1}


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def test_blind_retries_book_every_write_exactly_once(engine: str, tmp_path: Path) -> None:
    from soak_client import RetryPolicy
    from soak_runs import Shape, run_retries

    if engine == "pg":
        require_pg()
    outcome = run_retries(engine, PG_URL, tmp_path, writes=150, shape=Shape(**SMALL), policy=RetryPolicy(), seed=7)
    figures = outcome.figures()

    # The run did what it claims: answers were lost to client timeouts and retried, twins were sent.
    assert figures["writes_tried"] == 150
    assert figures["client_timeouts"] > 0
    assert figures["retries"] > 0
    assert figures["writes_with_twin"] > 0
    assert set(figures["by_kind"]) >= {"tab", "sale", "topup", "tap"}
    # Every write was answered in the end, and the database holds each exactly once.
    assert figures["writes_acknowledged"] == 150, figures["client_notes"]
    assert figures["duplicates"] == 0, figures["examples"]
    assert figures["lost_acknowledged"] == 0, figures["examples"]
    assert figures["partial"] == 0, figures["examples"]
    assert figures["unexplained"] == 0, figures["examples"]
    assert figures["present"] == 150
    assert figures["replay_mismatches"] == 0
    assert figures["gate_refusals"] == 0
    assert outcome.verdict.check_clean, outcome.verdict.check_output
    assert outcome.ok
