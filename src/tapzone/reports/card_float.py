"""Card float (seed 004 "Card Float Bericht"): what the venue owes its card holders, as of any moment.

The float is read from the ledger's card liability accounts alone: the totals kept beside them with every
booking (ledger/float_totals.py), less what the entries after the cut-off changed, so a past date is answered
exactly and "now" reads a few dozen rows however many cards the venue has. On request the figure for now is
held against the card-side balances, an independent source (DESIGN §3). A lost medium whose value was
transferred holds nothing: the transfer entry debited its accounts, so it counts 0 without any special case
here. Counted units (bonus, minutes, visits) are owed too but are not money; they are reported per unit, never
added in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.errors import InvalidRequest
from tapzone.ledger.float_totals import CARD_PURPOSE_VALUES, NO_ACCOUNT_TYPE
from tapzone.ledger.model import CARD_BUCKET, Purpose
from tapzone.reports.shapes import Bars, Table
from tapzone.store.tables import (
    account_balances,
    account_types,
    card_accounts,
    card_balances,
    card_float_totals,
    journal_entries,
    ledger_accounts,
    media,
    postings,
)
from tapzone.store.uow import Tx
from tapzone.venues.model import Venue

NO_TYPE = "none"  # card accounts sold without an account type (plain seed 001 credit/prepaid accounts)


class FloatRow(BaseModel):
    account_type_id: int | None
    account_type_number: int | None
    account_type: str
    medium_kind: str
    accounts: int  # card accounts with a non-zero balance
    balance_minor: int


class UnitFloatRow(BaseModel):
    account_type_id: int | None
    account_type_number: int | None
    account_type: str
    unit: str  # bonus, minutes, visits
    accounts: int
    balance: int


class Subtotal(BaseModel):
    key: str
    balance_minor: int


class CardFloat(BaseModel):
    venue_id: int
    currency: str
    as_of: datetime  # the cut-off: entries that took effect at or before it count
    day: date | None  # set when the float was asked for the end of a business day
    rows: list[FloatRow]
    by_account_type: list[Subtotal]
    by_medium_kind: list[Subtotal]
    total_minor: int
    units: list[UnitFloatRow]
    # What the card accounts themselves hold now, when a cross-check was asked for and the cut-off is not in
    # the past, where both sources must agree. A difference is what `tapzone check` reports.
    card_side_total_minor: int | None


def parse_as_of(text: str | None) -> datetime | date | None:
    """`2026-07-04` (the end of that business day) or an ISO moment; a moment without offset is venue time."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidRequest("as_of is a date (YYYY-MM-DD) or an ISO 8601 date and time") from error


def cut_off(venue: Venue, now: datetime, as_of: datetime | date | None) -> tuple[datetime, date | None]:
    """The moment entries are counted up to (inclusive), and the business day when a day was asked for."""
    zone = ZoneInfo(venue.timezone)
    if as_of is None:
        return now, None
    if isinstance(as_of, datetime):
        moment = as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=zone)
        return moment, None
    # The end of a business day: the last moment before the next day's local midnight.
    next_midnight = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=zone)
    return next_midnight - timedelta(microseconds=1), as_of


def read_card_float(
    tx: Tx, venue: Venue, as_of: datetime | date | None = None, *, cross_check: bool = False
) -> CardFloat:
    """The float at the cut-off. `cross_check` also sums what the card accounts themselves hold — every card
    account of the venue, so it is off by default; `tapzone check` compares the two sources in full."""
    moment, day = cut_off(venue, tx.now, as_of)
    rows, units = _split(tx.conn.execute(_float_at(venue, moment, day)).all())
    return CardFloat(
        venue_id=venue.id,
        currency=venue.currency,
        as_of=moment,
        day=day,
        rows=rows,
        by_account_type=_subtotals(rows, lambda row: type_label(row.account_type_number, row.account_type)),
        by_medium_kind=_subtotals(rows, lambda row: row.medium_kind),
        total_minor=sum(row.balance_minor for row in rows),
        units=units,
        card_side_total_minor=_card_side_total(tx, venue) if cross_check and moment >= tx.now else None,
    )


def _float_at(venue: Venue, moment: datetime, day: date | None) -> sa.Select[Any]:
    """The float per account type, medium kind, purpose and unit at the cut-off, in one statement so both
    halves see the same commits: the totals kept with every booking (ledger/float_totals.py) less what the
    entries after the cut-off changed — their amounts, and for each account they touched whether it was
    non-zero then rather than now. Exact for any date; it reads the entries after the cut-off only (none
    for "now"), by business day for a whole day, which is how tills count days, else by effective time
    (both indexed, migration 0009)."""
    later = journal_entries.c.business_day > day if day is not None else journal_entries.c.effective_at > moment
    kept = sa.select(
        card_float_totals.c.account_type_id,
        card_float_totals.c.medium_kind,
        card_float_totals.c.purpose,
        card_float_totals.c.unit,
        card_float_totals.c.balance.label("total"),
        card_float_totals.c.accounts,
    ).where(card_float_totals.c.venue_id == venue.id)
    moved = (
        sa.select(postings.c.account_id, sa.func.sum(postings.c.amount).label("amount"))
        .select_from(
            postings.join(journal_entries, journal_entries.c.id == postings.c.entry_id).join(
                ledger_accounts, ledger_accounts.c.id == postings.c.account_id
            )
        )
        .where(journal_entries.c.venue_id == venue.id, later, ledger_accounts.c.purpose.in_(CARD_PURPOSE_VALUES))
        .group_by(postings.c.account_id)
        .subquery()
    )
    now = sa.func.coalesce(account_balances.c.balance, 0)
    undone = sa.select(
        sa.func.coalesce(card_accounts.c.account_type_id, NO_ACCOUNT_TYPE),
        media.c.kind,
        ledger_accounts.c.purpose,
        ledger_accounts.c.unit,
        (-moved.c.amount).label("total"),
        (sa.case((now - moved.c.amount != 0, 1), else_=0) - sa.case((now != 0, 1), else_=0)).label("accounts"),
    ).select_from(
        moved.join(ledger_accounts, ledger_accounts.c.id == moved.c.account_id)
        .join(card_accounts, card_accounts.c.id == ledger_accounts.c.card_account_id)
        .join(media, media.c.id == card_accounts.c.medium_id)
        .outerjoin(
            account_balances,
            sa.and_(account_balances.c.account_id == moved.c.account_id, account_balances.c.bucket == CARD_BUCKET),
        )
    )
    both = sa.union_all(kept, undone).subquery()
    total, accounts = sa.func.sum(both.c.total), sa.func.sum(both.c.accounts)
    return (
        sa.select(
            both.c.account_type_id,
            account_types.c.number,
            account_types.c.name,
            both.c.medium_kind.label("kind"),
            both.c.purpose,
            both.c.unit,
            accounts.label("accounts"),
            total.label("total"),
        )
        .select_from(both.outerjoin(account_types, account_types.c.id == both.c.account_type_id))
        .group_by(
            both.c.account_type_id,
            account_types.c.number,
            account_types.c.name,
            both.c.medium_kind,
            both.c.purpose,
            both.c.unit,
        )
        .having(sa.or_(total != 0, accounts != 0))
    )


def type_label(number: int | None, name: str) -> str:
    """Names of account types need not be unique; their numbers are, so a subtotal is keyed by both."""
    return name if number is None else f"{number} {name}"


def _type_order(number: int | None, name: str) -> tuple[int, int, str]:
    return (1, 0, name) if number is None else (0, number, name)


def _split(grouped: Sequence[Any]) -> tuple[list[FloatRow], list[UnitFloatRow]]:
    rows: list[FloatRow] = []
    units: list[UnitFloatRow] = []
    for row in grouped:
        name = row.name if row.name is not None else NO_TYPE
        # Liability postings are credits (negative); the holder is owed their negation.
        owed = -int(row.total)
        if row.purpose == Purpose.CARD_MONEY.value:
            rows.append(
                FloatRow(
                    account_type_id=row.account_type_id or None,
                    account_type_number=row.number,
                    account_type=name,
                    medium_kind=row.kind,
                    accounts=int(row.accounts),
                    balance_minor=owed,
                )
            )
        else:
            units.append(
                UnitFloatRow(
                    account_type_id=row.account_type_id or None,
                    account_type_number=row.number,
                    account_type=name,
                    unit=row.unit,
                    accounts=int(row.accounts),
                    balance=owed,
                )
            )
    rows.sort(key=lambda r: (*_type_order(r.account_type_number, r.account_type), r.medium_kind))
    units.sort(key=lambda r: (*_type_order(r.account_type_number, r.account_type), r.unit))
    return rows, units


def _subtotals(rows: list[FloatRow], key: Any) -> list[Subtotal]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[key(row)] = totals.get(key(row), 0) + row.balance_minor
    return [Subtotal(key=name, balance_minor=amount) for name, amount in totals.items()]


def _card_side_total(tx: Tx, venue: Venue) -> int:
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0)).where(
            card_balances.c.venue_id == venue.id, card_balances.c.unit == venue.currency
        )
    ).scalar_one()
    return int(value)


def tables(report: CardFloat) -> list[Table]:
    money = Table(
        "money",
        ["account_type_number", "account_type", "medium_kind", "accounts", "balance_minor"],
        [
            [row.account_type_number, row.account_type, row.medium_kind, row.accounts, row.balance_minor]
            for row in report.rows
        ],
    )
    by_type = Table(
        "by_account_type", ["account_type", "balance_minor"], [[s.key, s.balance_minor] for s in report.by_account_type]
    )
    by_kind = Table(
        "by_medium_kind", ["medium_kind", "balance_minor"], [[s.key, s.balance_minor] for s in report.by_medium_kind]
    )
    units = Table(
        "units",
        ["account_type_number", "account_type", "unit", "accounts", "balance"],
        [[u.account_type_number, u.account_type, u.unit, u.accounts, u.balance] for u in report.units],
    )
    total = Table("total", ["currency", "balance_minor"], [[report.currency, report.total_minor]])
    return [money, by_type, by_kind, units, total]


def bars(report: CardFloat, language: str) -> Bars:
    moment = report.day.isoformat() if report.day else report.as_of.isoformat(timespec="minutes")
    return Bars(
        title=f"Card float by account type, as of {moment}",
        currency=report.currency,
        language=language,
        items=[(s.key, s.balance_minor) for s in report.by_account_type],
    )
