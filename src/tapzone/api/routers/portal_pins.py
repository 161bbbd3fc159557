"""Staff set the portal PIN of a medium for its visitor (permission `medium.issue`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, StrictStr

from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import Body
from tapzone.context import MediumEntry
from tapzone.portal.pins import PIN_DIGITS_MAX, PinView, set_pin

router = APIRouter(prefix="/media/{uid}", tags=["customer portal"])


class PinIn(Body):
    pin: Annotated[StrictStr, Field(min_length=1, max_length=PIN_DIGITS_MAX)]
    entry: MediumEntry = MediumEntry.READER


@router.post("/pin", status_code=201)
def post_pin(uid: str, body: PinIn, ctx: Write, uow: Uow) -> PinView:
    """Set or replace the PIN that opens the customer portal for this medium during its current visit."""
    return set_pin(uow, ctx, medium_uid=uid, pin=body.pin, entry=body.entry)
