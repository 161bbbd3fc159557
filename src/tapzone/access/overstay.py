"""Charging overstay at the exit: time beyond the entry's included minutes goes onto the tab, per started
block, and the exit stays closed until it is paid."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tapzone.access.model import overstay_blocks
from tapzone.plans.card_store import accounts_of_visit, lock_card_accounts
from tapzone.pos.tab_store import ensure_open_tab
from tapzone.store.tables import card_accounts, entry_products, products, tab_lines, tabs, visits
from tapzone.store.uow import Tx

OVERSTAY_GROUP = "overstay"


def charge_overstay(tx: Tx, visit: sa.Row[Any], device_id: int) -> None:
    """Add the blocks owed since the last charge to the visit's active tab (each block once, however often
    the visitor taps the exit)."""
    if visit.entry_product_id is None or visit.entered_at is None:
        return
    terms = tx.conn.execute(
        sa.select(entry_products, products.c.name, products.c.price_minor, products.c.vat_rate_bp)
        .outerjoin(products, products.c.id == entry_products.c.overstay_product_id)
        .where(entry_products.c.product_id == visit.entry_product_id)
    ).first()
    if terms is None or terms.overstay_product_id is None:
        return
    seconds_inside = int((tx.now - visit.entered_at).total_seconds())
    due = overstay_blocks(
        seconds_inside, terms.included_minutes, terms.overstay_block_minutes, terms.overstay_grace_minutes
    )
    new_blocks = due - visit.overstay_blocks_charged
    if new_blocks <= 0:
        return
    # Every card account of the visit is locked, in key order, before the line goes onto the active one's tab:
    # a till may be settling that tab, and only the account lock makes the two see each other. Charged
    # without it, the line could join a tab the till was closing and stay open on a settled tab, where no
    # settlement finds it again and the exit stays refused (issue 9 race tests).
    accounts = lock_card_accounts(tx, [account.id for account in accounts_of_visit(tx, visit.id)])
    account_id = next(account.id for account in accounts if account.is_active and not account.closed)
    tab_id = ensure_open_tab(tx, visit.venue_id, account_id)
    tx.conn.execute(
        tab_lines.insert().values(
            venue_id=visit.venue_id,
            tab_id=tab_id,
            product_id=terms.overstay_product_id,
            name=terms.name,
            quantity=new_blocks,
            unit_price_minor=terms.price_minor,
            amount_minor=new_blocks * terms.price_minor,
            vat_rate_bp=terms.vat_rate_bp,
            product_group=OVERSTAY_GROUP,
            state="open",
            device_id=device_id,
            operator_id=None,
            created_at=tx.now,
        )
    )
    tx.conn.execute(visits.update().where(visits.c.id == visit.id).values(overstay_blocks_charged=due))


def overstay_unpaid(tx: Tx, visit_id: int) -> int:
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(tab_lines.c.amount_minor), 0))
        .select_from(
            tab_lines.join(tabs, tabs.c.id == tab_lines.c.tab_id).join(
                card_accounts, card_accounts.c.id == tabs.c.card_account_id
            )
        )
        .where(
            card_accounts.c.visit_id == visit_id,
            tabs.c.state == "open",
            tab_lines.c.state == "open",
            tab_lines.c.product_group == OVERSTAY_GROUP,
        )
    ).scalar_one()
    return int(value)
