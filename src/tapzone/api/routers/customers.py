"""A registered customer: their price group and skin type, and their own account (seed 001 "kundkonto"):
what they owe, and paying it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, StrictInt

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body, TenderIn
from tapzone.customers.accounts import (
    CustomerAccountView,
    CustomerPaymentView,
    pay_customer_account,
    view_customer_account,
)
from tapzone.customers.profile import KEEP, CustomerView, update_customer, view_customer
from tapzone.errors import InvalidRequest
from tapzone.money import Money
from tapzone.pos.tenders import Tender

router = APIRouter(prefix="/customers/{customer_id}", tags=["customers"])


class CustomerPatch(Body):
    """Only the fields sent change; `null` clears one (no price group: list prices; skin type unknown)."""

    price_group_id: StrictInt | None = None
    skin_type: StrictInt | None = None


class PayAccount(Body):
    tenders: Annotated[list[TenderIn], Field(min_length=1, max_length=10)]


@router.get("")
def get_customer(customer_id: int, who: Who, uow: Uow) -> CustomerView:
    return view_customer(uow, who.context("read"), customer_id=customer_id)


@router.patch("")
def patch_customer(customer_id: int, body: CustomerPatch, ctx: Write, uow: Uow) -> CustomerView:
    """Put the customer into a price group and/or record their skin type (1..6); `customer.manage`."""
    sent = body.model_fields_set
    if not sent:
        raise InvalidRequest("give price_group_id and/or skin_type")
    return update_customer(
        uow,
        ctx,
        customer_id=customer_id,
        price_group_id=body.price_group_id if "price_group_id" in sent else KEEP,
        skin_type=body.skin_type if "skin_type" in sent else KEEP,
    )


@router.get("/account")
def get_account(customer_id: int, who: Who, uow: Uow) -> CustomerAccountView:
    return view_customer_account(uow, who.context("read"), customer_id=customer_id)


@router.post("/payments", status_code=201)
def post_payment(customer_id: int, body: PayAccount, ctx: Write, uow: Uow) -> CustomerPaymentView:
    """Pay (part of) what the customer owes; cash above the debt is given back as change."""
    tenders = [Tender(t.kind, Money(t.amount_minor, t.currency), t.provider) for t in body.tenders]
    return pay_customer_account(uow, ctx, customer_id=customer_id, tenders=tenders)
