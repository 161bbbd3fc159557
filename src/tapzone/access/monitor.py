"""The entry view's live feed: gate events newer than the last one a screen has shown (seed 001).

seed 001: a refused exit appears in the entry view as a failed exit ("Obetalda varor", "Förbetalt värde
kvar"), and from there the cashier opens that medium's order at the till. The monitor polls these reads;
each is one short transaction that checks `access.view` again, so a monitor left open stops being fed as
soon as its staff member loses the permission or is deactivated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from tapzone.access.feed import AccessEventView
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest
from tapzone.store.tables import access_events, devices
from tapzone.store.uow import UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

RECENT_MAX = 200
BATCH_MAX = 100
FLAGGED_MAX = 20
FLAGGED_WINDOW = timedelta(hours=24)


class MonitorEvent(AccessEventView):
    gate_name: str

    @property
    def failed_exit(self) -> bool:
        """seed 001 "felaktig utpassering": the gate refused someone on their way out."""
        return not self.allowed and self.passage == "exit"


@dataclass(frozen=True, slots=True)
class AccessFeed:
    events: list[MonitorEvent]
    timezone: str  # the venue's, for the times on screen


def recent_access_events(uow: UnitOfWork, ctx: RequestContext, *, limit: int = 50) -> AccessFeed:
    """The newest events, newest first: what the entry view shows when it opens."""
    _check_limit(limit, RECENT_MAX)
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.ACCESS_VIEW)
        rows = tx.conn.execute(_query(ctx.venue_id).order_by(access_events.c.id.desc()).limit(limit)).all()
    return AccessFeed([_view(row) for row in rows], venue.timezone)


def access_events_after(uow: UnitOfWork, ctx: RequestContext, *, after_id: int, limit: int = BATCH_MAX) -> AccessFeed:
    """Events with an id above `after_id`, oldest first, so a live screen can append them in order.

    Ids grow with every insert, so "above the last id shown" never skips an event that was committed
    before the poll; a burst larger than `limit` arrives over the next polls.
    """
    _check_limit(limit, BATCH_MAX)
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.ACCESS_VIEW)
        query = _query(ctx.venue_id).where(access_events.c.id > after_id)
        rows = tx.conn.execute(query.order_by(access_events.c.id).limit(limit)).all()
    return AccessFeed([_view(row) for row in rows], venue.timezone)


def flagged_access_events(
    uow: UnitOfWork, ctx: RequestContext, *, within: timedelta = FLAGGED_WINDOW, limit: int = FLAGGED_MAX
) -> AccessFeed:
    """Passages gates allowed offline that the server found wrong (owing, blocked, not bound, passback, a
    decision that differs from the server's), newest passage first, from the last `within`: staff follow them
    up by hand. Read over `ix_access_events_venue_recorded`, so the window bounds the scan."""
    _check_limit(limit, RECENT_MAX)
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.ACCESS_VIEW)
        query = _query(ctx.venue_id).where(
            access_events.c.recorded_at >= tx.now - within, access_events.c.flag.is_not(None)
        )
        rows = tx.conn.execute(query.order_by(access_events.c.recorded_at.desc()).limit(limit)).all()
    return AccessFeed([_view(row) for row in rows], venue.timezone)


def _check_limit(limit: int, most: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise InvalidRequest(f"limit must be 1..{most}")


def _query(venue_id: int) -> sa.Select[Any]:
    return (
        sa.select(access_events, devices.c.name.label("gate_name"))
        .join(devices, devices.c.id == access_events.c.gate_id)
        .where(access_events.c.venue_id == venue_id)
    )


def _view(row: sa.Row[Any]) -> MonitorEvent:
    return MonitorEvent(
        id=row.id,
        gate_id=row.gate_id,
        gate_name=row.gate_name,
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
