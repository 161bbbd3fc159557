"""Debts of a party at the till (seed 000): reading one medium of a shared-mode party shows what the
others owe, and the cashier may settle all of them on one receipt. Separate mode: no such offer."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from tapzone.access.model import AntiPassback
from tapzone.plans.card_store import open_tab_total
from tapzone.store.tables import card_accounts, media, parties, tabs, visits
from tapzone.store.uow import Tx


@dataclass(frozen=True, slots=True)
class PartyTab:
    medium_uid: str
    visit_id: int
    card_account_id: int
    tab_id: int | None
    open_total_minor: int


def other_party_tabs(tx: Tx, visit_id: int) -> list[PartyTab]:
    """The other open members of the visit's party when it shares anti-passback, with their open tabs."""
    own = tx.conn.execute(
        sa.select(visits.c.party_id, parties.c.anti_passback)
        .outerjoin(parties, parties.c.id == visits.c.party_id)
        .where(visits.c.id == visit_id)
    ).first()
    if own is None or own.party_id is None or AntiPassback(own.anti_passback) is not AntiPassback.SHARED:
        return []
    rows = tx.conn.execute(
        sa.select(
            media.c.uid,
            visits.c.id.label("visit_id"),
            card_accounts.c.id.label("account_id"),
            tabs.c.id.label("tab_id"),
        )
        .select_from(
            visits.join(media, media.c.id == visits.c.medium_id)
            .join(
                card_accounts,
                sa.and_(
                    card_accounts.c.visit_id == visits.c.id,
                    card_accounts.c.is_active.is_(True),
                    card_accounts.c.closed_at.is_(None),
                ),
            )
            .outerjoin(tabs, sa.and_(tabs.c.card_account_id == card_accounts.c.id, tabs.c.state == "open"))
        )
        .where(visits.c.party_id == own.party_id, visits.c.closed_at.is_(None), visits.c.id != visit_id)
        .order_by(visits.c.id)
    ).all()
    return [
        PartyTab(
            medium_uid=row.uid,
            visit_id=row.visit_id,
            card_account_id=row.account_id,
            tab_id=row.tab_id,
            open_total_minor=open_tab_total(tx, row.account_id),
        )
        for row in rows
    ]
