from __future__ import annotations

import pytest

from tapzone.errors import CurrencyMismatch, InsufficientBalance, InsufficientTender, InvalidAmount, OverTender
from tapzone.money import Money
from tapzone.pos.tenders import Tender, TenderKind, plan_tenders


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_cash_overpayment_gives_change() -> None:
    plan = plan_tenders(1220, [Tender(TenderKind.CASH, eur(2000))], 0, "EUR")
    assert (plan.cash_minor, plan.change_minor) == (1220, 780)


def test_split_tender_card_prepaid_cash() -> None:
    plan = plan_tenders(
        3000,
        [Tender(TenderKind.CARD, eur(1000)), Tender(TenderKind.PREPAID, eur(1500)), Tender(TenderKind.CASH, eur(1000))],
        1500,
        "EUR",
    )
    assert (plan.card_by_provider, plan.prepaid_minor, plan.cash_minor, plan.change_minor) == (
        {"default": 1000},
        1500,
        500,
        500,
    )


def test_card_cannot_overpay() -> None:
    with pytest.raises(OverTender):
        plan_tenders(1000, [Tender(TenderKind.CARD, eur(1001))], 0, "EUR")


def test_prepaid_limited_by_available_value() -> None:
    with pytest.raises(InsufficientBalance):
        plan_tenders(1000, [Tender(TenderKind.PREPAID, eur(1000))], 999, "EUR")


def test_short_tender_is_refused() -> None:
    with pytest.raises(InsufficientTender):
        plan_tenders(1000, [Tender(TenderKind.CASH, eur(999))], 0, "EUR")
    with pytest.raises(InsufficientTender):
        plan_tenders(1000, [], 0, "EUR")


def test_cash_when_nothing_is_left_is_refused() -> None:
    with pytest.raises(OverTender):
        plan_tenders(1000, [Tender(TenderKind.CARD, eur(1000)), Tender(TenderKind.CASH, eur(5))], 0, "EUR")


def test_tender_currency_and_amount_are_checked() -> None:
    with pytest.raises(CurrencyMismatch):
        plan_tenders(1000, [Tender(TenderKind.CASH, Money(1000, "SEK"))], 0, "EUR")
    with pytest.raises(InvalidAmount):
        Tender(TenderKind.CASH, eur(0))
