"""A registered customer's own account (seed 001 "kundkonto"): what they owe, and paying it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body, TenderIn
from tapzone.customers.accounts import (
    CustomerAccountView,
    CustomerPaymentView,
    pay_customer_account,
    view_customer_account,
)
from tapzone.money import Money
from tapzone.pos.tenders import Tender

router = APIRouter(prefix="/customers/{customer_id}", tags=["customer accounts"])


class PayAccount(Body):
    tenders: Annotated[list[TenderIn], Field(min_length=1, max_length=10)]


@router.get("/account")
def get_account(customer_id: int, who: Who, uow: Uow) -> CustomerAccountView:
    return view_customer_account(uow, who.context("read"), customer_id=customer_id)


@router.post("/payments", status_code=201)
def post_payment(customer_id: int, body: PayAccount, ctx: Write, uow: Uow) -> CustomerPaymentView:
    """Pay (part of) what the customer owes; cash above the debt is given back as change."""
    tenders = [Tender(t.kind, Money(t.amount_minor, t.currency), t.provider) for t in body.tenders]
    return pay_customer_account(uow, ctx, customer_id=customer_id, tenders=tenders)
