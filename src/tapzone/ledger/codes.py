"""The closed list of journal-entry codes (DESIGN §3). Add a code here and nowhere else."""

from __future__ import annotations

from enum import StrEnum


class EntryCode(StrEnum):
    TOPUP = "topup"
    SALE = "sale"
    SETTLEMENT = "settlement"
    REFUND = "refund"
    PAYOUT = "payout"
    TRANSFER = "transfer"
    UNLOAD = "unload"
    LOAD = "load"
    DEPOSIT_HOLD = "deposit-hold"
    DEPOSIT_REFUND = "deposit-refund"
    DEPOSIT_FORFEIT = "deposit-forfeit"
    FEE = "fee"
    USAGE = "usage"
    BONUS = "bonus"
    OVERSTAY = "overstay"
    ACCOUNT_RENEW = "account-renew"
    ACCOUNT_DELETE = "account-delete"
    BREAKAGE = "breakage"
    WRITE_OFF = "write-off"
    CORRECTION = "correction"
    CASH_IN = "cash-in"
    CASH_OUT = "cash-out"
    SHIFT_DIFFERENCE = "shift-difference"


ENTRY_CODES: frozenset[str] = frozenset(code.value for code in EntryCode)
