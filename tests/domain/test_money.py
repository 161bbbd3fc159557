from __future__ import annotations

import pytest

from tapzone.errors import CurrencyMismatch, InvalidAmount
from tapzone.money import MAX_AMOUNT_MINOR, CountUnit, Money, Quantity, check_positive_amount, minor_in


def test_money_adds_and_compares_within_one_currency() -> None:
    assert Money(150, "EUR") + Money(250, "EUR") == Money(400, "EUR")
    assert Money(400, "EUR") - Money(450, "EUR") == Money(-50, "EUR")
    assert Money(1, "EUR") < Money(2, "EUR")
    assert str(Money(-1205, "SEK")) == "-12.05 SEK"


@pytest.mark.parametrize("op", ["__add__", "__sub__", "__lt__", "__ge__"])
def test_mixed_currencies_are_refused(op: str) -> None:
    with pytest.raises(CurrencyMismatch):
        getattr(Money(1, "EUR"), op)(Money(1, "SEK"))


@pytest.mark.parametrize("currency", ["eur", "EU", "EURO", "€", ""])
def test_currency_must_be_iso_code(currency: str) -> None:
    with pytest.raises(InvalidAmount):
        Money(1, currency)


@pytest.mark.parametrize("value", [0, -1, MAX_AMOUNT_MINOR + 1, 2**63, 1.0, "1", None, True])
def test_positive_amount_check(value: object) -> None:
    with pytest.raises(InvalidAmount):
        check_positive_amount(value)


def test_minor_in_checks_currency_and_sign() -> None:
    assert minor_in(Money(500, "EUR"), "EUR") == 500
    with pytest.raises(CurrencyMismatch):
        minor_in(Money(500, "RUB"), "EUR")
    with pytest.raises(InvalidAmount):
        minor_in(Money(0, "EUR"), "EUR")


def test_count_units_never_mix() -> None:
    assert Quantity(30, CountUnit.MINUTES) + Quantity(15, CountUnit.MINUTES) == Quantity(45, CountUnit.MINUTES)
    with pytest.raises(InvalidAmount):
        Quantity(1, CountUnit.MINUTES) + Quantity(1, CountUnit.VISITS)
