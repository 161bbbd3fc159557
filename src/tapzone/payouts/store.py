"""Payout rows and what the use cases answer with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.errors import NotFound
from tapzone.payouts.model import PayoutState
from tapzone.store.tables import media, payout_batches, payouts, receipts
from tapzone.store.uow import Tx


class PayoutView(BaseModel):
    payout_id: int
    method: str
    state: str
    card_account_id: int
    medium_uid: str
    amount_minor: int
    currency: str
    account_holder: str | None
    iban: str | None
    bic: str | None
    batch_id: int | None
    entry_id: int | None
    revoke_entry_id: int | None
    receipt_id: int | None  # the refund receipt of a cash payout
    created_at: datetime
    resolved_at: datetime | None
    balance_minor: int | None = None  # the card's balance right after, in the answer to a payout or revoke


class PayoutListView(BaseModel):
    payouts: list[PayoutView]


class BatchView(BaseModel):
    batch_id: int
    message_id: str
    created_at: datetime
    count: int
    total_minor: int
    currency: str
    payout_ids: list[int]
    paid_payout_ids: list[int]


def _receipt_of_entry() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.min(receipts.c.id))
        .where(receipts.c.entry_id == payouts.c.entry_id, payouts.c.entry_id.is_not(None))
        .scalar_subquery()
    )


def payout_query() -> sa.Select[Any]:
    return sa.select(payouts, media.c.uid.label("medium_uid"), _receipt_of_entry().label("receipt_id")).join(
        media, media.c.id == payouts.c.medium_id
    )


def view_of(row: sa.Row[Any], balance_minor: int | None = None) -> PayoutView:
    return PayoutView(
        payout_id=row.id,
        method=row.method,
        state=row.state,
        card_account_id=row.card_account_id,
        medium_uid=row.medium_uid,
        amount_minor=row.amount_minor,
        currency=row.currency,
        account_holder=row.account_holder,
        iban=row.iban,
        bic=row.bic,
        batch_id=row.batch_id,
        entry_id=row.entry_id,
        revoke_entry_id=row.revoke_entry_id,
        receipt_id=row.receipt_id,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        balance_minor=balance_minor,
    )


def load_payout(tx: Tx, venue_id: int, payout_id: int, balance_minor: int | None = None) -> PayoutView:
    row = tx.conn.execute(payout_query().where(payouts.c.id == payout_id, payouts.c.venue_id == venue_id)).first()
    if row is None:
        raise NotFound(f"payout {payout_id} does not exist")
    return view_of(row, balance_minor)


def batch_row(tx: Tx, venue_id: int, batch_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(payout_batches).where(payout_batches.c.id == batch_id, payout_batches.c.venue_id == venue_id)
    ).first()
    if row is None:
        raise NotFound(f"payout batch {batch_id} does not exist")
    return row


def batch_view(tx: Tx, batch: sa.Row[Any], currency: str) -> BatchView:
    members = tx.conn.execute(
        sa.select(payouts.c.id, payouts.c.state).where(payouts.c.batch_id == batch.id).order_by(payouts.c.id)
    ).all()
    return BatchView(
        batch_id=batch.id,
        message_id=batch.message_id,
        created_at=batch.created_at,
        count=batch.count,
        total_minor=batch.total_minor,
        currency=currency,
        payout_ids=[member.id for member in members],
        paid_payout_ids=[member.id for member in members if member.state == PayoutState.PAID.value],
    )
