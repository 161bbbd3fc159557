"""Blocking and unblocking media (staff with `medium.block`)."""

from __future__ import annotations

from fastapi import APIRouter

from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import Reason
from tapzone.media.lifecycle import block_medium, unblock_medium
from tapzone.pos.views import MediumView

router = APIRouter(prefix="/media/{uid}", tags=["media"])


@router.post("/block")
def post_block(uid: str, body: Reason, ctx: Write, uow: Uow) -> MediumView:
    return block_medium(uow, ctx, medium_uid=uid, reason=body.reason)


@router.post("/unblock")
def post_unblock(uid: str, body: Reason, ctx: Write, uow: Uow) -> MediumView:
    return unblock_medium(uow, ctx, medium_uid=uid, reason=body.reason)
