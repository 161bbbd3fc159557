"""The till: read a medium, see the visitor's tab and balances, book products, bill, settle.

Every action is an HTMX request that answers with the refreshed tab fragment; a refusal answers with the
same fragment plus the problem in the cashier's language. Card payments on a standalone terminal open the
blocking dialog of seed 003: take the payment on the terminal first, enter the approved amount, then the
receipt is printed.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from tapzone.errors import PaymentPending, TapzoneError
from tapzone.money import Money
from tapzone.payments.flow import confirm_payment, view_payment
from tapzone.pos.catalogue import Item
from tapzone.pos.receipts.html import render_html
from tapzone.pos.receipts.issue import load_receipt
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import bill_tab, save_items, view_tab
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.views import TabView
from tapzone.store.tables import products, venues
from tapzone.web.render import render
from tapzone.web.session import Screen, screen, uow_of

router = APIRouter(include_in_schema=False)


def _catalogue(request: Request, venue_id: int) -> dict[str, list[Any]]:
    with uow_of(request).engine.connect() as conn:
        rows = conn.execute(
            sa.select(products.c.id, products.c.name, products.c.price_minor, products.c.product_group)
            .where(products.c.venue_id == venue_id, products.c.active.is_(True))
            .order_by(products.c.product_group, products.c.name)
        ).all()
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.product_group, []).append(row)
    return groups


def _venue(request: Request, venue_id: int) -> Any:
    with uow_of(request).engine.connect() as conn:
        return conn.execute(sa.select(venues.c.currency, venues.c.timezone).where(venues.c.id == venue_id)).one()


def _tab_fragment(
    request: Request, who: Screen, uid: str, *, error: TapzoneError | None = None, **extra: Any
) -> Response:
    venue = _venue(request, who.device.venue_id)
    tab: TabView | None = None
    try:
        tab = view_tab(uow_of(request), who.context(), medium_uid=uid)
    except TapzoneError as refused:
        error = error or refused
    return render(
        request,
        "till/tab.html",
        language=who.language,
        uid=uid,
        tab=tab,
        error=error,
        currency=venue.currency,
        timezone=venue.timezone,
        key=uuid.uuid4().hex,
        **extra,
    )


@router.get("/till")
def till_page(request: Request, medium: str = "") -> Response:
    """`?medium=` comes from a failed exit in the entry view: the page opens that tab as it loads."""
    who = screen(request)
    venue = _venue(request, who.device.venue_id)
    return render(
        request,
        "till/page.html",
        language=who.language,
        who=who,
        medium=medium.strip(),
        groups=_catalogue(request, who.device.venue_id),
        currency=venue.currency,
        timezone=venue.timezone,
    )


@router.post("/till/read")
def read_medium(request: Request, uid: str = Form(...)) -> Response:
    return _tab_fragment(request, screen(request), uid.strip())


@router.post("/till/{uid}/items")
def add_item(request: Request, uid: str, product_id: int = Form(...), key: str = Form(...)) -> Response:
    """One tap on a product button saves it on the tab ("Spara")."""
    who = screen(request)
    try:
        save_items(uow_of(request), who.context(key), medium_uid=uid, items=[Item(product_id)])
    except TapzoneError as error:
        return _tab_fragment(request, who, uid, error=error)
    return _tab_fragment(request, who, uid)


@router.post("/till/{uid}/bill")
def print_bill(request: Request, uid: str, key: str = Form(...)) -> Response:
    who = screen(request)
    try:
        bill = bill_tab(uow_of(request), who.context(key), medium_uid=uid)
    except TapzoneError as error:
        return _tab_fragment(request, who, uid, error=error)
    return _tab_fragment(request, who, uid, receipt_id=bill.receipt_id)


@router.post("/till/{uid}/settle")
def settle(
    request: Request,
    uid: str,
    tender: str = Form(...),
    amount_minor: int = Form(...),
    key: str = Form(...),
    provider: str = Form("default"),
) -> Response:
    """Settle with one tender. A card on a standalone terminal answers with the payment dialog instead."""
    who = screen(request)
    currency = _venue(request, who.device.venue_id).currency
    try:
        kind = TenderKind(tender)
        result = settle_tab(
            uow_of(request),
            who.context(key),
            medium_uid=uid,
            tenders=[Tender(kind, Money(amount_minor, currency), provider)],
            pay_out_leftover=kind is not TenderKind.CARD,
        )
    except PaymentPending as pending:
        return _tab_fragment(request, who, uid, payment=pending.payment)
    except (TapzoneError, ValueError) as error:
        problem = error if isinstance(error, TapzoneError) else TapzoneError(str(error))
        return _tab_fragment(request, who, uid, error=problem)
    return _tab_fragment(request, who, uid, receipt_id=result.receipt_ids[0] if result.receipt_ids else None)


@router.post("/till/{uid}/payments/{payment_id}/confirm")
def confirm(
    request: Request,
    uid: str,
    payment_id: int,
    approved_amount_minor: int = Form(...),
    slip_number: str = Form(""),
) -> Response:
    """seed 003: the cashier took the payment on the terminal and enters the approved amount."""
    who = screen(request)
    try:
        result = confirm_payment(
            uow_of(request),
            who.context(),
            payment_id=payment_id,
            approved_amount_minor=approved_amount_minor,
            slip_number=slip_number or None,
        )
    except TapzoneError as error:
        payment = view_payment(uow_of(request), who.context(), payment_id=payment_id)
        return _tab_fragment(request, who, uid, error=error, payment=payment)
    receipt_ids = getattr(result, "receipt_ids", None) or [getattr(result, "receipt_id", None)]
    return _tab_fragment(request, who, uid, receipt_id=receipt_ids[0])


@router.get("/receipts/{receipt_id}")
def receipt_page(request: Request, receipt_id: int) -> Response:
    """The receipt as issued, for the preview and the browser's print dialog."""
    who = screen(request)
    receipt, timezone = load_receipt(uow_of(request), who.context(), receipt_id=receipt_id)
    return HTMLResponse(render_html(receipt, timezone))
