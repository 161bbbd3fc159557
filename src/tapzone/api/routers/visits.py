"""Issuing media to visitors, their card accounts, and returning media."""

from __future__ import annotations

from fastapi import APIRouter

from tapzone.access.visits import add_card_account, issue_medium, return_medium, set_active_card_account
from tapzone.api.deps import Uow, Write
from tapzone.api.schemas import AddCardAccount, ChooseCardAccount, IssueMedium, ReturnMedium
from tapzone.pos.views import CardAccountView, ReturnView, VisitView

router = APIRouter(tags=["visits"])


@router.post("/visits", status_code=201)
def post_visit(body: IssueMedium, ctx: Write, uow: Uow) -> VisitView:
    """Bind a medium to a new visit with its first card account (credit with a limit, prepaid with an
    initial load, or none)."""
    return issue_medium(
        uow,
        ctx,
        medium_uid=body.medium_uid,
        credit_type=body.credit_type,
        medium_kind=body.medium_kind,
        credit_limit=body.credit_limit.money() if body.credit_limit else None,
        initial_load=body.initial_load.money() if body.initial_load else None,
        tender=body.tender,
        card_provider=body.card_provider,
        customer_id=body.customer_id,
    )


@router.post("/media/{uid}/card-accounts", status_code=201)
def post_card_account(uid: str, body: AddCardAccount, ctx: Write, uow: Uow) -> CardAccountView:
    return add_card_account(
        uow,
        ctx,
        medium_uid=uid,
        credit_type=body.credit_type,
        credit_limit=body.credit_limit.money() if body.credit_limit else None,
        initial_load=body.initial_load.money() if body.initial_load else None,
        tender=body.tender,
        card_provider=body.card_provider,
        make_active=body.make_active,
        entry=body.entry,
    )


@router.put("/media/{uid}/active-card-account")
def put_active_card_account(uid: str, body: ChooseCardAccount, ctx: Write, uow: Uow) -> CardAccountView:
    return set_active_card_account(uow, ctx, medium_uid=uid, card_account_id=body.card_account_id, entry=body.entry)


@router.post("/media/{uid}/return")
def post_return(uid: str, body: ReturnMedium, ctx: Write, uow: Uow) -> ReturnView:
    """Close the visit; refused with unpaid-goods or prepaid-value-left until settled (seed 001)."""
    return return_medium(uow, ctx, medium_uid=uid, entry=body.entry)
