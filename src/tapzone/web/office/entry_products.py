"""Entry products (seed 001 "Entré"): the tickets sold at the entrance of a paid zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.access import configure
from tapzone.access.listing import list_entry_products, list_zones
from tapzone.access.model import AntiPassback
from tapzone.access.setup import MAX_COMPANIONS
from tapzone.plans.card_accounts import CreditType
from tapzone.store.paging import PAGE_SIZE_MAX
from tapzone.venues.listing import list_products
from tapzone.web.office.common import (
    Office,
    OfficeForm,
    Outcome,
    attempt,
    guarded,
    office_page,
    pager_links,
    paging,
    read_form,
)
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
Posted = Annotated[dict[str, list[str]], Depends(read_form)]
MINUTES_PER_DAY = 24 * 60


def _entries(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    limit, offset = paging(request)
    uow, ctx = uow_of(request), office.who.context()
    page = list_entry_products(uow, ctx, limit=limit, offset=offset)
    zones = list_zones(uow, ctx, limit=PAGE_SIZE_MAX, offset=0).items
    products = list_products(uow, ctx, group=None, search=None, active=True, limit=PAGE_SIZE_MAX, offset=0).items
    return office_page(
        request,
        office,
        "office/entry_products.html",
        title="Entry products",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/entry-products"),
        zone_options=[(zone.id, zone.name) for zone in zones],
        product_options=[(p.id, p.name) for p in products if p.product_group != "entry"],
        credit_types=[kind.value for kind in CreditType],
        anti_passback_modes=[mode.value for mode in AntiPassback],
    )


@router.get("/office/entry-products")
def entries_page(request: Request) -> Response:
    return guarded(request, lambda office: _entries(request, office))


@router.post("/office/entry-products")
def add_entry_product(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        currency = office.currency
        name = form.text("name")
        price = form.amount("price", currency)
        vat = form.basis_points("vat_rate")
        zone_id = form.identifier("zone_id")
        credit_type = form.choice("credit_type", CreditType)
        limit = form.amount("credit_limit", currency, required=False, allow_zero=True)
        included = form.number("included_minutes", low=1, high=MINUTES_PER_DAY * 7, required=False)
        deposit = form.amount("deposit", currency, required=False, allow_zero=True)
        anti_passback = form.choice("anti_passback", AntiPassback)
        companions = form.number("companions", low=0, high=MAX_COMPANIONS, required=False)
        overstay_product = form.identifier("overstay_product_id", required=False)
        block = form.number("overstay_block_minutes", low=1, high=MINUTES_PER_DAY, required=False)
        grace = form.number("overstay_grace_minutes", low=0, high=MINUTES_PER_DAY, required=False)
        done, outcome = attempt(
            form,
            "entry",
            lambda: configure.create_entry_product(
                uow_of(request),
                form.context(office),
                name=name or "",
                price_minor=price or 0,
                vat_rate_bp=vat or 0,
                zone_id=zone_id or 0,
                credit_type=credit_type or CreditType.NONE,
                credit_limit_minor=limit or 0,
                included_minutes=included,
                deposit_minor=deposit or 0,
                anti_passback=anti_passback or AntiPassback.SEPARATE,
                companions=companions or 0,
                overstay_product_id=overstay_product,
                overstay_block_minutes=block,
                overstay_grace_minutes=grace or 0,
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Entry product {name} created", {"name": name}
        return _entries(request, office, outcome)

    return guarded(request, show)
