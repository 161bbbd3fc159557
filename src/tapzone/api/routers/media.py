"""Blocking, unblocking and reporting media lost (staff with `medium.block`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, StrictInt

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body, Reason
from tapzone.context import MediumEntry
from tapzone.errors import MediaNeverDeleted
from tapzone.media.lifecycle import block_medium, report_lost, unblock_medium
from tapzone.media.qr import QrBatchView, QrMediumView, generate_qr_media, qr_image, qr_sheet, regenerate_qr_code
from tapzone.media.transfer import MediumMoveView, swap_media, transfer_lost_medium
from tapzone.pos.exceptions import EmptiedView, WriteOffView, empty_prepaid, write_off_tab
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


class LostMedium(Body):
    lost_medium_uid: Annotated[str, Field(min_length=1, max_length=64, description="the lost medium's number, typed")]


@router.post("/transfers", status_code=201)
def post_transfer(uid: str, body: LostMedium, ctx: Write, uow: Uow) -> MediumMoveView:
    """seed 004 "Karte Umbuchen": `uid` is the new medium on the reader; the lost one's value, accounts and
    open tab move to it in one entry and the lost one is blocked for good. Permission `medium.transfer`."""
    return transfer_lost_medium(uow, ctx, lost_uid=body.lost_medium_uid, new_uid=uid)


class NewMedium(Body):
    new_medium_uid: Annotated[str, Field(min_length=1, max_length=64)]


@router.post("/swap", status_code=201)
def post_swap(uid: str, body: NewMedium, ctx: Write, uow: Uow) -> MediumMoveView:
    """Both media present: unload `uid` in cash and load the new one by the same amount (seed 004)."""
    return swap_media(uow, ctx, old_uid=uid, new_uid=body.new_medium_uid)


@router.delete("", status_code=409, responses={409: {"description": "always: media are never deleted"}})
def delete_medium(uid: str) -> None:
    """Media are never deleted: it would change the card float (seed 004). Block it, or transfer its value."""
    raise MediaNeverDeleted(f"medium {uid} cannot be deleted; block it or transfer its value instead")


class Regeneration(Body):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@router.post("/qr-code/regeneration", status_code=201)
def post_qr_regeneration(uid: str, body: Regeneration, ctx: Write, uow: Uow) -> QrMediumView:
    """A new code for a QR medium; the old print stops working at once (seed 004)."""
    return regenerate_qr_code(uow, ctx, medium_uid=uid, reason=body.reason)


@router.get("/qr-code.{kind}", response_class=Response)
def get_qr_code(uid: str, kind: Literal["png", "svg"], who: Who, uow: Uow) -> Response:
    image = qr_image(uow, who.context("read"), medium_uid=uid, kind=kind)
    return Response(image, media_type="image/png" if kind == "png" else "image/svg+xml")


class Emptying(Body):
    mode: Literal["breakage", "product"]
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    product_id: StrictInt | None = None
    card_account_id: StrictInt | None = None
    entry: MediumEntry = MediumEntry.READER


@router.post("/prepaid-emptying", status_code=201)
def post_emptying(uid: str, body: Emptying, ctx: Write, uow: Uow) -> EmptiedView:
    """seed 001: prepaid value a visitor left behind goes to breakage or to an "unused advances" product."""
    return empty_prepaid(uow, ctx, medium_uid=uid, **body.model_dump())


collection = APIRouter(tags=["media"])


class QrBatch(Body):
    count: Annotated[StrictInt, Field(ge=1, le=500)]


@collection.post("/qr-media", status_code=201)
def post_qr_media(body: QrBatch, ctx: Write, uow: Uow) -> QrBatchView:
    """Register new QR media in stock, each with a printed number and a code."""
    return generate_qr_media(uow, ctx, count=body.count)


@collection.get("/qr-sheets.pdf", response_class=Response)
def get_qr_sheet(
    who: Who, uow: Uow, uids: Annotated[str, Query(description="comma-separated medium numbers")]
) -> Response:
    """An A4 sheet of codes with their numbers, for printing and cutting."""
    pdf = qr_sheet(uow, who.context("read"), medium_uids=[uid for uid in uids.split(",") if uid])
    return Response(pdf, media_type="application/pdf")


class WriteOff(Body):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@collection.post("/tabs/{tab_id}/write-off", status_code=201)
def post_write_off(tab_id: int, body: WriteOff, ctx: Write, uow: Uow) -> WriteOffView:
    """seed 001: write off the open credit tab of a visitor who left without paying (`tab.write_off`)."""
    return write_off_tab(uow, ctx, tab_id=tab_id, reason=body.reason)
