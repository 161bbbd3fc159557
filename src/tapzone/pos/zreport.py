"""The Z report: a till's numbered, immutable end-of-day report, read from the ledger.

Everything a till books on a business day lands in its `d<till>:<day>` buckets, so the report sums those
postings: revenue and VAT per rate, tenders, entries per code, the cash the drawer should hold. Once issued
it is stored with a hash of its content and never changed; a second report for the same till and day is
refused.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, NotFound
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import Purpose
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, VatLine, ZTotals
from tapzone.store.counters import next_number
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import journal_entries, ledger_accounts, postings, z_reports
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class ZReportView(BaseModel):
    z_report_id: int
    device_id: int
    number: int
    business_day: date
    created_at: datetime
    totals: ZTotals
    content_hash: str
    receipt_id: int | None = None


def _qualifier(key: str, purpose: str, unit: str) -> str:
    """The qualifier part of an account key `purpose[:qualifier]:unit` (venue-wide accounts only)."""
    return key[len(purpose) + 1 : -(len(unit) + 1)]


def z_totals(tx: Tx, venue_id: int, device_id: int, day: date) -> ZTotals:
    bucket = f"d{device_id}:{day.isoformat()}"
    rows = tx.conn.execute(
        sa.select(
            ledger_accounts.c.purpose,
            ledger_accounts.c.key,
            ledger_accounts.c.unit,
            sa.func.sum(postings.c.amount).label("total"),
        )
        .select_from(postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id))
        .where(postings.c.venue_id == venue_id, postings.c.bucket == bucket)
        .group_by(ledger_accounts.c.purpose, ledger_accounts.c.key, ledger_accounts.c.unit)
    ).all()
    net_by_rate: dict[int, int] = {}
    vat_by_rate: dict[int, int] = {}
    tenders: dict[str, int] = {}
    cash_total = 0
    for row in rows:
        qualifier = _qualifier(row.key, row.purpose, row.unit)
        amount = int(row.total)
        if row.purpose == Purpose.REVENUE.value and qualifier.startswith("vat"):
            net_by_rate[int(qualifier[3:])] = net_by_rate.get(int(qualifier[3:]), 0) - amount
        elif row.purpose == Purpose.VAT_PAYABLE.value and qualifier.startswith("vat"):
            vat_by_rate[int(qualifier[3:])] = vat_by_rate.get(int(qualifier[3:]), 0) - amount
        elif row.purpose == Purpose.CASH.value:
            cash_total += amount
        elif row.purpose == Purpose.CARD_CLEARING.value:
            tenders[f"card:{qualifier}"] = tenders.get(f"card:{qualifier}", 0) + amount
    tenders["cash"] = cash_total
    revenue = [
        VatLine(
            rate_bp=rate,
            gross_minor=net_by_rate.get(rate, 0) + vat_by_rate.get(rate, 0),
            net_minor=net_by_rate.get(rate, 0),
            vat_minor=vat_by_rate.get(rate, 0),
        )
        for rate in sorted(net_by_rate.keys() | vat_by_rate.keys())
    ]
    codes: dict[str, int] = dict(
        tx.conn.execute(
            sa.select(journal_entries.c.code, sa.func.count())
            .where(
                journal_entries.c.venue_id == venue_id,
                journal_entries.c.device_id == device_id,
                journal_entries.c.business_day == day,
            )
            .group_by(journal_entries.c.code)
        ).all()
    )
    return ZTotals(
        business_day=day,
        revenue_by_rate=revenue,
        tenders=dict(sorted(tenders.items())),
        by_code={code: int(count) for code, count in sorted(codes.items())},
        cash_expected_minor=cash_total,
        topups_minor=_card_money_moved(tx, venue_id, device_id, day, (EntryCode.TOPUP,), loaded=True),
        # Paid back: cash refunds and payouts (at the till or requested for a bank batch); a payout revoked the
        # same day credits the card again and so counts no more.
        refunds_minor=_card_money_moved(
            tx, venue_id, device_id, day, (EntryCode.REFUND, EntryCode.PAYOUT), loaded=False
        ),
        entries=sum(codes.values()),
    )


def _card_money_moved(
    tx: Tx, venue_id: int, device_id: int, day: date, codes: tuple[EntryCode, ...], *, loaded: bool
) -> int:
    """Prepaid value loaded (net credits to card money) or paid back (net debits) by entries of `codes` at this
    till on this day."""
    amount = postings.c.amount
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(amount), 0))
        .select_from(
            postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id).join(
                journal_entries, journal_entries.c.id == postings.c.entry_id
            )
        )
        .where(
            journal_entries.c.venue_id == venue_id,
            journal_entries.c.device_id == device_id,
            journal_entries.c.business_day == day,
            journal_entries.c.code.in_([code.value for code in codes]),
            ledger_accounts.c.purpose == Purpose.CARD_MONEY.value,
        )
    ).scalar_one()
    # Card money is a liability: a load credits it (negative), a payback debits it (positive).
    return max(0, -int(value) if loaded else int(value))


def _hash(device_id: int, number: int, totals: ZTotals) -> str:
    body = json.dumps([device_id, number, totals.model_dump(mode="json")], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _view(row: sa.Row[Any]) -> ZReportView:
    return ZReportView(
        z_report_id=row.id,
        device_id=row.device_id,
        number=row.number,
        business_day=row.business_day,
        created_at=row.created_at,
        totals=ZTotals.model_validate_json(row.totals),
        content_hash=row.content_hash,
    )


def close_day(uow: UnitOfWork, ctx: RequestContext, *, business_day: date | None = None) -> ZReportView:
    """Issue this till's Z report for a business day (today unless given): numbered per till, immutable."""
    payload = {"business_day": business_day.isoformat() if business_day else None}

    def handler(tx: Tx) -> ZReportView:
        venue = authorise(tx, ctx, Permission.Z_REPORT)
        day = business_day or venue.business_day(tx.now)
        if day > venue.business_day(tx.now):
            raise Conflict("a Z report closes a day that has begun")
        existing = tx.conn.execute(
            sa.select(z_reports.c.number).where(z_reports.c.device_id == ctx.device_id, z_reports.c.business_day == day)
        ).scalar_one_or_none()
        if existing is not None:
            raise Conflict(f"Z report {existing} already closed {day} at this till")
        number = next_number(tx, venue.id, ctx.device_id, "z-report")
        totals = z_totals(tx, venue.id, ctx.device_id, day)
        report_id: int = tx.conn.execute(
            z_reports.insert()
            .values(
                venue_id=venue.id,
                device_id=ctx.device_id,
                number=number,
                business_day=day,
                created_at=tx.now,
                operator_id=ctx.operator_id,
                totals=totals.model_dump_json(),
                content_hash=_hash(ctx.device_id, number, totals),
            )
            .returning(z_reports.c.id)
        ).scalar_one()
        audit.record(tx, ctx, "z-report.close", f"z-report:{report_id}", {"number": number, "day": day.isoformat()})
        receipt_id = receipting.issue(
            tx, ctx, venue, ReceiptKind.Z_REPORT, lines=[], z_totals=totals, reference=f"Z {number}, {day.isoformat()}"
        )
        view = _view(tx.conn.execute(sa.select(z_reports).where(z_reports.c.id == report_id)).one())
        return view.model_copy(update={"receipt_id": receipt_id})

    return run_idempotent(uow, ctx, "close_day", payload, handler, ZReportView)


def view_z_report(uow: UnitOfWork, ctx: RequestContext, *, device_id: int, number: int) -> ZReportView:
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.REPORT_VIEW)
        row = tx.conn.execute(
            sa.select(z_reports).where(
                z_reports.c.venue_id == ctx.venue_id, z_reports.c.device_id == device_id, z_reports.c.number == number
            )
        ).first()
        if row is None:
            raise NotFound(f"till {device_id} has no Z report {number}")
        return _view(row)
