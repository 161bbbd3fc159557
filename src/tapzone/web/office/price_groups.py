"""Price groups (seed 004 "Benutzergruppe"): customers whose products have other prices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.money import Money
from tapzone.pos.price_groups import create_price_group, list_price_groups, set_group_price
from tapzone.store.paging import PAGE_SIZE_MAX
from tapzone.venues.listing import list_products
from tapzone.web.office.common import Office, OfficeForm, Outcome, attempt, guarded, office_page, read_form
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
Posted = Annotated[dict[str, list[str]], Depends(read_form)]


def _groups(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    uow, ctx = uow_of(request), office.who.context()
    groups = list_price_groups(uow, ctx)
    # A venue sells a few hundred products at most; the select offers those on sale.
    products = list_products(uow, ctx, group=None, search=None, active=True, limit=PAGE_SIZE_MAX, offset=0).items
    return office_page(
        request,
        office,
        "office/price_groups.html",
        title="Price groups",
        outcome=outcome,
        groups=groups,
        group_options=[(group.id, group.name) for group in groups],
        product_options=[(p.id, f"{p.name} ({p.product_group})") for p in products],
    )


@router.get("/office/price-groups")
def groups_page(request: Request) -> Response:
    return guarded(request, lambda office: _groups(request, office))


@router.post("/office/price-groups")
def add_group(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name", max_length=64)
        done, outcome = attempt(
            form, "group", lambda: create_price_group(uow_of(request), form.context(office), name=name or "")
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Price group {name} created", {"name": done.name}
        return _groups(request, office, outcome)

    return guarded(request, show)


@router.post("/office/price-groups/prices")
def set_price(request: Request, values: Posted) -> Response:
    """A product's price for one group; ticking "normal price" removes it again."""

    def show(office: Office) -> Response:
        form = OfficeForm(values)
        group_id = form.identifier("price_group_id")
        product_id = form.identifier("product_id")
        normal = form.flag("normal_price")
        price = None if normal else form.amount("price", office.currency)
        done, outcome = attempt(
            form,
            "price",
            lambda: set_group_price(
                uow_of(request),
                form.context(office),
                price_group_id=group_id or 0,
                product_id=product_id or 0,
                price=None if price is None else Money(price, office.currency),
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Prices of {name} saved", {"name": done.name}
        return _groups(request, office, outcome)

    return guarded(request, show)
