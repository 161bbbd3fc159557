"""Top-ups of prepaid value: a liability, never revenue (DESIGN §3)."""

from __future__ import annotations

from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InvalidRequest, WrongCreditType
from tapzone.fiscal.profiles import book_advance_received
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import bound_card
from tapzone.money import Money, check_positive_amount, minor_in, money_payload
from tapzone.payments.flow import card_gate, card_payable
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import card_balance
from tapzone.pos.booking import debit_tenders
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, Tender, TenderKind, plan_tenders
from tapzone.pos.views import TopupView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


def check_topup_tender(tender: TenderKind) -> TenderKind:
    tender = TenderKind(tender)
    if tender is TenderKind.PREPAID:
        raise InvalidRequest("prepaid value cannot pay for a top-up; use cash or card")
    return tender


def book_topup(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    card_account_id: int,
    amount_minor: int,
    tender: TenderKind,
    card_provider: str,
    medium_uid: str | None = None,
) -> tuple[int, int]:
    """Book a top-up and issue its receipt (an advance receipt under 54-FZ); returns (entry, receipt)."""
    amount = Money(amount_minor, venue.currency)
    plan = card_gate(
        tx, ctx, venue, plan_tenders(amount_minor, [Tender(tender, amount, card_provider)], 0, venue.currency)
    )
    draft = EntryDraft(EntryCode.TOPUP, memo="prepaid top-up")
    debit_tenders(draft, venue, plan, None)
    draft.credit(card_money(card_account_id, venue.currency), amount_minor)
    book_advance_received(draft, venue, amount_minor)
    entry_id = post_entry(tx, ctx, venue, draft)
    receipt_id = receipting.issue(
        tx,
        ctx,
        venue,
        ReceiptKind.TOPUP,
        lines=[receipting.value_line("Prepaid value", amount_minor)],
        paid=receipting.paid_by(plan, tx, ctx.payment_id),
        entry_id=entry_id,
        medium_uid=medium_uid,
        balance_after_minor=card_balance(tx, card_account_id, venue.currency),
    )
    return entry_id, receipt_id


@card_payable("top_up")
def top_up(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    amount: Money,
    tender: TenderKind = TenderKind.CASH,
    card_provider: str = DEFAULT_CARD_PROVIDER,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> TopupView:
    """Load prepaid value onto a prepaid card account (seed 001 "Fyll på kredit")."""
    check_positive_amount(amount.minor)
    tender = check_topup_tender(tender)
    payload = {
        "medium_uid": medium_uid,
        "amount": money_payload(amount),
        "tender": tender.value,
        "card_provider": card_provider,
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> TopupView:
        venue = authorise(tx, ctx, Permission.TOPUP)
        amount_minor = minor_in(amount, venue.currency)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        if card.account.account_type_id is not None:
            # An account of a seed 002 type is topped up by its type's rule (bonus, price list, fee).
            from tapzone.plans.selling import top_up_typed_account

            return top_up_typed_account(
                tx, ctx, venue, card.account.account_type_id, card.account.id, amount_minor, tender, card_provider
            )
        if card.account.credit_type is not CreditType.PREPAID:
            raise WrongCreditType("only prepaid card accounts can be loaded")
        entry_id, receipt_id = book_topup(
            tx, ctx, venue, card.account.id, amount_minor, tender, card_provider, card.medium_uid
        )
        return TopupView(
            entry_id=entry_id,
            card_account_id=card.account.id,
            amount_minor=amount_minor,
            balance_minor=card_balance(tx, card.account.id, venue.currency),
            receipt_id=receipt_id,
        )

    return run_idempotent(uow, ctx, "top_up", payload, handler, TopupView)
