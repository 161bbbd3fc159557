"""Payment terminals and payments as the tills see them (seed 003)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tapzone.i18n import format_money, gettext

if TYPE_CHECKING:
    import sqlalchemy as sa

    from tapzone.payments.terminals import Terminal


class TerminalKind(StrEnum):
    STANDALONE = "standalone"  # seed 003 "автономный терминал": not connected, the cashier keys the amount
    INTEGRATED_ZVT = "integrated-zvt"  # a German card terminal driven over TCP with the ZVT protocol
    NONE = "none"  # cashless without any terminal call, e.g. a bank transfer (seed 003)
    SIMULATOR = "simulator"  # an in-process terminal for demos and tests; approves like a real one would


# Kinds whose result only the cashier can know: the payment waits for the cashier's confirmation.
CONFIRMED_BY_CASHIER = frozenset({TerminalKind.STANDALONE, TerminalKind.NONE})


class PaymentState(StrEnum):
    PENDING = "pending"  # waiting for the terminal or the cashier; also after a timeout, until resolved
    APPROVED = "approved"  # the money is taken, the operation not booked yet
    BOOKED = "booked"  # approved and the operation booked: the only state with a receipt
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REVERSED = "reversed"  # taken, then given back because the operation could not be booked
    FAILED = "failed"  # taken on a standalone terminal but not bookable: the cashier refunds it there


def instruction_for(kind: TerminalKind) -> str:
    if kind is TerminalKind.STANDALONE:
        return "Take the card payment on the terminal first, then enter the approved amount"
    if kind is TerminalKind.NONE:
        return "Confirm the transfer has arrived, then enter the amount received"
    return "Waiting for the card terminal"


class PaymentView(BaseModel):
    payment_id: int
    state: str
    terminal: str
    terminal_kind: str
    amount_minor: int
    currency: str
    operation: str
    instruction: str  # in the venue's language, with the exact amount to key in
    detail: str
    slip_number: str | None
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: sa.Row[Any], terminal: Terminal, language: str = "en") -> PaymentView:
        amount = format_money(row.amount_minor, row.currency, language)
        return cls(
            payment_id=row.id,
            state=row.state,
            terminal=terminal.name,
            terminal_kind=terminal.kind.value,
            amount_minor=row.amount_minor,
            currency=row.currency,
            operation=row.operation,
            instruction=f"{amount}: {gettext(instruction_for(terminal.kind), language)}",
            detail=row.detail,
            slip_number=row.slip_number,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
        )
