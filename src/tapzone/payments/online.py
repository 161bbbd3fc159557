"""The online payment-provider port (customer portal top-ups) and its local simulator.

A provider takes the customer's money on its own pages: `create_payment` registers a payment under our
reference and returns the provider's reference and the page to send the customer to; later the provider calls
our webhook, and `parse_confirmation` turns that call into a `Confirmation` — or refuses it when the signature
does not verify, so a forged confirmation can never credit a card. Real providers plug in as further
implementations of `OnlineProvider` in `available_providers`; nothing else changes.

`create_payment` may do network I/O: call it outside any database transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote

from tapzone.errors import InvalidRequest, InvalidSignature, NotFound

SIMULATOR = "simulator"


class ProviderStatus(StrEnum):
    PAID = "paid"  # the money is taken
    FAILED = "failed"  # abandoned, declined or expired: nothing was taken, final
    PENDING = "pending"  # still open at the provider; changes nothing here


@dataclass(frozen=True, slots=True)
class CreatedPayment:
    provider_reference: str  # the provider's id of the payment; its webhooks name it
    redirect_url: str  # where the customer pays


@dataclass(frozen=True, slots=True)
class Confirmation:
    provider_reference: str
    status: ProviderStatus
    paid_amount_minor: int  # what the provider took; 0 unless PAID
    currency: str


class OnlineProvider(Protocol):
    name: str
    signature_header: str  # the HTTP header its webhooks carry the signature in

    def create_payment(self, amount_minor: int, currency: str, reference: str, return_url: str) -> CreatedPayment:
        """Register a payment; the same `reference` always gives the same payment (a retried request must
        not make the customer pay twice)."""
        ...

    def parse_confirmation(self, payload: bytes, signature: str) -> Confirmation:
        """The verified content of a webhook call; raises `InvalidSignature` for anything not signed by the
        provider, `InvalidRequest` for a signed payload it cannot read."""
        ...


class SimulatorProvider:
    """A local stand-in for a hosted payment page: nothing leaves the process.

    Its webhooks are JSON signed with HMAC-SHA256 under a secret shared with tapzone (a real provider's
    webhook secret); `signed_confirmation` plays the provider's side, for tests and the demo.
    """

    name = SIMULATOR
    signature_header = "X-Simulator-Signature"
    checkout_base = "https://checkout.simulator.invalid/pay/"  # .invalid: a page that exists nowhere (RFC 2606)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("a webhook secret needs at least 32 bytes")
        self._secret = secret

    def create_payment(self, amount_minor: int, currency: str, reference: str, return_url: str) -> CreatedPayment:
        # Derived from our reference, so a retry names the same payment, as real providers' idempotency does.
        provider_reference = "sim_" + hashlib.sha256(f"{reference}:{amount_minor}:{currency}".encode()).hexdigest()[:24]
        return CreatedPayment(
            provider_reference=provider_reference,
            redirect_url=f"{self.checkout_base}{provider_reference}?return_url={quote(return_url, safe='')}",
        )

    def parse_confirmation(self, payload: bytes, signature: str) -> Confirmation:
        if not hmac.compare_digest(self._sign(payload), signature.strip().lower()):
            raise InvalidSignature("the webhook signature does not verify")
        try:
            body: Any = json.loads(payload)
            confirmation = Confirmation(
                provider_reference=str(body["payment_id"]),
                status=ProviderStatus(body["status"]),
                paid_amount_minor=_amount(body.get("amount_minor", 0)),
                currency=str(body["currency"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidRequest("the webhook payload cannot be read") from error
        return confirmation

    def signed_confirmation(
        self, provider_reference: str, amount_minor: int, currency: str, status: ProviderStatus = ProviderStatus.PAID
    ) -> tuple[bytes, str]:
        """The body and signature header value the simulated provider would send."""
        payload = json.dumps(
            {
                "payment_id": provider_reference,
                "status": ProviderStatus(status).value,
                "amount_minor": amount_minor,
                "currency": currency,
            },
            separators=(",", ":"),
        ).encode()
        return payload, self._sign(payload)

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"amount_minor must be a non-negative integer, got {value!r}")
    return value


def provider_secret(server_secret: bytes, provider: str) -> bytes:
    """The webhook secret of `provider`, derived from the server secret so no second secret must be kept."""
    return hmac.new(server_secret, f"online-provider:{provider}".encode(), hashlib.sha256).digest()


def available_providers(server_secret: bytes) -> dict[str, OnlineProvider]:
    """Every provider the portal can pay through, by name. Real providers are added here with their own
    credentials; the simulator is always there (it moves no money, and only tapzone can sign for it)."""
    return {SIMULATOR: SimulatorProvider(provider_secret(server_secret, SIMULATOR))}


def provider_named(providers: dict[str, OnlineProvider], name: str) -> OnlineProvider:
    provider = providers.get(name)
    if provider is None:
        raise NotFound(f"no online payment provider {name!r}")
    return provider
