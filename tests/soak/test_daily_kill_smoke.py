"""`tapzone daily` killed halfway and rerun, small: each renewal and deletion booked exactly once."""

from __future__ import annotations

from tests.databases import PG_URL


def test_daily_job_killed_halfway_resumes_and_books_each_change_once() -> None:
    from soak_daily import run_daily_kill

    outcome = run_daily_kill("sqlite", PG_URL, accounts=2_000, due=400, sold=20, batch_size=20)
    figures = outcome.figures()

    assert figures["killed_mid_run"], "the job finished before it could be killed: make it longer"
    assert 0 < figures["done_at_kill"] < 400
    assert figures["rerun_exit"] == 0
    assert figures["duplicate_changes"] == 0
    assert figures["renewed_wrong"] == 0
    assert figures["entry_keys_twice"] == 0
    assert figures["counts"] == figures["expected"]
    assert figures["third_run_changed_nothing"]
    assert outcome.check_clean, outcome.check_output
