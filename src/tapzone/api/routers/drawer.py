"""The cash drawer of the calling till: shifts, cash in and out, and the day's Z report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field, StrictInt

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body
from tapzone.pos.shifts import CashMovementView, ShiftView, close_shift, current_shift, move_cash, open_shift
from tapzone.pos.zreport import ZReportView, close_day, view_z_report

router = APIRouter(tags=["cash drawer"])


class OpenShift(Body):
    float_minor: Annotated[StrictInt, Field(ge=0)]


@router.post("/shifts", status_code=201)
def post_shift(body: OpenShift, ctx: Write, uow: Uow) -> ShiftView:
    """Open a shift at this till with a float taken from the safe."""
    return open_shift(uow, ctx, float_minor=body.float_minor)


@router.get("/shifts/current")
def get_current_shift(who: Who, uow: Uow) -> ShiftView:
    return current_shift(uow, who.context("read"))


class CashMovement(Body):
    direction: Literal["in", "out"]
    amount_minor: Annotated[StrictInt, Field(ge=1)]
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@router.post("/shifts/current/cash-movements", status_code=201)
def post_cash_movement(body: CashMovement, ctx: Write, uow: Uow) -> CashMovementView:
    return move_cash(uow, ctx, direction=body.direction, amount_minor=body.amount_minor, reason=body.reason)


class CloseShift(Body):
    denominations: Annotated[
        dict[str, StrictInt], Field(description='count per denomination in minor units, e.g. {"5000": 2}')
    ]


@router.post("/shifts/current/close")
def post_close_shift(body: CloseShift, ctx: Write, uow: Uow) -> ShiftView:
    """Close the shift with the counted cash; the difference is booked as `shift-difference`."""
    return close_shift(uow, ctx, denominations=body.denominations)


class CloseDay(Body):
    business_day: date | None = None


@router.post("/z-reports", status_code=201)
def post_z_report(body: CloseDay, ctx: Write, uow: Uow) -> ZReportView:
    """Close this till's business day with its numbered, immutable Z report."""
    return close_day(uow, ctx, business_day=body.business_day)


@router.get("/tills/{device_id}/z-reports/{number}")
def get_z_report(device_id: int, number: int, who: Who, uow: Uow) -> ZReportView:
    return view_z_report(uow, who.context("read"), device_id=device_id, number=number)
