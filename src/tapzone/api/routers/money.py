"""Prepaid value on a medium: top-ups, immediate sales from the balance, payouts."""

from __future__ import annotations

from fastapi import APIRouter

from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import Items, Refund, TopUp
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import refund_prepaid
from tapzone.pos.topup import top_up
from tapzone.pos.views import RefundView, SaleView, TopupView

router = APIRouter(prefix="/media/{uid}", tags=["prepaid value"])


@router.post("/top-ups", status_code=201)
def post_top_up(uid: str, body: TopUp, ctx: Write, uow: Uow) -> TopupView:
    """Load prepaid value (cash or card): a liability, no revenue."""
    return top_up(
        uow,
        ctx,
        medium_uid=uid,
        amount=body.amount.money(),
        tender=body.tender,
        card_provider=body.card_provider,
        card_account_id=body.card_account_id,
        entry=body.entry,
    )


@router.post("/sales", status_code=201)
def post_sale(uid: str, body: Items, ctx: Write, uow: Uow) -> SaleView:
    """Sell and pay at once from the card balance (gastronomy and tanning mode, no tab)."""
    return sell_from_balance(
        uow, ctx, medium_uid=uid, items=body.domain_items(), card_account_id=body.card_account_id, entry=body.entry
    )


@router.post("/refunds", status_code=201)
def post_refund(uid: str, body: Refund, ctx: Write, uow: Uow) -> RefundView:
    """Pay out unused prepaid value in cash (all of it unless an amount is given); audited."""
    return refund_prepaid(
        uow,
        ctx,
        medium_uid=uid,
        amount=body.amount.money() if body.amount else None,
        card_account_id=body.card_account_id,
        entry=body.entry,
    )
