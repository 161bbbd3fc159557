"""Medium lifecycle actions done by staff: blocking and unblocking (lost-card transfer comes later)."""

from __future__ import annotations

from collections.abc import Callable

from tapzone import audit
from tapzone.access.deposits import forfeit_deposit
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound
from tapzone.media.lookup import find_medium
from tapzone.media.model import MediumState, normalise_uid
from tapzone.pos.views import MediumView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import media
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


def _set_state(
    uow: UnitOfWork,
    ctx: RequestContext,
    medium_uid: str,
    reason: str,
    wanted: MediumState,
    allowed_from: set[MediumState],
    then: Callable[[Tx, Venue, int], None] | None = None,
) -> MediumView:
    normalise_uid(medium_uid)
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required")
    payload = {"medium_uid": medium_uid, "reason": reason, "state": wanted.value}

    def handler(tx: Tx) -> MediumView:
        venue = authorise(tx, ctx, Permission.MEDIUM_BLOCK)
        row = find_medium(tx, ctx.venue_id, medium_uid)
        if row is None:
            raise NotFound("this medium is not registered in the venue")
        (row,) = tx.lock_rows(media, [row.id])
        if MediumState(row.state) not in allowed_from:
            raise InvalidRequest(f"a {row.state} medium cannot become {wanted.value}")
        tx.conn.execute(media.update().where(media.c.id == row.id).values(state=wanted.value))
        if then is not None:
            then(tx, venue, row.id)
        audit.record(tx, ctx, f"medium.{wanted.value}", f"medium:{row.uid}", {"from": row.state, "reason": reason})
        return MediumView(medium_uid=row.uid, state=wanted.value)

    return run_idempotent(uow, ctx, f"medium_{wanted.value}", payload, handler, MediumView)


def block_medium(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, reason: str) -> MediumView:
    """Stop a medium at every till and gate until it is unblocked; its visit and balances stay as they are."""
    return _set_state(uow, ctx, medium_uid, reason, MediumState.BLOCKED, {MediumState.ACTIVE, MediumState.RETURNED})


def unblock_medium(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, reason: str) -> MediumView:
    return _set_state(uow, ctx, medium_uid, reason, MediumState.ACTIVE, {MediumState.BLOCKED})


def report_lost(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, reason: str) -> MediumView:
    """The visitor lost the medium: it is refused everywhere from now on and its deposit is forfeited
    (DESIGN §7). Its visit and tab stay open so the debt can still be settled at the till."""

    def forfeit(tx: Tx, venue: Venue, medium_id: int) -> None:
        forfeit_deposit(tx, ctx, venue, medium_id)

    return _set_state(
        uow,
        ctx,
        medium_uid,
        reason,
        MediumState.LOST,
        {MediumState.ACTIVE, MediumState.RETURNED, MediumState.BLOCKED},
        then=forfeit,
    )
