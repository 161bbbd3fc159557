"""Exceptions after the visit (seed 001 "Hantering av undantag"), for orders left in the open card-orders list.

- A visitor who left with unpaid goods on credit: cancel the products (`tab.cancel`, pos/tabs.cancel_lines)
  or write the tab off: the goods were handed over, so their revenue and VAT are booked against bad debt.
- A visitor who left prepaid value behind: empty the value card to breakage, or offset the value with a
  product made for it ("Ej nyttjade förskott", unused advances), sold for exactly what is left.
Both need `tab.write_off` and are audited.
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InvalidRequest, NotFound, NothingToSettle, UnpaidGoods
from tapzone.fiscal.profiles import book_advance_released
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import AccountRef, EntryDraft, Purpose, breakage, card_money
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import bound_card
from tapzone.plans.card_store import card_balance, lock_card_accounts, reserved_total
from tapzone.pos.booking import credit_revenue
from tapzone.pos.catalogue import load_products
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, ReceiptLine, TenderLine
from tapzone.pos.tab_store import open_lines, open_tab_id, record_closed_tab
from tapzone.pos.vat import split_by_rate
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import products, tab_lines, tabs
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


def bad_debt(currency: str) -> AccountRef:
    """Goods handed over and never paid for: the venue's loss, kept apart from cash differences."""
    return AccountRef(Purpose.CASH_DIFFERENCE, currency, qualifier="bad-debt")


class WriteOffView(BaseModel):
    tab_id: int
    entry_id: int
    written_off_minor: int
    line_ids: list[int]


class EmptiedView(BaseModel):
    card_account_id: int
    entry_id: int
    amount_minor: int
    mode: str
    receipt_id: int | None


def write_off_tab(uow: UnitOfWork, ctx: RequestContext, *, tab_id: int, reason: str) -> WriteOffView:
    """Write off an open credit tab of a visitor who left without paying (seed 001)."""
    if not reason.strip():
        raise InvalidRequest("a reason is required")
    payload = {"tab_id": tab_id, "reason": reason}

    def handler(tx: Tx) -> WriteOffView:
        venue = authorise(tx, ctx, Permission.TAB_WRITE_OFF)
        tab = tx.conn.execute(
            sa.select(tabs).where(tabs.c.id == tab_id, tabs.c.venue_id == venue.id, tabs.c.state == "open")
        ).first()
        if tab is None:
            raise NotFound(f"tab {tab_id} is not open")
        (account,) = lock_card_accounts(tx, [tab.card_account_id])
        if reserved_total(tx, account.id, venue.currency):
            raise InvalidRequest("this tab is covered by prepaid value: settle it with the value instead")
        lines = open_lines(tx, tab_id)
        if not lines:
            raise NothingToSettle("the tab has no open lines")
        total = sum(line.amount_minor for line in lines)
        draft = EntryDraft(EntryCode.WRITE_OFF, memo=f"tab {tab_id} written off: {reason.strip()}"[:500])
        draft.debit(bad_debt(venue.currency), total)
        credit_revenue(draft, venue, split_by_rate((line.amount_minor, line.vat_rate_bp) for line in lines))
        entry_id = post_entry(tx, ctx, venue, draft)
        line_ids = [line.id for line in lines]
        tx.conn.execute(tab_lines.update().where(tab_lines.c.id.in_(line_ids)).values(state="written-off"))
        tx.conn.execute(
            tabs.update()
            .where(tabs.c.id == tab_id)
            .values(state="closed", closed_at=tx.now, settlement_entry_id=entry_id)
        )
        audit.record(tx, ctx, "tab.write_off", f"tab:{tab_id}", {"reason": reason, "amount_minor": total})
        return WriteOffView(tab_id=tab_id, entry_id=entry_id, written_off_minor=total, line_ids=line_ids)

    return run_idempotent(uow, ctx, "write_off_tab", payload, handler, WriteOffView)


def empty_prepaid(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    mode: Literal["breakage", "product"],
    reason: str,
    product_id: int | None = None,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> EmptiedView:
    """Clear prepaid value a visitor left behind: to breakage, or spent on an "unused advances" product."""
    if mode not in ("breakage", "product"):
        raise InvalidRequest("mode is breakage or product")
    if (mode == "product") != (product_id is not None):
        raise InvalidRequest("name the unused-advances product exactly when offsetting with a product")
    if not reason.strip():
        raise InvalidRequest("a reason is required")
    payload = {
        "medium_uid": medium_uid,
        "mode": mode,
        "reason": reason,
        "product_id": product_id,
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> EmptiedView:
        venue = authorise(tx, ctx, Permission.TAB_WRITE_OFF)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        account = card.account
        tab_id = open_tab_id(tx, account.id)
        if (tab_id is not None and open_lines(tx, tab_id)) or reserved_total(tx, account.id, venue.currency):
            raise UnpaidGoods("the card has open tab lines: settle or cancel them first")
        left = card_balance(tx, account.id, venue.currency)
        if left <= 0:
            raise NothingToSettle("no prepaid value is left on this card account")
        receipt_id = None
        if mode == "breakage":
            draft = EntryDraft(EntryCode.BREAKAGE, memo=f"unused prepaid value: {reason.strip()}"[:500])
            draft.debit(card_money(account.id, venue.currency), left).credit(breakage(venue.currency), left)
            book_advance_released(draft, venue, left)
            entry_id = post_entry(tx, ctx, venue, draft)
        else:
            assert product_id is not None
            product = load_products(tx, venue.id, {product_id}, customer_id=None)[product_id]
            draft = EntryDraft(EntryCode.SALE, memo=f"{product.name}: {reason.strip()}"[:500])
            draft.debit(card_money(account.id, venue.currency), left)
            credit_revenue(draft, venue, split_by_rate([(left, product.vat_rate_bp)]))
            book_advance_released(draft, venue, left)
            entry_id = post_entry(tx, ctx, venue, draft)
            # The product is sold for exactly what is left on the card, whatever its list price.
            at_leftover = tx.conn.execute(
                sa.select(
                    products.c.id,
                    products.c.name,
                    sa.literal(left, sa.BigInteger).label("price_minor"),
                    products.c.vat_rate_bp,
                    products.c.product_group,
                ).where(products.c.id == product.id)
            ).one()
            priced = [(at_leftover, 1)]
            record_closed_tab(
                tx, ctx, venue_id=venue.id, card_account_id=account.id, state="settled", entry_id=entry_id, sold=priced
            )
            receipt_id = receipting.issue(
                tx,
                ctx,
                venue,
                ReceiptKind.PURCHASE,
                lines=[
                    ReceiptLine(
                        name=product.name,
                        quantity=1,
                        unit_price_minor=left,
                        amount_minor=left,
                        vat_rate_bp=product.vat_rate_bp,
                    )
                ],
                paid=receipting.Paid([TenderLine(kind="prepaid", amount_minor=left)]),
                entry_id=entry_id,
                medium_uid=card.medium_uid,
                balance_after_minor=0,
            )
        audit.record(
            tx, ctx, f"prepaid.empty_{mode}", f"card-account:{account.id}", {"amount_minor": left, "reason": reason}
        )
        return EmptiedView(
            card_account_id=account.id, entry_id=entry_id, amount_minor=left, mode=mode, receipt_id=receipt_id
        )

    return run_idempotent(uow, ctx, "empty_prepaid", payload, handler, EmptiedView)
