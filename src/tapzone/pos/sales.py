"""Immediate sale paid from the card balance (gastronomy and tanning mode: no tab, paid at once)."""

from __future__ import annotations

from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InsufficientBalance, InvalidAmount, WrongCreditType
from tapzone.fiscal.profiles import book_advance_released
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import bound_card
from tapzone.money import MAX_AMOUNT_MINOR
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import card_balance, reserved_total
from tapzone.pos.booking import credit_revenue
from tapzone.pos.catalogue import Item, check_items, load_products
from tapzone.pos.vat import split_by_rate
from tapzone.pos.views import SaleView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import tab_lines, tabs
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
    check_items(items)
    payload = {
        "medium_uid": medium_uid,
        "card_account_id": card_account_id,
        "entry": entry.value,
        "items": [[item.product_id, item.quantity] for item in items],
    }

    def handler(tx: Tx) -> SaleView:
        venue = authorise(tx, ctx, Permission.SALE)
        require_payment_with_medium(venue)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        account = card.account
        if account.credit_type is not CreditType.PREPAID:
            raise WrongCreditType("only prepaid card accounts pay at once; credit goes on the tab")
        catalogue = load_products(tx, venue.id, {item.product_id for item in items})
        priced = [(catalogue[item.product_id], item.quantity) for item in items]
        total = sum(product.price_minor * quantity for product, quantity in priced)
        if total > MAX_AMOUNT_MINOR:
            raise InvalidAmount(f"the items total {total} exceeds the maximum of {MAX_AMOUNT_MINOR}")
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
        # The sold lines are kept as an already-settled tab, so receipts and reports see what was sold.
        tab_id = tx.conn.execute(
            tabs.insert()
            .values(
                venue_id=venue.id,
                card_account_id=account.id,
                state="settled",
                opened_at=tx.now,
                closed_at=tx.now,
                settlement_entry_id=entry_id,
            )
            .returning(tabs.c.id)
        ).scalar_one()
        tx.conn.execute(
            tab_lines.insert(),
            [
                {
                    "venue_id": venue.id,
                    "tab_id": tab_id,
                    "product_id": product.id,
                    "name": product.name,
                    "quantity": quantity,
                    "unit_price_minor": product.price_minor,
                    "amount_minor": product.price_minor * quantity,
                    "vat_rate_bp": product.vat_rate_bp,
                    "product_group": product.product_group,
                    "state": "settled",
                    "device_id": ctx.device_id,
                    "operator_id": ctx.operator_id,
                    "created_at": tx.now,
                }
                for product, quantity in priced
            ],
        )
        return SaleView(
            entry_id=entry_id,
            card_account_id=account.id,
            total_minor=total,
            balance_minor=card_balance(tx, account.id, venue.currency),
        )

    return run_idempotent(uow, ctx, "sell_from_balance", payload, handler, SaleView)
