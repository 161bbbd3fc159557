"""Price groups (seed 004 "Benutzergruppe"): groups of customers and the prices their products have."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, StrictStr

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import AmountIn, Body
from tapzone.pos.price_groups import (
    MAX_NAME_LENGTH,
    PriceGroupView,
    create_price_group,
    list_price_groups,
    set_group_price,
)

router = APIRouter(prefix="/price-groups", tags=["price groups"])


class NewPriceGroup(Body):
    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_LENGTH)]


class GroupPriceIn(Body):
    price: AmountIn | None = Field(description="the group's price; null: the group pays the product's own price")


@router.post("", status_code=201)
def post_price_group(body: NewPriceGroup, ctx: Write, uow: Uow) -> PriceGroupView:
    """Create a price group (`venue.configure`); customers are put into it with PATCH /customers/{id}."""
    return create_price_group(uow, ctx, name=body.name)


@router.get("")
def get_price_groups(who: Who, uow: Uow) -> list[PriceGroupView]:
    return list_price_groups(uow, who.context("read"))


@router.put("/{price_group_id}/prices/{product_id}")
def put_group_price(price_group_id: int, product_id: int, body: GroupPriceIn, ctx: Write, uow: Uow) -> PriceGroupView:
    """Set what the group pays for a product, or `{"price": null}` to charge it the product's own price.
    Changes later sales only; lines already on a tab keep their price."""
    return set_group_price(
        uow,
        ctx,
        price_group_id=price_group_id,
        product_id=product_id,
        price=None if body.price is None else body.price.money(),
    )
