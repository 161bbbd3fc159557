"""One business day's postings folded into report figures: revenue per rate, tenders, value loaded and paid
back, deposits. Pure: the daily revenue report feeds it the sums its query grouped by account and entry code.
"""

from __future__ import annotations

from collections import defaultdict

from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import Purpose

# Cash put into or taken out of a drawer, and a counted shift's difference: the drawer moves, nobody paid.
DRAWER_CODES = frozenset({EntryCode.CASH_IN, EntryCode.CASH_OUT, EntryCode.SHIFT_DIFFERENCE})
# Entries in which prepaid value on a card pays for goods or services: prepaid value as a tender.
CONSUMPTION_CODES = frozenset(
    {
        EntryCode.SALE,
        EntryCode.SETTLEMENT,
        EntryCode.USAGE,
        EntryCode.OVERSTAY,
        EntryCode.FEE,
        EntryCode.ACCOUNT_RENEW,
    }
)
LOAD_CODES = (EntryCode.TOPUP, EntryCode.LOAD)
PAY_BACK_CODES = (EntryCode.REFUND, EntryCode.UNLOAD, EntryCode.PAYOUT)


def account_qualifier(key: str, purpose: str, unit: str) -> str:
    """The qualifier of a venue-wide account key `purpose[:qualifier]:unit`."""
    return key[len(purpose) + 1 : -(len(unit) + 1)]


def _vat_rate(qualifier: str) -> int | None:
    digits = qualifier.removeprefix("vat")
    return int(digits) if qualifier.startswith("vat") and digits.isdigit() else None


_REVENUE_SIDE = frozenset({Purpose.REVENUE.value, Purpose.VAT_PAYABLE.value, Purpose.ADVANCE_VAT.value})


class DaySums:
    """Posting sums of one day folded into report figures (amounts as the ledger signs them)."""

    def __init__(self) -> None:
        self.net: dict[int, int] = defaultdict(int)
        self.vat: dict[int, int] = defaultdict(int)
        self.goods_by_code: dict[str, int] = defaultdict(int)
        self.other: dict[str, int] = defaultdict(int)
        self.advance = 0
        self.received: dict[str, int] = defaultdict(int)
        self.paid_out: dict[str, int] = defaultdict(int)
        self.drawer = 0
        self.loaded: dict[str, int] = defaultdict(int)
        self.paid_back: dict[str, int] = defaultdict(int)
        self.card_other = 0
        self.deposits_taken = 0
        self.deposits_released: dict[str, int] = defaultdict(int)

    def _tender(self, name: str, amount: int) -> None:
        if amount > 0:
            self.received[name] += amount
        else:
            self.paid_out[name] -= amount

    def add(self, purpose: str, qualifier: str, code: str, amount: int) -> None:
        if purpose in _REVENUE_SIDE:
            self._revenue(purpose, qualifier, code, amount)
        elif purpose == Purpose.CASH.value:
            if code in DRAWER_CODES:
                self.drawer += amount
            else:
                self._tender("cash", amount)
        elif purpose == Purpose.CARD_CLEARING.value:
            # An online payment provider's clearing account is named `online:<provider>`: its own tender.
            self._tender(qualifier if qualifier.startswith("online:") else f"card:{qualifier}", amount)
        elif purpose == Purpose.CUSTOMER_RECEIVABLE.value:
            self._tender("customer-account", amount)
        elif purpose == Purpose.BANK.value:
            self._tender("bank", amount)  # bank payouts once the bank has carried them out
        elif purpose == Purpose.CARD_MONEY.value:
            self._card_money(code, amount)
        elif purpose == Purpose.DEPOSITS_HELD.value:
            if amount < 0:
                self.deposits_taken -= amount
            else:
                self.deposits_released[code] += amount

    def _revenue(self, purpose: str, qualifier: str, code: str, amount: int) -> None:
        rate = _vat_rate(qualifier)
        if purpose == Purpose.REVENUE.value and rate is None:
            self.other[qualifier] -= amount  # breakage, forfeited deposits: no goods, no VAT
            return
        if purpose == Purpose.REVENUE.value:
            self.net[rate if rate is not None else -1] -= amount
        elif purpose == Purpose.VAT_PAYABLE.value:
            # vat_payable() always names its rate; an account without one shows as rate -1 rather than vanish.
            self.vat[rate if rate is not None else -1] -= amount
        else:
            # 54-FZ: the advance VAT account mirrors the VAT booked on advances; it is no goods revenue.
            self.advance += amount
        self.goods_by_code[code] -= amount

    def _card_money(self, code: str, amount: int) -> None:
        # Both signs count, so a revoked bank payout (a `payout` crediting the card again) nets out.
        if code in LOAD_CODES:
            self.loaded[code] -= amount
        elif code in PAY_BACK_CODES:
            self.paid_back[code] += amount
        elif code in CONSUMPTION_CODES:
            self._tender("prepaid", amount)
        else:
            self.card_other -= amount  # holder's view: a credit adds value
