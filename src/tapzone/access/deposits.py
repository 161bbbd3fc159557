"""Wristband deposits (DESIGN §7): held as a liability at issue, refunded only when the medium is
physically returned (collector gate or till), forfeited when it is reported lost."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import AccountRef, EntryDraft, Purpose, cash, deposits_held
from tapzone.ledger.posting import post_entry
from tapzone.store.tables import media
from tapzone.store.uow import Tx
from tapzone.venues.model import Venue


def forfeited_deposits(currency: str) -> AccountRef:
    """Income from deposits of media that never came back; no VAT (it is not a supply)."""
    return AccountRef(Purpose.REVENUE, currency, qualifier="deposit-forfeit")


def hold_deposit(tx: Tx, medium_id: int, amount_minor: int) -> None:
    if amount_minor:
        tx.conn.execute(
            media.update().where(media.c.id == medium_id).values(deposit_minor=media.c.deposit_minor + amount_minor)
        )


def _take_deposit(tx: Tx, medium_id: int) -> int:
    held = int(tx.conn.execute(sa.select(media.c.deposit_minor).where(media.c.id == medium_id)).scalar_one())
    if held:
        tx.conn.execute(media.update().where(media.c.id == medium_id).values(deposit_minor=0))
    return held


def refund_deposit(tx: Tx, ctx: RequestContext, venue: Venue, medium_id: int) -> int:
    """Pay the deposit back in cash at the device that took the medium; returns the amount (0 if none)."""
    amount = _take_deposit(tx, medium_id)
    if amount:
        draft = EntryDraft(EntryCode.DEPOSIT_REFUND, memo=f"deposit of medium {medium_id} returned")
        draft.debit(deposits_held(venue.currency), amount).credit(cash(venue.currency), amount)
        post_entry(tx, ctx, venue, draft)
    return amount


def forfeit_deposit(tx: Tx, ctx: RequestContext, venue: Venue, medium_id: int) -> int:
    amount = _take_deposit(tx, medium_id)
    if amount:
        draft = EntryDraft(EntryCode.DEPOSIT_FORFEIT, memo=f"deposit of lost medium {medium_id}")
        draft.debit(deposits_held(venue.currency), amount).credit(forfeited_deposits(venue.currency), amount)
        post_entry(tx, ctx, venue, draft)
    return amount
