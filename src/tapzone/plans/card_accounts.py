"""Card accounts: what a medium can spend (seed 001 credit types, seed 002 "active card account")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CreditType(StrEnum):
    NONE = "none"  # seed 001 "Ingen": no credit, cannot be loaded
    PREPAID = "prepaid"  # seed 001 "Ladda": stored value, a liability until spent or paid out
    CREDIT = "credit"  # seed 001 "Kredit": buy now, settle the tab before exit, within a credit limit


@dataclass(frozen=True, slots=True)
class SpendingPower:
    """How much more a card account can put on its tab.

    credit  → limit − open tab total; prepaid → balance − open tab total (seed 001: the credit limit and
    the prepaid amount cannot be exceeded); none → nothing.
    """

    credit_type: CreditType
    credit_limit_minor: int
    money_balance_minor: int
    open_tab_minor: int
    on_account_minor: int = 0  # bought during this visit and booked to the customer account (seed 001)

    @property
    def available_minor(self) -> int:
        if self.credit_type is CreditType.CREDIT:
            return self.credit_limit_minor - self.open_tab_minor - self.on_account_minor
        if self.credit_type is CreditType.PREPAID:
            return self.money_balance_minor - self.open_tab_minor
        return 0
