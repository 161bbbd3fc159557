"""The simulated terminal's journal: what it booked, so that a reversal refers to a payment it really took and
an end-of-day adds up what it really approved. Trace numbers run 1..999999 and receipt numbers 1..9999
(their BCD widths, 3 and 2 bytes), then wrap like a real terminal's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from tapzone.clock import Clock
from tapzone.payments.zvt import messages
from tapzone.payments.zvt.bmp import GroupTotal, Totals, totals_group
from tapzone.payments.zvt.codes import RESULT_OK, card_type_name


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One booking of the simulated terminal."""

    kind: str  # "payment" or "reversal"
    result_code: int
    amount_minor: int
    currency: str
    trace_number: int
    receipt_number: int | None
    card_type: int
    at: datetime
    original_trace_number: int | None = None  # reversal: the payment it reverses
    reversed: bool = False  # payment: given back since
    settled: bool = False  # payment: closed by an end-of-day


class TerminalJournal:
    """Thread-safe: sessions on several connections book into one journal."""

    def __init__(self, clock: Clock, terminal_id: str, card_type: int) -> None:
        self.clock = clock
        self.terminal_id = terminal_id
        self.card_type = card_type
        self._lock = threading.Lock()
        self._records: list[SimRecord] = []
        self._trace = 0
        self._receipt = 0

    @property
    def records(self) -> list[SimRecord]:
        with self._lock:
            return list(self._records)

    def _next_trace(self) -> int:
        self._trace = self._trace % 999_999 + 1
        return self._trace

    def take_trace(self) -> int:
        """A trace number for a booking that is not a payment (an end-of-day)."""
        with self._lock:
            return self._next_trace()

    def _next_receipt(self) -> int:
        self._receipt = self._receipt % 9_999 + 1
        return self._receipt

    def book(self, kind: str, result_code: int, amount_minor: int, currency: str, **extra: int) -> SimRecord:
        """Book a payment; an approved one gets a receipt number."""
        with self._lock:
            approved = result_code == RESULT_OK
            record = SimRecord(
                kind=kind,
                result_code=result_code,
                amount_minor=amount_minor,
                currency=currency,
                trace_number=self._next_trace(),
                receipt_number=self._next_receipt() if approved else None,
                card_type=self.card_type,
                at=self.clock.now(),
                original_trace_number=extra.get("original_trace_number"),
            )
            self._records.append(record)
            return record

    def reverse(self, receipt_number: int | None = None, trace_number: int | None = None) -> SimRecord | None:
        """Book the reversal of an approved, unreversed, unsettled payment; None if there is none."""
        with self._lock:
            for index, record in enumerate(self._records):
                if record.kind != "payment" or record.result_code != RESULT_OK or record.reversed or record.settled:
                    continue
                if record.receipt_number == receipt_number or (
                    trace_number is not None and record.trace_number == trace_number
                ):
                    self._records[index] = replace(record, reversed=True)
                    reversal = SimRecord(
                        kind="reversal",
                        result_code=RESULT_OK,
                        amount_minor=record.amount_minor,
                        currency=record.currency,
                        trace_number=self._next_trace(),
                        receipt_number=self._next_receipt(),
                        card_type=record.card_type,
                        at=self.clock.now(),
                        original_trace_number=record.trace_number,
                    )
                    self._records.append(reversal)
                    return reversal
            return None

    def close_batch(self) -> tuple[int, str, Totals]:
        """End-of-day: settle every standing payment; (total, currency, totals by card group)."""
        with self._lock:
            batch = [
                (index, r)
                for index, r in enumerate(self._records)
                if r.kind == "payment" and r.result_code == RESULT_OK and not r.reversed and not r.settled
            ]
            groups: dict[str, GroupTotal] = {}
            for index, record in batch:
                self._records[index] = replace(record, settled=True)
                name = totals_group(record.card_type)
                known = groups.get(name, GroupTotal(name, 0, 0))
                groups[name] = GroupTotal(name, known.count + 1, known.total_minor + record.amount_minor)
            receipts = [r.receipt_number or 0 for _, r in batch]
            totals = Totals(min(receipts, default=0), max(receipts, default=0), tuple(groups.values()))
            currency = batch[0][1].currency if batch else "EUR"
            return sum(r.amount_minor for _, r in batch), currency, totals

    def last_record(self) -> SimRecord | None:
        with self._lock:
            return self._records[-1] if self._records else None

    def describe(self, record: SimRecord, text: str | None = None) -> bytes:
        """The 04 0F of a booking."""
        approved = record.result_code == RESULT_OK
        return messages.status_information(
            record.result_code,
            amount_minor=record.amount_minor,
            currency=record.currency,
            trace_number=record.trace_number,
            original_trace_number=record.original_trace_number,
            time=record.at.strftime("%H%M%S"),
            date=record.at.strftime("%m%d"),
            receipt_number=record.receipt_number,
            terminal_id=self.terminal_id,
            card_type=record.card_type if approved else None,
            card_name=card_type_name(record.card_type) if approved else None,
            text=text,
        )
