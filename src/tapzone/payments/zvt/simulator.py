"""A ZVT card terminal simulator on 127.0.0.1, for integration tests and the demo.

It speaks the terminal's side of the same bytes a real terminal does: acknowledges commands, sends
intermediate states (04 FF), the result as status information (04 0F), then completion (06 0F) or abort
(06 1E), and waits for the till's acknowledgement of each. Like a real terminal it reverses a payment by
itself when it cannot deliver the approval (the till has gone before acknowledging the 04 0F), and a
reversal refers to a payment it really booked, until the next end-of-day closes the batch.

What a test wants to see happen to an authorisation is chosen by `behaviour` (see Behaviour). The default
decides by the amount's last two digits, like the in-process simulator: ...13 declined (05), ...14 cancelled
by the customer (6C), ...15 line dropped after the approval, anything else approved.
Additional texts (BMP 3C) are German, as a German terminal sends them. Our own convention, not the
specification's: the answer to a status enquiry (05 01) carries a 04 0F describing the last transaction
before the completion, so a pending payment can be resolved against it.
"""

from __future__ import annotations

import select
import signal
import socket
import socketserver
import threading
import time
from enum import StrEnum

from tapzone.clock import Clock, SystemClock
from tapzone.payments.zvt import messages
from tapzone.payments.zvt.apdu import Apdu, Control, split_apdu
from tapzone.payments.zvt.bcd import CURRENCY_ALPHA, DEFAULT_PASSWORD, BcdError, decode_bcd, encode_password
from tapzone.payments.zvt.bmp import (
    BMP_AMOUNT,
    BMP_CURRENCY,
    BMP_RECEIPT,
    BmpError,
    parse_bmps,
)
from tapzone.payments.zvt.codes import (
    INTERMEDIATE_HOST,
    INTERMEDIATE_INSERT_CARD,
    RESULT_ABORTED,
    RESULT_DECLINED,
    RESULT_FUNCTION_NOT_POSSIBLE,
    RESULT_OK,
    RESULT_WRONG_CURRENCY,
)
from tapzone.payments.zvt.sim_journal import SimRecord, TerminalJournal

ZVT_PROTOCOL_ERROR = 0x9A
RECEIVER_NOT_READY = 0xA0
POLL_S = 0.05  # how often idle loops look at the stop flag


class Behaviour(StrEnum):
    BY_AMOUNT = "by-amount"  # ...13 decline, ...14 customer abort, ...15 drop before completion, else approve
    APPROVE = "approve"
    DECLINE = "decline"  # 04 0F with result 05, then 06 1E 05
    NO_ANSWER = "no-answer"  # swallow the command: not even an acknowledgement
    STALL = "stall"  # acknowledge, then wait for the host for stall_s; approve, or auto-reverse if the ECR left
    DROP_BEFORE_COMPLETION = "drop-before-completion"  # approve, take the ack of the 04 0F, close before 06 0F
    TERMINAL_ABORT = "terminal-abort"  # the customer presses cancel on the PT: 04 0F 6C, 06 1E 6C
    WAIT_FOR_CARD = "wait-for-card"  # "insert card" until the ECR aborts (06 B0) or card_wait_s passes


def by_amount(amount_minor: int) -> Behaviour:
    return {
        13: Behaviour.DECLINE,
        14: Behaviour.TERMINAL_ABORT,
        15: Behaviour.DROP_BEFORE_COMPLETION,
    }.get(amount_minor % 100, Behaviour.APPROVE)


class ZvtSimulator:
    """A terminal on (host, port); port 0 picks a free one, see `address`. Use as a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        password: str = DEFAULT_PASSWORD,
        terminal_id: str = "52500001",
        behaviour: Behaviour = Behaviour.BY_AMOUNT,
        clock: Clock | None = None,
        card_type: int = 5,
        stall_s: float = 1.0,
        card_wait_s: float = 30.0,
        card_prompt_s: float = 2.0,
        ack_timeout_s: float = 5.0,
        software_version: str = "tapzone ZVT simulator 1",
    ) -> None:
        encode_password(password)
        if len(terminal_id) != 8 or not terminal_id.isdigit():
            raise ValueError("a ZVT terminal id is eight digits")
        self.password = password
        self.terminal_id = terminal_id
        self.behaviour = behaviour
        self.clock = clock or SystemClock()
        self.stall_s = stall_s
        self.card_wait_s = card_wait_s
        self.card_prompt_s = card_prompt_s
        self.ack_timeout_s = ack_timeout_s
        self.software_version = software_version
        self.stopping = threading.Event()
        self.busy = threading.Lock()  # one command at a time, like a real terminal
        self.journal = TerminalJournal(self.clock, terminal_id, card_type)
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> ZvtSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_S}, name="zvt-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> ZvtSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- what it books and how it behaves ---------------------------------------------------------------

    @property
    def records(self) -> list[SimRecord]:
        return self.journal.records

    def behaviour_for(self, amount_minor: int) -> Behaviour:
        behaviour = self.behaviour
        return by_amount(amount_minor) if behaviour is Behaviour.BY_AMOUNT else behaviour

    def serve_until_interrupted(self) -> None:
        """Run in the foreground until Ctrl-C or SIGTERM (the CLI); call it from the main thread."""
        previous = signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        self.start()
        try:
            while not self.stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self.stop()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[socketserver.BaseRequestHandler], sim: ZvtSimulator
    ) -> None:
        self.sim = sim
        super().__init__(address, handler)


class _Gone(Exception):
    """The ECR closed the connection."""


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        _Session(self.server.sim, self.request).run()


class _Session:
    """One ECR connection."""

    def __init__(self, sim: ZvtSimulator, conn: socket.socket) -> None:
        self.sim = sim
        self.conn = conn
        self.buffer = b""
        self.abort_requested = False

    # --- wire ------------------------------------------------------------------------------------------

    def next_apdu(self, timeout_s: float) -> Apdu | None:
        """The next APDU from the ECR within timeout_s, None if none came; raises _Gone on close."""
        deadline = time.monotonic() + timeout_s
        while True:
            split = split_apdu(self.buffer)
            if split is not None:
                apdu, self.buffer = split
                return apdu
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([self.conn], [], [], min(remaining, POLL_S))
            if not readable:
                continue
            try:
                chunk = self.conn.recv(4096)
            except OSError as error:
                raise _Gone from error
            if not chunk:
                raise _Gone
            self.buffer += chunk

    def send(self, data: bytes) -> None:
        try:
            self.conn.sendall(data)
        except OSError as error:
            raise _Gone from error

    def deliver(self, data: bytes) -> bool:
        """Send a PT message and wait for the ECR's 80 00; an 06 B0 meanwhile is acknowledged and noted."""
        try:
            self.send(data)
            deadline = time.monotonic() + self.sim.ack_timeout_s
            while (remaining := deadline - time.monotonic()) > 0:
                apdu = self.next_apdu(remaining)
                if apdu is None:
                    return False
                if apdu.is_ack:
                    return True
                if apdu.is_(Control.ECR_ABORT):
                    self.abort_requested = True
                    self.send(messages.ACK)
                    continue
                return False
        except _Gone:
            return False
        return False

    # --- commands --------------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.sim.stopping.is_set():
                apdu = self.next_apdu(POLL_S * 4)
                if apdu is None or apdu.is_ack:
                    continue
                if not self.sim.busy.acquire(timeout=30):
                    self.send(messages.nak(RECEIVER_NOT_READY))
                    continue
                try:
                    if not self.dispatch(apdu):
                        return
                finally:
                    self.sim.busy.release()
        except _Gone:
            return

    def dispatch(self, apdu: Apdu) -> bool:
        """Serve one command; False closes the connection."""
        if apdu.is_(Control.ECR_ABORT):  # nothing runs: nothing to stop
            self.send(messages.ACK)
            return True
        handlers = {
            Control.REGISTRATION: self.registration,
            Control.AUTHORISATION: self.authorisation,
            Control.REVERSAL: self.reversal,
            Control.END_OF_DAY: self.end_of_day,
            Control.STATUS_ENQUIRY: self.status_enquiry,
        }
        try:
            handler = handlers.get(Control(apdu.control))
        except ValueError:  # not a control field we know
            handler = None
        if handler is None:
            self.send(messages.nak(RESULT_FUNCTION_NOT_POSSIBLE))
            return True
        if apdu.control != Control.AUTHORISATION and apdu.data[:3] != encode_password(self.sim.password):
            self.send(messages.nak(RESULT_FUNCTION_NOT_POSSIBLE))  # wrong password: the command is not taken
            return True
        try:
            return handler(apdu.data)
        except (BmpError, BcdError, KeyError, IndexError):
            self.send(messages.nak(ZVT_PROTOCOL_ERROR))
            return True

    def registration(self, data: bytes) -> bool:
        currency = None
        if len(data) >= 6:
            currency = CURRENCY_ALPHA.get(decode_bcd(data[4:6]))
            if currency is None:
                self.send(messages.nak(RESULT_WRONG_CURRENCY))
                return True
        self.send(messages.ACK)
        self.deliver(messages.registration_completion(self.sim.terminal_id, currency))
        return True

    def authorisation(self, data: bytes) -> bool:
        fields, _ = parse_bmps(data)
        amount_minor = decode_bcd(fields[BMP_AMOUNT])
        currency = CURRENCY_ALPHA.get(decode_bcd(fields[BMP_CURRENCY]), "") if BMP_CURRENCY in fields else "EUR"
        if not currency or amount_minor <= 0:
            self.send(messages.nak(RESULT_WRONG_CURRENCY if not currency else ZVT_PROTOCOL_ERROR))
            return True
        behaviour = self.sim.behaviour_for(amount_minor)
        if behaviour is Behaviour.NO_ANSWER:
            return True
        self.send(messages.ACK)
        self.deliver(messages.intermediate_status(INTERMEDIATE_INSERT_CARD))
        if behaviour is Behaviour.WAIT_FOR_CARD:
            self.wait_for_card()
        if self.abort_requested or behaviour in (Behaviour.WAIT_FOR_CARD, Behaviour.TERMINAL_ABORT):
            record = self.sim.journal.book("payment", RESULT_ABORTED, amount_minor, currency)
            self.deliver(self.sim.journal.describe(record, "Abbruch"))
            self.deliver(messages.pt_abort(RESULT_ABORTED))
            return True
        if behaviour is Behaviour.STALL:
            self.stall()
        self.deliver(messages.intermediate_status(INTERMEDIATE_HOST))
        if behaviour is Behaviour.DECLINE:
            record = self.sim.journal.book("payment", RESULT_DECLINED, amount_minor, currency)
            self.deliver(self.sim.journal.describe(record, "Abgelehnt"))
            self.deliver(messages.pt_abort(RESULT_DECLINED))
            return True
        record = self.sim.journal.book("payment", RESULT_OK, amount_minor, currency)
        if not self.deliver(self.sim.journal.describe(record)):
            # The ECR never confirmed the approval: the terminal gives the money back by itself.
            self.sim.journal.reverse(trace_number=record.trace_number)
            return False
        if behaviour is Behaviour.DROP_BEFORE_COMPLETION:
            return False
        self.deliver(messages.completion())
        return True

    def wait_for_card(self) -> None:
        deadline = time.monotonic() + self.sim.card_wait_s
        prompt_at = time.monotonic() + self.sim.card_prompt_s
        while not self.abort_requested and time.monotonic() < deadline and not self.sim.stopping.is_set():
            apdu = self.next_apdu(POLL_S)
            if apdu is not None and apdu.is_(Control.ECR_ABORT):
                self.abort_requested = True
                self.send(messages.ACK)
            elif time.monotonic() >= prompt_at:
                self.deliver(messages.intermediate_status(INTERMEDIATE_INSERT_CARD))
                prompt_at = time.monotonic() + self.sim.card_prompt_s

    def stall(self) -> None:
        """Wait for the 'host'; a real terminal does not notice a closed line until it next writes, but
        returning early changes nothing except that a test does not wait out the stall."""
        deadline = time.monotonic() + self.sim.stall_s
        try:
            while time.monotonic() < deadline and not self.sim.stopping.is_set():
                apdu = self.next_apdu(POLL_S)
                if apdu is not None and apdu.is_(Control.ECR_ABORT):
                    self.send(messages.nak(RESULT_FUNCTION_NOT_POSSIBLE))  # too late: the host has the request
        except _Gone:
            return

    def reversal(self, data: bytes) -> bool:
        fields, _ = parse_bmps(data[3:])
        receipt_number = decode_bcd(fields[BMP_RECEIPT])
        self.send(messages.ACK)
        reversal = self.sim.journal.reverse(receipt_number=receipt_number)
        if reversal is None:
            self.deliver(messages.status_information(RESULT_FUNCTION_NOT_POSSIBLE, text="no such payment to reverse"))
            self.deliver(messages.pt_abort(RESULT_FUNCTION_NOT_POSSIBLE))
            return True
        self.deliver(self.sim.journal.describe(reversal))
        self.deliver(messages.completion())
        return True

    def end_of_day(self, data: bytes) -> bool:
        self.send(messages.ACK)
        total_minor, currency, totals = self.sim.journal.close_batch()
        now = self.sim.clock.now()
        trace = self.sim.journal.take_trace()
        self.deliver(
            messages.status_information(
                RESULT_OK,
                amount_minor=total_minor,
                currency=currency,
                trace_number=trace,
                time=now.strftime("%H%M%S"),
                date=now.strftime("%m%d"),
                terminal_id=self.sim.terminal_id,
                totals=totals,
            )
        )
        self.deliver(messages.completion())
        return True

    def status_enquiry(self, data: bytes) -> bool:
        self.send(messages.ACK)
        last = self.sim.journal.last_record()
        if last is not None:
            self.deliver(self.sim.journal.describe(last))
        self.deliver(messages.status_enquiry_completion(self.sim.software_version, 0x00))
        return True
