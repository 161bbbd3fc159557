"""The simulated payment provider's checkout page, for the demo and the browser tests.

The simulator provider (payments/online.py) has no pages of its own: its checkout address ends in `.invalid`.
This page stands in for the hosted page a real provider shows. "Pay" does what the provider does once it has
the money: it sends the signed webhook — signed by the simulator's own function, verified and booked by the
same use case as `POST /api/v1/payment-providers/simulator/webhooks` — and sends the customer back to the
portal. A second "Pay" is a repeated webhook and changes nothing.

It credits a card without taking any money, so it is served only where `TAPZONE_PORTAL_SIMULATOR` is
switched on (`make demo`, the browser tests); elsewhere it does not exist and the portal offers no online
top-up until a real provider is configured.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tapzone.api.routers.portal import portal_keys
from tapzone.errors import TapzoneError
from tapzone.i18n import DEFAULT_LANGUAGE
from tapzone.money import check_currency
from tapzone.payments.online import SIMULATOR, ProviderStatus, SimulatorProvider
from tapzone.portal.topups import OnlineTopupView, confirm_online_payment
from tapzone.web.portal_common import language_of, page
from tapzone.web.session import uow_of

SIMULATOR_SWITCH = "TAPZONE_PORTAL_SIMULATOR"
PAGE_PREFIX = "/portal/simulator/pay/"
# What SimulatorProvider.create_payment makes: anything else is no payment of the simulator's.
_REFERENCE = re.compile(r"sim_[0-9a-f]{24}")

router = APIRouter(include_in_schema=False)


def simulator_enabled() -> bool:
    return os.environ.get(SIMULATOR_SWITCH, "").strip().lower() in {"1", "true", "yes", "on"}


def checkout_address(topup: OnlineTopupView, return_url: str) -> str:
    """Where the customer pays a simulated payment: this page, with what the provider was asked for (a real
    provider keeps that on its side and shows it on its own page)."""
    query = {"amount_minor": topup.amount_minor, "currency": topup.currency, "return_url": return_url}
    return f"{PAGE_PREFIX}{topup.provider_reference}?{urlencode(query)}"


def _simulator(request: Request) -> SimulatorProvider | None:
    provider = portal_keys(request).providers.get(SIMULATOR)
    return provider if isinstance(provider, SimulatorProvider) and simulator_enabled() else None


def _order(reference: str, amount_minor: str, currency: str) -> tuple[int, str] | None:
    """The payment as the checkout address describes it, if the address is well formed."""
    if not _REFERENCE.fullmatch(reference) or not amount_minor.isdigit() or len(amount_minor) > 12:
        return None
    try:
        return int(amount_minor), check_currency(currency)
    except TapzoneError:
        return None


def _back_to(request: Request, return_url: str) -> str:
    # Only back into this portal: the page must not send people on to an address someone put in its link.
    base = str(request.base_url)
    return return_url if return_url.startswith(base + "portal/") else "/portal/returned"


@router.get(PAGE_PREFIX + "{reference}")
def checkout_page(request: Request, reference: str) -> Response:
    order = _order(reference, request.query_params.get("amount_minor", ""), request.query_params.get("currency", ""))
    if _simulator(request) is None or order is None:
        return Response(status_code=404)
    amount_minor, currency = order
    return page(
        request,
        "portal/simulator.html",
        language=language_of(request, DEFAULT_LANGUAGE),
        venue=None,
        reference=reference,
        amount_minor=amount_minor,
        currency=currency,
        return_url=request.query_params.get("return_url", ""),
        error=None,
    )


@router.post(PAGE_PREFIX + "{reference}")
def checkout_answer(
    request: Request,
    reference: str,
    amount_minor: str = Form(""),
    currency: str = Form(""),
    return_url: str = Form(""),
    outcome: str = Form("paid"),
) -> Response:
    """The provider's side: the customer paid (or gave up); the provider confirms it by its signed webhook."""
    provider = _simulator(request)
    order = _order(reference, amount_minor, currency)
    if provider is None or order is None:
        return Response(status_code=404)
    paid = outcome == ProviderStatus.PAID.value
    status = ProviderStatus.PAID if paid else ProviderStatus.FAILED
    payload, signature = provider.signed_confirmation(reference, order[0] if paid else 0, order[1], status)
    try:
        confirm_online_payment(uow_of(request), provider, payload, signature)
    except TapzoneError as error:
        return page(
            request,
            "portal/simulator.html",
            language=language_of(request, DEFAULT_LANGUAGE),
            venue=None,
            reference=reference,
            amount_minor=order[0],
            currency=order[1],
            return_url=return_url,
            error=error,
        )
    return RedirectResponse(_back_to(request, return_url), status_code=303)
