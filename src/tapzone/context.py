"""Who asks, from where, and under which idempotency key: passed to every use case."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediumEntry(StrEnum):
    """How the medium's UID reached us: read by a device, or typed by a person (DESIGN §5)."""

    READER = "reader"
    TYPED = "typed"


@dataclass(frozen=True, slots=True)
class RequestContext:
    venue_id: int
    device_id: int
    operator_id: int | None
    idempotency_key: str
    # Set when the request books an operation paid by this approved cashless payment (payments/flow.py).
    payment_id: int | None = None
