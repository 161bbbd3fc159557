"""The till: read a medium, see the visitor's tab, balances and party, book products, bill, settle.

Every action is an HTMX request that answers with the refreshed tab fragment; a refusal answers with the
same fragment plus the problem in the cashier's language. Card payments on a standalone terminal (or a bank
transfer) open the blocking dialog of seed 003: take the payment on the terminal first, enter the approved
amount, then the receipt is printed. Selling (top-up, entries, account types) lives in `till_sales`, moving
and returning media in `till_media`; both hang under this router.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel

from tapzone.errors import Conflict, NothingToSettle, PaymentAmountMismatch, PaymentPending, TapzoneError
from tapzone.i18n import format_money
from tapzone.money import Money
from tapzone.payments.codec import decode_kwargs
from tapzone.payments.flow import close_payment, confirm_payment, view_payment
from tapzone.payments.model import CONFIRMED_BY_CASHIER, PaymentState, PaymentView
from tapzone.pos.catalogue import Item
from tapzone.pos.receipts.html import RECEIPT_CSS, render_html_fragment
from tapzone.pos.receipts.issue import load_receipt
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import bill_tab, save_items, view_tab
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, Tender, TenderKind
from tapzone.store.tables import payment_terminals, payments
from tapzone.venues.permissions import Permission
from tapzone.web import till_media, till_sales
from tapzone.web.render import render, translate
from tapzone.web.session import Screen, screen, uow_of
from tapzone.web.till_common import catalogue_of, entry_of, parse_amount, permissions_of, tab_fragment, venue_of

router = APIRouter(include_in_schema=False)


def _pending_payment(request: Request, who: Screen) -> tuple[str, PaymentView] | None:
    """A payment this till left waiting for the cashier (the page was reloaded, the tablet restarted):
    the dialog comes back, so the money taken on the terminal is never forgotten."""
    kinds = [kind.value for kind in CONFIRMED_BY_CASHIER]
    with uow_of(request).engine.connect() as conn:
        row = conn.execute(
            sa.select(payments.c.id, payments.c.operation_payload)
            .join(payment_terminals, payment_terminals.c.id == payments.c.terminal_id)
            .where(
                payments.c.device_id == who.device.device_id,
                payments.c.state == PaymentState.PENDING.value,
                payment_terminals.c.kind.in_(kinds),
            )
            .order_by(payments.c.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    uid = decode_kwargs(row.operation_payload).get("medium_uid")
    if not isinstance(uid, str):
        return None
    return uid, view_payment(uow_of(request), who.context(), payment_id=row.id)


@router.get("/till")
def till_page(request: Request) -> Response:
    who = screen(request)
    venue = venue_of(request, who.device.venue_id)
    medium = request.query_params.get("medium", "").strip()
    return render(
        request,
        "till/page.html",
        language=who.language,
        who=who,
        groups=catalogue_of(request, who.device.venue_id),
        currency=venue.currency,
        timezone=venue.timezone,
        resume_url="/till/current" + (f"?{urlencode({'medium': medium})}" if medium else ""),
        manual_entry=Permission.MEDIUM_MANUAL_ENTRY.value in permissions_of(request, who),
    )


@router.get("/till/current")
def current(request: Request, medium: str = "") -> Response:
    """What the till shows when the page opens: a payment this till left waiting for the cashier comes
    back first; else the medium the gate monitor's "open the tab" link names (a gate read it physically
    at a failed exit); else nothing."""
    who = screen(request)
    pending = _pending_payment(request, who)
    if pending is not None:
        uid, payment = pending
        return tab_fragment(request, who, uid, payment=payment)
    if medium.strip():
        return tab_fragment(request, who, medium.strip())
    return Response(status_code=204)


@router.post("/till/read")
def read_medium(request: Request, uid: str = Form(...), entry: str = Form("reader")) -> Response:
    """A keyboard-wedge reader types the UID and Enter; a typed number (entry=typed) needs the
    manual-entry permission, which the use case checks and audits."""
    return tab_fragment(request, screen(request), uid.strip(), entry=entry_of(entry))


@router.post("/till/{uid}/items")
def add_item(
    request: Request, uid: str, product_id: int = Form(...), key: str = Form(...), entry: str = Form("reader")
) -> Response:
    """One tap on a product button saves it on the tab ("Spara"), at the customer's price group's price."""
    who, how = screen(request), entry_of(entry)
    try:
        save_items(uow_of(request), who.context(key), medium_uid=uid, items=[Item(product_id)], entry=how)
    except TapzoneError as error:
        return tab_fragment(request, who, uid, entry=how, error=error)
    return tab_fragment(request, who, uid, entry=how)


@router.post("/till/{uid}/bill")
def print_bill(request: Request, uid: str, key: str = Form(...), entry: str = Form("reader")) -> Response:
    who, how = screen(request), entry_of(entry)
    try:
        bill = bill_tab(uow_of(request), who.context(key), medium_uid=uid, entry=how)
    except TapzoneError as error:
        return tab_fragment(request, who, uid, entry=how, error=error)
    return tab_fragment(request, who, uid, entry=how, receipt_ids=[bill.receipt_id])


def _due_minor(request: Request, who: Screen, uid: str, how: Any, everyone: bool, others: list[str]) -> int:
    """What the chosen tabs add up to now; the use case refuses the tender if it no longer fits."""
    tab = view_tab(uow_of(request), who.context(), medium_uid=uid, entry=how)
    due = tab.open_total_minor
    counted = {tab.medium_uid}
    if everyone:
        due += sum(debt.open_total_minor for debt in tab.party_debts)
        counted |= {debt.medium_uid for debt in tab.party_debts}
    for other in others:
        view = view_tab(uow_of(request), who.context(), medium_uid=other)
        if view.medium_uid not in counted:
            due += view.open_total_minor
            counted.add(view.medium_uid)
    return due


@router.post("/till/{uid}/settle")
def settle(
    request: Request,
    uid: str,
    tender: str = Form(...),
    key: str = Form(...),
    provider: str = Form(DEFAULT_CARD_PROVIDER),
    cash_given: str = Form(""),
    scope: str = Form("this"),
    other_media: Annotated[list[str] | None, Form()] = None,
    pay_out: str = Form(""),
    entry: str = Form("reader"),
) -> Response:
    """Settle with one tender: this medium's tab, or the whole party's (seed 000 "pay this one or all"),
    plus further wristbands read for the same receipt (seed 001). Cash may be more than due: the change is
    shown. A card on a standalone terminal answers with the payment dialog instead."""
    who, how = screen(request), entry_of(entry)
    currency = venue_of(request, who.device.venue_id).currency
    others = [other.strip() for other in other_media or [] if other.strip()]
    try:
        kind = TenderKind(tender)
        due = _due_minor(request, who, uid, how, scope == "all", others)
        if due <= 0:
            raise NothingToSettle(translate("the tab has no unpaid lines", who.language))
        amount = due
        if kind is TenderKind.CASH and cash_given.strip():
            amount = parse_amount(cash_given, currency, who.language)
        result = settle_tab(
            uow_of(request),
            who.context(key),
            medium_uid=uid,
            tenders=[Tender(kind, Money(amount, currency), provider)],
            pay_out_leftover=bool(pay_out) and kind is not TenderKind.CARD,
            include_party=scope == "all",
            other_media=others,
            entry=how,
        )
    except PaymentPending as pending:
        return tab_fragment(request, who, uid, entry=how, others=others, payment=pending.payment)
    except (TapzoneError, ValueError) as error:
        problem = error if isinstance(error, TapzoneError) else TapzoneError(str(error))
        return tab_fragment(request, who, uid, entry=how, others=others, error=problem)
    return tab_fragment(request, who, uid, entry=how, done=result, receipt_ids=result.receipt_ids)


@router.post("/till/{uid}/pay-out")
def pay_out_value(request: Request, uid: str, key: str = Form(...), entry: str = Form("reader")) -> Response:
    """Pay the leftover prepaid value out in cash (seed 001), so the medium can be returned and the
    visitor may leave."""
    who, how = screen(request), entry_of(entry)
    try:
        result = settle_tab(
            uow_of(request), who.context(key), medium_uid=uid, tenders=[], pay_out_leftover=True, entry=how
        )
    except TapzoneError as error:
        return tab_fragment(request, who, uid, entry=how, error=error)
    return tab_fragment(request, who, uid, entry=how, done=result, receipt_ids=result.receipt_ids)


def receipts_of(result: BaseModel) -> list[int]:
    """The receipt(s) of whatever operation a confirmed payment booked (settlement, top-up, entry, type)."""
    many = getattr(result, "receipt_ids", None)
    if many:
        return list(many)
    one = getattr(result, "receipt_id", None)
    return [one] if one is not None else []


@router.post("/till/{uid}/payments/{payment_id}/confirm")
def confirm(
    request: Request,
    uid: str,
    payment_id: int,
    approved_amount: str = Form(...),
    slip_number: str = Form(""),
) -> Response:
    """seed 003: the cashier took the payment on the terminal and enters the approved amount. A different
    amount is refused inside the dialog and books nothing."""
    who = screen(request)
    try:
        payment = view_payment(uow_of(request), who.context(), payment_id=payment_id)
        approved = parse_amount(approved_amount, payment.currency, who.language)
        result = confirm_payment(
            uow_of(request),
            who.context(),
            payment_id=payment_id,
            approved_amount_minor=approved,
            slip_number=slip_number.strip()[:32] or None,
        )
    except PaymentAmountMismatch:
        # The use case's detail speaks minor units in English; the cashier needs both amounts as money.
        text = translate("The terminal approved {approved}, but {due} is due", who.language).format(
            approved=format_money(approved, payment.currency, who.language),
            due=format_money(payment.amount_minor, payment.currency, who.language),
        )
        hint = translate("Reverse the payment on the terminal and take the right amount", who.language)
        return _refused_in_dialog(request, who, uid, payment_id, PaymentAmountMismatch(f"{text}. {hint}."))
    except TapzoneError as error:
        return _refused_in_dialog(request, who, uid, payment_id, error)
    return tab_fragment(request, who, uid, done=result, receipt_ids=receipts_of(result))


def _refused_in_dialog(request: Request, who: Screen, uid: str, payment_id: int, error: TapzoneError) -> Response:
    """A refused confirmation keeps the dialog open, the reason inside it, while the payment still waits;
    a payment that no longer waits closes the dialog and the reason shows on the tab."""
    try:
        still = view_payment(uow_of(request), who.context(), payment_id=payment_id)
    except TapzoneError:
        return tab_fragment(request, who, uid, error=error)
    waiting = still.state in (PaymentState.PENDING, PaymentState.APPROVED)
    return tab_fragment(request, who, uid, error=error, payment=still if waiting else None)


@router.post("/till/{uid}/payments/{payment_id}/close")
def close(request: Request, uid: str, payment_id: int, declined: bool = Form(...)) -> Response:
    """The terminal declined the card, or the cashier gave up: nothing is booked, the tab stays unpaid."""
    who = screen(request)
    try:
        closed = close_payment(uow_of(request), who.context(), payment_id=payment_id, declined=declined)
    except Conflict:
        # Closed already (a second tap, another tab of the browser): the dialog just goes away.
        return tab_fragment(request, who, uid)
    except TapzoneError as error:
        return tab_fragment(request, who, uid, error=error)
    return tab_fragment(request, who, uid, closed_payment=closed)


@router.get("/receipts/{receipt_id}")
def receipt_page(request: Request, receipt_id: int) -> Response:
    """The receipt as issued, with a print button for the browser's print dialog (the toolbar itself is
    not printed)."""
    who = screen(request)
    try:
        receipt, timezone = load_receipt(uow_of(request), who.context(), receipt_id=receipt_id)
    except TapzoneError as error:
        return render(request, "till/receipt.html", language=who.language, who=who, error=error, status_code=404)
    return render(
        request,
        "till/receipt.html",
        language=who.language,
        who=who,
        error=None,
        receipt_id=receipt_id,
        receipt_css=Markup(RECEIPT_CSS),  # noqa: S704 - a constant of ours
        receipt=Markup(render_html_fragment(receipt, timezone)),  # noqa: S704 - escaped by the receipt renderer
    )


router.include_router(till_sales.router)
router.include_router(till_media.router)
