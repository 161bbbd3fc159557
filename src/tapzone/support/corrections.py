"""Balance corrections by support (seed 004 "Saldo Korrektur ... nur in Absprache mit dem Support").

A correction never changes a booking: it is a new `correction` entry that names the entry it corrects, when
there is one, and carries the reason; every correction is audited. Its other side is the correction account,
so the books show what support added to or took from cards. Not for lost cards: their value moves by a
transfer (seed 004 "Die Saldo Korrektur Funktion ... greift in diesem Konstrukt nicht").
"""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import (
    CurrencyMismatch,
    InsufficientBalance,
    InvalidAmount,
    InvalidRequest,
    MediumNotBound,
    NotFound,
    UnknownOrInactiveMedium,
    WrongCreditType,
)
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import AccountRef, EntryDraft, card_money, correction
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import bound_card
from tapzone.media.model import MediumState
from tapzone.money import MAX_AMOUNT_MINOR, Money, money_payload
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import CardAccount, card_balance, lock_card_accounts, reserved_total
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import card_accounts, journal_entries, media
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

REASON_MAX_LENGTH = 300


class CorrectionView(BaseModel):
    entry_id: int
    card_account_id: int
    medium_uid: str
    amount_minor: int  # signed: positive credited to the card, negative taken from it
    currency: str
    balance_minor: int
    corrects_entry_id: int | None
    reason: str


def check_reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidRequest("a correction needs a reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidRequest(f"a reason has at most {REASON_MAX_LENGTH} characters")
    return reason.strip()


def correct_balance(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    amount: Money,
    reason: str,
    medium_uid: str | None = None,
    card_account_id: int | None = None,
    corrects_entry_id: int | None = None,
) -> CorrectionView:
    """Add (`amount` > 0) or take (< 0) prepaid value on a card account, naming the medium (the active account
    unless `card_account_id` says which) or just the card account. Taking more than is free is refused."""
    reason = check_reason(reason)
    if amount.minor == 0 or abs(amount.minor) > MAX_AMOUNT_MINOR:
        raise InvalidAmount(f"a correction is a non-zero amount of at most {MAX_AMOUNT_MINOR} minor units")
    if medium_uid is None and card_account_id is None:
        raise InvalidRequest("name the medium or the card account to correct")
    payload = {
        "amount": money_payload(amount),
        "reason": reason,
        "medium_uid": medium_uid,
        "card_account_id": card_account_id,
        "corrects_entry_id": corrects_entry_id,
    }

    def handler(tx: Tx) -> CorrectionView:
        venue = authorise(tx, ctx, Permission.BALANCE_CORRECT)
        if amount.currency != venue.currency:
            raise CurrencyMismatch(f"the correction is in {amount.currency}, this venue works in {venue.currency}")
        account, uid = _target(tx, ctx, medium_uid, card_account_id)
        if corrects_entry_id is not None and not _entry_exists(tx, venue.id, corrects_entry_id):
            raise NotFound(f"journal entry {corrects_entry_id} does not exist")
        if account.credit_type is not CreditType.PREPAID:
            raise WrongCreditType("only prepaid value can be corrected")
        if amount.minor < 0:
            free = card_balance(tx, account.id, venue.currency) - reserved_total(tx, account.id, venue.currency)
            if -amount.minor > free:
                raise InsufficientBalance(f"{-amount.minor} exceeds the prepaid value available ({free})")
        entry_id = book_correction(
            tx,
            ctx,
            venue,
            account.id,
            amount.minor,
            counter=correction(venue.currency),
            memo=f"correction: {reason}",
            corrects_entry_id=corrects_entry_id,
        )
        audit.record(
            tx,
            ctx,
            "balance.correct",
            f"card-account:{account.id}",
            {
                "medium_uid": uid,
                "amount_minor": amount.minor,
                "reason": reason,
                "entry_id": entry_id,
                "corrects_entry_id": corrects_entry_id,
            },
        )
        return CorrectionView(
            entry_id=entry_id,
            card_account_id=account.id,
            medium_uid=uid,
            amount_minor=amount.minor,
            currency=venue.currency,
            balance_minor=card_balance(tx, account.id, venue.currency),
            corrects_entry_id=corrects_entry_id,
            reason=reason,
        )

    return run_idempotent(uow, ctx, "correct_balance", payload, handler, CorrectionView)


def book_correction(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    card_account_id: int,
    amount_minor: int,
    *,
    counter: AccountRef,
    memo: str,
    corrects_entry_id: int | None = None,
) -> int:
    """Post a `correction` entry moving `amount_minor` (signed, the holder's view) between `counter` and the
    card's money."""
    draft = EntryDraft(EntryCode.CORRECTION, memo=memo[:500], corrects_entry_id=corrects_entry_id)
    if amount_minor > 0:
        draft.debit(counter, amount_minor).credit(card_money(card_account_id, venue.currency), amount_minor)
    else:
        draft.debit(card_money(card_account_id, venue.currency), -amount_minor).credit(counter, -amount_minor)
    return post_entry(tx, ctx, venue, draft)


def _target(
    tx: Tx, ctx: RequestContext, medium_uid: str | None, card_account_id: int | None
) -> tuple[CardAccount, str]:
    if medium_uid is not None:
        # Support types the number: the manual-entry rules apply (permission, audit, uniform refusal).
        card = bound_card(tx, ctx, medium_uid, MediumEntry.TYPED, card_account_id)
        return card.account, card.medium_uid
    assert card_account_id is not None
    row = tx.conn.execute(
        sa.select(card_accounts.c.id, media.c.uid, media.c.state)
        .join(media, media.c.id == card_accounts.c.medium_id)
        .where(card_accounts.c.id == card_account_id, card_accounts.c.venue_id == ctx.venue_id)
    ).first()
    if row is None:
        raise NotFound(f"card account {card_account_id} does not exist")
    if row.state in (MediumState.LOST.value, MediumState.TRANSFERRED.value):  # a lost card's value moves by transfer
        raise UnknownOrInactiveMedium("unknown or inactive medium")
    (account,) = lock_card_accounts(tx, [row.id])
    if account.closed:
        raise MediumNotBound("this card account is closed")
    return account, str(row.uid)


def _entry_exists(tx: Tx, venue_id: int, entry_id: int) -> bool:
    found = tx.conn.execute(
        sa.select(journal_entries.c.id).where(journal_entries.c.id == entry_id, journal_entries.c.venue_id == venue_id)
    ).first()
    return found is not None
