"""Paying out leftover card value: in cash at the till, or asked for by bank transfer and revocable until it
is exported (issue 7 "Payouts").

Ledger: a cash payout debits the card account's money and credits the till's cash. A bank payout first
moves the value from the card to the payout's own `payouts-due` liability — the card float drops, and the
ledger still says the venue owes this visitor that amount; revoking moves it back onto the card, the bank's
confirmation (batches.py) moves it to the bank account. Every step is a `payout` entry.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InsufficientBalance, InvalidRequest, NothingToSettle, PayoutNotRevocable
from tapzone.fiscal.profiles import book_advance_received, book_advance_released
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, cash, payouts_due
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import BoundCard, bound_card
from tapzone.money import Money, check_positive_amount, minor_in, money_payload
from tapzone.payouts.model import PayoutMethod, PayoutState, bank_account, check_sepa_currency
from tapzone.payouts.store import PayoutListView, PayoutView, load_payout, payout_query, view_of
from tapzone.plans.card_store import card_balance, lock_card_accounts, reserved_total
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, TenderLine
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import payouts
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

MAX_LIST = 1000
MAX_REASON_LENGTH = 200


def _payout_amount(tx: Tx, venue: Venue, card: BoundCard, amount: Money | None) -> int:
    """All free prepaid value, or the amount asked for if it is free: value reserved by unpaid tab lines stays
    on the card (seed 001: goods are paid before anything is paid out)."""
    free = card_balance(tx, card.account.id, venue.currency) - reserved_total(tx, card.account.id, venue.currency)
    wanted = free if amount is None else minor_in(amount, venue.currency)
    if wanted <= 0:
        raise NothingToSettle("no prepaid value is left to pay out")
    if wanted > free:
        raise InsufficientBalance(f"only {free} of prepaid value is free to pay out")
    return wanted


def _insert_payout(tx: Tx, venue: Venue, card: BoundCard, amount_minor: int, **values: Any) -> int:
    payout_id: int = tx.conn.execute(
        payouts.insert()
        .values(
            venue_id=venue.id,
            card_account_id=card.account.id,
            medium_id=card.medium_id,
            amount_minor=amount_minor,
            currency=venue.currency,
            created_at=tx.now,
            **values,
        )
        .returning(payouts.c.id)
    ).scalar_one()
    return payout_id


def request_bank_payout(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    account_holder: str,
    iban: str,
    bic: str | None = None,
    amount: Money | None = None,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> PayoutView:
    """Ask for leftover prepaid value (all of it unless an amount is given) to be transferred to the visitor's
    bank account with the next SEPA export. The IBAN is validated and normalised before anything is booked;
    the value leaves the card at once, so it cannot be spent and paid out twice. Audited."""
    if amount is not None:
        check_positive_amount(amount.minor)
    account = bank_account(account_holder, iban, bic)  # refuses bad details before any transaction
    payload = {
        "medium_uid": medium_uid,
        "account_holder": account.holder,
        "iban": account.iban,
        "bic": account.bic,
        "amount": money_payload(amount),
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> PayoutView:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        check_sepa_currency(venue.currency)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        wanted = _payout_amount(tx, venue, card, amount)
        payout_id = _insert_payout(
            tx,
            venue,
            card,
            wanted,
            method=PayoutMethod.BANK.value,
            state=PayoutState.REQUESTED.value,
            account_holder=account.holder,
            iban=account.iban,
            bic=account.bic,
        )
        draft = EntryDraft(EntryCode.PAYOUT, memo=f"bank payout {payout_id} requested")
        draft.debit(card_money(card.account.id, venue.currency), wanted)
        draft.credit(payouts_due(payout_id, venue.currency), wanted)
        book_advance_released(draft, venue, wanted)
        entry_id = post_entry(tx, ctx, venue, draft)
        tx.conn.execute(payouts.update().where(payouts.c.id == payout_id).values(entry_id=entry_id))
        audit.record(
            tx,
            ctx,
            "payout.request",
            f"payout:{payout_id}",
            {"card_account_id": card.account.id, "amount_minor": wanted, "entry_id": entry_id},
        )
        return load_payout(tx, venue.id, payout_id, card_balance(tx, card.account.id, venue.currency))

    return run_idempotent(uow, ctx, "request_bank_payout", payload, handler, PayoutView)


def pay_out_cash(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    amount: Money | None = None,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> PayoutView:
    """Hand leftover prepaid value (all of it unless an amount is given) over in cash at the till, with a
    refund receipt; recorded as a payout that is paid at once. Audited."""
    if amount is not None:
        check_positive_amount(amount.minor)
    payload = {
        "medium_uid": medium_uid,
        "amount": money_payload(amount),
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> PayoutView:
        venue = authorise(tx, ctx, Permission.PREPAID_REFUND)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        wanted = _payout_amount(tx, venue, card, amount)
        payout_id = _insert_payout(
            tx, venue, card, wanted, method=PayoutMethod.CASH.value, state=PayoutState.PAID.value, resolved_at=tx.now
        )
        draft = EntryDraft(EntryCode.PAYOUT, memo=f"cash payout {payout_id}")
        draft.debit(card_money(card.account.id, venue.currency), wanted)
        draft.credit(cash(venue.currency), wanted)
        book_advance_released(draft, venue, wanted)
        entry_id = post_entry(tx, ctx, venue, draft)
        tx.conn.execute(payouts.update().where(payouts.c.id == payout_id).values(entry_id=entry_id))
        audit.record(
            tx,
            ctx,
            "payout.cash",
            f"payout:{payout_id}",
            {"card_account_id": card.account.id, "amount_minor": wanted, "entry_id": entry_id},
        )
        balance = card_balance(tx, card.account.id, venue.currency)
        receipting.issue(
            tx,
            ctx,
            venue,
            ReceiptKind.REFUND,
            lines=[receipting.value_line("Prepaid value paid out", wanted)],
            paid=receipting.Paid([TenderLine(kind="cash", amount_minor=wanted)]),
            entry_id=entry_id,
            medium_uid=card.medium_uid,
            balance_after_minor=balance,
            reference=f"payout {payout_id}",
        )
        return load_payout(tx, venue.id, payout_id, balance)

    return run_idempotent(uow, ctx, "pay_out_cash", payload, handler, PayoutView)


def revoke_payout(uow: UnitOfWork, ctx: RequestContext, *, payout_id: int, reason: str) -> PayoutView:
    """Take back a bank payout that has not been exported yet: the value goes back onto its card account,
    by a `payout` entry that points to the request's entry. Once in a SEPA file the transfer is the bank's
    and can no longer be revoked here. Audited with the reason."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise InvalidRequest(f"give a reason of 1..{MAX_REASON_LENGTH} characters")
    payload = {"payout_id": payout_id, "reason": reason}

    def handler(tx: Tx) -> PayoutView:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        found = load_payout(tx, venue.id, payout_id)
        # Card account before payout, the order in which a request creates them: no lock cycle with it.
        (account,) = lock_card_accounts(tx, [found.card_account_id])
        (row,) = tx.lock_rows(payouts, [payout_id])
        if row.method != PayoutMethod.BANK.value:
            raise PayoutNotRevocable("a cash payout was handed over at the till; it cannot be revoked")
        if row.state != PayoutState.REQUESTED.value:
            where = f" in batch {row.batch_id}" if row.batch_id else ""
            raise PayoutNotRevocable(f"payout {payout_id} is {row.state}{where}; only a requested payout is revoked")
        if account.closed:
            # The medium was returned since: value put back on a closed account could never be spent or
            # paid out again, so the payout stays owed and goes out with the next export.
            raise PayoutNotRevocable("the card account was closed when the medium was returned")
        draft = EntryDraft(
            EntryCode.PAYOUT, memo=f"bank payout {payout_id} revoked: {reason}", corrects_entry_id=row.entry_id
        )
        draft.debit(payouts_due(payout_id, row.currency), row.amount_minor)
        draft.credit(card_money(row.card_account_id, row.currency), row.amount_minor)
        book_advance_received(draft, venue, row.amount_minor)
        entry_id = post_entry(tx, ctx, venue, draft)
        tx.conn.execute(
            payouts.update()
            .where(payouts.c.id == payout_id)
            .values(state=PayoutState.REVOKED.value, revoke_entry_id=entry_id, resolved_at=tx.now)
        )
        audit.record(tx, ctx, "payout.revoke", f"payout:{payout_id}", {"reason": reason, "entry_id": entry_id})
        return load_payout(tx, venue.id, payout_id, card_balance(tx, row.card_account_id, row.currency))

    return run_idempotent(uow, ctx, "revoke_payout", payload, handler, PayoutView)


def list_payouts(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    state: PayoutState | None = None,
    method: PayoutMethod | None = None,
    batch_id: int | None = None,
    limit: int = 200,
) -> PayoutListView:
    """The venue's payouts, newest first, optionally of one state, method or batch."""
    limit = max(1, min(limit, MAX_LIST))
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        query = payout_query().where(payouts.c.venue_id == venue.id)
        if state is not None:
            query = query.where(payouts.c.state == state.value)
        if method is not None:
            query = query.where(payouts.c.method == method.value)
        if batch_id is not None:
            query = query.where(payouts.c.batch_id == batch_id)
        rows = tx.conn.execute(query.order_by(sa.desc(payouts.c.id)).limit(limit)).all()
        return PayoutListView(payouts=[view_of(row) for row in rows])
