"""Money and non-money quantities.

Money is an integer of minor units plus an ISO 4217 currency (DESIGN §3). Minutes, visits and bonus points
are counted in their own units and can never be added to money by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tapzone.errors import CurrencyMismatch, InvalidAmount

# Largest amount one operation may carry. Far above any real till operation, and far below BIGINT's
# 2**63 - 1, so that even millions of such operations summed in one balance cannot overflow.
MAX_AMOUNT_MINOR = 10**11


class CountUnit(StrEnum):
    """Units that are counted on card accounts but are not money."""

    MINUTES = "minutes"
    VISITS = "visits"
    BONUS = "bonus"


def is_currency_code(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def check_currency(code: str) -> str:
    if not is_currency_code(code):
        raise InvalidAmount(f"{code!r} is not an ISO 4217 currency code")
    return code


def check_positive_amount(amount_minor: object, what: str = "amount") -> int:
    """Return the amount if it is a strict positive integer within MAX_AMOUNT_MINOR, else refuse it.

    bool is refused although it is an int subclass: `True` is never a price.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidAmount(f"{what} must be an integer number of minor units, got {amount_minor!r}")
    if amount_minor <= 0:
        raise InvalidAmount(f"{what} must be positive, got {amount_minor}")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidAmount(f"{what} {amount_minor} exceeds the maximum of {MAX_AMOUNT_MINOR}")
    return amount_minor


def check_non_negative_amount(amount_minor: object, what: str = "amount") -> int:
    if amount_minor == 0 and not isinstance(amount_minor, bool) and isinstance(amount_minor, int):
        return 0
    return check_positive_amount(amount_minor, what)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency in minor units (cents, öre, kopecks)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidAmount(f"money must be an integer of minor units, got {self.minor!r}")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor >= other.minor

    def __str__(self) -> str:
        sign = "-" if self.minor < 0 else ""
        whole, cents = divmod(abs(self.minor), 100)
        return f"{sign}{whole}.{cents:02d} {self.currency}"


def minor_in(amount: Money, currency: str, what: str = "amount") -> int:
    """The positive minor units of `amount`, refusing another currency than the venue's."""
    if amount.currency != currency:
        raise CurrencyMismatch(f"{what} is in {amount.currency}, this venue works in {currency}")
    return check_positive_amount(amount.minor, what)


def money_payload(amount: Money | None) -> dict[str, object] | None:
    """A JSON-able form of a money argument, for request fingerprints."""
    return None if amount is None else {"minor": amount.minor, "currency": amount.currency}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A count of a non-money unit (minutes, visits, bonus points)."""

    amount: int
    unit: CountUnit

    def __add__(self, other: Quantity) -> Quantity:
        if self.unit != other.unit:
            raise InvalidAmount(f"cannot add {other.unit} to {self.unit}")
        return Quantity(self.amount + other.amount, self.unit)
