"""Cash drawer and shifts: open with a float, cash in and out, close with the counted cash.

The drawer is the till's `cash` account. Opening moves the float from the safe into the drawer, closing
books the difference between the count and the ledger (`shift-difference`) and empties the drawer into the
safe, so every shift starts from its own float and the Z report's cash line equals the ledger.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, InvalidRequest, NotFound
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, Purpose, cash, cash_difference, safe
from tapzone.ledger.posting import post_entry
from tapzone.money import check_non_negative_amount, check_positive_amount
from tapzone.store.counters import next_number
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import journal_entries, ledger_accounts, postings, shifts
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

MAX_DENOMINATIONS = 30


class ShiftView(BaseModel):
    shift_id: int
    device_id: int
    number: int
    opened_at: datetime
    float_minor: int
    cash_in_drawer_minor: int  # what the ledger says the drawer holds now
    closed_at: datetime | None
    counted_minor: int | None
    difference_minor: int | None


class CashMovementView(BaseModel):
    entry_id: int
    shift_id: int
    direction: str
    amount_minor: int
    cash_in_drawer_minor: int


def drawer_balance(tx: Tx, device_id: int, since: datetime) -> int:
    """Cash the ledger puts in this till's drawer from `since` on (the till's cash buckets)."""
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(postings.c.amount), 0))
        .select_from(
            postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id).join(
                journal_entries, journal_entries.c.id == postings.c.entry_id
            )
        )
        .where(
            ledger_accounts.c.purpose == Purpose.CASH.value,
            postings.c.bucket.like(f"d{device_id}:%"),
            journal_entries.c.effective_at >= since,
        )
    ).scalar_one()
    return int(value)


def _open_shift(tx: Tx, ctx: RequestContext) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(shifts).where(shifts.c.device_id == ctx.device_id, shifts.c.closed_at.is_(None))
    ).first()
    if row is None:
        raise NotFound("this till has no open shift")
    (locked,) = tx.lock_rows(shifts, [row.id])
    return locked


def _view(tx: Tx, row: sa.Row[Any]) -> ShiftView:
    in_drawer = drawer_balance(tx, row.device_id, row.opened_at) if row.closed_at is None else 0
    return ShiftView(
        shift_id=row.id,
        device_id=row.device_id,
        number=row.number,
        opened_at=row.opened_at,
        float_minor=row.float_minor,
        cash_in_drawer_minor=in_drawer,
        closed_at=row.closed_at,
        counted_minor=row.counted_minor,
        difference_minor=row.difference_minor,
    )


def _move(tx: Tx, ctx: RequestContext, venue: Venue, code: EntryCode, amount: int, memo: str) -> int:
    draft = EntryDraft(code, memo=memo)
    if code is EntryCode.CASH_IN:
        draft.debit(cash(venue.currency), amount).credit(safe(venue.currency), amount)
    else:
        draft.debit(safe(venue.currency), amount).credit(cash(venue.currency), amount)
    return post_entry(tx, ctx, venue, draft)


def open_shift(uow: UnitOfWork, ctx: RequestContext, *, float_minor: int) -> ShiftView:
    """Start a shift at this till with a float taken from the safe; one open shift per till."""
    check_non_negative_amount(float_minor, "float")
    payload = {"float_minor": float_minor}

    def handler(tx: Tx) -> ShiftView:
        venue = authorise(tx, ctx, Permission.SHIFT_MANAGE)
        if tx.conn.execute(
            sa.select(shifts.c.id).where(shifts.c.device_id == ctx.device_id, shifts.c.closed_at.is_(None))
        ).first():
            raise Conflict("this till already has an open shift; close it first")
        number = next_number(tx, venue.id, ctx.device_id, "shift")
        entry_id = (
            _move(tx, ctx, venue, EntryCode.CASH_IN, float_minor, f"float of shift {number}") if float_minor else None
        )
        shift_id: int = tx.conn.execute(
            shifts.insert()
            .values(
                venue_id=venue.id,
                device_id=ctx.device_id,
                number=number,
                opened_at=tx.now,
                opened_by=ctx.operator_id,
                float_minor=float_minor,
                float_entry_id=entry_id,
            )
            .returning(shifts.c.id)
        ).scalar_one()
        return _view(tx, tx.conn.execute(sa.select(shifts).where(shifts.c.id == shift_id)).one())

    return run_idempotent(uow, ctx, "open_shift", payload, handler, ShiftView)


def move_cash(
    uow: UnitOfWork, ctx: RequestContext, *, direction: str, amount_minor: int, reason: str
) -> CashMovementView:
    """Cash into the drawer (change from the safe) or out of it (skimming to the safe), during a shift."""
    if direction not in ("in", "out"):
        raise InvalidRequest("direction is 'in' or 'out'")
    check_positive_amount(amount_minor, "amount")
    if not reason.strip() or len(reason) > 200:
        raise InvalidRequest("give a reason of 1..200 characters")
    payload = {"direction": direction, "amount_minor": amount_minor, "reason": reason}

    def handler(tx: Tx) -> CashMovementView:
        venue = authorise(tx, ctx, Permission.CASH_MOVE)
        shift = _open_shift(tx, ctx)
        if direction == "out" and amount_minor > drawer_balance(tx, ctx.device_id, shift.opened_at):
            raise Conflict("the drawer does not hold that much cash")
        code = EntryCode.CASH_IN if direction == "in" else EntryCode.CASH_OUT
        entry_id = _move(tx, ctx, venue, code, amount_minor, reason)
        audit.record(tx, ctx, f"cash.{direction}", f"shift:{shift.id}", payload)
        return CashMovementView(
            entry_id=entry_id,
            shift_id=shift.id,
            direction=direction,
            amount_minor=amount_minor,
            cash_in_drawer_minor=drawer_balance(tx, ctx.device_id, shift.opened_at),
        )

    return run_idempotent(uow, ctx, "move_cash", payload, handler, CashMovementView)


def counted_total(denominations: dict[str, int]) -> int:
    """The counted cash from a count per denomination (in minor units: "5000" → 2 notes of 50.00)."""
    if not denominations or len(denominations) > MAX_DENOMINATIONS:
        raise InvalidRequest(f"count 1..{MAX_DENOMINATIONS} denominations")
    total = 0
    for value, count in denominations.items():
        if not value.isdigit() or int(value) <= 0:
            raise InvalidRequest(f"denomination {value!r} is not a positive number of minor units")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100_000:
            raise InvalidRequest(f"count of {value} must be an integer 0..100000")
        total += int(value) * count
    return check_non_negative_amount(total, "counted cash")


def close_shift(uow: UnitOfWork, ctx: RequestContext, *, denominations: dict[str, int]) -> ShiftView:
    """Close the shift with the cash counted per denomination: the difference to the ledger is booked as
    `shift-difference`, then the drawer is emptied into the safe."""
    counted = counted_total(denominations)
    payload = {"denominations": dict(sorted(denominations.items()))}

    def handler(tx: Tx) -> ShiftView:
        venue = authorise(tx, ctx, Permission.SHIFT_MANAGE)
        shift = _open_shift(tx, ctx)
        expected = drawer_balance(tx, ctx.device_id, shift.opened_at)
        difference = counted - expected
        difference_entry = None
        if difference:
            draft = EntryDraft(
                EntryCode.SHIFT_DIFFERENCE, memo=f"shift {shift.number}: counted {counted}, expected {expected}"
            )
            if difference > 0:
                draft.debit(cash(venue.currency), difference).credit(cash_difference(venue.currency), difference)
            else:
                draft.debit(cash_difference(venue.currency), -difference).credit(cash(venue.currency), -difference)
            difference_entry = post_entry(tx, ctx, venue, draft)
        if counted:
            _move(tx, ctx, venue, EntryCode.CASH_OUT, counted, f"shift {shift.number} closed: drawer to the safe")
        tx.conn.execute(
            shifts.update()
            .where(shifts.c.id == shift.id)
            .values(
                closed_at=tx.now,
                closed_by=ctx.operator_id,
                expected_minor=expected,
                counted_minor=counted,
                counted_denominations=json.dumps(payload["denominations"]),
                difference_minor=difference,
                difference_entry_id=difference_entry,
            )
        )
        audit.record(tx, ctx, "shift.close", f"shift:{shift.id}", {"counted": counted, "expected": expected})
        return _view(tx, tx.conn.execute(sa.select(shifts).where(shifts.c.id == shift.id)).one())

    return run_idempotent(uow, ctx, "close_shift", payload, handler, ShiftView)


def current_shift(uow: UnitOfWork, ctx: RequestContext) -> ShiftView:
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.SHIFT_MANAGE)
        row = tx.conn.execute(
            sa.select(shifts).where(shifts.c.device_id == ctx.device_id, shifts.c.closed_at.is_(None))
        ).first()
        if row is None:
            raise NotFound("this till has no open shift")
        return _view(tx, row)
