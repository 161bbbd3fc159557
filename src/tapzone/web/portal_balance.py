"""The portal's balance page and the online top-up started from it.

A top-up opens a pending online top-up and sends the customer to the provider's page (for the simulator,
to `portal_simulator`'s stand-in page). Nothing is credited until the provider's signed confirmation
arrives; the provider then sends the customer back to /portal/returned and the balance shows the value
(or the top-up still waiting, if the confirmation is late).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, get_currency_precision
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tapzone.api.routers.portal import portal_keys
from tapzone.errors import TapzoneError, WrongCreditType
from tapzone.i18n import format_money
from tapzone.money import Money
from tapzone.payments.online import SIMULATOR, OnlineProvider
from tapzone.portal.topups import portal_online_topups, start_online_topup
from tapzone.portal.views import PortalBalanceView, portal_balance
from tapzone.web import portal_simulator
from tapzone.web.portal_common import UNIT_LABELS, Customer, chosen_venue, customer_of, language_of, page, signed_out
from tapzone.web.session import uow_of

CREDIT_TYPE_LABELS = {"prepaid": "Prepaid card", "credit": "Pay before you leave"}
TOPUP_STATES = {
    "pending": "Waiting for the payment",
    "credited": "Credited",
    "failed": "Not paid",
    "resolved": "Settled by support",
}
NO_PROVIDER = "Online top-up is not available here. Please top up at the till."
RECENT_TOPUPS = 5
# Up to seven whole digits and a decimal point or comma: what a person types as an amount of money.
_AMOUNT = re.compile(r"(\d{1,7})(?:[.,](\d*))?")

router = APIRouter(include_in_schema=False)


def amount_minor_of(text: str, currency: str) -> int | None:
    """Minor units of a typed amount ("10", "10.5", "10,50"), exact through Decimal; None unless it is a
    positive amount with no more decimals than the currency has."""
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        return None
    digits = get_currency_precision(currency)
    fraction = match.group(2) or ""
    if len(fraction) > digits:
        return None
    minor = int(Decimal(f"{match.group(1)}.{fraction or '0'}").scaleb(digits))
    return minor if minor > 0 else None


def online_provider(request: Request) -> OnlineProvider | None:
    """The provider the portal's top-up pays through: a real one once configured (payments/online.py adds
    them; the first is taken while a venue cannot choose), else the simulator where its page is switched on."""
    providers = portal_keys(request).providers
    for name, provider in providers.items():
        if name != SIMULATOR:
            return provider
    return providers.get(SIMULATOR) if portal_simulator.simulator_enabled() else None


@router.get("/portal/balance")
def balance_page(request: Request) -> Response:
    who = customer_of(request)
    if who is None:
        return signed_out(request)
    return _balance(request, who)


@router.post("/portal/top-up")
def top_up(request: Request, amount: str = Form(""), key: str = Form("")) -> Response:
    who = customer_of(request)
    if who is None:
        return signed_out(request)
    provider = online_provider(request)
    amount_minor = amount_minor_of(amount[:32], who.venue.currency)
    if provider is None:
        return _balance(request, who, error=(NO_PROVIDER, {}))
    if amount_minor is None:
        example = format_money(2000, who.venue.currency, who.language)
        message = ("Please enter an amount such as {example}.", {"example": example})
        return _balance(request, who, error=message, amount=amount[:32])
    return_url = f"{str(request.base_url).rstrip('/')}/portal/returned"
    # The form's key, tied to this medium's visit: one customer's key never names another's top-up.
    idempotency_key = f"portal:{who.medium.medium_id}:{who.medium.visit_id}:{key[:64] or uuid.uuid4().hex}"
    try:
        started = start_online_topup(
            uow_of(request),
            who.medium,
            idempotency_key,
            amount=Money(amount_minor, who.venue.currency),
            provider=provider,
            return_url=return_url,
        )
    except WrongCreditType:
        refused = "Only prepaid value can be topped up online. Please top up at the till."
        return _balance(request, who, error=(refused, {}), amount=amount[:32])
    except TapzoneError as error:
        return _balance(request, who, error=(error.title, {}), amount=amount[:32])
    if provider.name == SIMULATOR:
        to = portal_simulator.checkout_address(started, return_url)
    else:
        to = started.redirect_url or "/portal/balance"
    return RedirectResponse(to, status_code=303)


@router.get("/portal/returned")
def returned_page(request: Request) -> Response:
    """Where the provider sends the customer back. A page that moves on by itself: coming from the provider's
    site, the SameSite=Strict session cookie is only sent from the next, same-site navigation on."""
    venue = chosen_venue(request)
    language = language_of(request, venue.language if venue else "en")
    return page(request, "portal/continue.html", language=language, venue=venue, to="/portal/balance")


def _balance(
    request: Request,
    who: Customer,
    *,
    error: tuple[str, dict[str, Any]] | None = None,
    amount: str = "",
) -> Response:
    uow = uow_of(request)
    balance = portal_balance(uow, who.medium)
    return page(
        request,
        "portal/balance.html",
        language=who.language,
        venue=who.venue,
        who=who,
        balance=balance,
        topups=portal_online_topups(uow, who.medium)[:RECENT_TOPUPS],
        unit_labels=UNIT_LABELS,
        credit_types=CREDIT_TYPE_LABELS,
        topup_states=TOPUP_STATES,
        day=lambda value: _day(value, who.language),
        can_top_up=_top_up_account(balance),
        provider_ready=online_provider(request) is not None,
        form_key=uuid.uuid4().hex,
        placeholder=_example_amount(who.venue.currency, who.language),
        error=error,
        amount=amount,
    )


def _top_up_account(balance: PortalBalanceView) -> bool:
    # The use case refuses the rest (an account of a card-account type is loaded at the till); this only
    # keeps the form off media that carry no prepaid value at all.
    return any(a.is_active and not a.closed and a.credit_type == "prepaid" for a in balance.accounts)


def _example_amount(currency: str, language: str) -> str:
    """An example amount (2000 minor units) written as people of that language type it: 20.00, 20,00."""
    digits = get_currency_precision(currency)
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(Decimal(2000).scaleb(-digits), format=pattern, locale=language)


def _day(value: date, language: str) -> str:
    return format_date(value, format="medium", locale=language)
