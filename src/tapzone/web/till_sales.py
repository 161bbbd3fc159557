"""Selling at the till: top-ups of prepaid value, entries (with a family's companions and their deposits)
and account types. Each calls its use case directly; a card tender on a standalone terminal answers with
the payment dialog, and the sale is booked only once the cashier confirms the approved amount (seed 003).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from tapzone.access.entry import sell_entry
from tapzone.errors import InvalidRequest, NotFound, PaymentPending, TapzoneError
from tapzone.money import Money
from tapzone.plans.selling import sell_account_type
from tapzone.plans.setup import list_account_types
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, Tender, TenderKind
from tapzone.pos.topup import top_up
from tapzone.web.render import render
from tapzone.web.session import Screen, screen, uow_of
from tapzone.web.till_common import (
    customers_of,
    entry_of,
    entry_products_of,
    new_key,
    parse_amount,
    tab_fragment,
    terminals_of,
    venue_of,
)

router = APIRouter(include_in_schema=False)


def _customer(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.post("/till/{uid}/top-up")
def top_up_value(
    request: Request,
    uid: str,
    amount: str = Form(...),
    tender: str = Form("cash"),
    provider: str = Form(DEFAULT_CARD_PROVIDER),
    key: str = Form(...),
    entry: str = Form("reader"),
) -> Response:
    """Load prepaid value in cash or by card (seed 001 "Fyll på kredit"); an account of a type is loaded
    by its type's rule (bonus, price list)."""
    who, how = screen(request), entry_of(entry)
    currency = venue_of(request, who.device.venue_id).currency
    try:
        result = top_up(
            uow_of(request),
            who.context(key),
            medium_uid=uid,
            amount=Money(parse_amount(amount, currency, who.language), currency),
            tender=TenderKind(tender),
            card_provider=provider,
            entry=how,
        )
    except PaymentPending as pending:
        return tab_fragment(request, who, uid, entry=how, payment=pending.payment)
    except (TapzoneError, ValueError) as error:
        return tab_fragment(request, who, uid, entry=how, error=_problem(error))
    return tab_fragment(request, who, uid, entry=how, done=result, receipt_ids=[result.receipt_id])


def _problem(error: Exception) -> TapzoneError:
    return error if isinstance(error, TapzoneError) else InvalidRequest(str(error))


def _entry_product(request: Request, who: Screen, product_id: int, customer_id: int | None) -> Any:
    for product in entry_products_of(request, who.device.venue_id, customer_id):
        if product.product_id == product_id:
            return product
    raise NotFound(f"entry product {product_id} does not exist in this venue")


@router.get("/till/{uid}/entry-form")
def entry_form(request: Request, uid: str, entry_product_id: str = "", customer_id: str = "") -> Response:
    """The fields the chosen entry needs: one reader field per companion of a family ticket, the value to
    load on a prepaid ticket, and what the sale costs with the deposits."""
    who = screen(request)
    venue = venue_of(request, who.device.venue_id)
    product = None
    if entry_product_id.isdigit():
        try:
            product = _entry_product(request, who, int(entry_product_id), _customer(customer_id))
        except TapzoneError:
            product = None
    return render(
        request,
        "till/entry_form.html",
        language=who.language,
        uid=uid,
        product=product,
        currency=venue.currency,
        timezone=venue.timezone,
    )


@router.get("/till/{uid}/entry-total")
def entry_total(
    request: Request,
    uid: str,
    entry_product_id: str = "",
    customer_id: str = "",
    companions: Annotated[list[str] | None, Query()] = None,
    initial_load: str = "",
) -> Response:
    """What the sale will cost as the cashier fills the form: the ticket, a deposit per wristband read so
    far and the value to load — the cash to ask for before anything is booked."""
    who = screen(request)
    venue = venue_of(request, who.device.venue_id)
    due: int | None = None
    if entry_product_id.isdigit():
        try:
            product = _entry_product(request, who, int(entry_product_id), _customer(customer_id))
            load = parse_amount(initial_load, venue.currency, who.language) if initial_load.strip() else 0
        except TapzoneError:
            product = None
        if product is not None:
            read = [each for each in companions or [] if each.strip()]
            due = product.price_minor + product.deposit_minor * (1 + len(read)) + load
    return render(
        request,
        "till/entry_total.html",
        language=who.language,
        due=due,
        currency=venue.currency,
        timezone=venue.timezone,
    )


@router.post("/till/{uid}/entry")
def sell_entry_here(
    request: Request,
    uid: str,
    entry_product_id: int = Form(...),
    key: str = Form(...),
    tender: str = Form("cash"),
    provider: str = Form(DEFAULT_CARD_PROVIDER),
    companions: Annotated[list[str] | None, Form()] = None,
    initial_load: str = Form(""),
    cash_given: str = Form(""),
    customer_id: str = Form(""),
) -> Response:
    """Sell an entry onto the medium on the reader and the companions read after it (seed 000 family
    ticket): the ticket, one deposit per wristband and any value to load, paid in one go."""
    who = screen(request)
    currency = venue_of(request, who.device.venue_id).currency
    customer = _customer(customer_id)
    read = [companion.strip() for companion in companions or [] if companion.strip()]
    try:
        product = _entry_product(request, who, entry_product_id, customer)
        load = parse_amount(initial_load, currency, who.language) if initial_load.strip() else 0
        due = product.price_minor + product.deposit_minor * (1 + len(read)) + load
        kind = TenderKind(tender)
        paid = due
        if kind is TenderKind.CASH and cash_given.strip():
            paid = parse_amount(cash_given, currency, who.language)
        result = sell_entry(
            uow_of(request),
            who.context(key),
            entry_product_id=entry_product_id,
            medium_uid=uid,
            tenders=[Tender(kind, Money(paid, currency), provider)],
            companion_uids=read,
            initial_load=Money(load, currency) if load else None,
            customer_id=customer,
        )
    except PaymentPending as pending:
        return tab_fragment(request, who, uid, payment=pending.payment)
    except (TapzoneError, ValueError) as error:
        # Keep what the cashier entered: a family's wristbands need not be read again after one refusal.
        kept = {
            "product": _kept_product(request, who, entry_product_id, customer),
            "customer_id": customer,
            "companions": [companion.strip() for companion in companions or []],
            "initial_load": initial_load.strip(),
            "cash_given": cash_given.strip(),
        }
        return tab_fragment(request, who, uid, error=_problem(error), kept=kept)
    return tab_fragment(request, who, uid, done=result, receipt_ids=[result.receipt_id])


def _kept_product(request: Request, who: Screen, product_id: int, customer_id: int | None) -> Any:
    try:
        return _entry_product(request, who, product_id, customer_id)
    except TapzoneError:
        return None


@router.get("/till/{uid}/account-form")
def account_form(request: Request, uid: str, entry: str = "reader") -> Response:
    """The account types for sale (seed 002 "Artikel"), fetched only when the cashier opens the form."""
    who = screen(request)
    venue = venue_of(request, who.device.venue_id)
    error: TapzoneError | None = None
    try:
        types = list_account_types(uow_of(request), who.context(), sellable_only=True)
    except TapzoneError as refused:
        types, error = [], refused
    return render(
        request,
        "till/account_form.html",
        language=who.language,
        uid=uid,
        entry=entry_of(entry).value,
        types=types,
        error=error,
        key=new_key(),
        terminals=terminals_of(request, who.device.device_id),
        customers=customers_of(request, who.device.venue_id),
        currency=venue.currency,
        timezone=venue.timezone,
    )


@router.post("/till/{uid}/account")
def sell_account(
    request: Request,
    uid: str,
    account_type_id: int = Form(...),
    key: str = Form(...),
    price: str = Form(""),
    tender: str = Form("cash"),
    provider: str = Form(DEFAULT_CARD_PROVIDER),
    customer_id: str = Form(""),
    entry: str = Form("reader"),
) -> Response:
    """Sell an account type onto the medium: a new card, one more account on a bound medium, or a top-up
    of the account of that type it already holds (seed 002)."""
    who, how = screen(request), entry_of(entry)
    currency = venue_of(request, who.device.venue_id).currency
    try:
        result = sell_account_type(
            uow_of(request),
            who.context(key),
            medium_uid=uid,
            account_type_id=account_type_id,
            price_minor=parse_amount(price, currency, who.language) if price.strip() else None,
            tender=TenderKind(tender),
            card_provider=provider,
            customer_id=_customer(customer_id),
            entry=how,
        )
    except PaymentPending as pending:
        return tab_fragment(request, who, uid, entry=how, payment=pending.payment)
    except (TapzoneError, ValueError) as error:
        return tab_fragment(request, who, uid, entry=how, error=_problem(error))
    return tab_fragment(request, who, uid, entry=how, done=result, receipt_ids=[result.receipt_id])
