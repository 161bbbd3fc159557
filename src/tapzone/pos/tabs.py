"""The tab of a card account: Save (add lines), Bill ("Nota") and cancelling lines (seed 001)."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.customers.accounts import book_to_customer_account
from tapzone.errors import (
    CreditLimitExceeded,
    InsufficientBalance,
    InvalidRequest,
    NotFound,
    NothingToSettle,
    WrongCreditType,
)
from tapzone.ledger import holds
from tapzone.media.lookup import BoundCard, bound_card
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item, items_payload, price_items
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind
from tapzone.pos.tab_store import ensure_open_tab, open_lines, open_tab_id, tab_state, tab_view
from tapzone.pos.views import BillView, CancelView, TabView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import bill_lines, bills, tab_lines
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, require_payment_with_medium


def save_items(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    items: list[Item],
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> TabView:
    """ "Spara": put products on the tab, refused past the limit (seed 001: the credit limit or the prepaid
    amount cannot be exceeded). Prepaid value is reserved by a hold per line; nothing is paid yet."""
    payload = items_payload(medium_uid, card_account_id, entry, items)

    def handler(tx: Tx) -> TabView:
        venue = authorise(tx, ctx, Permission.TAB_SAVE)
        require_payment_with_medium(venue)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        account = card.account
        if account.credit_type is CreditType.NONE:
            raise WrongCreditType("this card account has neither credit nor prepaid value")
        catalogue, amounts, total = price_items(tx, venue.id, items, customer_id=card.customer_id)
        power, known_tab_id = tab_state(tx, card)
        available = power.available_minor
        if total > available:
            if account.credit_type is CreditType.CREDIT:
                raise CreditLimitExceeded(f"{total} exceeds the credit still available ({available})")
            raise InsufficientBalance(f"{total} exceeds the prepaid value still available ({available})")
        if (
            card.customer_id is not None
            and account.credit_type is CreditType.CREDIT
            and not venue.member_debt_on_medium
        ):
            # seed 001: a registered customer's debt goes to the customer account, not onto the wristband.
            book_to_customer_account(tx, ctx, venue, card, list(zip(items, amounts, strict=True)), catalogue)
            after = dataclasses.replace(power, on_account_minor=power.on_account_minor + total)
            return tab_view(tx, card, after)
        tab_id = ensure_open_tab(tx, venue.id, account.id, known_tab_id)
        for item, amount in zip(items, amounts, strict=True):
            product = catalogue[item.product_id]
            line_id = tx.conn.execute(
                tab_lines.insert()
                .values(
                    venue_id=venue.id,
                    tab_id=tab_id,
                    product_id=product.id,
                    name=product.name,
                    quantity=item.quantity,
                    unit_price_minor=product.price_minor,
                    amount_minor=amount,
                    vat_rate_bp=product.vat_rate_bp,
                    product_group=product.product_group,
                    state="open",
                    device_id=ctx.device_id,
                    operator_id=ctx.operator_id,
                    created_at=tx.now,
                )
                .returning(tab_lines.c.id)
            ).scalar_one()
            if account.credit_type is CreditType.PREPAID:
                holds.reserve(
                    tx,
                    venue_id=venue.id,
                    card_account_id=account.id,
                    unit=venue.currency,
                    amount=amount,
                    tab_line_id=line_id,
                )
        after = dataclasses.replace(power, open_tab_minor=power.open_tab_minor + total)
        return tab_view(tx, card, after, tab_id)

    return run_idempotent(uow, ctx, "save_items", payload, handler, TabView)


def view_tab(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> TabView:
    """What the till shows when a medium is read: the open lines, the total and what is still available."""
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.TAB_SAVE)
        return tab_view(tx, bound_card(tx, ctx, medium_uid, entry, card_account_id))


def _require_open_tab(tx: Tx, card: BoundCard) -> tuple[int, list[sa.Row[Any]]]:
    tab_id = open_tab_id(tx, card.account.id)
    lines = open_lines(tx, tab_id) if tab_id is not None else []
    if tab_id is None or not lines:
        raise NothingToSettle("the tab has no unpaid lines")
    return tab_id, lines


def bill_tab(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> BillView:
    """ "Nota": a numbered document of the unpaid lines, marked unpaid; it does not settle anything."""
    payload = {"medium_uid": medium_uid, "card_account_id": card_account_id, "entry": entry.value}

    def handler(tx: Tx) -> BillView:
        venue = authorise(tx, ctx, Permission.TAB_BILL)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        tab_id, lines = _require_open_tab(tx, card)
        last_number = tx.conn.execute(
            sa.select(sa.func.max(bills.c.number)).where(
                bills.c.venue_id == venue.id, bills.c.device_id == ctx.device_id
            )
        ).scalar_one()
        number = (last_number or 0) + 1
        total = sum(line.amount_minor for line in lines)
        bill_id: int = tx.conn.execute(
            bills.insert()
            .values(
                venue_id=venue.id,
                tab_id=tab_id,
                device_id=ctx.device_id,
                operator_id=ctx.operator_id,
                number=number,
                total_minor=total,
                currency=venue.currency,
                status="unpaid",
                created_at=tx.now,
            )
            .returning(bills.c.id)
        ).scalar_one()
        tx.conn.execute(bill_lines.insert(), [{"bill_id": bill_id, "tab_line_id": line.id} for line in lines])
        receipt_id = receipting.issue(
            tx,
            ctx,
            venue,
            ReceiptKind.BILL,
            lines=receipting.lines_of(lines),
            medium_uid=card.medium_uid,
            reference=f"bill {number}, tab {tab_id}",
        )
        return BillView(
            receipt_id=receipt_id,
            bill_id=bill_id,
            number=number,
            tab_id=tab_id,
            total_minor=total,
            currency=venue.currency,
            status="unpaid",
            line_ids=[line.id for line in lines],
        )

    return run_idempotent(uow, ctx, "bill_tab", payload, handler, BillView)


def cancel_lines(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    reason: str,
    line_ids: list[int] | None = None,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> CancelView:
    """Cancel unpaid tab lines (all when none are named); needs `tab.cancel` and is audited.

    seed 001 exception handling: a credit order is cleared by cancelling everything bought on credit.
    """
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required to cancel tab lines")
    payload = {
        "medium_uid": medium_uid,
        "reason": reason,
        "line_ids": line_ids,
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> CancelView:
        authorise(tx, ctx, Permission.TAB_CANCEL)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        tab_id, lines = _require_open_tab(tx, card)
        open_ids = {line.id for line in lines}
        chosen = sorted(open_ids if line_ids is None else set(line_ids))
        unknown = [line_id for line_id in chosen if line_id not in open_ids]
        if unknown:
            raise NotFound(f"tab lines {unknown} are not open on this tab")
        tx.conn.execute(
            tab_lines.update()
            .where(tab_lines.c.id.in_(chosen))
            .values(state="cancelled", cancelled_at=tx.now, cancel_reason=reason.strip())
        )
        holds.resolve_for_lines(tx, chosen, holds.HoldState.VOIDED)
        # A printed bill that lists a cancelled line no longer tells the truth.
        tx.conn.execute(
            bills.update()
            .where(
                bills.c.status == "unpaid",
                bills.c.id.in_(sa.select(bill_lines.c.bill_id).where(bill_lines.c.tab_line_id.in_(chosen))),
            )
            .values(status="void")
        )
        cancelled = [line for line in lines if line.id in set(chosen)]
        audit.record(
            tx,
            ctx,
            "tab.cancel",
            f"tab:{tab_id}",
            {"lines": chosen, "amount_minor": sum(line.amount_minor for line in cancelled), "reason": reason.strip()},
        )
        remaining = sum(line.amount_minor for line in lines if line.id not in set(chosen))
        return CancelView(tab_id=tab_id, cancelled_line_ids=chosen, open_total_minor=remaining)

    return run_idempotent(uow, ctx, "cancel_lines", payload, handler, CancelView)
