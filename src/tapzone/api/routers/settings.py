"""Venue and till settings (admin): automatic unbinding, paying with the medium."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import StrictBool

from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import Body
from tapzone.venues.settings import TillPaymentView, VenueSettingsView, set_till_payment, update_venue_settings

router = APIRouter(tags=["settings"])


class VenueSettingsIn(Body):
    auto_unbind: StrictBool | None = None
    pay_with_medium: StrictBool | None = None
    member_debt_on_medium: StrictBool | None = None


class TillPaymentIn(Body):
    pay_with_medium: StrictBool | None


@router.patch("/settings")
def patch_settings(body: VenueSettingsIn, ctx: Write, uow: Uow) -> VenueSettingsView:
    return update_venue_settings(
        uow,
        ctx,
        auto_unbind=body.auto_unbind,
        pay_with_medium=body.pay_with_medium,
        member_debt_on_medium=body.member_debt_on_medium,
    )


@router.put("/tills/{till_id}/pay-with-medium")
def put_till_payment(till_id: int, body: TillPaymentIn, ctx: Write, uow: Uow) -> TillPaymentView:
    """Override paying with the medium for one till; `null` follows the venue."""
    return set_till_payment(uow, ctx, till_id=till_id, pay_with_medium=body.pay_with_medium)
