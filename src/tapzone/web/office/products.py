"""Products with their gross prices and VAT rates: list by group, create, reprice, take off the tills."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.venues import configure
from tapzone.venues.listing import list_products, product_groups
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
STATES = {"active": True, "inactive": False}


def _products(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    limit, offset = paging(request)
    query = request.query_params
    uow, ctx = uow_of(request), office.who.context()
    page = list_products(
        uow,
        ctx,
        group=query.get("group") or None,
        search=query.get("search") or None,
        active=STATES.get(query.get("state", "")),
        limit=limit,
        offset=offset,
    )
    return office_page(
        request,
        office,
        "office/products.html",
        title="Products and VAT",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/products"),
        groups=(groups := product_groups(uow, ctx)),
        group_options=[(name, name) for name in groups],
        group=query.get("group", ""),
        search=query.get("search", ""),
        state=query.get("state", ""),
    )


@router.get("/office/products")
def products_page(request: Request) -> Response:
    return guarded(request, lambda office: _products(request, office))


@router.post("/office/products")
def add_product(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name")
        price = form.amount("price", office.currency)
        vat = form.basis_points("vat_rate")
        group = form.text("product_group", max_length=64)
        done, outcome = attempt(
            form,
            "product",
            lambda: configure.create_product(
                uow_of(request),
                form.context(office),
                name=name or "",
                price_minor=price or 0,
                vat_rate_bp=vat or 0,
                product_group=group or "",
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Product {name} created", {"name": done.name}
        return _products(request, office, outcome)

    return guarded(request, show)


@router.post("/office/products/{product_id}")
def change_product(request: Request, product_id: int, values: Posted) -> Response:
    """Reprice one product from its row in the list; the row's form sends price, rate and state."""

    def show(office: Office) -> Response:
        form = OfficeForm(values)
        price = form.amount(f"price-{product_id}", office.currency)
        vat = form.basis_points(f"vat_rate-{product_id}")
        done, outcome = attempt(
            form,
            f"product-{product_id}",
            lambda: configure.update_product(
                uow_of(request),
                form.context(office),
                product_id=product_id,
                price_minor=price,
                vat_rate_bp=vat,
                active=form.flag(f"active-{product_id}"),
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Product {name} saved", {"name": done.name}
        return _products(request, office, outcome)

    return guarded(request, show)
