"""Pure ledger domain: account references, postings and journal entries.

Sign convention: a posting's amount is positive for a debit and negative for a credit. Every entry sums to
zero per unit. Liabilities (card money, VAT payable) therefore carry negative ledger balances; the card
holder's view of a balance is its negation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from tapzone.errors import InvalidRequest
from tapzone.ledger.codes import EntryCode
from tapzone.money import CountUnit, check_currency


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    RECEIVABLE = "receivable"
    EQUITY = "equity"


class Purpose(StrEnum):
    """What a ledger account is for; decides its kind and whether it is bucketed per till and day."""

    CASH = "cash"
    CARD_CLEARING = "card-clearing"
    CARD_MONEY = "card-money"
    CARD_UNITS = "card-units"
    UNITS_ISSUED = "units-issued"
    REVENUE = "revenue"
    VAT_PAYABLE = "vat-payable"
    ADVANCE_VAT = "advance-vat"
    CUSTOMER_RECEIVABLE = "customer-receivable"
    DEPOSITS_HELD = "deposits-held"
    CORRECTION = "correction"
    SAFE = "safe"  # cash outside the drawers (the back office safe, cash in transit to the bank)
    CASH_DIFFERENCE = "cash-difference"  # what a closed shift's count differed from the ledger
    CHAIN_CLEARING = "chain-clearing"
    PAYOUTS_DUE = "payouts-due"  # leftover value a visitor asked for by bank transfer, owed until the bank pays
    BANK = "bank"  # the venue's bank account, which pays out bank transfers


_KIND_OF: dict[Purpose, AccountKind] = {
    Purpose.CASH: AccountKind.ASSET,
    Purpose.CARD_CLEARING: AccountKind.ASSET,
    Purpose.CARD_MONEY: AccountKind.LIABILITY,
    Purpose.CARD_UNITS: AccountKind.LIABILITY,
    Purpose.UNITS_ISSUED: AccountKind.EQUITY,
    Purpose.REVENUE: AccountKind.REVENUE,
    Purpose.VAT_PAYABLE: AccountKind.LIABILITY,
    Purpose.ADVANCE_VAT: AccountKind.ASSET,
    Purpose.CUSTOMER_RECEIVABLE: AccountKind.RECEIVABLE,
    Purpose.DEPOSITS_HELD: AccountKind.LIABILITY,
    Purpose.CORRECTION: AccountKind.EQUITY,
    Purpose.SAFE: AccountKind.ASSET,
    Purpose.CASH_DIFFERENCE: AccountKind.EQUITY,
    Purpose.CHAIN_CLEARING: AccountKind.ASSET,
    Purpose.PAYOUTS_DUE: AccountKind.LIABILITY,
    Purpose.BANK: AccountKind.ASSET,
}

# Accounts held per card account; every other account is venue-wide and kept in per-till, per-day buckets
# so that no single balance row is updated by every sale of every till (DESIGN §4) — except a registered
# customer's own account, whose single balance is what the customer owes, and a bank payout's own account,
# whose single balance is what that visitor is still owed (each is touched a few times in its life, never hot).
CARD_PURPOSES = frozenset({Purpose.CARD_MONEY, Purpose.CARD_UNITS})
UNBUCKETED_PURPOSES = CARD_PURPOSES | {Purpose.CUSTOMER_RECEIVABLE, Purpose.PAYOUTS_DUE}
CARD_BUCKET = ""  # the one balance row of an unbucketed account (card liabilities are not split per till)


@dataclass(frozen=True, slots=True, order=True)
class AccountRef:
    """Names a ledger account; the store maps it to a row, creating the row on first use."""

    purpose: Purpose
    unit: str
    qualifier: str = ""
    card_account_id: int | None = None

    def __post_init__(self) -> None:
        is_card = self.purpose in CARD_PURPOSES
        if is_card != (self.card_account_id is not None):
            raise ValueError(f"{self.purpose} accounts need a card account, and only they do")
        if self.unit not in CountUnit.__members__.values():
            check_currency(self.unit)

    @property
    def kind(self) -> AccountKind:
        return _KIND_OF[self.purpose]

    @property
    def bucketed(self) -> bool:
        return self.purpose not in UNBUCKETED_PURPOSES

    @property
    def key(self) -> str:
        parts = [self.purpose.value]
        if self.qualifier:
            parts.append(self.qualifier)
        if self.card_account_id is not None:
            parts.append(f"ca{self.card_account_id}")
        parts.append(self.unit)
        return ":".join(parts)


def cash(currency: str) -> AccountRef:
    return AccountRef(Purpose.CASH, currency)


def safe(currency: str) -> AccountRef:
    return AccountRef(Purpose.SAFE, currency)


def cash_difference(currency: str) -> AccountRef:
    return AccountRef(Purpose.CASH_DIFFERENCE, currency)


def card_clearing(currency: str, provider: str) -> AccountRef:
    return AccountRef(Purpose.CARD_CLEARING, currency, qualifier=provider)


def online_clearing(currency: str, provider: str) -> AccountRef:
    """What an online payment provider collected for top-ups and has not yet paid out to the venue."""
    return card_clearing(currency, f"online:{provider}")


def correction(currency: str) -> AccountRef:
    """The other side of a support correction (seed 004 "Saldo Korrektur"): value the venue added to or took
    from a card without money moving, kept apart so every correction stays visible in the books."""
    return AccountRef(Purpose.CORRECTION, currency)


def card_money(card_account_id: int, currency: str) -> AccountRef:
    return AccountRef(Purpose.CARD_MONEY, currency, card_account_id=card_account_id)


def card_units(card_account_id: int, unit: CountUnit) -> AccountRef:
    return AccountRef(Purpose.CARD_UNITS, unit.value, card_account_id=card_account_id)


def units_issued(unit: CountUnit) -> AccountRef:
    return AccountRef(Purpose.UNITS_ISSUED, unit.value)


def revenue(currency: str, vat_rate_bp: int) -> AccountRef:
    return AccountRef(Purpose.REVENUE, currency, qualifier=f"vat{vat_rate_bp}")


def vat_payable(currency: str, vat_rate_bp: int) -> AccountRef:
    return AccountRef(Purpose.VAT_PAYABLE, currency, qualifier=f"vat{vat_rate_bp}")


def customer_receivable(customer_id: int, currency: str) -> AccountRef:
    """What a registered customer owes the venue (seed 001 "kundkonto"), apart from any medium."""
    return AccountRef(Purpose.CUSTOMER_RECEIVABLE, currency, qualifier=f"cu{customer_id}")


def deposits_held(currency: str) -> AccountRef:
    """Wristband deposits owed back to visitors on physical return (DESIGN §7)."""
    return AccountRef(Purpose.DEPOSITS_HELD, currency)


def advance_vat(currency: str) -> AccountRef:
    return AccountRef(Purpose.ADVANCE_VAT, currency)


def breakage(currency: str) -> AccountRef:
    """Income from value left on card accounts deleted on expiry (seed 002 "Bei Ablauf löschen"): nobody can
    spend it any more, so the venue's liability ends and the card float drops by exactly that amount."""
    return AccountRef(Purpose.REVENUE, currency, qualifier="breakage")


def chain_clearing(currency: str, other_venue_id: int) -> AccountRef:
    """What another venue of the chain owes this one for card value handed over between them; negative when
    this venue owes it (it passed a card account's money on and the other venue now carries the liability)."""
    return AccountRef(Purpose.CHAIN_CLEARING, currency, qualifier=f"v{other_venue_id}")


def payouts_due(payout_id: int, currency: str) -> AccountRef:
    """Leftover card value one visitor asked to have transferred to their bank account: no longer on the card
    (the card float drops), still owed by the venue until the bank has paid it. One account per payout, so
    the ledger itself names who is owed what."""
    return AccountRef(Purpose.PAYOUTS_DUE, currency, qualifier=f"po{payout_id}")


def bank(currency: str) -> AccountRef:
    return AccountRef(Purpose.BANK, currency)


@dataclass(frozen=True, slots=True)
class PostingLine:
    account: AccountRef
    amount: int

    @property
    def unit(self) -> str:
        return self.account.unit


@dataclass(slots=True)
class EntryDraft:
    """A journal entry being assembled by a use case; `validated()` enforces the double-entry rules."""

    code: EntryCode
    memo: str = ""
    corrects_entry_id: int | None = None
    lines: list[PostingLine] = field(default_factory=list)

    def debit(self, account: AccountRef, amount: int) -> EntryDraft:
        if amount:
            self.lines.append(PostingLine(account, amount))
        return self

    def credit(self, account: AccountRef, amount: int) -> EntryDraft:
        if amount:
            self.lines.append(PostingLine(account, -amount))
        return self

    def validated(self) -> EntryDraft:
        if not isinstance(self.code, EntryCode):
            raise InvalidRequest(f"unknown entry code {self.code!r}")
        if len(self.lines) < 2:
            raise InvalidRequest("a journal entry needs at least two postings")
        totals: dict[str, int] = defaultdict(int)
        for line in self.lines:
            if isinstance(line.amount, bool) or not isinstance(line.amount, int) or line.amount == 0:
                raise InvalidRequest(f"posting amount must be a non-zero integer, got {line.amount!r}")
            totals[line.unit] += line.amount
        unbalanced = {unit: total for unit, total in totals.items() if total != 0}
        if unbalanced:
            raise InvalidRequest(f"journal entry does not balance: {unbalanced}")
        return self
