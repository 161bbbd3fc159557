"""An in-process card terminal for the demo and fast tests: no sockets, answers by rules on the amount.

Default rules, on the amount's last two digits (minor units), so a demo can show every path on purpose:
- ...13 declined by the card issuer (result code 05);
- ...14 cancelled by the customer (result code 6C);
- ...15 the line drops before the answer: TIMED_OUT, but the terminal did approve, so `status` later
  reports APPROVED (the pending-payment path);
- anything else approved.
Transactions are kept in a journal shared by every instance in the process (the use cases build a new adapter
per call), keyed by the caller's reference; `status` and `reverse` look there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from tapzone.payments.terminal import Outcome, TerminalResult

SIM_TERMINAL_ID = "29000001"
_REFERENCE_PREFIX = "sim/"


def default_rules(amount_minor: int) -> Outcome:
    return {13: Outcome.DECLINED, 14: Outcome.ABORTED, 15: Outcome.TIMED_OUT}.get(amount_minor % 100, Outcome.APPROVED)


@dataclass
class SimTransaction:
    reference: str
    amount_minor: int
    currency: str
    outcome: Outcome  # as the terminal booked it: APPROVED, DECLINED or ABORTED
    receipt_number: int
    trace_number: int
    reversed: bool = False
    settled: bool = False  # closed by an end-of-day; a settled payment can no longer be reversed


class SimJournal:
    """The simulated terminal's memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_reference: dict[str, SimTransaction] = {}
        self._by_receipt: dict[int, SimTransaction] = {}
        self._counter = 0

    def book(self, reference: str, amount_minor: int, currency: str, outcome: Outcome) -> SimTransaction:
        with self._lock:
            self._counter += 1
            transaction = SimTransaction(reference, amount_minor, currency, outcome, self._counter, self._counter)
            self._by_reference[reference] = transaction  # a retried reference replaces the earlier attempt
            self._by_receipt[transaction.receipt_number] = transaction
            return transaction

    def find(self, reference: str) -> SimTransaction | None:
        with self._lock:
            if reference.startswith(_REFERENCE_PREFIX) and reference[len(_REFERENCE_PREFIX) :].isdigit():
                return self._by_receipt.get(int(reference[len(_REFERENCE_PREFIX) :]))
            return self._by_reference.get(reference)

    def reverse(self, transaction: SimTransaction) -> bool:
        with self._lock:
            if transaction.outcome is not Outcome.APPROVED or transaction.reversed or transaction.settled:
                return False
            transaction.reversed = True
            return True

    def settle(self) -> tuple[int, int]:
        """Close the batch: (count, total) of approved, unreversed, unsettled payments."""
        with self._lock:
            batch = [
                t
                for t in self._by_receipt.values()
                if t.outcome is Outcome.APPROVED and not t.reversed and not t.settled
            ]
            for transaction in batch:
                transaction.settled = True
            return len(batch), sum(t.amount_minor for t in batch)


DEFAULT_JOURNAL = SimJournal()


class _Details(TypedDict):
    reference: str
    receipt_number: str
    trace_number: str
    terminal_id: str


def _details(transaction: SimTransaction) -> _Details:
    return {
        "reference": f"{_REFERENCE_PREFIX}{transaction.receipt_number}",
        "receipt_number": f"{transaction.receipt_number:04d}",
        "trace_number": f"{transaction.trace_number:06d}",
        "terminal_id": SIM_TERMINAL_ID,
    }


def _as_result(transaction: SimTransaction) -> TerminalResult:
    if transaction.reversed:
        return TerminalResult(Outcome.ABORTED, text="reversed", **_details(transaction))
    if transaction.outcome is Outcome.APPROVED:
        return TerminalResult(
            Outcome.APPROVED,
            approved_amount_minor=transaction.amount_minor,
            currency=transaction.currency,
            card_type="girocard",
            result_code=0x00,
            text="approved",
            **_details(transaction),
        )
    if transaction.outcome is Outcome.DECLINED:
        return TerminalResult(Outcome.DECLINED, result_code=0x05, text="declined by the card issuer")
    return TerminalResult(Outcome.ABORTED, result_code=0x6C, text="cancelled by the customer")


class SimulatedTerminal:
    """CardTerminal without hardware. `rules` decides each authorisation from its amount."""

    def __init__(self, journal: SimJournal | None = None, rules: Callable[[int], Outcome] = default_rules) -> None:
        self.journal = journal or DEFAULT_JOURNAL
        self.rules = rules

    def authorise(self, amount_minor: int, currency: str, reference: str) -> TerminalResult:
        decided = self.rules(amount_minor)
        booked = Outcome.APPROVED if decided is Outcome.TIMED_OUT else decided
        if booked not in (Outcome.APPROVED, Outcome.DECLINED, Outcome.ABORTED):
            return TerminalResult(booked, text=f"simulated {booked.value}")
        transaction = self.journal.book(reference, amount_minor, currency, booked)
        if decided is Outcome.TIMED_OUT:
            return TerminalResult(Outcome.TIMED_OUT, text="simulated: the terminal's answer did not arrive")
        return _as_result(transaction)

    def reverse(self, reference: str) -> TerminalResult:
        transaction = self.journal.find(reference)
        if transaction is None:
            return TerminalResult(Outcome.DECLINED, result_code=0x83, text=f"no transaction {reference!r}")
        if not self.journal.reverse(transaction):
            return TerminalResult(Outcome.DECLINED, result_code=0x83, text="this transaction cannot be reversed")
        return TerminalResult(
            Outcome.APPROVED,
            approved_amount_minor=transaction.amount_minor,
            currency=transaction.currency,
            text="reversed",
            **_details(transaction),
        )

    def status(self, reference: str) -> TerminalResult:
        transaction = self.journal.find(reference)
        if transaction is None:
            return TerminalResult(Outcome.ERROR, text=f"the terminal has no transaction {reference!r}")
        return _as_result(transaction)

    def end_of_day(self) -> TerminalResult:
        count, total_minor = self.journal.settle()
        return TerminalResult(
            Outcome.APPROVED,
            approved_amount_minor=total_minor,
            terminal_id=SIM_TERMINAL_ID,
            transaction_count=count,
            text=f"end-of-day: {count} payments",
        )

    def abort(self) -> bool:
        return False  # an authorisation here answers at once; there is never one running to stop
