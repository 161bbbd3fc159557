"""`tapzone daily`: renew and delete expired card accounts of one venue, once per business day.

seed 002: "Einmal täglich prüft die Software alle Konten" — accounts of an auto-renew type are extended by
12 months (code `account-renew`, with the type's fee), accounts of a delete-on-expiry type are closed (code
`account-delete`, leftover value to breakage). Every change lands in `card_account_changes`.

How it stays correct when interrupted or run twice:
* Work is done in batches ordered by validity date and card-account id (the due index's order, so a batch
  reads only its own rows), one transaction each. A batch first locks the day's `daily_runs` row (two jobs
  of one venue take turns batch by batch instead of deadlocking on the same ledger rows), then the card
  accounts in key order (DESIGN §4), and re-checks each one under the lock.
* Each account is claimed by inserting its change row before anything is booked; (account, code, day) is
  unique, so whatever runs concurrently, an account is renewed or deleted at most once per day.
* A batch commits its changes, entries and the day's counters together. After a crash a rerun finds the
  accounts that are still due and not yet logged today and carries on; a finished day does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest
from tapzone.ledger.model import EntryDraft
from tapzone.ledger.posting import post_entries
from tapzone.plans.daily import (
    ChangeCode,
    Deletion,
    FeeSource,
    Renewal,
    breakage_entry,
    plan_deletion,
    plan_renewal,
    renewal_fee_entry,
)
from tapzone.plans.daily_store import (
    claim_changes,
    close_expired,
    due_count,
    due_query,
    extend_validity,
    gather_facts,
    link_entries,
    logged_today,
    run_row,
    siblings,
    skipped_count,
    system_device,
)
from tapzone.store.tables import card_accounts, daily_runs
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.repo import load_venue

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 2_000  # a batch holds its row locks until it commits: tills wait at most that long


@dataclass(frozen=True, slots=True)
class Progress:
    """Reported after each committed batch: accounts looked at by this run so far, of those due at start."""

    done: int
    total: int
    renewed: int
    deleted: int
    skipped: int


@dataclass(frozen=True, slots=True)
class DailyRun:
    """The day's totals (over every run of that day, resumed ones included) and whether it had finished."""

    venue_id: int
    business_day: date
    renewed: int
    deleted: int
    skipped: int
    already_finished: bool
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Start:
    venue: Venue
    day: date
    device_id: int
    due: int
    finished: DailyRun | None


@dataclass(slots=True)
class _Counts:
    seen: int = 0
    renewed: int = 0
    deleted: int = 0
    skipped: int = 0
    after: tuple[date, int] | None = None  # the (valid until, id) of the last due account looked at


def run_daily(
    uow: UnitOfWork,
    venue_id: int,
    *,
    day: date | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[Progress], None] | None = None,
) -> DailyRun:
    """Renew and delete the venue's due card accounts for `day` (default: today in the venue's time zone).

    Idempotent per venue and day and resumable: see the module docstring. `on_batch` is called after each
    committed batch (the CLI draws its progress bar with it); an exception it raises stops the run there,
    with every committed batch kept.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise InvalidRequest(f"batch size must be 1..{MAX_BATCH_SIZE}")
    start = _start(uow, venue_id, day)
    if start.finished is not None:
        return start.finished
    totals = _Counts()
    while True:
        with uow.transaction() as tx:
            counts = _run_batch(tx, start, totals.after, batch_size)
        if counts is None:
            break
        totals.seen += counts.seen
        totals.renewed += counts.renewed
        totals.deleted += counts.deleted
        totals.skipped += counts.skipped
        totals.after = counts.after
        if on_batch is not None:
            on_batch(Progress(totals.seen, max(start.due, totals.seen), totals.renewed, totals.deleted, totals.skipped))
    with uow.transaction() as tx:
        return _day_summary(tx, start.venue.id, start.day, already_finished=False)


def _start(uow: UnitOfWork, venue_id: int, day: date | None) -> _Start:
    with uow.transaction() as tx:
        venue = load_venue(tx, venue_id)
        today = venue.business_day(tx.now)
        day = day or today
        if day > today:
            raise InvalidRequest(f"{day} has not begun in {venue.timezone}; the daily job runs for today or before")
        device_id = system_device(tx, venue.id)
        tx.insert_ignore(
            daily_runs,
            [{"venue_id": venue.id, "business_day": day, "started_at": tx.now}],
            ["venue_id", "business_day"],
        )
        if run_row(tx, venue.id, day).finished_at is not None:
            return _Start(venue, day, device_id, 0, _day_summary(tx, venue.id, day, already_finished=True))
        return _Start(venue, day, device_id, due_count(tx, venue.id, day), None)


def _run_batch(tx: Tx, start: _Start, after: tuple[date, int] | None, batch_size: int) -> _Counts | None:
    """One transaction: the next batch of due accounts, or None (and the day marked finished) when none is left."""
    venue, day = start.venue, start.day
    run_row(tx, venue.id, day, lock=True)
    due = tx.conn.execute(due_query(venue.id, day, after, batch_size)).all()
    if not due:
        tx.conn.execute(
            daily_runs.update()
            .where(
                daily_runs.c.venue_id == venue.id, daily_runs.c.business_day == day, daily_runs.c.finished_at.is_(None)
            )
            .values(finished_at=tx.now)
        )
        return None
    logged = logged_today(tx, day, [row.id for row in due])
    candidates = [row for row in due if row.id not in logged]
    last = (due[-1].valid_until, due[-1].id)
    if not candidates:
        return _Counts(after=last)
    ids = [row.id for row in candidates]
    locked = {row.id: row for row in tx.lock_rows(card_accounts, ids + siblings(tx, candidates))}
    facts = gather_facts(tx, venue.currency, day, candidates, locked)
    renewals = [plan_renewal(f) for f in facts if f.auto_renew]
    deletions = [plan_deletion(f) for f in facts if f.delete_on_expiry]
    claimed = claim_changes(tx, venue.id, day, renewals, deletions)
    renewals = [r for r in renewals if (r.account_id, ChangeCode.RENEW) in claimed]
    deletions = [d for d in deletions if (d.account_id, ChangeCode.DELETE) in claimed]
    link_entries(tx, day, _book(tx, start, candidates, renewals, deletions))
    extend_validity(tx, [r for r in renewals if r.renewed])
    close_expired(tx, [d.account_id for d in deletions if d.deleted], locked)

    counts = _Counts(
        seen=len(candidates),
        renewed=sum(r.renewed for r in renewals),
        deleted=sum(d.deleted for d in deletions),
        after=last,
    )
    counts.skipped = len(renewals) + len(deletions) - counts.renewed - counts.deleted
    tx.conn.execute(
        daily_runs.update()
        .where(daily_runs.c.venue_id == venue.id, daily_runs.c.business_day == day)
        .values(renewed=daily_runs.c.renewed + counts.renewed, deleted=daily_runs.c.deleted + counts.deleted)
    )
    return counts


def _book(
    tx: Tx, start: _Start, candidates: Sequence[sa.Row[Any]], renewals: list[Renewal], deletions: list[Deletion]
) -> dict[tuple[int, ChangeCode], int]:
    """Post the batch's fees and breakage in one go (they share the job's revenue and VAT balance rows);
    returns the entry of each change that booked one."""
    types = {row.id: (row.type_name, int(row.vat_rate_bp)) for row in candidates}
    booked: list[tuple[tuple[int, ChangeCode], EntryDraft]] = []
    for renewal in renewals:
        if renewal.renewed and renewal.fee_source is not FeeSource.NONE:
            name, rate = types[renewal.account_id]
            booked.append(((renewal.account_id, ChangeCode.RENEW), renewal_fee_entry(start.venue, renewal, name, rate)))
    for deletion in deletions:
        if deletion.deleted and (deletion.leftover_money_minor or deletion.leftover_units):
            name, _ = types[deletion.account_id]
            booked.append(((deletion.account_id, ChangeCode.DELETE), breakage_entry(start.venue, deletion, name)))
    entry_ids = post_entries(tx, start.venue, [(_ctx(start, *change), draft) for change, draft in booked])
    return {change: entry_id for (change, _), entry_id in zip(booked, entry_ids, strict=True)}


def _ctx(start: _Start, account_id: int, code: ChangeCode) -> RequestContext:
    # The key names the change it books, so an entry can be traced to its account and day.
    return RequestContext(start.venue.id, start.device_id, None, f"daily:{start.day.isoformat()}:{code}:{account_id}")


def _day_summary(tx: Tx, venue_id: int, day: date, *, already_finished: bool) -> DailyRun:
    run = run_row(tx, venue_id, day)
    return DailyRun(
        venue_id=venue_id,
        business_day=day,
        renewed=int(run.renewed),
        deleted=int(run.deleted),
        skipped=skipped_count(tx, venue_id, day),
        already_finished=already_finished,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
