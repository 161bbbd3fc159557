"""A registered customer's account: debts booked there instead of on a wristband, and paying them.

seed 001: by default a member's purchases go to the customer account and are invoiced or paid later; the
venue may instead keep them on the wristband (usePaymentKeyForPerson, `venues.member_debt_on_medium`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.errors import NotFound, NothingToSettle, OverTender
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, customer_receivable
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import BoundCard
from tapzone.payments.flow import card_gate, card_payable
from tapzone.pos.booking import credit_revenue, debit_tenders
from tapzone.pos.catalogue import Item
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind
from tapzone.pos.tab_store import ON_ACCOUNT, record_closed_tab
from tapzone.pos.tenders import Tender, TenderKind, plan_tenders
from tapzone.pos.vat import split_by_rate
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import account_balances, customers, ledger_accounts
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class CustomerAccountView(BaseModel):
    customer_id: int
    name: str
    currency: str
    owed_minor: int  # what the customer owes the venue


class CustomerPaymentView(CustomerAccountView):
    entry_id: int
    paid_minor: int
    change_minor: int
    receipt_id: int | None = None


def book_to_customer_account(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    card: BoundCard,
    priced_items: list[tuple[Item, int]],
    catalogue: dict[int, sa.Row[Any]],
) -> int:
    """Sell now on the customer's account: revenue and VAT at once, the debt on the customer account, the
    lines kept on a closed tab of the card account so the limit and the receipt still see them."""
    assert card.customer_id is not None
    total = sum(amount for _, amount in priced_items)
    draft = EntryDraft(EntryCode.SALE, memo=f"on account of customer {card.customer_id}")
    draft.debit(customer_receivable(card.customer_id, venue.currency), total)
    credit_revenue(
        draft, venue, split_by_rate((amount, catalogue[item.product_id].vat_rate_bp) for item, amount in priced_items)
    )
    entry_id = post_entry(tx, ctx, venue, draft)
    record_closed_tab(
        tx,
        ctx,
        venue_id=venue.id,
        card_account_id=card.account.id,
        state=ON_ACCOUNT,
        entry_id=entry_id,
        sold=[(catalogue[item.product_id], item.quantity) for item, _ in priced_items],
    )
    return entry_id


def _owed(tx: Tx, venue: Venue, customer_id: int) -> int:
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(account_balances.c.balance), 0))
        .join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
        .where(
            ledger_accounts.c.venue_id == venue.id,
            ledger_accounts.c.key == customer_receivable(customer_id, venue.currency).key,
        )
    ).scalar_one()
    return int(value)


def _customer_name(tx: Tx, venue_id: int, customer_id: int) -> str:
    name = tx.conn.execute(
        sa.select(customers.c.name).where(customers.c.id == customer_id, customers.c.venue_id == venue_id)
    ).scalar_one_or_none()
    if name is None:
        raise NotFound(f"customer {customer_id} does not exist in this venue")
    return str(name)


def view_customer_account(uow: UnitOfWork, ctx: RequestContext, *, customer_id: int) -> CustomerAccountView:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.TAB_SETTLE)
        name = _customer_name(tx, venue.id, customer_id)
        return CustomerAccountView(
            customer_id=customer_id, name=name, currency=venue.currency, owed_minor=_owed(tx, venue, customer_id)
        )


@card_payable("pay_customer_account")
def pay_customer_account(
    uow: UnitOfWork, ctx: RequestContext, *, customer_id: int, tenders: list[Tender]
) -> CustomerPaymentView:
    """Pay what a customer owes (all or part) in cash or by card; cash above the debt is change."""
    if any(tender.kind is TenderKind.PREPAID for tender in tenders):
        raise OverTender("a customer account is paid in cash or by card")
    payload = {"customer_id": customer_id, "tenders": [tender.payload() for tender in tenders]}

    def handler(tx: Tx) -> CustomerPaymentView:
        venue = authorise(tx, ctx, Permission.TAB_SETTLE)
        name = _customer_name(tx, venue.id, customer_id)
        tx.lock_rows(customers, [customer_id])  # one payment at a time per customer
        owed = _owed(tx, venue, customer_id)
        if owed <= 0:
            raise NothingToSettle("this customer owes nothing")
        offered = sum(tender.amount.minor for tender in tenders)
        # Part payments are fine; beyond the debt only cash is accepted, and the surplus is change.
        plan = card_gate(tx, ctx, venue, plan_tenders(min(owed, offered), tenders, 0, venue.currency))
        draft = EntryDraft(EntryCode.SETTLEMENT, memo=f"customer account {customer_id}")
        debit_tenders(draft, venue, plan, None)
        draft.credit(customer_receivable(customer_id, venue.currency), plan.due_minor)
        entry_id = post_entry(tx, ctx, venue, draft)
        receipt_id = receipting.issue(
            tx,
            ctx,
            venue,
            ReceiptKind.SETTLEMENT,
            lines=[receipting.value_line(f"Customer account: {name}", plan.due_minor, advance=False)],
            paid=receipting.paid_by(plan, tx, ctx.payment_id),
            entry_id=entry_id,
            reference=f"customer {customer_id}",
        )
        return CustomerPaymentView(
            receipt_id=receipt_id,
            customer_id=customer_id,
            name=name,
            currency=venue.currency,
            owed_minor=_owed(tx, venue, customer_id),
            entry_id=entry_id,
            paid_minor=plan.due_minor,
            change_minor=plan.change_minor,
        )

    return run_idempotent(uow, ctx, "pay_customer_account", payload, handler, CustomerPaymentView)
