"""Reading back-office forms: text typed by a person into the integers the use cases take.

Amounts are typed as decimals ("12.50", or "12,50" as German, Swedish and Russian write it) and become
integer minor units through `Decimal`, never float: 0.29 typed is 29 cents, not 28.999… rounded somewhere.
An amount with more decimals than the currency has is refused rather than rounded, because a price that
silently changes is worse than a question. Percentages (VAT, bonus) become basis points the same way.

Problems are collected per field as English msgids with their values; the page translates them into the
reader's language. Nothing here knows about HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from babel.numbers import get_currency_precision, get_decimal_symbol
from pydantic import ValidationError

from tapzone.money import MAX_AMOUNT_MINOR

E = TypeVar("E", bound=StrEnum)

# Digits with at most one decimal separator; no sign, exponent or grouping dots ("1.234,50" is ambiguous).
_DECIMAL = re.compile(r"^([0-9]+)(?:[.,]([0-9]+))?$")
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
# Spaces people type or paste between thousands: plain, no-break and narrow no-break.
_GROUPING_SPACES = str.maketrans("", "", " \u00a0\u202f")

CHECK_THIS_FIELD = "Check this field"
REQUIRED = "Fill in this field"


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one field: a msgid of the catalogs and the values it names."""

    message: str
    values: Mapping[str, object] = field(default_factory=dict)


class FormValueError(ValueError):
    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.problem = Problem(message, values)


def _decimal(text: str, problem: str) -> Decimal:
    cleaned = text.strip().translate(_GROUPING_SPACES)
    if not _DECIMAL.fullmatch(cleaned):
        raise FormValueError(problem)
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation as error:  # the pattern admits only digits; kept for safety
        raise FormValueError(problem) from error


def _scaled(value: Decimal, places: int, problem: str, **values: object) -> int:
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise FormValueError(problem, **values)
    return int(scaled)


def parse_amount_minor(text: str, currency: str, *, allow_zero: bool = False) -> int:
    """ "12.50" or "12,50" EUR → 1250; "500" JPY → 500. Refused: more decimals than the currency has,
    signs, exponents, zero unless allowed, and more than the largest amount one operation may carry."""
    digits = get_currency_precision(currency)
    too_precise = "At most {digits} decimal places" if digits else "Enter a whole amount"
    minor = _scaled(_decimal(text, "Enter an amount like 12.50"), digits, too_precise, digits=digits)
    if minor == 0 and not allow_zero:
        raise FormValueError("Enter an amount greater than zero")
    if minor > MAX_AMOUNT_MINOR:
        raise FormValueError("This amount is too large")
    return minor


def parse_basis_points(text: str, *, high_bp: int = 10_000) -> int:
    """A percentage with up to two decimals: "19" → 1900, "7,5" → 750, "10.70" → 1070."""
    value = _scaled(_decimal(text, "Enter a percentage like 19 or 7.5"), 2, "At most two decimal places")
    if value > high_bp:
        raise FormValueError("Enter a number from {low} to {high}", low=0, high=high_bp // 100)
    return value


def parse_whole_number(text: str, *, low: int, high: int) -> int:
    cleaned = text.strip().translate(_GROUPING_SPACES)
    if not cleaned.isdigit() or not cleaned.isascii():
        raise FormValueError("Enter a whole number")
    number = int(cleaned)
    if not low <= number <= high:
        raise FormValueError("Enter a number from {low} to {high}", low=low, high=high)
    return number


def parse_minute_of_day(text: str, *, end: bool = False) -> int:
    """ "14:30" → 870; an end of day may be "24:00" (1440), a start may not."""
    found = _TIME.fullmatch(text.strip())
    if found is None:
        raise FormValueError("Enter a time like 14:30")
    hours, minutes = int(found.group(1)), int(found.group(2))
    total = hours * 60 + minutes
    if minutes >= 60 or total > (1440 if end else 1439):
        raise FormValueError("Enter a time like 14:30")
    return total


def format_amount(amount_minor: int | None, currency: str, language: str = "en") -> str:
    """Minor units back into the plain decimal a form field shows ("12.50", "12,50" in German), exact."""
    if amount_minor is None:
        return ""
    digits = get_currency_precision(currency)
    return f"{Decimal(amount_minor).scaleb(-digits):.{digits}f}".replace(".", get_decimal_symbol(language))


def format_basis_points(value_bp: int | None, language: str = "en") -> str:
    """1900 → "19", 750 → "7.5" ("7,5" in German): as a person would type the percentage."""
    if value_bp is None:
        return ""
    text = f"{Decimal(value_bp).scaleb(-2):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", get_decimal_symbol(language))


def format_minute_of_day(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class FormInput:
    """The fields of one submitted form. Each reader returns the parsed value, or None and records a
    problem for that field; `problems` is empty when the whole form could be read."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self.values = values
        self.problems: dict[str, Problem] = {}

    @property
    def ok(self) -> bool:
        return not self.problems

    def raw(self, name: str) -> str:
        found = self.values.get(name) or [""]
        return found[0].strip()

    def all(self, name: str) -> list[str]:
        return [value.strip() for value in self.values.get(name, []) if value.strip()]

    def problem(self, name: str, message: str, **values: object) -> None:
        self.problems.setdefault(name, Problem(message, values))

    def _read(self, name: str, required: bool, parse: Callable[[str], object]) -> object | None:
        text = self.raw(name)
        if not text:
            if required:
                self.problem(name, REQUIRED)
            return None
        try:
            return parse(text)
        except FormValueError as error:
            self.problems.setdefault(name, error.problem)
            return None

    def text(self, name: str, *, required: bool = True, max_length: int = 200) -> str | None:
        text = self.raw(name)
        if len(text) > max_length:
            self.problem(name, "At most {count} characters", count=max_length)
            return None
        if not text:
            if required:
                self.problem(name, REQUIRED)
            return None
        return text

    def amount(self, name: str, currency: str, *, required: bool = True, allow_zero: bool = False) -> int | None:
        value = self._read(name, required, lambda text: parse_amount_minor(text, currency, allow_zero=allow_zero))
        return value if isinstance(value, int) else None

    def basis_points(self, name: str, *, required: bool = True, high_bp: int = 10_000) -> int | None:
        value = self._read(name, required, lambda text: parse_basis_points(text, high_bp=high_bp))
        return value if isinstance(value, int) else None

    def number(self, name: str, *, low: int, high: int, required: bool = True) -> int | None:
        value = self._read(name, required, lambda text: parse_whole_number(text, low=low, high=high))
        return value if isinstance(value, int) else None

    def minute_of_day(self, name: str, *, end: bool = False, required: bool = True) -> int | None:
        value = self._read(name, required, lambda text: parse_minute_of_day(text, end=end))
        return value if isinstance(value, int) else None

    def day(self, name: str, *, required: bool = False) -> date | None:
        def parse(text: str) -> date:
            try:
                return date.fromisoformat(text)
            except ValueError as error:
                raise FormValueError("Enter a date like 2026-12-31") from error

        value = self._read(name, required, parse)
        return value if isinstance(value, date) else None

    def flag(self, name: str) -> bool:
        """A checkbox: present (any value but "0"/"false") means ticked."""
        return self.raw(name) not in ("", "0", "false", "off")

    def choice(self, name: str, options: type[E], *, required: bool = True) -> E | None:
        def parse(text: str) -> E:
            try:
                return options(text)
            except ValueError as error:
                raise FormValueError("Choose one of the options") from error

        value = self._read(name, required, parse)
        return value if isinstance(value, options) else None

    def one_of(self, name: str, options: Iterable[str], *, required: bool = True) -> str | None:
        allowed = set(options)
        text = self.raw(name)
        if not text:
            if required:
                self.problem(name, REQUIRED)
            return None
        if text not in allowed:
            self.problem(name, "Choose one of the options")
            return None
        return text

    def identifier(self, name: str, *, required: bool = True) -> int | None:
        """The id a select sends; empty means none chosen."""
        return self.number(name, low=1, high=2**62, required=required)

    def absorb(self, error: ValidationError, field_of: Callable[[tuple[int | str, ...]], str] | None = None) -> None:
        """Map a model's validation errors to "check this field" on the fields they name; the form's field
        for an amount `x_minor` is `x` (it is typed as a decimal)."""
        for item in error.errors(include_url=False):
            location = tuple(item["loc"])
            name = field_of(location) if field_of else default_field_of(location)
            self.problem(name or "form", CHECK_THIS_FIELD)


def default_field_of(location: tuple[int | str, ...]) -> str:
    """('steps', 0, 'price_minor') → 'steps.0.price'; ('default_price_minor',) → 'default_price'."""
    parts = [str(part) for part in location]
    if parts and parts[-1].endswith("_minor"):
        parts[-1] = parts[-1].removesuffix("_minor")
    return ".".join(parts)
