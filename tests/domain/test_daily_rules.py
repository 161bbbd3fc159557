"""The daily job's decisions without a database (seed 002 "Automatisch verlängern", "Bei Ablauf löschen")."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from tapzone.ledger.model import EntryDraft
from tapzone.money import CountUnit
from tapzone.plans.daily import (
    AccountFacts,
    FeeSource,
    Note,
    breakage_entry,
    deletion_due,
    is_due,
    plan_deletion,
    plan_renewal,
    renewal_due,
    renewal_fee_entry,
)
from tapzone.venues.model import FiscalProfile, Venue

TODAY = date(2027, 3, 1)


BASE = AccountFacts(id=7, valid_until=date(2027, 2, 28), auto_renew=True, delete_on_expiry=False, fee_minor=0)


def renewing(**facts: Any) -> AccountFacts:
    return replace(BASE, **facts)


def expiring(**facts: Any) -> AccountFacts:
    return renewing(auto_renew=False, delete_on_expiry=True, **facts)


def test_renewal_is_due_on_the_last_valid_day_deletion_the_day_after() -> None:
    assert renewal_due(TODAY, TODAY)
    assert not renewal_due(date(2027, 3, 2), TODAY)
    assert not deletion_due(TODAY, TODAY)
    assert deletion_due(date(2027, 2, 28), TODAY)
    assert not renewal_due(None, TODAY)
    assert not deletion_due(None, TODAY)
    assert is_due(renewing(valid_until=TODAY), TODAY)
    assert not is_due(expiring(valid_until=TODAY), TODAY)


def test_twelve_months_are_added_to_the_old_date_clamped_to_the_month_end() -> None:
    assert plan_renewal(renewing(valid_until=date(2027, 2, 28))).valid_until_after == date(2028, 2, 28)
    assert plan_renewal(renewing(valid_until=date(2028, 2, 29))).valid_until_after == date(2029, 2, 28)
    assert plan_renewal(renewing(valid_until=date(2026, 12, 31))).valid_until_after == date(2027, 12, 31)


def test_no_fee_renews_without_a_charge() -> None:
    renewal = plan_renewal(renewing())
    assert (renewal.renewed, renewal.fee_minor, renewal.fee_source, renewal.note) == (
        True,
        0,
        FeeSource.NONE,
        Note.RENEWED,
    )


def test_the_fee_comes_from_free_money_first_then_the_customer() -> None:
    assert plan_renewal(renewing(fee_minor=1500, money_minor=1500)).fee_source is FeeSource.CARD
    # Money reserved for open tab lines is not free: the customer account pays instead.
    held = plan_renewal(renewing(fee_minor=1500, money_minor=2000, reserved_money_minor=600, payer_customer_id=3))
    assert (held.fee_source, held.note) == (FeeSource.CUSTOMER, Note.FEE_TO_CUSTOMER)
    assert plan_renewal(renewing(fee_minor=1500, money_minor=1499, payer_customer_id=3)).renewed


def test_an_unpaid_fee_does_not_renew() -> None:
    renewal = plan_renewal(renewing(fee_minor=1500, money_minor=1000))
    assert (renewal.renewed, renewal.valid_until_after, renewal.note) == (False, None, Note.FEE_UNPAID)


def test_deletion_keeps_leftover_money_and_units() -> None:
    deletion = plan_deletion(expiring(money_minor=250, units={CountUnit.VISITS: 3, CountUnit.BONUS: 0}))
    assert deletion.deleted
    assert (deletion.leftover_money_minor, deletion.leftover_units, deletion.note) == (
        250,
        {CountUnit.VISITS: 3},
        Note.LEFTOVER_TO_BREAKAGE,
    )
    assert plan_deletion(expiring()).note is Note.DELETED


def test_an_open_tab_or_a_debt_stops_the_deletion() -> None:
    assert plan_deletion(expiring(money_minor=900, open_tab_lines=2)).note is Note.OPEN_TAB
    assert plan_deletion(expiring(money_minor=900, reserved_holds=1)).note is Note.OPEN_TAB
    assert plan_deletion(expiring(money_minor=-50)).note is Note.NEGATIVE_BALANCE
    assert not plan_deletion(expiring(units={CountUnit.MINUTES: -5})).deleted


def venue(profile: FiscalProfile = FiscalProfile.DE) -> Venue:
    return Venue(1, "Sun", "EUR", "Europe/Berlin", "de", profile, 2000 if profile is FiscalProfile.RU else None)


def lines(draft: EntryDraft) -> list[tuple[str, int]]:
    return sorted((line.account.key, line.amount) for line in draft.validated().lines)


def test_the_renewal_fee_entry_books_revenue_and_vat_against_card_or_customer() -> None:
    from_card = plan_renewal(renewing(fee_minor=1190, money_minor=5000))
    assert lines(renewal_fee_entry(venue(), from_card, "Abo", 1900)) == [
        ("card-money:ca7:EUR", 1190),
        ("revenue:vat1900:EUR", -1000),
        ("vat-payable:vat1900:EUR", -190),
    ]
    billed = plan_renewal(renewing(fee_minor=1190, payer_customer_id=3))
    assert ("customer-receivable:cu3:EUR", 1190) in lines(renewal_fee_entry(venue(), billed, "Abo", 1900))
    # 54-FZ: prepaid value consumed by the fee releases its advance VAT, as any sale from the card does.
    ru = lines(renewal_fee_entry(venue(FiscalProfile.RU), from_card, "Abo", 1900))
    assert ("advance-vat:EUR", -198) in ru
    with pytest.raises(ValueError, match="charges no fee"):
        renewal_fee_entry(venue(), plan_renewal(renewing()), "Abo", 1900)


def test_the_breakage_entry_empties_the_card() -> None:
    deletion = plan_deletion(expiring(money_minor=1200, units={CountUnit.VISITS: 4}))
    assert lines(breakage_entry(venue(), deletion, "Ten")) == [
        ("card-money:ca7:EUR", 1200),
        ("card-units:ca7:visits", 4),
        ("revenue:breakage:EUR", -1200),
        ("units-issued:visits", -4),
    ]
    # Under 54-FZ the advance VAT (20/120 of 12.00) stays owed: the asset is used up, the rest is income.
    assert lines(breakage_entry(venue(FiscalProfile.RU), deletion, "Ten"))[:4] == [
        ("advance-vat:EUR", -200),
        ("card-money:ca7:EUR", 1200),
        ("card-units:ca7:visits", 4),
        ("revenue:breakage:EUR", -1000),
    ]
