"""The customer portal on the web: a visitor signs in with the medium's number and PIN, or by scanning its QR
code, and sees the bookings and the receipts of the current visit. The balance with the online top-up
lives in `portal_balance`, the simulated provider's payment page in `portal_simulator`, both under this
router.

Every failed sign-in shows the same "unknown or inactive medium" text, whatever went wrong (DESIGN §5); the
use cases make every failure cost the same and count it against the limits, and once a limit is reached
the page says how long to wait.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from tapzone.api.routers.portal import client_address, portal_keys
from tapzone.errors import NotFound, RateLimited, TapzoneError
from tapzone.portal.access import open_session_with_pin, open_session_with_qr
from tapzone.portal.views import HistoryLineView, portal_history, portal_receipt, portal_receipts
from tapzone.pos.receipts.html import RECEIPT_CSS, render_html_fragment
from tapzone.pos.receipts.render import MEDIA_TYPES
from tapzone.pos.receipts.render import render as render_receipt
from tapzone.pos.receipts.texts import TITLES
from tapzone.web import portal_balance, portal_simulator
from tapzone.web.portal_common import (
    COOKIE_PATH,
    PORTAL_COOKIE,
    UNIT_LABELS,
    Customer,
    chosen_venue,
    customer_of,
    keep_session,
    language_of,
    page,
    signed_out,
    venues_of,
)
from tapzone.web.session import uow_of

HISTORY_PAGE_SIZE = 20
REFUSED = "Unknown or inactive card or wristband. Please check the number and the PIN."
RATE_LIMITED = "Too many attempts. Please try again in {minutes} min."

router = APIRouter(include_in_schema=False)


def refusal(error: TapzoneError) -> tuple[str, dict[str, object]]:
    """The text for a refused sign-in: how long to wait once a limit is reached, else one text for every
    failure — unknown number, wrong PIN, blocked or returned medium, unknown venue alike. The page that
    shows it answers 200, like every re-shown portal form: the form page itself did load, and the message
    on it is what a person reads."""
    if isinstance(error, RateLimited):
        return RATE_LIMITED, {"minutes": max(1, math.ceil(error.retry_after_s / 60))}
    return REFUSED, {}


@router.get("/portal")
def sign_in_page(request: Request) -> Response:
    if customer_of(request) is not None:
        return RedirectResponse("/portal/balance", status_code=303)
    venue = chosen_venue(request)
    language = language_of(request, venue.language if venue else "en")
    if venue is None:
        # A link without a venue on a server that holds several: the visitor picks theirs.
        return page(request, "portal/venues.html", language=language, venue=None, venues=venues_of(request))
    ended = request.query_params.get("ended") == "1"
    return page(request, "portal/sign_in.html", language=language, venue=venue, ended=ended, error=None, uid="")


@router.post("/portal/sign-in")
def sign_in_post(
    request: Request, venue_id: int = Form(...), medium_uid: str = Form(""), pin: str = Form("")
) -> Response:
    found = venues_of(request, venue_id)
    venue = found[0] if found else None
    language = language_of(request, venue.language if venue else "en")
    try:
        # An unknown venue is refused by the use case like any other mismatch, after the same work.
        session = open_session_with_pin(
            uow_of(request),
            portal_keys(request).session_key,
            venue_id=venue_id,
            medium_uid=medium_uid[:64],
            pin=pin[:32],
            client=client_address(request),
        )
    except TapzoneError as error:
        return page(
            request,
            "portal/sign_in.html",
            language=language,
            venue=venue,
            ended=False,
            error=refusal(error),
            uid=medium_uid[:64],
        )
    return keep_session(request, RedirectResponse("/portal/balance", status_code=303), session)


@router.get("/portal/qr/{payload}")
def sign_in_by_qr(request: Request, payload: str) -> Response:
    """The address a phone opens after scanning a QR medium (the printed `TZQ-<token>`, or the token alone).

    Answers with a page that moves on to the balance by itself, not with a redirect: the scanner app or a
    mail client opens this address from outside, and a SameSite=Strict cookie only goes along with a
    navigation that starts on the portal's own page."""
    venue = chosen_venue(request)
    language = language_of(request, venue.language if venue else "en")
    try:
        if venue is None:
            raise NotFound("no such venue")  # answered like an unknown code
        session = open_session_with_qr(
            uow_of(request),
            portal_keys(request).session_key,
            venue_id=venue.id,
            qr_token=payload[:128],
            client=client_address(request),
        )
    except TapzoneError as error:
        return page(
            request,
            "portal/sign_in.html",
            language=language,
            venue=venue,
            ended=False,
            error=refusal(error),
            uid="",
        )
    onward = page(request, "portal/continue.html", language=language, venue=venue, to="/portal/balance")
    return keep_session(request, onward, session)


@router.post("/portal/sign-out")
def sign_out_post() -> Response:
    # The token itself cannot be revoked (it is stateless); dropping the cookie ends the session in this
    # browser, and the token expires within minutes anyway.
    response = RedirectResponse("/portal", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/portal/history")
def history_page(request: Request) -> Response:
    who = customer_of(request)
    if who is None:
        return signed_out(request)
    before = request.query_params.get("before", "")
    before_entry_id = int(before) if before.isdigit() and len(before) < 19 else None
    lines, older = _history_page(request, who, before_entry_id)
    return page(
        request,
        "portal/history.html",
        language=who.language,
        venue=who.venue,
        who=who,
        lines=lines,
        older=older,
        paged=before_entry_id is not None,
        unit_labels=UNIT_LABELS,
    )


def _history_page(
    request: Request, who: Customer, before_entry_id: int | None
) -> tuple[list[HistoryLineView], str | None]:
    """A page of bookings and the address of the next older page, if there is one. One line more than a
    page is read to know; a booking is never split across two pages (the next page starts before it)."""
    found = portal_history(
        uow_of(request), who.medium, who.language, limit=HISTORY_PAGE_SIZE + 1, before_entry_id=before_entry_id
    ).lines
    lines = found[:HISTORY_PAGE_SIZE]
    if len(found) <= HISTORY_PAGE_SIZE:
        return lines, None
    cut = lines[-1].entry_id
    if found[HISTORY_PAGE_SIZE].entry_id == cut and any(line.entry_id != cut for line in lines):
        lines = [line for line in lines if line.entry_id != cut]
    return lines, f"/portal/history?before={min(line.entry_id for line in lines)}"


@router.get("/portal/receipts")
def receipts_page(request: Request) -> Response:
    who = customer_of(request)
    if who is None:
        return signed_out(request)
    return page(
        request,
        "portal/receipts.html",
        language=who.language,
        venue=who.venue,
        who=who,
        receipts=portal_receipts(uow_of(request), who.medium).receipts,
        titles={kind.value: label.value for kind, label in TITLES.items()},
    )


@router.get("/portal/receipts/{receipt_id}")
def receipt_page(request: Request, receipt_id: int) -> Response:
    """One receipt exactly as issued — the receipt renderer's HTML, in the receipt's own language — inside
    the portal's page. A receipt of another medium or visit is not found."""
    who = customer_of(request)
    if who is None:
        return signed_out(request)
    shown: dict[str, object] = {"receipt": None, "receipt_css": ""}
    status = 200
    try:
        receipt, timezone = portal_receipt(uow_of(request), who.medium, receipt_id)
        # The renderer escapes every text itself; its style sheet is a constant.
        shown = {"receipt": Markup(render_html_fragment(receipt, timezone)), "receipt_css": Markup(RECEIPT_CSS)}  # noqa: S704
    except NotFound:
        status = 404
    return page(
        request,
        "portal/receipt.html",
        language=who.language,
        venue=who.venue,
        status_code=status,
        who=who,
        receipt_id=receipt_id,
        **shown,
    )


@router.get("/portal/receipts/{receipt_id}/pdf")
def receipt_pdf(request: Request, receipt_id: int) -> Response:
    who = customer_of(request)
    if who is None:
        return signed_out(request)
    try:
        receipt, timezone = portal_receipt(uow_of(request), who.medium, receipt_id)
    except NotFound:
        return Response(status_code=404)
    return Response(
        render_receipt(receipt, "pdf", timezone),
        media_type=MEDIA_TYPES["pdf"],
        headers={"Cache-Control": "no-store", "Content-Disposition": f'inline; filename="receipt-{receipt_id}.pdf"'},
    )


router.include_router(portal_balance.router)
router.include_router(portal_simulator.router)
