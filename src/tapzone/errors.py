"""Typed errors of the use cases.

Each error carries a stable `type` (the problem type of the HTTP API, DESIGN §5) and a default HTTP status,
so the API layer only translates and never guesses. Raising any of them rolls the transaction back: bad
input changes nothing.
"""

from __future__ import annotations


class TapzoneError(Exception):
    """Base of all refusals a caller can act on."""

    type: str = "tapzone-error"
    status: int = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidAmount(TapzoneError):
    type = "invalid-amount"
    status = 422


class CurrencyMismatch(TapzoneError):
    type = "currency-mismatch"
    status = 422


class InvalidRequest(TapzoneError):
    type = "invalid-request"
    status = 422


class NotFound(TapzoneError):
    type = "not-found"
    status = 404


class UnknownMedium(TapzoneError):
    """Read from a physical reader: the UID is not registered in this venue."""

    type = "unknown-medium"
    status = 404


class UnknownOrInactiveMedium(TapzoneError):
    """Typed by hand or looked up remotely: one answer for every failure so numbers cannot be probed."""

    type = "unknown-or-inactive-medium"
    status = 404


class MediumBlocked(TapzoneError):
    type = "medium-blocked"
    status = 409


class MediumLost(TapzoneError):
    type = "medium-lost"
    status = 409


class MediumNotBound(TapzoneError):
    """The medium is registered but carries no open visit."""

    type = "medium-not-bound"
    status = 409


class MediumInUse(TapzoneError):
    type = "medium-in-use"
    status = 409


class CreditLimitExceeded(TapzoneError):
    type = "credit-limit-exceeded"
    status = 409


class InsufficientBalance(TapzoneError):
    type = "insufficient-balance"
    status = 409


class InsufficientTender(TapzoneError):
    type = "insufficient-tender"
    status = 422


class OverTender(TapzoneError):
    """A non-cash tender larger than what is due: change can only be given in cash."""

    type = "over-tender"
    status = 422


class NothingToSettle(TapzoneError):
    type = "nothing-to-settle"
    status = 409


class UnpaidGoods(TapzoneError):
    """seed 001 "Obetalda varor": the tab must be paid first."""

    type = "unpaid-goods"
    status = 409


class PrepaidValueLeft(TapzoneError):
    """seed 001 "Förbetalt värde kvar": leftover prepaid value must be paid out first."""

    type = "prepaid-value-left"
    status = 409


class WrongCreditType(TapzoneError):
    type = "wrong-credit-type"
    status = 409


class CardDeclined(TapzoneError):
    type = "card-declined"
    status = 402


class PermissionDenied(TapzoneError):
    type = "permission-denied"
    status = 403


class IdempotencyKeyReused(TapzoneError):
    """The key was used before for a different request."""

    type = "idempotency-key-reused"
    status = 422


class Conflict(TapzoneError):
    type = "conflict"
    status = 409
