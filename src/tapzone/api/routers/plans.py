"""The tariff system of seed 002 over HTTP: tariffs, top-up rules, account types, selling them onto media,
and using a resource (sunbed, sauna, fitness area) with a card account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StrictBool, StrictInt

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body
from tapzone.context import MediumEntry
from tapzone.media.model import MediumKind
from tapzone.plans.resources import FingerprintView, SessionView, confirm_fingerprint, start_session
from tapzone.plans.selling import medium_accounts, preview_sale, sell_account_type, type_for_medium
from tapzone.plans.setup import (
    copy_account_type,
    create_account_type,
    create_tariff,
    create_topup_rule,
    list_account_types,
    set_skin_type,
    update_account_type,
)
from tapzone.plans.specs import (
    AccountSaleView,
    AccountTypeSpec,
    AccountTypeView,
    ContractSpec,
    CreatedView,
    PreviewView,
    TariffSpec,
    TopupRuleSpec,
    TypedAccountView,
)
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, TenderKind

router = APIRouter(tags=["tariff system"])


@router.post("/tariffs", status_code=201)
def post_tariff(body: TariffSpec, ctx: Write, uow: Uow) -> CreatedView:
    """A fixed tariff (per use or per minute, optionally a time table) or a subscription tariff."""
    return create_tariff(uow, ctx, body)


@router.post("/topup-rules", status_code=201)
def post_topup_rule(body: TopupRuleSpec, ctx: Write, uow: Uow) -> CreatedView:
    """A free top-up (any price, optional bonus percentage) or a stepped one (a price list)."""
    return create_topup_rule(uow, ctx, body)


@router.post("/account-types", status_code=201)
def post_account_type(body: AccountTypeSpec, ctx: Write, uow: Uow) -> AccountTypeView:
    return create_account_type(uow, ctx, body)


@router.get("/account-types")
def get_account_types(
    who: Who, uow: Uow, sellable: Annotated[bool, Query(description="only the types offered for sale")] = False
) -> list[AccountTypeView]:
    return list_account_types(uow, who.context("read"), sellable_only=sellable)


@router.patch("/account-types/{type_id}")
def patch_account_type(type_id: int, body: dict[str, Any], ctx: Write, uow: Uow) -> AccountTypeView:
    """Change some fields of a type from now on (e.g. `sellable` for a seasonal card); the number stays."""
    return update_account_type(uow, ctx, type_id=type_id, changes=body)


class CopyType(Body):
    number: Annotated[StrictInt, Field(ge=1, le=999_999)]


@router.post("/account-types/{type_id}/copies", status_code=201)
def post_copy(type_id: int, body: CopyType, ctx: Write, uow: Uow) -> AccountTypeView:
    """Copy a type under a chosen number (networked venues keep the same numbers for the same cards)."""
    return copy_account_type(uow, ctx, type_id=type_id, number=body.number)


class PreviewIn(Body):
    price_minor: Annotated[StrictInt, Field(ge=1)] | None = None
    medium_uid: Annotated[str, Field(min_length=1, max_length=64)] | None = None


@router.post("/account-types/{type_id}/preview")
def post_preview(type_id: int, body: PreviewIn, who: Who, uow: Uow) -> PreviewView:
    """What a sale at this price would add, and the balances after it; books nothing."""
    return preview_sale(
        uow, who.context("read"), account_type_id=type_id, price_minor=body.price_minor, medium_uid=body.medium_uid
    )


class SkinTypeIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    max_minutes: Annotated[StrictInt, Field(ge=1, le=120)]


@router.put("/skin-types/{skin_type}")
def put_skin_type(skin_type: int, body: SkinTypeIn, ctx: Write, uow: Uow) -> CreatedView:
    return set_skin_type(uow, ctx, skin_type=skin_type, name=body.name, max_minutes=body.max_minutes)


class AccountSale(Body):
    account_type_id: StrictInt | None = Field(None, description="omit to use the type of the card-number range")
    price_minor: Annotated[StrictInt, Field(ge=1)] | None = None
    tender: TenderKind = TenderKind.CASH
    card_provider: Annotated[str, Field(min_length=1, max_length=32)] = DEFAULT_CARD_PROVIDER
    customer_id: StrictInt | None = None
    contract: ContractSpec | None = None
    medium_kind: MediumKind = MediumKind.CARD
    make_active: StrictBool = True
    entry: MediumEntry = MediumEntry.READER


@router.post("/media/{uid}/account-sales", status_code=201)
def post_account_sale(uid: str, body: AccountSale, ctx: Write, uow: Uow) -> AccountSaleView:
    """Sell an account type onto the medium: a new card, one more account, or a top-up of the type's account."""
    return sell_account_type(uow, ctx, medium_uid=uid, **body.model_dump(exclude={"contract"}), contract=body.contract)


@router.get("/media/{uid}/accounts")
def get_medium_accounts(
    uid: str, who: Who, uow: Uow, entry: Annotated[MediumEntry, Query()] = MediumEntry.READER
) -> list[TypedAccountView]:
    """The medium's open card accounts: type, number as displayed, balances, validity, the active one."""
    return medium_accounts(uow, who.context("read"), medium_uid=uid, entry=entry)


class CardNumberView(BaseModel):
    number: str
    display_number: str
    account_type_id: int | None


@router.get("/card-numbers/{uid}")
def get_card_number(uid: str, who: Who, uow: Uow) -> CardNumberView:
    """How a card number is shown and which account type its number range selects (seed 002), before a sale."""
    kind, shown = type_for_medium(uow, who.context("read"), medium_uid=uid)
    return CardNumberView(number=uid, display_number=shown, account_type_id=kind.id if kind else None)


class SessionIn(Body):
    medium_uid: Annotated[str, Field(min_length=1, max_length=64)]
    minutes: Annotated[StrictInt, Field(ge=1, le=1440)]
    card_account_id: StrictInt | None = None
    entry: MediumEntry = MediumEntry.READER


@router.post("/resources/{resource_id}/sessions", status_code=201)
def post_session(resource_id: int, body: SessionIn, ctx: Write, uow: Uow, response: Response) -> SessionView:
    """Start a session: the minutes allowed, the price and what was charged, or a denial with its reason
    (201 when it starts, 200 with `allowed: false` when refused)."""
    view = start_session(
        uow,
        ctx,
        resource_id=resource_id,
        medium_uid=body.medium_uid,
        minutes=body.minutes,
        card_account_id=body.card_account_id,
        entry=body.entry,
    )
    if not view.allowed:
        response.status_code = 200
    return view


class FingerprintIn(Body):
    medium_uid: Annotated[str, Field(min_length=1, max_length=64)]


@router.post("/fingerprint-matches", status_code=201)
def post_fingerprint_match(body: FingerprintIn, ctx: Write, uow: Uow) -> FingerprintView:
    """Sent by a fingerprint reader when the finger matches the medium's owner."""
    return confirm_fingerprint(uow, ctx, medium_uid=body.medium_uid)
