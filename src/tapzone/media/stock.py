"""Registering media into the venue's stock before they are issued (a box of new wristbands)."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.errors import InvalidRequest
from tapzone.media.model import MediumKind, MediumState, normalise_uid
from tapzone.store.tables import media
from tapzone.store.uow import UnitOfWork

MAX_BATCH = 10_000


def register_media(uow: UnitOfWork, venue_id: int, uids: list[str], kind: MediumKind) -> int:
    """Add media in state `returned` (in stock); UIDs already registered are left as they are.
    Returns how many were new."""
    normalised = sorted({normalise_uid(uid) for uid in uids})
    if not normalised or len(normalised) > MAX_BATCH:
        raise InvalidRequest(f"register 1..{MAX_BATCH} media at a time")
    with uow.transaction() as tx:
        known = set(
            tx.conn.execute(
                sa.select(media.c.uid).where(media.c.venue_id == venue_id, media.c.uid.in_(normalised))
            ).scalars()
        )
        new = [uid for uid in normalised if uid not in known]
        if new:
            tx.conn.execute(
                media.insert(),
                [
                    {
                        "venue_id": venue_id,
                        "uid": uid,
                        "kind": MediumKind(kind).value,
                        "state": MediumState.RETURNED.value,
                        "created_at": tx.now,
                    }
                    for uid in new
                ],
            )
        return len(new)
