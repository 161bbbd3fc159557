"""Support's corrections and the resolution of online top-ups that never completed (permission
`balance.correct`, held by the support role only; seed 004)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, StrictInt, StrictStr

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body as RequestBody
from tapzone.api.schemas import Currency, LimitIn, Uid
from tapzone.money import MAX_AMOUNT_MINOR, Money
from tapzone.portal.topups import OnlineTopupView
from tapzone.support.corrections import REASON_MAX_LENGTH, CorrectionView, correct_balance
from tapzone.support.resolutions import list_online_topups, resolve_online_topup

router = APIRouter(tags=["support"])

Reason = Annotated[StrictStr, Field(min_length=1, max_length=REASON_MAX_LENGTH)]


class CorrectionIn(RequestBody):
    """Name the medium (its active card account unless `card_account_id` is given) or only the card account."""

    amount_minor: Annotated[
        StrictInt,
        Field(ge=-MAX_AMOUNT_MINOR, le=MAX_AMOUNT_MINOR, description="signed: + credits the card, − debits it"),
    ]
    currency: Currency
    reason: Reason
    medium_uid: Uid | None = None
    card_account_id: StrictInt | None = None
    corrects_entry_id: StrictInt | None = None


class ResolutionIn(RequestBody):
    provider_transaction: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    correction: LimitIn  # what actually arrived at the provider; 0 when nothing did
    reason: Reason


@router.post("/corrections", status_code=201)
def post_correction(body: CorrectionIn, ctx: Write, uow: Uow) -> CorrectionView:
    """Correct a card's prepaid value by a new `correction` entry, with a reason, audited (support only)."""
    return correct_balance(
        uow,
        ctx,
        amount=Money(body.amount_minor, body.currency),
        reason=body.reason,
        medium_uid=body.medium_uid,
        card_account_id=body.card_account_id,
        corrects_entry_id=body.corrects_entry_id,
    )


@router.get("/online-top-ups")
def get_online_top_ups(
    who: Who,
    uow: Uow,
    state: Annotated[str | None, Query(description="pending, credited, resolved or failed")] = None,
    medium_uid: Annotated[str | None, Query(max_length=64)] = None,
) -> list[OnlineTopupView]:
    return list_online_topups(uow, who.context("read"), state=state, medium_uid=medium_uid)


@router.post("/online-top-ups/{topup_id}/resolution")
def post_resolution(topup_id: int, body: ResolutionIn, ctx: Write, uow: Uow) -> OnlineTopupView:
    """Close a pending online top-up with the provider's transaction and the value that arrived; a later
    confirmation from the provider credits nothing more (seed 004)."""
    return resolve_online_topup(
        uow,
        ctx,
        topup_id=topup_id,
        provider_transaction=body.provider_transaction,
        correction=body.correction.money(),
        reason=body.reason,
    )
