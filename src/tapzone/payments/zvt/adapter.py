"""CardTerminal over ZVT: the port's calls as ZVT commands, the terminal's answers as TerminalResults.

Per terminal (host, port) the process keeps three things, because the use cases build a new adapter for
every call: whether the terminal has been registered (06 00 once, before the first payment), a lock so one
command runs at a time (a terminal serves one ECR command at a time), and the last payment sent to it
(reference, amount, what the terminal said). `status` needs the last: a status enquiry tells what the
terminal did last, and only that memory tells whether that was this payment. After a restart the memory is
gone and `status` leaves the payment pending; `reverse` by a stored reference still works.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from tapzone.payments.terminal import Outcome, TerminalResult
from tapzone.payments.zvt.bcd import DEFAULT_PASSWORD
from tapzone.payments.zvt.bmp import StatusInformation
from tapzone.payments.zvt.client import ZVT_PORT, Ending, ZvtClient, ZvtResult
from tapzone.payments.zvt.codes import RESULT_ABORTED, card_type_name, result_text
from tapzone.payments.zvt.messages import DEFAULT_CONFIG_BYTE, authorisation, parse_status_enquiry_completion

_REFERENCE = re.compile(r"zvt/(\d{4})(?:/(\d{6}))?")


@dataclass
class _LastPayment:
    reference: str
    amount_minor: int
    receipt_number: int | None = None
    trace_number: int | None = None


@dataclass
class _Endpoint:
    lock: threading.Lock
    registered: bool = False
    last: _LastPayment | None = None
    running: ZvtClient | None = None


class TerminalMemory:
    """What the process knows about each terminal (host, port); one per process unless a test wants its own."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._endpoints: dict[tuple[str, int], _Endpoint] = {}

    def endpoint(self, host: str, port: int) -> _Endpoint:
        with self.lock:
            return self._endpoints.setdefault((host, port), _Endpoint(threading.Lock()))


PROCESS_MEMORY = TerminalMemory()


def format_reference(receipt_number: int, trace_number: int | None) -> str:
    """zvt/<receipt>/<trace>: never mistaken for a payment id, which `reverse` may be handed instead."""
    return f"zvt/{receipt_number:04d}" + (f"/{trace_number:06d}" if trace_number is not None else "")


class _Fields(TypedDict, total=False):
    reference: str | None
    receipt_number: str | None
    trace_number: str | None
    terminal_id: str | None
    card_type: str | None


def _fields(info: StatusInformation | None) -> _Fields:
    if info is None:
        return {}
    receipt = info.receipt_number
    return {
        "reference": None if receipt is None else format_reference(receipt, info.trace_number),
        "receipt_number": None if receipt is None else f"{receipt:04d}",
        "trace_number": None if info.trace_number is None else f"{info.trace_number:06d}",
        "terminal_id": info.terminal_id,
        "card_type": info.card_name or (None if info.card_type is None else card_type_name(info.card_type)),
    }


def _unsettled(result: ZvtResult, what: str) -> TerminalResult | None:
    """The result of a command that did not run to an answer, or None when it did."""
    if result.ending is Ending.UNREACHABLE:
        return TerminalResult(Outcome.ERROR, text=result.detail)
    if result.ending is Ending.REFUSED:
        code = result.result_code
        return TerminalResult(Outcome.ERROR, result_code=code, text=f"{result.detail}: {result_text(code or 0)}")
    if result.ending.is_pending:
        outcome = Outcome.TIMED_OUT if result.ending is Ending.TIMED_OUT else Outcome.CONNECTION_LOST
        info = result.status
        seen = ""
        if info is not None and info.result_code == 0:
            seen = f"; the terminal had approved it (receipt {info.receipt_number}) before the line went"
        elif info is not None and info.result_code is not None:
            seen = f"; the terminal had reported {result_text(info.result_code)} before"
        return TerminalResult(
            outcome,
            result_code=None if info is None else info.result_code,
            text=f"{what}: {result.detail}{seen}; unknown until a status inquiry or reversal",
            **_fields(info),
        )
    return None


def _ended(result: ZvtResult, currency: str | None) -> TerminalResult:
    """An authorisation or reversal that ran to its end: 06 0F with result 00 approves, 06 1E does not."""
    info = result.status
    if result.ending is Ending.COMPLETED and (info is None or info.result_code in (None, 0)):
        amount = None if info is None else info.amount_minor
        return TerminalResult(
            Outcome.APPROVED,
            approved_amount_minor=amount,
            currency=(info.currency if info is not None and info.currency else currency),
            result_code=0,
            text="approved" if info is None or not info.additional_text else info.additional_text,
            **_fields(info),
        )
    code = result.result_code if result.ending is Ending.ABORTED else None
    if code is None and info is not None:
        code = info.result_code
    outcome = Outcome.ABORTED if code == RESULT_ABORTED else Outcome.DECLINED
    text = result_text(code) if code is not None else "the terminal ended the command without a result"
    if info is not None and info.additional_text:
        text = f"{text} ({info.additional_text})"
    return TerminalResult(outcome, result_code=code, text=text, **_fields(info))


class ZvtTerminal:
    """An integrated terminal driven over ZVT/TCP; see CardTerminal for what each call means."""

    def __init__(
        self,
        host: str,
        port: int = ZVT_PORT,
        password: str = DEFAULT_PASSWORD,
        *,
        config_byte: int = DEFAULT_CONFIG_BYTE,
        connect_timeout_s: float = 5.0,
        ack_timeout_s: float = 5.0,
        message_timeout_s: float = 90.0,
        transaction_timeout_s: float = 300.0,
        on_intermediate: Callable[[int, str], None] | None = None,
        memory: TerminalMemory = PROCESS_MEMORY,
    ) -> None:
        self.client = ZvtClient(
            host,
            port,
            password=password,
            config_byte=config_byte,
            connect_timeout_s=connect_timeout_s,
            ack_timeout_s=ack_timeout_s,
            message_timeout_s=message_timeout_s,
            transaction_timeout_s=transaction_timeout_s,
            on_intermediate=on_intermediate,
        )
        self._memory = memory
        self._endpoint = memory.endpoint(host, port)

    def _register(self) -> TerminalResult | None:
        """Register once per process and terminal; a failure is returned, success is None."""
        if self._endpoint.registered:
            return None
        result = self.client.register()
        if result.ending is Ending.COMPLETED:
            self._endpoint.registered = True
            return None
        reason = result.detail or result_text(result.result_code or 0)
        return TerminalResult(Outcome.ERROR, result_code=result.result_code, text=f"registration failed: {reason}")

    def _running(self, client: ZvtClient | None) -> None:
        with self._memory.lock:
            self._endpoint.running = client

    def authorise(self, amount_minor: int, currency: str, reference: str) -> TerminalResult:
        try:
            authorisation(amount_minor, currency)
        except ValueError as error:  # an amount or a currency ZVT cannot carry: nothing is sent
            return TerminalResult(Outcome.ERROR, text=str(error))
        with self._endpoint.lock:
            refused = self._register()
            if refused is not None:
                return refused
            self._endpoint.last = _LastPayment(reference, amount_minor)
            self._running(self.client)
            try:
                result = self.client.authorise(amount_minor, currency)
            finally:
                self._running(None)
            if result.status is not None:
                self._endpoint.last.receipt_number = result.status.receipt_number
                self._endpoint.last.trace_number = result.status.trace_number
            return _unsettled(result, "payment") or _ended(result, currency)

    def _receipt_of(self, reference: str) -> int | None:
        match = _REFERENCE.fullmatch(reference)
        if match:
            return int(match.group(1))
        last = self._endpoint.last
        if last is not None and last.reference == reference:
            return last.receipt_number
        return None

    def reverse(self, reference: str) -> TerminalResult:
        with self._endpoint.lock:
            receipt = self._receipt_of(reference)
            if receipt is None:
                return TerminalResult(
                    Outcome.ERROR,
                    text=f"no terminal receipt number is known for {reference!r}; reverse it on the terminal",
                )
            result = self.client.reverse(receipt)
        return _unsettled(result, "reversal") or _ended(result, None)

    def status(self, reference: str) -> TerminalResult:
        with self._endpoint.lock:
            result = self.client.status_enquiry()
            last = self._endpoint.last
        unsettled = _unsettled(result, "status inquiry")
        if unsettled is not None:
            return unsettled
        if result.ending is not Ending.COMPLETED:
            return TerminalResult(Outcome.ERROR, result_code=result.result_code, text="the status inquiry failed")
        info = result.status
        version, terminal_status = parse_status_enquiry_completion(result.completion)
        if info is None:
            return TerminalResult(
                Outcome.ERROR,
                text=f"the terminal ({version or 'unknown version'}, status {terminal_status}) reports no transaction",
            )
        if last is None or last.reference != reference:
            return TerminalResult(Outcome.ERROR, text=f"the terminal's last transaction is not known as {reference!r}")
        same = info.amount_minor == last.amount_minor and (
            last.receipt_number is None
            or info.receipt_number == last.receipt_number
            or (last.trace_number is not None and info.original_trace_number == last.trace_number)
        )
        if not same:
            return TerminalResult(
                Outcome.ERROR,
                text=f"the terminal's last transaction ({info.amount_minor} minor units, receipt "
                f"{info.receipt_number}) is not payment {reference!r}",
            )
        if info.original_trace_number is not None and info.result_code == 0:
            # The last transaction is a reversal of this payment (the terminal's own auto-reversal, or ours).
            return TerminalResult(Outcome.ABORTED, result_code=info.result_code, text="reversed by the terminal")
        if info.result_code == 0:
            last.receipt_number, last.trace_number = info.receipt_number, info.trace_number
            return TerminalResult(
                Outcome.APPROVED,
                approved_amount_minor=info.amount_minor,
                currency=info.currency,
                result_code=0,
                text="approved (found by status inquiry)",
                **_fields(info),
            )
        code = info.result_code
        outcome = Outcome.ABORTED if code == RESULT_ABORTED else Outcome.DECLINED
        return TerminalResult(outcome, result_code=code, text=result_text(code or 0))

    def end_of_day(self) -> TerminalResult:
        with self._endpoint.lock:
            result = self.client.end_of_day()
        unsettled = _unsettled(result, "end-of-day")
        if unsettled is not None:
            return unsettled
        info = result.status
        if result.ending is Ending.COMPLETED and (info is None or info.result_code in (None, 0)):
            count = None if info is None or info.totals is None else sum(g.count for g in info.totals.groups)
            return TerminalResult(
                Outcome.APPROVED,
                approved_amount_minor=None if info is None else info.amount_minor,
                currency=None if info is None else info.currency,
                transaction_count=count,
                terminal_id=None if info is None else info.terminal_id,
                result_code=0,
                text="end-of-day done",
            )
        return _ended(result, None)

    def abort(self) -> bool:
        with self._memory.lock:
            running = self._endpoint.running
        return running.abort() if running is not None else False
