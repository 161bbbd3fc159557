"""Typed errors of the use cases.

Each error carries a stable `type` (the problem type of the HTTP API, DESIGN §5) and a default HTTP status,
so the API layer only translates and never guesses. Raising any of them rolls the transaction back: bad
input changes nothing.
"""

from __future__ import annotations


class TapzoneError(Exception):
    """Base of all refusals a caller can act on."""

    type: str = "tapzone-error"
    title: str = "Request refused"  # English msgid; the API translates it from the Babel catalogs
    status: int = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidAmount(TapzoneError):
    type = "invalid-amount"
    title = "Invalid amount"
    status = 422


class CurrencyMismatch(TapzoneError):
    type = "currency-mismatch"
    title = "Wrong currency"
    status = 422


class InvalidRequest(TapzoneError):
    type = "invalid-request"
    title = "Invalid request"
    status = 422


class NotFound(TapzoneError):
    type = "not-found"
    title = "Not found"
    status = 404


class UnknownMedium(TapzoneError):
    """Read from a physical reader: the UID is not registered in this venue."""

    type = "unknown-medium"
    title = "Unknown medium"
    status = 404


class UnknownOrInactiveMedium(TapzoneError):
    """Typed by hand or looked up remotely: one answer for every failure so numbers cannot be probed."""

    type = "unknown-or-inactive-medium"
    title = "Unknown or inactive medium"
    status = 404


class MediumBlocked(TapzoneError):
    type = "medium-blocked"
    title = "Medium blocked"
    status = 409


class MediumLost(TapzoneError):
    type = "medium-lost"
    title = "Medium reported lost"
    status = 409


class MediumNotBound(TapzoneError):
    """The medium is registered but carries no open visit."""

    type = "medium-not-bound"
    title = "Medium not in use"
    status = 409


class MediumInUse(TapzoneError):
    type = "medium-in-use"
    title = "Medium already in use"
    status = 409


class CreditLimitExceeded(TapzoneError):
    type = "credit-limit-exceeded"
    title = "Credit limit exceeded"
    status = 409


class InsufficientBalance(TapzoneError):
    type = "insufficient-balance"
    title = "Insufficient balance"
    status = 409


class InsufficientTender(TapzoneError):
    type = "insufficient-tender"
    title = "Payment does not cover the amount due"
    status = 422


class OverTender(TapzoneError):
    """A non-cash tender larger than what is due: change can only be given in cash."""

    type = "over-tender"
    title = "Payment exceeds the amount due"
    status = 422


class NothingToSettle(TapzoneError):
    type = "nothing-to-settle"
    title = "Nothing to settle"
    status = 409


class UnpaidGoods(TapzoneError):
    """seed 001 "Obetalda varor": the tab must be paid first."""

    type = "unpaid-goods"
    title = "Unpaid goods"
    status = 409


class PrepaidValueLeft(TapzoneError):
    """seed 001 "Förbetalt värde kvar": leftover prepaid value must be paid out first."""

    type = "prepaid-value-left"
    title = "Prepaid value left"
    status = 409


class WrongCreditType(TapzoneError):
    type = "wrong-credit-type"
    title = "Not possible for this entry type"
    status = 409


class PaymentWithMediumDisabled(TapzoneError):
    """seed 001 "Använd nycklar till betalning" is off for this venue or till."""

    type = "payment-with-medium-disabled"
    title = "Paying with the medium is switched off"
    status = 409


class CardDeclined(TapzoneError):
    type = "card-declined"
    title = "Card declined"
    status = 402


class PermissionDenied(TapzoneError):
    type = "permission-denied"
    title = "Permission denied"
    status = 403


class IdempotencyKeyReused(TapzoneError):
    """The key was used before for a different request."""

    type = "idempotency-key-reused"
    title = "Idempotency key reused"
    status = 422


class Conflict(TapzoneError):
    type = "conflict"
    title = "Conflict"
    status = 409


class OfflineSequenceGap(TapzoneError):
    """A gate uploaded offline events that do not continue where its last upload ended (or reused a number)."""

    type = "offline-sequence-gap"
    title = "Offline events out of order"
    status = 409

    def __init__(self, detail: str, expected_seq: int) -> None:
        super().__init__(detail)
        self.expected_seq = expected_seq


class RequestInFlight(TapzoneError):
    """The first request with this idempotency key is still being processed."""

    type = "request-in-flight"
    title = "Request still in progress"
    status = 409


class Unauthenticated(TapzoneError):
    type = "unauthenticated"
    title = "Authentication required"
    status = 401


class IdempotencyKeyMissing(TapzoneError):
    type = "idempotency-key-required"
    title = "Idempotency key required"
    status = 428


class MalformedJson(TapzoneError):
    type = "malformed-json"
    title = "Malformed JSON"
    status = 400


class UnsupportedMediaType(TapzoneError):
    type = "unsupported-media-type"
    title = "Unsupported media type"
    status = 415


class PayloadTooLarge(TapzoneError):
    """The request body is larger than any request of the API needs; refused before it is read to the end."""

    type = "payload-too-large"
    title = "Request too large"
    status = 413


class NestingTooDeep(TapzoneError):
    """JSON nested deeper than any request of the API needs; refused before it is parsed."""

    type = "nesting-too-deep"
    title = "Request nested too deeply"
    status = 400


class InvalidAccountType(TapzoneError):
    """An account type whose fields contradict each other, e.g. pay without top-up on a visit card."""

    type = "invalid-account-type"
    title = "Invalid account type"
    status = 422


class AccountTypeNotSellable(TapzoneError):
    """The account type is for internal use or its selling season is over (seed 002 "Artikel")."""

    type = "account-type-not-sellable"
    title = "Account type not for sale"
    status = 409


class ContractRequired(TapzoneError):
    """A subscription type is issued only with a complete contract (seed 002 "Abovertrag")."""

    type = "contract-required"
    title = "Contract required"
    status = 422


class InvalidIban(TapzoneError):
    type = "invalid-iban"
    title = "Invalid IBAN"
    status = 422


class InvalidBic(TapzoneError):
    type = "invalid-bic"
    title = "Invalid BIC"
    status = 422


class PayoutNotRevocable(TapzoneError):
    """Only a bank payout still waiting for export can be revoked: once in a SEPA file it is the bank's."""

    type = "payout-not-revocable"
    title = "Payout can no longer be revoked"
    status = 409


class NothingToExport(TapzoneError):
    type = "nothing-to-export"
    title = "No payouts to export"
    status = 409


class AccountTypeMismatch(TapzoneError):
    """A card account may only move to a venue whose type with the same number works the same way."""

    type = "account-type-mismatch"
    title = "Account type differs"
    status = 409


class PaymentAmountMismatch(TapzoneError):
    """seed 003's risk: the amount approved on the terminal differs from what is due."""

    type = "payment-amount-mismatch"
    title = "Payment amount differs"
    status = 409


class NoCardTerminal(TapzoneError):
    type = "no-card-terminal"
    title = "No card terminal"
    status = 409


class RateLimited(TapzoneError):
    """Too many failed attempts in the current window (staff sign-in, portal PIN and QR checks, unknown media
    looked up by one device); `Retry-After` says when."""

    type = "rate-limited"
    title = "Too many attempts"
    status = 429

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class InvalidSignature(TapzoneError):
    """A payment provider's callback whose signature does not verify: forged or corrupted, never acted on."""

    type = "invalid-signature"
    title = "Invalid signature"
    status = 403


class PaymentPending(TapzoneError):
    """Not a failure: the operation waits for a cashless payment; the API answers 202 with the payment."""

    type = "payment-pending"
    title = "Payment pending"
    status = 202

    def __init__(self, payment: object) -> None:
        super().__init__("the operation is booked once the payment is approved")
        self.payment = payment


class MediaNeverDeleted(TapzoneError):
    """seed 004: deleting media or moving them between groups breaks the card float; the API refuses."""

    type = "media-never-deleted"
    title = "Media are never deleted"
    status = 409


class DatabaseBusy(TapzoneError):
    """The request kept colliding with others on the same rows (PostgreSQL rolled it back for a deadlock or a
    serialization conflict, and every retry collided again). Nothing was booked; the same request with the
    same idempotency key may be sent again."""

    type = "database-busy"
    title = "Busy, please try again"
    status = 503
    retry_after_s = 1


def all_error_types() -> list[type[TapzoneError]]:
    """Every concrete error class, for catalogs, docs and tests."""
    found: list[type[TapzoneError]] = []
    pending: list[type[TapzoneError]] = [TapzoneError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.type)
