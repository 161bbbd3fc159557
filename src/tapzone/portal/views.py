"""What a portal session shows: balances, the booking history and the receipts of one medium's current visit.

The visit bounds everything: a medium is reused by the next visitor after it is returned, and nobody sees the
bookings of whoever held it before.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.errors import NotFound
from tapzone.i18n import gettext
from tapzone.ledger.model import Purpose
from tapzone.plans.card_store import accounts_of_visit, open_tab_total
from tapzone.portal.access import PortalMedium
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.receipts.texts import ENTRY_CODES
from tapzone.store.tables import (
    card_accounts,
    card_balances,
    journal_entries,
    ledger_accounts,
    online_topups,
    postings,
    receipts,
)
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.repo import load_venue

HISTORY_LIMIT_MAX = 500


class PortalAccountView(BaseModel):
    card_account_id: int
    credit_type: str
    is_active: bool
    closed: bool
    balance_minor: int  # prepaid value on the card, in the venue's currency
    open_tab_minor: int  # goods taken and not yet paid
    units: dict[str, int]  # minutes, visits, bonus where the account counts them
    valid_until: date | None = None


class PortalBalanceView(BaseModel):
    medium_uid: str
    currency: str
    accounts: list[PortalAccountView]
    pending_top_ups_minor: int  # paid online, not yet confirmed by the provider


class HistoryLineView(BaseModel):
    entry_id: int
    at: datetime
    code: str
    what: str  # the code in the caller's language
    card_account_id: int
    unit: str
    amount: int  # the holder's view: positive added to the card, negative taken from it
    receipt_ids: list[int]


class PortalHistoryView(BaseModel):
    medium_uid: str
    currency: str
    lines: list[HistoryLineView]


class ReceiptSummaryView(BaseModel):
    receipt_id: int
    kind: str
    number: int
    issued_at: datetime
    total_minor: int
    currency: str


class PortalReceiptsView(BaseModel):
    medium_uid: str
    receipts: list[ReceiptSummaryView]


def portal_balance(uow: UnitOfWork, medium: PortalMedium) -> PortalBalanceView:
    with uow.transaction() as tx:
        venue = load_venue(tx, medium.venue_id)
        accounts = accounts_of_visit(tx, medium.visit_id)
        balances: dict[int, dict[str, int]] = {account.id: {} for account in accounts}
        for row in tx.conn.execute(
            sa.select(card_balances.c.card_account_id, card_balances.c.unit, card_balances.c.balance).where(
                card_balances.c.card_account_id.in_(list(balances))
            )
        ):
            balances[row.card_account_id][row.unit] = int(row.balance)
        valid_until = {
            row.id: row.valid_until
            for row in tx.conn.execute(
                sa.select(card_accounts.c.id, card_accounts.c.valid_until).where(card_accounts.c.id.in_(list(balances)))
            )
        }
        pending = tx.conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(online_topups.c.amount_minor), 0)).where(
                online_topups.c.medium_id == medium.medium_id,
                online_topups.c.card_account_id.in_(list(balances)),
                online_topups.c.state == "pending",
            )
        ).scalar_one()
        views = [
            PortalAccountView(
                card_account_id=account.id,
                credit_type=account.credit_type.value,
                is_active=account.is_active,
                closed=account.closed,
                balance_minor=balances[account.id].get(venue.currency, 0),
                open_tab_minor=open_tab_total(tx, account.id),
                units={unit: value for unit, value in balances[account.id].items() if unit != venue.currency},
                valid_until=valid_until.get(account.id),
            )
            for account in accounts
        ]
    return PortalBalanceView(
        medium_uid=medium.medium_uid, currency=venue.currency, accounts=views, pending_top_ups_minor=int(pending)
    )


def portal_history(
    uow: UnitOfWork, medium: PortalMedium, language: str, *, limit: int = 100, before_entry_id: int | None = None
) -> PortalHistoryView:
    """The bookings on the medium's card accounts, newest first; page back with `before_entry_id`."""
    limit = max(1, min(limit, HISTORY_LIMIT_MAX))
    with uow.transaction() as tx:
        venue = load_venue(tx, medium.venue_id)
        account_ids = _account_ids(tx, medium)
        query = (
            sa.select(
                journal_entries.c.id.label("entry_id"),
                journal_entries.c.effective_at,
                journal_entries.c.code,
                ledger_accounts.c.card_account_id,
                postings.c.unit,
                sa.func.sum(postings.c.amount).label("amount"),
            )
            .select_from(
                postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id).join(
                    journal_entries, journal_entries.c.id == postings.c.entry_id
                )
            )
            .where(
                ledger_accounts.c.card_account_id.in_(account_ids),
                ledger_accounts.c.purpose.in_([Purpose.CARD_MONEY.value, Purpose.CARD_UNITS.value]),
            )
            .group_by(
                journal_entries.c.id,
                journal_entries.c.effective_at,
                journal_entries.c.code,
                ledger_accounts.c.card_account_id,
                postings.c.unit,
            )
            .order_by(journal_entries.c.id.desc(), ledger_accounts.c.card_account_id, postings.c.unit)
        )
        if before_entry_id is not None:
            query = query.where(journal_entries.c.id < before_entry_id)
        rows = [row for row in tx.conn.execute(query.limit(limit)) if row.amount]
        receipt_ids: dict[int, list[int]] = {}
        for receipt in tx.conn.execute(
            sa.select(receipts.c.id, receipts.c.entry_id)
            .where(receipts.c.entry_id.in_({row.entry_id for row in rows}))
            .order_by(receipts.c.id)
        ):
            receipt_ids.setdefault(int(receipt.entry_id), []).append(int(receipt.id))
    return PortalHistoryView(
        medium_uid=medium.medium_uid,
        currency=venue.currency,
        lines=[
            HistoryLineView(
                entry_id=row.entry_id,
                at=row.effective_at,
                code=row.code,
                what=gettext(ENTRY_CODES[row.code].value, language) if row.code in ENTRY_CODES else row.code,
                card_account_id=row.card_account_id,
                unit=row.unit,
                amount=-int(row.amount),  # a credit to the card's liability is value added for the holder
                receipt_ids=receipt_ids.get(row.entry_id, []),
            )
            for row in rows
        ],
    )


def portal_receipts(uow: UnitOfWork, medium: PortalMedium) -> PortalReceiptsView:
    with uow.transaction() as tx:
        found = _receipts_of(tx, medium)
    return PortalReceiptsView(
        medium_uid=medium.medium_uid,
        receipts=[
            ReceiptSummaryView(
                receipt_id=receipt_id,
                kind=receipt.kind.value,
                number=receipt.number,
                issued_at=receipt.issued_at,
                total_minor=receipt.total_minor,
                currency=receipt.currency,
            )
            for receipt_id, receipt in found
        ],
    )


def portal_receipt(uow: UnitOfWork, medium: PortalMedium, receipt_id: int) -> tuple[Receipt, str]:
    """One receipt of the medium exactly as issued, and the venue's time zone; any other id is not found."""
    with uow.transaction() as tx:
        venue = load_venue(tx, medium.venue_id)
        for found_id, receipt in _receipts_of(tx, medium, receipt_id):
            if found_id == receipt_id:
                return receipt, venue.timezone
    raise NotFound(f"receipt {receipt_id} does not exist")


def _account_ids(tx: Tx, medium: PortalMedium) -> list[int]:
    return [account.id for account in accounts_of_visit(tx, medium.visit_id)]


def _receipts_of(tx: Tx, medium: PortalMedium, only_id: int | None = None) -> list[tuple[int, Receipt]]:
    """Receipts of bookings on the visit's card accounts, and receipts naming the medium since the visit
    began (a bill, or a tab paid in cash, books nothing on the card itself), newest first."""
    touching_card = (
        sa.select(postings.c.entry_id)
        .join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id)
        .where(ledger_accounts.c.card_account_id.in_(_account_ids(tx, medium)))
    )
    # The stored body is the receipt model's compact JSON; the match is confirmed on the parsed model below.
    names_medium = sa.and_(
        receipts.c.created_at >= medium.visit_opened_at,
        receipts.c.body.like(f'%"medium_uid":"{medium.medium_uid}"%'),
    )
    by_entry = receipts.c.entry_id.in_(touching_card)
    query = (
        sa.select(receipts.c.id, receipts.c.body, by_entry.label("by_entry"))
        .where(receipts.c.venue_id == medium.venue_id, sa.or_(by_entry, names_medium))
        .order_by(receipts.c.id.desc())
    )
    if only_id is not None:
        query = query.where(receipts.c.id == only_id)
    found: list[tuple[int, Receipt]] = []
    for row in tx.conn.execute(query):
        receipt = Receipt.model_validate_json(row.body)
        if row.by_entry or receipt.medium_uid == medium.medium_uid:
            found.append((int(row.id), receipt))
    return found
