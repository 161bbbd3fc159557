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
    recorded_at: datetime  # when the medium was read (the gate's clock for an event decided offline)
    offline: bool = False  # decided by the gate from its list during an outage, uploaded later
    gate_seq: int | None = None  # its number in the gate's journal
    flag: str | None = None  # what the server found wrong with an offline passage (offline_model.OfflineFlag)


def list_access_events(
    uow: UnitOfWork, ctx: RequestContext, *, denied_only: bool = False, flagged_only: bool = False, limit: int = 50
) -> list[AccessEventView]:
    """Newest first. A denied exit lists the open tab ids so the till can open them directly; `flagged_only`
    lists the passages gates allowed offline that the server found wrong (e.g. passed offline while owing)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EVENTS:
        raise InvalidRequest(f"limit must be 1..{MAX_EVENTS}")
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.ACCESS_VIEW)
        query = sa.select(access_events).where(access_events.c.venue_id == ctx.venue_id)
        if denied_only:
            query = query.where(access_events.c.allowed.is_(False))
        if flagged_only:
            query = query.where(access_events.c.flag.is_not(None))
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
            offline=row.offline,
            gate_seq=row.gate_seq,
            flag=row.flag,
        )
        for row in rows
    ]
