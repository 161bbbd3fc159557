"""Immediate sale paid from the card balance (gastronomy and tanning mode: no tab, paid at once)."""

from __future__ import annotations

from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InsufficientBalance, WrongCreditType
from tapzone.fiscal.profiles import book_advance_released
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import bound_card
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import card_balance, reserved_total
from tapzone.pos.booking import credit_revenue
from tapzone.pos.catalogue import Item, items_payload, price_items
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, ReceiptLine, TenderLine
from tapzone.pos.tab_store import record_closed_tab
from tapzone.pos.vat import split_by_rate
from tapzone.pos.views import SaleView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, require_payment_with_medium


def sell_from_balance(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    items: list[Item],
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> SaleView:
    """Sell products and pay them at once from prepaid value; refused when the free value is too small."""
    payload = items_payload(medium_uid, card_account_id, entry, items)

    def handler(tx: Tx) -> SaleView:
        venue = authorise(tx, ctx, Permission.SALE)
        require_payment_with_medium(venue)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        account = card.account
        if account.credit_type is not CreditType.PREPAID:
            raise WrongCreditType("only prepaid card accounts pay at once; credit goes on the tab")
        catalogue, _, total = price_items(tx, venue.id, items, customer_id=card.customer_id)
        priced = [(catalogue[item.product_id], item.quantity) for item in items]
        free = card_balance(tx, account.id, venue.currency) - reserved_total(tx, account.id, venue.currency)
        if total > free:
            raise InsufficientBalance(f"{total} exceeds the prepaid value available ({free})")
        draft = EntryDraft(EntryCode.SALE, memo="sale paid from card balance")
        draft.debit(card_money(account.id, venue.currency), total)
        credit_revenue(
            draft,
            venue,
            split_by_rate((product.price_minor * quantity, product.vat_rate_bp) for product, quantity in priced),
        )
        book_advance_released(draft, venue, total)
        entry_id = post_entry(tx, ctx, venue, draft)
        record_closed_tab(
            tx, ctx, venue_id=venue.id, card_account_id=account.id, state="settled", entry_id=entry_id, sold=priced
        )
        balance = card_balance(tx, account.id, venue.currency)
        receipt_id = receipting.issue(
            tx,
            ctx,
            venue,
            ReceiptKind.PURCHASE,
            lines=[
                ReceiptLine(
                    name=product.name,
                    quantity=quantity,
                    unit_price_minor=product.price_minor,
                    amount_minor=product.price_minor * quantity,
                    vat_rate_bp=product.vat_rate_bp,
                )
                for product, quantity in priced
            ],
            paid=receipting.Paid([TenderLine(kind="prepaid", amount_minor=total)]),
            entry_id=entry_id,
            medium_uid=card.medium_uid,
            balance_after_minor=balance,
        )
        return SaleView(
            entry_id=entry_id,
            card_account_id=account.id,
            total_minor=total,
            balance_minor=balance,
            receipt_id=receipt_id,
        )

    return run_idempotent(uow, ctx, "sell_from_balance", payload, handler, SaleView)
