from __future__ import annotations

import pytest

from tapzone.errors import InvalidRequest
from tapzone.ledger.codes import ENTRY_CODES, EntryCode
from tapzone.ledger.model import (
    AccountKind,
    AccountRef,
    EntryDraft,
    Purpose,
    card_money,
    card_units,
    cash,
    revenue,
    units_issued,
)
from tapzone.money import CountUnit
from tapzone.plans.card_accounts import CreditType, SpendingPower


def test_entry_must_balance_per_unit() -> None:
    draft = EntryDraft(EntryCode.TOPUP).debit(cash("EUR"), 500).credit(card_money(1, "EUR"), 500)
    assert draft.validated() is draft
    unbalanced = EntryDraft(EntryCode.TOPUP).debit(cash("EUR"), 500).credit(card_money(1, "EUR"), 499)
    with pytest.raises(InvalidRequest, match="does not balance"):
        unbalanced.validated()


def test_minutes_and_money_balance_separately() -> None:
    """Money and minutes in one entry: each unit must sum to zero on its own."""
    draft = (
        EntryDraft(EntryCode.TOPUP)
        .debit(cash("EUR"), 2000)
        .credit(card_money(1, "EUR"), 2000)
        .debit(units_issued(CountUnit.MINUTES), 30)
        .credit(card_units(1, CountUnit.MINUTES), 30)
    )
    draft.validated()
    crossed = EntryDraft(EntryCode.TOPUP).debit(cash("EUR"), 30).credit(card_units(1, CountUnit.MINUTES), 30)
    with pytest.raises(InvalidRequest):
        crossed.validated()


def test_entry_needs_two_postings() -> None:
    with pytest.raises(InvalidRequest):
        EntryDraft(EntryCode.SALE).debit(cash("EUR"), 1).validated()


def test_account_keys_and_kinds() -> None:
    assert card_money(7, "EUR").key == "card-money:ca7:EUR"
    assert revenue("EUR", 1900).key == "revenue:vat1900:EUR"
    assert card_money(7, "EUR").kind is AccountKind.LIABILITY
    assert not card_money(7, "EUR").bucketed
    assert cash("EUR").bucketed
    with pytest.raises(ValueError, match="card account"):
        AccountRef(Purpose.CARD_MONEY, "EUR")


def test_entry_codes_are_the_closed_list() -> None:
    assert len(ENTRY_CODES) == 23
    assert "shift-difference" in ENTRY_CODES


@pytest.mark.parametrize(
    ("credit_type", "available"),
    [(CreditType.CREDIT, 1000 - 300), (CreditType.PREPAID, 500 - 300), (CreditType.NONE, 0)],
)
def test_spending_power(credit_type: CreditType, available: int) -> None:
    power = SpendingPower(credit_type, credit_limit_minor=1000, money_balance_minor=500, open_tab_minor=300)
    assert power.available_minor == available
