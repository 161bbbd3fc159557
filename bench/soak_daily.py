"""The daily job killed halfway: `tapzone daily` is SIGKILLed after some batches committed, then run again.

The accounts are daily_job.py's (sold ones with money and visits, bulk ones of renewing and deleting types),
set up so that they fall due on yesterday's business day: the CLI only runs for a day that has begun. The
first run is killed as soon as the database shows committed work (the day's `daily_runs` counters move) and
before the day is marked finished; the rerun must carry on from there. Afterwards, all must be 0 or true:

* each due account logged once for the day (`card_account_changes`; a second row would be a duplicate);
* every renewed account's validity moved by exactly 12 months from where it was (renewed once, not twice);
* the renewed, deleted and skipped counts and the journal entries (fees, breakage) exactly as planned, each
  entry's key (`daily:<day>:<code>:<account>`) used once;
* a third run finds the day finished and books nothing; `tapzone check` passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rich.console import Console
from sqlalchemy.engine import Engine

import daily_job
from soak_runs import scratch_database
from soak_verify import run_check
from tapzone.plans.daily import ChangeCode
from tapzone.plans.daily_store import due_query
from tapzone.plans.topup_rules import add_months
from tapzone.store.db import make_engine, normalise_url
from tapzone.store.tables import card_account_changes, card_accounts, daily_runs, journal_entries

log = Console(stderr=True, width=132, highlight=False)
TAPZONE = str(Path(sys.executable).parent / "tapzone")


@dataclass(slots=True)
class DailyOutcome:
    engine: str
    accounts: int
    due: int
    setup_s: float = 0.0
    killed_mid_run: bool = False  # the kill found some batches committed and the day not finished
    done_at_kill: int = 0  # accounts logged when the first run died
    rerun_s: float = 0.0
    rerun_exit: int | None = None
    third_run_changed_nothing: bool = False
    duplicate_changes: int = 0
    renewed_wrong: int = 0  # validity not moved by exactly 12 months
    entry_keys_twice: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    check_clean: bool = False
    check_output: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.killed_mid_run
            and self.rerun_exit == 0
            and self.third_run_changed_nothing
            and not (self.duplicate_changes or self.renewed_wrong or self.entry_keys_twice)
            and self.counts == self.expected
            and self.check_clean
        )

    def figures(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "accounts": self.accounts,
            "due": self.due,
            "killed_mid_run": self.killed_mid_run,
            "done_at_kill": self.done_at_kill,
            "rerun_s": round(self.rerun_s, 2),
            "rerun_exit": self.rerun_exit,
            "third_run_changed_nothing": self.third_run_changed_nothing,
            "duplicate_changes": self.duplicate_changes,
            "renewed_wrong": self.renewed_wrong,
            "entry_keys_twice": self.entry_keys_twice,
            "counts": self.counts,
            "expected": self.expected,
            "check_clean": self.check_clean,
            "ok": self.ok,
        }


def run_day_now() -> date:
    """Yesterday in the venue's time zone: a day that has certainly begun, whatever the hour."""
    return datetime.now(ZoneInfo("Europe/Berlin")).date() - timedelta(days=1)


def run_daily_kill(
    engine_kind: str, pg_url: str, *, accounts: int, due: int, sold: int, batch_size: int
) -> DailyOutcome:
    outcome = DailyOutcome(engine_kind, accounts, due)
    day = run_day_now()
    sold_at = datetime(day.year - 1, 1, 10, 10, tzinfo=UTC)
    with scratch_database(engine_kind, pg_url, "soak_daily") as url:
        log.print(f"[bold]daily/{engine_kind}[/bold]: {accounts} card accounts, {due} due …")
        started = time.perf_counter()
        venue_id, expected = daily_job.build(url, accounts, due, sold, sold_at=sold_at, run_day=day)
        outcome.setup_s = time.perf_counter() - started
        outcome.expected = {
            "renewed": expected.renewed,
            "deleted": expected.deleted,
            "skipped": expected.skipped,
            "entries": expected.entries,
        }
        command = [TAPZONE, "daily", "--venue", str(venue_id), "--day", day.isoformat()]
        command += ["--batch-size", str(batch_size), "--database-url", url]
        engine = make_engine(url)
        try:
            before = _due_validity(engine, venue_id, day)
            entry_mark = _top_entry(engine)
            # A plain engine to watch the job: the application's engine opens SQLite transactions with
            # BEGIN IMMEDIATE, so watching with it would take the write lock the job needs.
            watcher = sa.create_engine(normalise_url(url), poolclass=sa.pool.NullPool)
            try:
                outcome.killed_mid_run, outcome.done_at_kill = _kill_midway(watcher, command, venue_id, day)
            finally:
                watcher.dispose()
            log.print(f"  daily/{engine_kind}: killed with {outcome.done_at_kill} of {due} accounts logged")
            started = time.perf_counter()
            outcome.rerun_exit = subprocess.run(command, capture_output=True, check=False, timeout=900).returncode
            outcome.rerun_s = time.perf_counter() - started
            entries_after = _top_entry(engine)
            third = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
            outcome.third_run_changed_nothing = (
                third.returncode == 0 and "already done" in third.stdout and _top_entry(engine) == entries_after
            )
            _verify(outcome, engine, venue_id, day, before, entry_mark)
        finally:
            engine.dispose()
        outcome.check_clean, outcome.check_output = run_check(url)
    return outcome


def _due_validity(engine: Engine, venue_id: int, day: date) -> dict[int, date]:
    """The job's own due query: every account it is to renew or delete, with its validity before."""
    due = due_query(venue_id, day, unlogged=True).subquery()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(card_accounts.c.id, card_accounts.c.valid_until).where(
                card_accounts.c.id.in_(sa.select(due.c.id))
            )
        )
        return {int(row.id): row.valid_until for row in rows}


def _top_entry(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(journal_entries.c.id), 0))).scalar_one())


def _logged(engine: Engine, day: date) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(card_account_changes.c.business_day == day)
        return int(conn.execute(query).scalar_one())


def _kill_midway(engine: Engine, command: list[str], venue_id: int, day: date) -> tuple[bool, int]:
    """Start the job, SIGKILL it once a batch has committed; True if the day was left unfinished."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            with engine.connect() as conn:
                run = conn.execute(
                    sa.select(daily_runs.c.renewed + daily_runs.c.deleted).where(
                        daily_runs.c.venue_id == venue_id, daily_runs.c.business_day == day
                    )
                ).scalar()
            if run:
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    with engine.connect() as conn:
        finished = conn.execute(
            sa.select(daily_runs.c.finished_at).where(
                daily_runs.c.venue_id == venue_id, daily_runs.c.business_day == day
            )
        ).scalar()
    return finished is None and proc.returncode == -signal.SIGKILL, _logged(engine, day)


def _verify(
    outcome: DailyOutcome, engine: Engine, venue_id: int, day: date, before: dict[int, date], entry_mark: int
) -> None:
    changes = card_account_changes.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(changes.card_account_id, changes.code, changes.valid_until_after).where(
                changes.business_day == day
            )
        ).all()
        accounts = conn.execute(
            sa.select(card_accounts.c.id, card_accounts.c.valid_until, card_accounts.c.closed_at).where(
                card_accounts.c.venue_id == venue_id
            )
        ).all()
        now_valid = {int(row.id): row.valid_until for row in accounts}
        closed = {int(row.id) for row in accounts if row.closed_at is not None}
        keys = Counter(
            conn.execute(
                sa.select(journal_entries.c.idempotency_key).where(journal_entries.c.id > entry_mark)
            ).scalars()
        )
        run = conn.execute(
            sa.select(daily_runs.c.renewed, daily_runs.c.deleted).where(
                daily_runs.c.venue_id == venue_id, daily_runs.c.business_day == day
            )
        ).one()
    per_account = Counter(int(row.card_account_id) for row in rows)
    outcome.duplicate_changes = sum(count - 1 for count in per_account.values())
    renewed = [row for row in rows if row.code == ChangeCode.RENEW and row.valid_until_after is not None]
    outcome.renewed_wrong = sum(
        1 for row in renewed if now_valid[row.card_account_id] != add_months(before[row.card_account_id], 12)
    )
    deleted = sum(1 for row in rows if row.code == ChangeCode.DELETE and row.card_account_id in closed)
    outcome.entry_keys_twice = sum(count - 1 for count in keys.values())
    outcome.counts = {
        "renewed": len(renewed),
        "deleted": deleted,
        "skipped": len(per_account) - len(renewed) - deleted,
        "entries": sum(keys.values()),
    }
    # The day's counters are kept by the batches themselves: a batch counted twice would show here.
    if (int(run.renewed), int(run.deleted)) != (len(renewed), deleted):
        outcome.counts["day_counters_disagree"] = 1
    if per_account.keys() - before.keys():
        outcome.counts["logged_but_not_due"] = len(per_account.keys() - before.keys())
