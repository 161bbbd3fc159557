"""Networked venues over HTTP: a till takes over a card account from another venue of its chain."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field, StrictInt

from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import Body, Uid
from tapzone.plans.chain import TransferView, transfer_card_account
from tapzone.plans.specs import ContractSpec

router = APIRouter(tags=["networked venues"])


class AccountTransfer(Body):
    source_venue_id: StrictInt = Field(description="the venue of the chain that holds the card account now")
    medium_uid: Uid = Field(description="the card as read here; the same card number in both venues")
    source_card_account_id: StrictInt | None = Field(None, description="omit to move the card's active account")
    customer_id: StrictInt | None = Field(None, description="a customer of this venue, when the card is new here")
    contract: ContractSpec | None = Field(None, description="needed when this venue's type requires a contract")


@router.post("/account-transfers", status_code=201)
def post_account_transfer(body: AccountTransfer, ctx: Write, uow: Uow) -> TransferView:
    """Move a card account with its type number and balances from another venue of the chain onto the card
    here (seed 002 networked studios); refused when this venue's type with that number works differently."""
    return transfer_card_account(
        uow,
        ctx,
        source_venue_id=body.source_venue_id,
        medium_uid=body.medium_uid,
        source_card_account_id=body.source_card_account_id,
        customer_id=body.customer_id,
        contract=body.contract,
    )
