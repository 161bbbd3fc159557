"""Online top-ups: paid through a payment provider, pending until the provider confirms, credited exactly once.

The customer starts a top-up in the portal and pays on the provider's page; the provider's signed webhook
confirms it. The online top-up row is the one place that decides: under its row lock only a `pending` top-up
can turn `credited` (booking the entry), `failed`, or — by support — `resolved` (support/resolutions.py). A
repeated, late or out-of-order confirmation finds it closed and changes nothing (seed 004).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound, WrongCreditType
from tapzone.fiscal.profiles import book_advance_received
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, online_clearing
from tapzone.ledger.posting import post_entry
from tapzone.money import Money, check_positive_amount, minor_in, money_payload
from tapzone.payments.online import Confirmation, OnlineProvider, ProviderStatus
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import CardAccount, card_account_from_row, card_balance, lock_card_accounts
from tapzone.portal.access import PortalMedium
from tapzone.portal.device import portal_context, portal_device
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, TenderLine
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import card_accounts, media, online_topups, receipts
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.repo import load_venue

PENDING = "pending"
CREDITED = "credited"
RESOLVED = "resolved"
FAILED = "failed"
RETURN_URL_MAX_LENGTH = 500


class OnlineTopupView(BaseModel):
    online_top_up_id: int
    state: str
    medium_uid: str
    card_account_id: int
    amount_minor: int
    currency: str
    provider: str
    provider_reference: str
    created_at: datetime
    confirmed_at: datetime | None = None
    entry_id: int | None = None  # the entry that credited the card (a correction when support resolved it)
    receipt_id: int | None = None
    redirect_url: str | None = None  # where the customer pays; only in the answer that started the top-up
    resolution: str | None = None
    detail: str = ""


def check_return_url(return_url: str) -> str:
    if not return_url.startswith(("https://", "http://")) or len(return_url) > RETURN_URL_MAX_LENGTH:
        raise InvalidRequest(f"return_url must be an http(s) URL of at most {RETURN_URL_MAX_LENGTH} characters")
    return return_url


def start_online_topup(
    uow: UnitOfWork,
    medium: PortalMedium,
    idempotency_key: str,
    *,
    amount: Money,
    provider: OnlineProvider,
    return_url: str,
) -> OnlineTopupView:
    """Open a pending online top-up of the medium's active prepaid card account and the provider payment for
    it; nothing is credited until the provider confirms (`confirm_online_payment`)."""
    check_positive_amount(amount.minor)
    check_return_url(return_url)
    ctx = portal_context(uow, medium.venue_id, idempotency_key)
    with uow.transaction() as tx:  # refuse before the provider is asked, not after the customer paid
        venue = load_venue(tx, medium.venue_id)
        amount_minor = minor_in(amount, venue.currency)
        _topup_account(tx, medium)
    # Our reference follows from the request's key: a retried request names the same provider payment.
    reference = "tz-" + hashlib.sha256(f"{ctx.venue_id}:{ctx.device_id}:{idempotency_key}".encode()).hexdigest()[:32]
    created = provider.create_payment(amount_minor, venue.currency, reference, return_url)  # outside any transaction
    payload = {
        "medium_id": medium.medium_id,
        "visit_id": medium.visit_id,
        "amount": money_payload(amount),
        "provider": provider.name,
        "return_url": return_url,
    }

    def handler(tx: Tx) -> OnlineTopupView:
        account = _topup_account(tx, medium, lock=True)
        topup_id = tx.conn.execute(
            online_topups.insert()
            .values(
                venue_id=venue.id,
                medium_id=medium.medium_id,
                card_account_id=account.id,
                amount_minor=amount_minor,
                currency=venue.currency,
                provider=provider.name,
                provider_reference=created.provider_reference,
                state=PENDING,
                created_at=tx.now,
            )
            .returning(online_topups.c.id)
        ).scalar_one()
        view = topup_view(tx, _row(tx, topup_id))
        return view.model_copy(update={"redirect_url": created.redirect_url})

    return run_idempotent(uow, ctx, "online_top_up", payload, handler, OnlineTopupView)


def confirm_online_payment(
    uow: UnitOfWork, provider: OnlineProvider, payload: bytes, signature: str
) -> OnlineTopupView:
    """A provider's webhook: verify it, then credit a pending top-up exactly once (or mark it failed). A top-up
    that is no longer pending — credited, failed, or resolved by support — is left exactly as it is."""
    confirmation = provider.parse_confirmation(payload, signature)  # refuses forged calls before any read
    with uow.transaction() as tx:
        topup_id = tx.conn.execute(
            sa.select(online_topups.c.id).where(
                online_topups.c.provider == provider.name,
                online_topups.c.provider_reference == confirmation.provider_reference,
            )
        ).scalar_one_or_none()
        if topup_id is None:
            raise NotFound("no online top-up has this payment reference")
        (row,) = tx.lock_rows(online_topups, [topup_id])
        if row.state != PENDING:
            return topup_view(tx, row, f"already {row.state}; nothing changed")
        if confirmation.status is ProviderStatus.PENDING:
            return topup_view(tx, row, "the provider still waits for the payment")
        ctx = RequestContext(row.venue_id, portal_device(tx, row.venue_id), None, f"online-top-up:{row.id}")
        if confirmation.status is ProviderStatus.FAILED:
            tx.conn.execute(
                online_topups.update().where(online_topups.c.id == row.id).values(state=FAILED, confirmed_at=tx.now)
            )
            return topup_view(tx, _row(tx, row.id))
        refusal = _why_not_credit(tx, row, confirmation)
        if refusal:
            # Money may have arrived, but not as ordered: leave it pending for support to resolve (seed 004).
            audit.record(tx, ctx, "online_top_up.held", f"online-top-up:{row.id}", {"reason": refusal})
            return topup_view(tx, row, refusal)
        venue = load_venue(tx, row.venue_id)
        entry_id = _credit(tx, ctx, venue, row)
        tx.conn.execute(
            online_topups.update()
            .where(online_topups.c.id == row.id)
            .values(state=CREDITED, confirmed_at=tx.now, entry_id=entry_id)
        )
        return topup_view(tx, _row(tx, row.id))


def portal_online_topups(uow: UnitOfWork, medium: PortalMedium) -> list[OnlineTopupView]:
    """The online top-ups of the medium during this visit, newest first."""
    with uow.transaction() as tx:
        rows = tx.conn.execute(
            sa.select(online_topups)
            .join(card_accounts, card_accounts.c.id == online_topups.c.card_account_id)
            .where(online_topups.c.medium_id == medium.medium_id, card_accounts.c.visit_id == medium.visit_id)
            .order_by(online_topups.c.id.desc())
        ).all()
        return [topup_view(tx, row) for row in rows]


def topup_view(tx: Tx, row: sa.Row[Any], detail: str = "") -> OnlineTopupView:
    uid = tx.conn.execute(sa.select(media.c.uid).where(media.c.id == row.medium_id)).scalar_one()
    receipt_id = None
    if row.entry_id is not None:
        receipt_id = tx.conn.execute(
            sa.select(sa.func.min(receipts.c.id)).where(receipts.c.entry_id == row.entry_id)
        ).scalar_one()
    return OnlineTopupView(
        online_top_up_id=row.id,
        state=row.state,
        medium_uid=uid,
        card_account_id=row.card_account_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        provider=row.provider,
        provider_reference=row.provider_reference,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        entry_id=row.entry_id,
        receipt_id=receipt_id,
        resolution=row.resolution,
        detail=detail,
    )


def _row(tx: Tx, topup_id: int) -> sa.Row[Any]:
    return tx.conn.execute(sa.select(online_topups).where(online_topups.c.id == topup_id)).one()


def _topup_account(tx: Tx, medium: PortalMedium, *, lock: bool = False) -> CardAccount:
    """The visit's active card account, which must hold plain prepaid value: an account of a seed 002 type is
    loaded by its type's top-up rule (bonus, price steps) at the counter."""
    account_id = tx.conn.execute(
        sa.select(card_accounts.c.id).where(
            card_accounts.c.visit_id == medium.visit_id,
            card_accounts.c.medium_id == medium.medium_id,
            card_accounts.c.closed_at.is_(None),
            card_accounts.c.is_active.is_(True),
        )
    ).scalar_one_or_none()
    if account_id is None:
        raise WrongCreditType("this medium has no card account that can be topped up")
    (account,) = lock_card_accounts(tx, [account_id]) if lock else _read_accounts(tx, [account_id])
    if account.credit_type is not CreditType.PREPAID or account.account_type_id is not None or account.closed:
        raise WrongCreditType("only plain prepaid card accounts can be topped up online")
    return account


def _read_accounts(tx: Tx, ids: list[int]) -> list[CardAccount]:
    rows = tx.conn.execute(sa.select(card_accounts).where(card_accounts.c.id.in_(ids)).order_by(card_accounts.c.id))
    return [card_account_from_row(row) for row in rows]


def _why_not_credit(tx: Tx, row: sa.Row[Any], confirmation: Confirmation) -> str:
    if confirmation.paid_amount_minor != row.amount_minor or confirmation.currency != row.currency:
        return (
            f"the provider reports {confirmation.paid_amount_minor} {confirmation.currency} paid, "
            f"{row.amount_minor} {row.currency} were ordered; left for support"
        )
    (account,) = lock_card_accounts(tx, [row.card_account_id])
    if account.closed:
        return "the card account was closed before the payment arrived; left for support"
    return ""


def _credit(tx: Tx, ctx: RequestContext, venue: Venue, row: sa.Row[Any]) -> int:
    """Book the top-up paid through the provider: its clearing account owes us the money, the card holds it
    (an advance with its VAT under 54-FZ), with a top-up receipt."""
    draft = EntryDraft(EntryCode.TOPUP, memo=f"online top-up {row.id} ({row.provider} {row.provider_reference})")
    draft.debit(online_clearing(venue.currency, row.provider), row.amount_minor)
    draft.credit(card_money(row.card_account_id, venue.currency), row.amount_minor)
    book_advance_received(draft, venue, row.amount_minor)
    entry_id = post_entry(tx, ctx, venue, draft)
    uid = tx.conn.execute(sa.select(media.c.uid).where(media.c.id == row.medium_id)).scalar_one()
    receipting.issue(
        tx,
        ctx,
        venue,
        ReceiptKind.TOPUP,
        lines=[receipting.value_line("Prepaid value", row.amount_minor)],
        paid=receipting.Paid(
            [TenderLine(kind="card", amount_minor=row.amount_minor, provider=f"online {row.provider}", cashless=True)]
        ),
        entry_id=entry_id,
        medium_uid=uid,
        balance_after_minor=card_balance(tx, row.card_account_id, venue.currency),
        reference=f"online top-up {row.id}",
    )
    return entry_id
