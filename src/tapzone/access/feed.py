"""The entry view: recent gate events, failed exits first-class, each with the tabs to open (seed 001)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest
from tapzone.store.tables import access_events
from tapzone.store.uow import UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

MAX_EVENTS = 500


class AccessEventView(BaseModel):
    id: int
    gate_id: int
    tap_id: str
    medium_uid: str
    visit_id: int | None
    passage: str | None
    allowed: bool
    reason: str
    tab_ids: list[int]
    unbound: bool
    recorded_at: datetime


def list_access_events(
    uow: UnitOfWork, ctx: RequestContext, *, denied_only: bool = False, limit: int = 50
) -> list[AccessEventView]:
    """Newest first. A denied exit lists the open tab ids so the till can open them directly."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EVENTS:
        raise InvalidRequest(f"limit must be 1..{MAX_EVENTS}")
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.ACCESS_VIEW)
        query = sa.select(access_events).where(access_events.c.venue_id == ctx.venue_id)
        if denied_only:
            query = query.where(access_events.c.allowed.is_(False))
        rows = tx.conn.execute(query.order_by(access_events.c.id.desc()).limit(limit)).all()
    return [
        AccessEventView(
            id=row.id,
            gate_id=row.gate_id,
            tap_id=row.tap_id,
            medium_uid=row.medium_uid,
            visit_id=row.visit_id,
            passage=row.passage,
            allowed=row.allowed,
            reason=row.reason,
            tab_ids=[int(part) for part in row.tab_ids.split(",") if part],
            unbound=row.unbound,
            recorded_at=row.recorded_at,
        )
        for row in rows
    ]
