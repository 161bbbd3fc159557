"""Tabs as stored: the open tab of a card account, its lines, and the view a till shows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.media.lookup import BoundCard
from tapzone.plans.card_accounts import SpendingPower
from tapzone.pos.party import other_party_tabs
from tapzone.pos.views import PartyDebtView, TabLineView, TabView
from tapzone.store.tables import card_balances, tab_lines, tabs
from tapzone.store.uow import Tx

# A tab whose lines went straight to a registered customer's account: closed, nothing left to pay here.
ON_ACCOUNT = "on-account"


def open_tab_id(tx: Tx, card_account_id: int) -> int | None:
    value = tx.conn.execute(
        sa.select(tabs.c.id).where(tabs.c.card_account_id == card_account_id, tabs.c.state == "open")
    ).scalar_one_or_none()
    return None if value is None else int(value)


def ensure_open_tab(tx: Tx, venue_id: int, card_account_id: int, known_tab_id: int | None = None) -> int:
    existing = known_tab_id or open_tab_id(tx, card_account_id)
    if existing is not None:
        return existing
    tab_id: int = tx.conn.execute(
        tabs.insert()
        .values(venue_id=venue_id, card_account_id=card_account_id, state="open", opened_at=tx.now)
        .returning(tabs.c.id)
    ).scalar_one()
    return tab_id


def open_lines(tx: Tx, tab_id: int) -> list[sa.Row[Any]]:
    return list(
        tx.conn.execute(
            sa.select(tab_lines)
            .where(tab_lines.c.tab_id == tab_id, tab_lines.c.state == "open")
            .order_by(tab_lines.c.id)
        )
    )


def tab_state(tx: Tx, card: BoundCard) -> tuple[SpendingPower, int | None]:
    """What the card account can still spend, and its open tab, in one round trip (every Save reads it)."""
    account = card.account

    def lines_total(tab_status: str, line_state: str) -> sa.ScalarSelect[Any]:
        return (
            sa.select(sa.func.coalesce(sa.func.sum(tab_lines.c.amount_minor), 0))
            .select_from(tab_lines.join(tabs, tabs.c.id == tab_lines.c.tab_id))
            .where(tabs.c.card_account_id == account.id, tabs.c.state == tab_status, tab_lines.c.state == line_state)
            .scalar_subquery()
        )

    row = tx.conn.execute(
        sa.select(
            sa.select(card_balances.c.balance)
            .where(card_balances.c.card_account_id == account.id, card_balances.c.unit == account.currency)
            .scalar_subquery()
            .label("balance"),
            lines_total("open", "open").label("open_total"),
            lines_total(ON_ACCOUNT, "settled").label("on_account"),
            sa.select(tabs.c.id)
            .where(tabs.c.card_account_id == account.id, tabs.c.state == "open")
            .scalar_subquery()
            .label("tab_id"),
        )
    ).one()
    power = SpendingPower(
        credit_type=account.credit_type,
        credit_limit_minor=account.credit_limit_minor,
        money_balance_minor=int(row.balance or 0),
        open_tab_minor=int(row.open_total),
        on_account_minor=int(row.on_account),
    )
    return power, row.tab_id


def spending_power(tx: Tx, card: BoundCard) -> SpendingPower:
    return tab_state(tx, card)[0]


def line_view(row: sa.Row[Any]) -> TabLineView:
    return TabLineView(
        id=row.id,
        product_id=row.product_id,
        name=row.name,
        quantity=row.quantity,
        unit_price_minor=row.unit_price_minor,
        amount_minor=row.amount_minor,
        vat_rate_bp=row.vat_rate_bp,
        state=row.state,
    )


def tab_view(tx: Tx, card: BoundCard, power: SpendingPower | None = None, tab_id: int | None = None) -> TabView:
    """The till's view of a tab; a use case that already knows the spending power and tab passes them in."""
    account = card.account
    if power is None:
        power, tab_id = tab_state(tx, card)
    elif tab_id is None:
        tab_id = open_tab_id(tx, account.id)
    lines = open_lines(tx, tab_id) if tab_id is not None else []
    return TabView(
        medium_uid=card.medium_uid,
        visit_id=card.visit_id,
        card_account_id=account.id,
        credit_type=account.credit_type.value,
        currency=account.currency,
        credit_limit_minor=account.credit_limit_minor,
        balance_minor=power.money_balance_minor,
        open_total_minor=power.open_tab_minor,
        available_minor=power.available_minor,
        tab_id=tab_id,
        lines=[line_view(row) for row in lines],
        party_debts=[
            PartyDebtView(
                medium_uid=other.medium_uid,
                card_account_id=other.card_account_id,
                tab_id=other.tab_id,
                open_total_minor=other.open_total_minor,
            )
            for other in (other_party_tabs(tx, card.visit_id) if card.party_id is not None else [])
            if other.open_total_minor
        ],
    )


def record_closed_tab(
    tx: Tx,
    ctx: RequestContext,
    *,
    venue_id: int,
    card_account_id: int,
    state: str,
    entry_id: int,
    sold: list[tuple[sa.Row[Any], int]],
) -> int:
    """Keep lines that were paid (or put on account) at once as a closed tab, so receipts, reports and
    the credit limit see what was sold. `sold` is (product row, quantity)."""
    tab_id: int = tx.conn.execute(
        tabs.insert()
        .values(
            venue_id=venue_id,
            card_account_id=card_account_id,
            state=state,
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
                "venue_id": venue_id,
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
            for product, quantity in sold
        ],
    )
    return tab_id
