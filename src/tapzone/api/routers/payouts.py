"""Payouts of leftover card value over HTTP: cash at the till, bank transfers, SEPA batches."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, StrictInt, StrictStr

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import AmountIn, Body, MediumRequest, Reason
from tapzone.errors import InvalidRequest
from tapzone.payouts.batches import MAX_PAYOUT_IDS, batch_document, export_payouts, mark_batch_paid, view_batch
from tapzone.payouts.model import MAX_NAME_LENGTH, PayoutMethod, PayoutState
from tapzone.payouts.requests import MAX_LIST, list_payouts, pay_out_cash, request_bank_payout, revoke_payout
from tapzone.payouts.store import BatchView, PayoutListView, PayoutView

router = APIRouter(tags=["payouts"])

Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Iban = Annotated[StrictStr, Field(min_length=5, max_length=42, description="spaces allowed; stored compact")]
Bic = Annotated[StrictStr, Field(min_length=8, max_length=11)]


class PayoutIn(MediumRequest):
    method: Literal["cash", "bank"] = Field(description="cash at this till, or a transfer with the next export")
    amount: AmountIn | None = Field(None, description="omit to pay out all free prepaid value")
    account_holder: Name | None = Field(None, description="bank payouts: the name on the visitor's account")
    iban: Iban | None = Field(None, description="bank payouts: the visitor's IBAN (SEPA countries)")
    bic: Bic | None = Field(None, description="bank payouts: optional; looked up from the IBAN where known")


@router.post("/media/{uid}/payouts", status_code=201)
def post_payout(uid: str, body: PayoutIn, ctx: Write, uow: Uow) -> PayoutView:
    """Pay out leftover prepaid value: `cash` now with a refund receipt (cashier), or `bank` with the next
    SEPA export (manager; IBAN validated, revocable until exported)."""
    amount = body.amount.money() if body.amount else None
    if body.method == PayoutMethod.CASH.value:
        if body.account_holder or body.iban or body.bic:
            raise InvalidRequest("a cash payout takes no bank details")
        return pay_out_cash(
            uow, ctx, medium_uid=uid, amount=amount, card_account_id=body.card_account_id, entry=body.entry
        )
    if not body.account_holder or not body.iban:
        raise InvalidRequest("a bank payout needs the account holder and the IBAN")
    return request_bank_payout(
        uow,
        ctx,
        medium_uid=uid,
        account_holder=body.account_holder,
        iban=body.iban,
        bic=body.bic,
        amount=amount,
        card_account_id=body.card_account_id,
        entry=body.entry,
    )


@router.get("/payouts")
def get_payouts(
    who: Who,
    uow: Uow,
    state: PayoutState | None = None,
    method: PayoutMethod | None = None,
    batch_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 200,
) -> PayoutListView:
    """The venue's payouts, newest first; `state=requested` lists what the next export will contain."""
    return list_payouts(uow, who.context("read"), state=state, method=method, batch_id=batch_id, limit=limit)


@router.post("/payouts/{payout_id}/revoke")
def post_revoke(payout_id: int, body: Reason, ctx: Write, uow: Uow) -> PayoutView:
    """Take back a bank payout before it is exported; the value goes back onto the card."""
    return revoke_payout(uow, ctx, payout_id=payout_id, reason=body.reason)


class ExportIn(Body):
    debtor_name: Name = Field(description="the venue's name as its bank knows the account")
    debtor_iban: Iban = Field(description="the venue's account the transfers are paid from")
    debtor_bic: Bic | None = Field(None, description="optional; looked up from the IBAN where known")


@router.post("/payout-batches", status_code=201)
def post_batch(body: ExportIn, ctx: Write, uow: Uow) -> BatchView:
    """Export every requested bank payout as one SEPA credit transfer file (pain.001.001.09); 409
    `nothing-to-export` when none is waiting."""
    return export_payouts(
        uow, ctx, debtor_name=body.debtor_name, debtor_iban=body.debtor_iban, debtor_bic=body.debtor_bic
    )


@router.get(
    "/payout-batches/{batch_id}.xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "the pain.001.001.09 file"}},
)
def get_batch_xml(batch_id: int, who: Who, uow: Uow) -> Response:
    """The batch's SEPA file exactly as exported, to upload to the bank."""
    message_id, document = batch_document(uow, who.context("read"), batch_id=batch_id)
    return Response(
        document.encode(),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{message_id}.xml"'},
    )


# Declared after the .xml route, which would otherwise be read as this one with batch_id "5.xml".
@router.get("/payout-batches/{batch_id}")
def get_batch(batch_id: int, who: Who, uow: Uow) -> BatchView:
    return view_batch(uow, who.context("read"), batch_id=batch_id)


class PaidIn(Body):
    payout_ids: Annotated[list[StrictInt], Field(min_length=1, max_length=MAX_PAYOUT_IDS)] | None = Field(
        None, description="omit when the bank carried out the whole batch"
    )


@router.post("/payout-batches/{batch_id}/paid")
def post_batch_paid(batch_id: int, body: PaidIn, ctx: Write, uow: Uow) -> BatchView:
    """Record the bank's confirmation: the transfers are paid from the venue's bank account."""
    return mark_batch_paid(uow, ctx, batch_id=batch_id, payout_ids=body.payout_ids)
