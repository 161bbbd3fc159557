"""The daily job's rules (seed 002 "Automatisch verlängern", "Bei Ablauf löschen"). Pure domain.

Once a day every card account with an expiry date is looked at. A type marked "renew automatically" whose
account's valid-until is on or before today gets 12 months added to that date (not to today: a renewal
never shifts the subscription's anniversary), and the fee, if the type has one, is charged. A type marked
"delete on expiry" has its accounts closed once they are no longer valid (valid-until before today); what
value they still hold is kept by the venue as breakage. The store gathers the facts per account; these
functions decide and draft the journal entries, so every outcome can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from tapzone.fiscal.profiles import book_advance_released
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import (
    EntryDraft,
    advance_vat,
    breakage,
    card_money,
    card_units,
    customer_receivable,
    units_issued,
)
from tapzone.money import CountUnit
from tapzone.plans.topup_rules import add_months
from tapzone.pos.booking import credit_revenue
from tapzone.pos.vat import split_by_rate, vat_included
from tapzone.venues.model import FiscalProfile, Venue

RENEWAL_MONTHS = 12


class ChangeCode(StrEnum):
    """What the job logs in `card_account_changes`; the same words as the journal codes (seed 002
    "Konto_Verlaengern", "Konto_Loeschen")."""

    RENEW = EntryCode.ACCOUNT_RENEW.value
    DELETE = EntryCode.ACCOUNT_DELETE.value


class FeeSource(StrEnum):
    NONE = "none"  # the type charges no fee
    CARD = "card"  # taken from the money on the card account
    CUSTOMER = "customer"  # booked to the registered customer's account: the direct-debit subscription


class Note(StrEnum):
    """The reason logged with each change; skips are logged too, so the log explains every due account."""

    RENEWED = "renewed"
    FEE_FROM_CARD = "fee from card"
    FEE_TO_CUSTOMER = "fee to customer account"
    FEE_UNPAID = "fee unpaid"
    DELETED = "deleted"
    LEFTOVER_TO_BREAKAGE = "leftover to breakage"
    OPEN_TAB = "open tab"
    NEGATIVE_BALANCE = "negative balance"


SKIP_NOTES = frozenset({Note.FEE_UNPAID, Note.OPEN_TAB, Note.NEGATIVE_BALANCE})


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the job knows about one due card account, read under its row lock."""

    id: int
    valid_until: date
    auto_renew: bool
    delete_on_expiry: bool
    fee_minor: int
    money_minor: int = 0  # the card-side money balance
    reserved_money_minor: int = 0  # held for open prepaid tab lines: not free to pay a fee with
    units: dict[CountUnit, int] = field(default_factory=dict)  # bonus, minutes, visits left on the card
    open_tab_lines: int = 0  # unpaid lines on the account's open tab
    reserved_holds: int = 0  # reserved holds in any unit
    payer_customer_id: int | None = None  # the subscription's customer (contract, else the visit's)


@dataclass(frozen=True, slots=True)
class Renewal:
    account_id: int
    valid_until_before: date
    valid_until_after: date | None  # None: not renewed (fee unpaid)
    fee_minor: int
    fee_source: FeeSource
    note: Note
    customer_id: int | None = None  # whose account owes the fee (FeeSource.CUSTOMER)

    @property
    def renewed(self) -> bool:
        return self.valid_until_after is not None


@dataclass(frozen=True, slots=True)
class Deletion:
    account_id: int
    valid_until_before: date
    leftover_money_minor: int
    leftover_units: dict[CountUnit, int]
    note: Note

    @property
    def deleted(self) -> bool:
        return self.note not in SKIP_NOTES


def renewal_due(valid_until: date | None, today: date) -> bool:
    """seed 002: "Ablaufdatum kleiner-gleich dem aktuellen Datum" — an account valid until today renews today."""
    return valid_until is not None and valid_until <= today


def deletion_due(valid_until: date | None, today: date) -> bool:
    """An account valid until today may still be used today; it is deleted the day after."""
    return valid_until is not None and valid_until < today


def is_due(facts: AccountFacts, today: date) -> bool:
    return (facts.auto_renew and renewal_due(facts.valid_until, today)) or (
        facts.delete_on_expiry and deletion_due(facts.valid_until, today)
    )


def plan_renewal(facts: AccountFacts) -> Renewal:
    """Add 12 months to valid-until; the fee comes from the card's free money if that covers it, else from
    the customer's account (direct debit), else the account is not renewed and expires as usual."""
    renewed_until = add_months(facts.valid_until, RENEWAL_MONTHS)
    fee = facts.fee_minor
    if fee <= 0:
        return Renewal(facts.id, facts.valid_until, renewed_until, 0, FeeSource.NONE, Note.RENEWED)
    if facts.money_minor - facts.reserved_money_minor >= fee:
        return Renewal(facts.id, facts.valid_until, renewed_until, fee, FeeSource.CARD, Note.FEE_FROM_CARD)
    if facts.payer_customer_id is not None:
        return Renewal(
            facts.id,
            facts.valid_until,
            renewed_until,
            fee,
            FeeSource.CUSTOMER,
            Note.FEE_TO_CUSTOMER,
            facts.payer_customer_id,
        )
    return Renewal(facts.id, facts.valid_until, None, fee, FeeSource.NONE, Note.FEE_UNPAID)


def plan_deletion(facts: AccountFacts) -> Deletion:
    """Close the account and keep what is left on it; an account that still owes or holds reserved value
    (an open tab) is not deleted silently but logged and left for the staff to settle."""
    units = {unit: amount for unit, amount in sorted(facts.units.items()) if amount}
    if facts.open_tab_lines or facts.reserved_holds:
        return Deletion(facts.id, facts.valid_until, 0, {}, Note.OPEN_TAB)
    if facts.money_minor < 0 or any(amount < 0 for amount in units.values()):
        return Deletion(facts.id, facts.valid_until, 0, {}, Note.NEGATIVE_BALANCE)
    note = Note.LEFTOVER_TO_BREAKAGE if facts.money_minor or units else Note.DELETED
    return Deletion(facts.id, facts.valid_until, facts.money_minor, units, note)


def renewal_fee_entry(venue: Venue, renewal: Renewal, type_name: str, vat_rate_bp: int) -> EntryDraft:
    """seed 002 "Gebühr … bei Verlängerung": the fee is revenue at the type's VAT rate, paid from the card's
    prepaid value (consumed, so an advance's VAT is released as in any sale) or owed by the customer."""
    draft = EntryDraft(EntryCode.ACCOUNT_RENEW, memo=f"{type_name} renewed until {renewal.valid_until_after}")
    if renewal.fee_source is FeeSource.CARD:
        draft.debit(card_money(renewal.account_id, venue.currency), renewal.fee_minor)
        book_advance_released(draft, venue, renewal.fee_minor)
    elif renewal.fee_source is FeeSource.CUSTOMER and renewal.customer_id is not None:
        draft.debit(customer_receivable(renewal.customer_id, venue.currency), renewal.fee_minor)
    else:
        raise ValueError(f"renewal of card account {renewal.account_id} charges no fee")
    credit_revenue(draft, venue, split_by_rate([(renewal.fee_minor, vat_rate_bp)]))
    return draft


def breakage_entry(venue: Venue, deletion: Deletion, type_name: str) -> EntryDraft:
    """The deleted account's value leaves the card float: money to breakage income, counted units back to
    the units-issued account they came from."""
    draft = EntryDraft(EntryCode.ACCOUNT_DELETE, memo=f"{type_name} deleted on expiry")
    money = deletion.leftover_money_minor
    if money:
        draft.debit(card_money(deletion.account_id, venue.currency), money)
        rate = venue.advance_vat_rate_bp if venue.fiscal_profile is FiscalProfile.RU else None
        if rate:
            # 54-FZ: the VAT paid on the advance can no longer be reclaimed against goods; it stays owed as
            # the VAT on this income, so the advance-VAT asset is used up instead of released.
            vat = vat_included(money, rate)
            draft.credit(advance_vat(venue.currency), vat)
            money -= vat
        draft.credit(breakage(venue.currency), money)
    for unit, amount in deletion.leftover_units.items():
        draft.debit(card_units(deletion.account_id, unit), amount).credit(units_issued(unit), amount)
    return draft
