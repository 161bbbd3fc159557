"""Holds: two-phase reservations of card value (reserve → capture / void / expire).

A prepaid tab reserves value line by line so two tills cannot spend the same euro; the value only leaves
the card when the tab is settled (capture) and returns to free use when a line is cancelled (void).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from tapzone.store.tables import holds
from tapzone.store.uow import Tx, UnitOfWork


class HoldState(StrEnum):
    RESERVED = "reserved"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


def reserve(
    tx: Tx,
    *,
    venue_id: int,
    card_account_id: int,
    unit: str,
    amount: int,
    tab_line_id: int | None = None,
    expires_at: datetime | None = None,
) -> int:
    hold_id: int = tx.conn.execute(
        holds.insert()
        .values(
            venue_id=venue_id,
            card_account_id=card_account_id,
            unit=unit,
            amount=amount,
            state=HoldState.RESERVED.value,
            tab_line_id=tab_line_id,
            created_at=tx.now,
            expires_at=expires_at,
        )
        .returning(holds.c.id)
    ).scalar_one()
    return hold_id


def resolve_for_lines(tx: Tx, tab_line_ids: list[int], outcome: HoldState) -> None:
    """Capture or void the reserved holds of the given tab lines."""
    if not tab_line_ids:
        return
    tx.conn.execute(
        holds.update()
        .where(holds.c.tab_line_id.in_(tab_line_ids), holds.c.state == HoldState.RESERVED.value)
        .values(state=outcome.value, resolved_at=tx.now)
    )


def expire_due(uow: UnitOfWork) -> int:
    """Expire reserved holds whose time has passed; returns how many. Run by the daily job."""
    with uow.transaction() as tx:
        result = tx.conn.execute(
            holds.update()
            .where(
                holds.c.state == HoldState.RESERVED.value,
                holds.c.expires_at.is_not(None),
                holds.c.expires_at <= tx.now,
            )
            .values(state=HoldState.EXPIRED.value, resolved_at=tx.now)
        )
        return int(result.rowcount)


def reserved_for_lines(tx: Tx, tab_line_ids: list[int]) -> int:
    if not tab_line_ids:
        return 0
    value = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(holds.c.amount), 0)).where(
            holds.c.tab_line_id.in_(tab_line_ids), holds.c.state == HoldState.RESERVED.value
        )
    ).scalar_one()
    return int(value)
