"""What a till needs to sell: the venue's active products."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel

from tapzone.api.deps import Uow, Who
from tapzone.api.problems import request_language
from tapzone.i18n import format_money
from tapzone.store.tables import products, venues

router = APIRouter(tags=["catalog"])


class ProductOut(BaseModel):
    id: int
    name: str
    price_minor: int
    currency: str
    vat_rate_bp: int
    product_group: str
    price_display: str


@router.get("/products")
def list_products(request: Request, who: Who, uow: Uow) -> list[ProductOut]:
    language = request_language(request)
    with uow.engine.connect() as conn:
        currency = conn.execute(sa.select(venues.c.currency).where(venues.c.id == who.device.venue_id)).scalar_one()
        rows = conn.execute(
            sa.select(products)
            .where(products.c.venue_id == who.device.venue_id, products.c.active.is_(True))
            .order_by(products.c.product_group, products.c.name)
        ).all()
    return [
        ProductOut(
            id=row.id,
            name=row.name,
            price_minor=row.price_minor,
            currency=currency,
            vat_rate_bp=row.vat_rate_bp,
            product_group=row.product_group,
            price_display=format_money(row.price_minor, currency, language),
        )
        for row in rows
    ]
