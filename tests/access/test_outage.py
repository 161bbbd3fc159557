"""A 15-minute server outage driven by the injectable clock: gates keep deciding from their lists, every event
is journaled, replayed once and in order when the server is back, and a second replay changes nothing."""

from __future__ import annotations

from pathlib import Path

from tapzone.access.outage_drill import KINDS, DrillReport, run_outage_drill, run_outage_soak
from tapzone.clock import FixedClock
from tapzone.store.uow import UnitOfWork


def check(report: DrillReport, visitors: int) -> None:
    per_kind = visitors // len(KINDS)
    # Offline refusals: owing, value left and the block the list knew about, each tapped twice.
    assert report.refused_offline == {
        "unpaid-goods": 2 * per_kind,
        "prepaid-value-left": 2 * per_kind,
        "medium-blocked": 2 * per_kind,
    }
    # Allowed offline: settled, blocked-late, bought-late exits; late arrivals in and out. One settled exit
    # was decided by the server before its answer got lost, and is journaled like the others.
    assert report.offline_allowed == 5 * per_kind
    assert report.journaled == report.offline_taps == 11 * per_kind
    # Every journaled event reached the server exactly once; the second upload changed nothing.
    assert report.replayed == report.journaled
    assert report.second_replay_changed == 0
    assert report.access_events_offline == report.journaled - 1  # the lost-answer tap kept its online event
    assert report.times_match
    assert report.in_order
    assert report.flags == {"passed-offline-while-blocked": per_kind, "passed-offline-while-owing": per_kind}
    # Who is still bound: whoever owes or is blocked; the settled and the late arrivals were unbound.
    assert report.still_bound == {
        "settled": 0,
        "owes": per_kind,
        "value-left": per_kind,
        "blocked-known": per_kind,
        "blocked-late": per_kind,
        "bought-late": per_kind,
        "arrives": 0,
    }
    assert report.ledger_findings == []


def test_fifteen_minute_outage_loses_no_event(uow: UnitOfWork, tmp_path: Path) -> None:
    assert isinstance(uow.clock, FixedClock)
    report = run_outage_drill(uow, uow.clock, tmp_path, visitors=21, outage_minutes=15)
    print("\n".join(report.lines()))  # the figures, for the closing note (pytest -s)
    check(report, 21)


def test_the_soak_entry_runs_on_a_fresh_database(tmp_path: Path) -> None:
    """`make soak` calls `run_outage_soak` with a large venue; here it runs small on a new SQLite file."""
    report = run_outage_soak(f"sqlite:///{tmp_path / 'soak.db'}", tmp_path, visitors=14, outage_minutes=15, step_s=30)
    check(report, 14)
