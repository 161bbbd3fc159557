"""Card accounts as stored: loading, locking and the balances and holds that limit spending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import card_accounts, card_balances, holds, tab_lines, tabs
from tapzone.store.uow import Tx


@dataclass(frozen=True, slots=True)
class CardAccount:
    id: int
    venue_id: int
    visit_id: int
    medium_id: int
    credit_type: CreditType
    credit_limit_minor: int
    currency: str
    is_active: bool
    closed: bool
    account_type_id: int | None = None
    last_used_at: datetime | None = None  # the start of the last service used (lock periods, seed 002)


def card_account_from_row(row: sa.Row[Any]) -> CardAccount:
    return CardAccount(
        id=row.id,
        venue_id=row.venue_id,
        visit_id=row.visit_id,
        medium_id=row.medium_id,
        credit_type=CreditType(row.credit_type),
        credit_limit_minor=row.credit_limit_minor,
        currency=row.currency,
        is_active=row.is_active,
        closed=row.closed_at is not None,
        account_type_id=row.account_type_id,
        last_used_at=row.last_used_at,
    )


def lock_card_accounts(tx: Tx, ids: list[int]) -> list[CardAccount]:
    return [card_account_from_row(row) for row in tx.lock_rows(card_accounts, ids)]


def card_balance(tx: Tx, card_account_id: int, unit: str) -> int:
    value = tx.conn.execute(
        sa.select(card_balances.c.balance).where(
            card_balances.c.card_account_id == card_account_id, card_balances.c.unit == unit
        )
    ).scalar_one_or_none()
    return int(value or 0)


def reserved_total(tx: Tx, card_account_id: int, unit: str) -> int:
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(holds.c.amount), 0)).where(
            holds.c.card_account_id == card_account_id,
            holds.c.unit == unit,
            holds.c.state == "reserved",
        )
    ).scalar_one()
    return int(value)


def open_tab_total(tx: Tx, card_account_id: int) -> int:
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(tab_lines.c.amount_minor), 0))
        .select_from(tab_lines.join(tabs, tabs.c.id == tab_lines.c.tab_id))
        .where(tabs.c.card_account_id == card_account_id, tabs.c.state == "open", tab_lines.c.state == "open")
    ).scalar_one()
    return int(value)


def accounts_of_visit(tx: Tx, visit_id: int) -> list[CardAccount]:
    rows = tx.conn.execute(
        sa.select(card_accounts).where(card_accounts.c.visit_id == visit_id).order_by(card_accounts.c.id)
    )
    return [card_account_from_row(row) for row in rows]
