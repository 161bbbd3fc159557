"""The card-terminal port: what the payment use cases ask of an integrated terminal (DESIGN §5: a real
adapter and a simulator for each port).

A payment starts pending, and the terminal's answer resolves it:
- APPROVED: the money is taken (`approved_amount_minor`); `reference` is what `reverse` needs to give it back.
- DECLINED, ABORTED: nothing was taken; final. `result_code`/`text` say why (declined by the card issuer,
  cancelled by the customer or the cashier).
- ERROR: the terminal did not run the operation (unreachable, refused the command, not configured); nothing
  was taken, final for `authorise`.
- TIMED_OUT, CONNECTION_LOST: unknown. The payment stays pending, whatever fields are filled in (a receipt
  number seen before the line dropped), until `status` or `reverse` settles it. Never booked on a guess.

`status(reference)` asks the terminal what became of the payment with that reference. It answers APPROVED,
DECLINED or ABORTED (ABORTED also when the terminal reversed the payment itself) only when it can tell that
the terminal's last transaction is that payment; anything else leaves the payment pending.
For `reverse`, APPROVED means the reversal was approved and the money given back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tapzone.payments.simulated import SimulatedTerminal
    from tapzone.payments.zvt.adapter import ZvtTerminal


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    ABORTED = "aborted"
    TIMED_OUT = "timed-out"
    CONNECTION_LOST = "connection-lost"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class TerminalResult:
    outcome: Outcome
    approved_amount_minor: int | None = None
    currency: str | None = None
    reference: str | None = None  # the terminal's handle on the transaction; `reverse` takes it
    receipt_number: str | None = None  # as printed on the terminal's slip ("Beleg-Nr.")
    trace_number: str | None = None
    terminal_id: str | None = None
    card_type: str | None = None
    result_code: int | None = None  # the terminal's own code, e.g. ZVT 05 declined, 6C aborted
    text: str = ""
    transaction_count: int | None = None  # end_of_day: payments in the closed batch

    @property
    def is_pending(self) -> bool:
        """The terminal's answer is unknown: keep the payment pending and ask again later."""
        return self.outcome in (Outcome.TIMED_OUT, Outcome.CONNECTION_LOST)


class CardTerminal(Protocol):
    """An integrated card terminal. Every call blocks until the terminal answers or a timeout ends it and never
    raises for the terminal's sake: failures come back as results. Call it outside any database transaction."""

    def authorise(self, amount_minor: int, currency: str, reference: str) -> TerminalResult:
        """Take `amount_minor` by card. `reference` is the caller's payment id, for `status` and `reverse`."""
        ...

    def reverse(self, reference: str) -> TerminalResult:
        """Give back an approved payment: `reference` is a result's `reference`, or the caller's payment id when
        the terminal never reported one (then only a reference this adapter still knows is reversed)."""
        ...

    def status(self, reference: str) -> TerminalResult:
        """What became of the payment with the caller's `reference` (see the module docstring)."""
        ...

    def end_of_day(self) -> TerminalResult:
        """Close the terminal's batch: `approved_amount_minor` is its total, `transaction_count` its size."""
        ...

    def abort(self) -> bool:
        """From another thread: ask the terminal to stop the running `authorise` (the cashier's cancel). True
        when the request went out; the running call then returns ABORTED if the terminal could still stop."""
        ...


def __getattr__(name: str) -> object:
    """The adapters, re-exported so a caller imports the port and its adapters from one place. Imported on
    first use: they import this module, so importing them at the top would be circular."""
    if name == "SimulatedTerminal":
        from tapzone.payments.simulated import SimulatedTerminal

        return SimulatedTerminal
    if name == "ZvtTerminal":
        from tapzone.payments.zvt.adapter import ZvtTerminal

        return ZvtTerminal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CardTerminal", "Outcome", "SimulatedTerminal", "TerminalResult", "ZvtTerminal"]
