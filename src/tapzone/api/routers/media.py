"""Blocking, unblocking and reporting media lost (staff with `medium.block`)."""

from __future__ import annotations

from fastapi import APIRouter

from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import Reason
from tapzone.media.lifecycle import block_medium, report_lost, unblock_medium
from tapzone.pos.views import MediumView

router = APIRouter(prefix="/media/{uid}", tags=["media"])


@router.post("/block")
def post_block(uid: str, body: Reason, ctx: Write, uow: Uow) -> MediumView:
    return block_medium(uow, ctx, medium_uid=uid, reason=body.reason)


@router.post("/unblock")
def post_unblock(uid: str, body: Reason, ctx: Write, uow: Uow) -> MediumView:
    return unblock_medium(uow, ctx, medium_uid=uid, reason=body.reason)


@router.post("/lost")
def post_lost(uid: str, body: Reason, ctx: Write, uow: Uow) -> MediumView:
    """Report the medium lost: refused everywhere from now on, its deposit forfeited (DESIGN §7)."""
    return report_lost(uow, ctx, medium_uid=uid, reason=body.reason)
