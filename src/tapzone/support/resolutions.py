"""Support closes an online top-up that never completed (seed 004 "Online Guthaben Transfer": support needs
the card number, the value of the pending transaction and the correction value, then corrects the open
transaction).

Resolving books what actually arrived at the provider as a correction to the card and marks the top-up
`resolved` in the same transaction, under its row lock. A confirmation the provider sends afterwards finds
it closed and credits nothing: the card gets the value once, whichever comes first.
"""

from __future__ import annotations

import sqlalchemy as sa

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, CurrencyMismatch, InvalidRequest, NotFound
from tapzone.fiscal.profiles import book_advance_received
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, online_clearing
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import find_medium
from tapzone.money import Money, check_non_negative_amount, money_payload
from tapzone.plans.card_store import lock_card_accounts
from tapzone.portal.topups import PENDING, RESOLVED, OnlineTopupView, topup_view
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import online_topups
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.support.corrections import check_reason
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

PROVIDER_TRANSACTION_MAX_LENGTH = 64
ONLINE_TOPUP_STATES = frozenset({"pending", "credited", "resolved", "failed"})


def resolve_online_topup(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    topup_id: int,
    provider_transaction: str,
    correction: Money,
    reason: str,
) -> OnlineTopupView:
    """Close a pending online top-up with the provider's transaction as support found it and the value that
    actually arrived (0 when nothing did). Only a pending top-up can be resolved."""
    reason = check_reason(reason)
    provider_transaction = provider_transaction.strip() if isinstance(provider_transaction, str) else ""
    if not provider_transaction or len(provider_transaction) > PROVIDER_TRANSACTION_MAX_LENGTH:
        raise InvalidRequest(f"name the provider's transaction (1..{PROVIDER_TRANSACTION_MAX_LENGTH} characters)")
    check_non_negative_amount(correction.minor, "correction")
    payload = {
        "topup_id": topup_id,
        "provider_transaction": provider_transaction,
        "correction": money_payload(correction),
        "reason": reason,
    }

    def handler(tx: Tx) -> OnlineTopupView:
        venue = authorise(tx, ctx, Permission.BALANCE_CORRECT)
        if correction.currency != venue.currency:
            raise CurrencyMismatch(f"the correction is in {correction.currency}, this venue works in {venue.currency}")
        found = tx.conn.execute(
            sa.select(online_topups.c.id).where(online_topups.c.id == topup_id, online_topups.c.venue_id == venue.id)
        ).first()
        if found is None:
            raise NotFound(f"online top-up {topup_id} does not exist")
        (row,) = tx.lock_rows(online_topups, [topup_id])
        if row.state != PENDING:
            raise Conflict(f"online top-up {topup_id} is {row.state}; only a pending one can be resolved")
        entry_id = None
        if correction.minor:
            (account,) = lock_card_accounts(tx, [row.card_account_id])
            if account.closed:
                raise Conflict("the card account is closed; pay the value out another way")
            # The provider took the money and pays it out with its other payments: its clearing account, not
            # the correction account, is the other side, so the provider's payout still clears against it.
            draft = EntryDraft(
                EntryCode.CORRECTION,
                memo=f"online top-up {row.id} resolved by support: {row.provider} transaction {provider_transaction}",
            )
            draft.debit(online_clearing(venue.currency, row.provider), correction.minor)
            draft.credit(card_money(row.card_account_id, venue.currency), correction.minor)
            book_advance_received(draft, venue, correction.minor)
            entry_id = post_entry(tx, ctx, venue, draft)
        resolution = f"{row.provider} transaction {provider_transaction}: {correction} credited. {reason}"
        tx.conn.execute(
            online_topups.update()
            .where(online_topups.c.id == row.id)
            .values(state=RESOLVED, resolved_by=ctx.operator_id, resolution=resolution[:500], entry_id=entry_id)
        )
        audit.record(
            tx,
            ctx,
            "online_top_up.resolve",
            f"online-top-up:{row.id}",
            {
                "provider_transaction": provider_transaction,
                "ordered_minor": row.amount_minor,
                "correction_minor": correction.minor,
                "entry_id": entry_id,
                "reason": reason,
            },
        )
        updated = tx.conn.execute(sa.select(online_topups).where(online_topups.c.id == row.id)).one()
        return topup_view(tx, updated)

    return run_idempotent(uow, ctx, "resolve_online_top_up", payload, handler, OnlineTopupView)


def list_online_topups(
    uow: UnitOfWork, ctx: RequestContext, *, state: str | None = None, medium_uid: str | None = None
) -> list[OnlineTopupView]:
    """Online top-ups for support to look into, newest first: by state (e.g. pending) and medium number."""
    if state is not None and state not in ONLINE_TOPUP_STATES:
        raise InvalidRequest(f"state must be one of {sorted(ONLINE_TOPUP_STATES)}")
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.BALANCE_CORRECT)
        query = sa.select(online_topups).where(online_topups.c.venue_id == ctx.venue_id)
        if state is not None:
            query = query.where(online_topups.c.state == state)
        if medium_uid is not None:
            medium = find_medium(tx, ctx.venue_id, medium_uid)
            if medium is None:
                return []
            query = query.where(online_topups.c.medium_id == medium.id)
        rows = tx.conn.execute(query.order_by(online_topups.c.id.desc()).limit(500)).all()
        return [topup_view(tx, row) for row in rows]
