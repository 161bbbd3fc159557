"""The till's side of ZVT over TCP: send a command, then serve the terminal until it hands control back.

ZVT is master-slave (PA00P015 speaks of "master-rights"): the ECR sends a command and the PT acknowledges it (80 00 00,
or 84 xx when it refuses). From then on the PT is master: it sends intermediate states (04 FF), the result
(04 0F status information), receipt lines (06 D1 / 06 D3), and finally either completion (06 0F) or abort
(06 1E <result-code>); the ECR acknowledges each with 80 00 00. Only then is the ECR master again.
While the PT is master the ECR may send one thing: abort (06 B0), which the PT accepts while it is still
waiting for the customer and answers by ending the command with 06 1E 6C.

State machine of one command, from the client's view:

    CONNECTING --no connection--> UNREACHABLE (nothing was sent: final)
    SENT --84 xx--> REFUSED (the PT did not take the command: final)
    SENT --no ack in ack_timeout_s--> TIMED_OUT (maybe taken: pending)
    ACKNOWLEDGED --04 FF / 04 0F / 06 D1 / 06 D3, each acknowledged--> ACKNOWLEDGED
    ACKNOWLEDGED --06 0F--> COMPLETED (final)      --06 1E xx--> ABORTED (final)
    ACKNOWLEDGED --silence past message_timeout_s or transaction_timeout_s--> TIMED_OUT (pending)
    any state after sending --connection dropped--> CONNECTION_LOST (pending)

Pending means the terminal may or may not have booked the payment. The client never guesses and never
raises for it: it returns what it saw (e.g. a 04 0F that approved before the completion went missing),
and the caller keeps the payment pending until a status enquiry or a reversal settles it.
One TCP connection is opened per command and closed after it, so a connection broken by one command is
never reused by the next.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from tapzone.payments.zvt import messages
from tapzone.payments.zvt.apdu import Apdu, Control, read_apdu
from tapzone.payments.zvt.bcd import DEFAULT_PASSWORD, encode_password
from tapzone.payments.zvt.bmp import BmpError, StatusInformation, decode_text
from tapzone.payments.zvt.codes import RESULT_FUNCTION_NOT_POSSIBLE, intermediate_text

log = logging.getLogger(__name__)

ZVT_PORT = 20007


class Ending(StrEnum):
    COMPLETED = "completed"  # 06 0F: the command ran to its end
    ABORTED = "aborted"  # 06 1E: the command ended without success, see result_code
    REFUSED = "refused"  # 84 xx instead of 80 00: the terminal did not take the command
    UNREACHABLE = "unreachable"  # no connection: nothing was sent
    TIMED_OUT = "timed-out"  # the terminal went silent: pending
    CONNECTION_LOST = "connection-lost"  # the connection broke after the command was sent: pending

    @property
    def is_pending(self) -> bool:
        return self in (Ending.TIMED_OUT, Ending.CONNECTION_LOST)


@dataclass
class ZvtResult:
    """Everything the terminal said during one command."""

    command: str
    ending: Ending = Ending.UNREACHABLE
    acknowledged: bool = False
    status: StatusInformation | None = None  # the last status information (04 0F)
    result_code: int | None = None  # of the abort (06 1E) or the negative acknowledgement (84 xx)
    completion: bytes = b""  # data of the 06 0F
    intermediate: list[int] = field(default_factory=list)  # 04 FF states in order
    print_lines: list[str] = field(default_factory=list)
    detail: str = ""


class ZvtClient:
    """A synchronous ZVT client for one terminal. Thread-safe for one running command plus `abort()` from
    another thread (the till's cancel button); commands themselves are meant to run one at a time."""

    def __init__(
        self,
        host: str,
        port: int = ZVT_PORT,
        *,
        password: str = DEFAULT_PASSWORD,
        config_byte: int = messages.DEFAULT_CONFIG_BYTE,
        connect_timeout_s: float = 5.0,
        ack_timeout_s: float = 5.0,
        message_timeout_s: float = 90.0,
        transaction_timeout_s: float = 300.0,
        on_intermediate: Callable[[int, str], None] | None = None,
    ) -> None:
        encode_password(password)  # refuse a malformed password here, not in the middle of a payment
        self.host = host
        self.port = port
        self.password = password
        self.config_byte = config_byte
        self.connect_timeout_s = connect_timeout_s
        self.ack_timeout_s = ack_timeout_s
        # A customer looking for a card or a host answering slowly can keep the PT silent for a while; with
        # intermediate states on (config byte 08) the PT speaks up every few seconds, so 90 s of silence means
        # the terminal or the line is gone.
        self.message_timeout_s = message_timeout_s
        self.transaction_timeout_s = transaction_timeout_s
        self.on_intermediate = on_intermediate
        self._send_lock = threading.Lock()
        self._active: socket.socket | None = None

    # --- commands --------------------------------------------------------------------------------------

    def register(self, currency: str | None = None, service_byte: int | None = None) -> ZvtResult:
        """Registration (06 00): tell the PT the config byte; the PT answers with its terminal id."""
        return self._run("registration", messages.registration(self.password, self.config_byte, currency, service_byte))

    def authorise(self, amount_minor: int, currency: str | None = None) -> ZvtResult:
        """Authorisation (06 01) of `amount_minor`; approved when it completes with result code 00."""
        return self._run("authorisation", messages.authorisation(amount_minor, currency))

    def reverse(self, receipt_number: int) -> ZvtResult:
        """Reversal (06 30) of the payment with this receipt number."""
        return self._run("reversal", messages.reversal(self.password, receipt_number))

    def end_of_day(self) -> ZvtResult:
        """End-of-day (06 50): the PT submits its batch; the 04 0F carries the totals."""
        return self._run("end-of-day", messages.end_of_day(self.password))

    def status_enquiry(self) -> ZvtResult:
        """Status enquiry (05 01); the completion carries the software version and terminal status code."""
        return self._run("status-enquiry", messages.status_enquiry(self.password))

    def abort(self) -> bool:
        """Ask the PT to stop the running command (06 B0). True when it was sent; the running command then
        returns ABORTED with result code 6C if the PT could still stop, or its own ending if it could not."""
        with self._send_lock:
            sock = self._active
            if sock is None:
                return False
            try:
                sock.sendall(messages.ecr_abort())
            except OSError:
                return False
        log.debug("ECR -> PT 06 B0 00 (abort)")
        return True

    # --- the conversation ------------------------------------------------------------------------------

    def _run(self, name: str, request: bytes) -> ZvtResult:
        result = ZvtResult(name)
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as error:
            result.detail = f"cannot reach the terminal at {self.host}:{self.port}: {error}"
            return result
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._send_lock:
                self._active = sock
            self._converse(sock, request, result)
        finally:
            with self._send_lock:
                self._active = None
            sock.close()
        log.info("ZVT %s ended %s %s", name, result.ending.value, result.detail)
        return result

    def _send(self, sock: socket.socket, data: bytes) -> None:
        with self._send_lock:
            sock.sendall(data)
        log.debug("ECR -> PT %s", data.hex(" ").upper())

    def _converse(self, sock: socket.socket, request: bytes, result: ZvtResult) -> None:
        deadline = time.monotonic() + self.transaction_timeout_s
        try:
            self._send(sock, request)
        except OSError as error:
            result.ending, result.detail = Ending.CONNECTION_LOST, f"sending the command failed: {error}"
            return
        try:
            first = read_apdu(sock, min(deadline, time.monotonic() + self.ack_timeout_s))
        except TimeoutError:
            result.ending = Ending.TIMED_OUT
            result.detail = f"no acknowledgement within {self.ack_timeout_s:g} s"
            return
        except OSError as error:
            result.ending, result.detail = (
                Ending.CONNECTION_LOST,
                f"connection lost before the acknowledgement: {error}",
            )
            return
        log.debug("PT -> ECR %s", first)
        if first.is_nak:
            result.ending, result.result_code = Ending.REFUSED, first.instr
            result.detail = f"the terminal refused the command (84 {first.instr:02X})"
            return
        result.acknowledged = True
        # A terminal that skips the acknowledgement and starts with its own message is served all the same.
        pending: Apdu | None = None if first.is_ack else first
        while True:
            try:
                message = pending or read_apdu(sock, min(deadline, time.monotonic() + self.message_timeout_s))
            except TimeoutError:
                result.ending = Ending.TIMED_OUT
                result.detail = "the terminal went silent before completing the command"
                return
            except OSError as error:
                result.ending, result.detail = Ending.CONNECTION_LOST, f"connection lost: {error}"
                return
            if pending is None:
                log.debug("PT -> ECR %s", message)
            pending = None
            try:
                if self._handle(sock, message, result):
                    return
            except OSError as error:
                result.ending, result.detail = Ending.CONNECTION_LOST, f"connection lost: {error}"
                return

    def _handle(self, sock: socket.socket, message: Apdu, result: ZvtResult) -> bool:
        """Serve one terminal message; True when the command has ended."""
        if message.is_ack:  # the PT's answer to our 06 B0
            return False
        if message.is_nak:
            result.detail = f"the terminal could not abort now (84 {message.instr:02X})"
            return False
        if message.is_(Control.INTERMEDIATE_STATUS):
            code = message.data[0] if message.data else 0xFF
            result.intermediate.append(code)
            self._send(sock, messages.ACK)
            if self.on_intermediate is not None:
                self.on_intermediate(code, intermediate_text(code))
            return False
        if message.is_(Control.STATUS_INFORMATION):
            try:
                result.status = StatusInformation.decode(message.data)
            except BmpError as error:
                # Still acknowledged: refusing the result would make the PT reverse a payment it approved.
                result.detail = f"unreadable status information ({error}): {message}"
            self._send(sock, messages.ACK)
            return False
        if message.is_(Control.PRINT_LINE):
            result.print_lines.append(decode_text(message.data[1:]))
            self._send(sock, messages.ACK)
            return False
        if message.is_(Control.PRINT_TEXT_BLOCK):
            self._send(sock, messages.ACK)
            return False
        if message.is_(Control.COMPLETION) or message.is_(Control.PT_ABORT):
            if message.is_(Control.COMPLETION):
                result.ending, result.completion = Ending.COMPLETED, message.data
            else:
                result.ending = Ending.ABORTED
                result.result_code = message.data[0] if message.data else None
            # The command has ended on the PT; a lost final acknowledgement changes nothing.
            with contextlib.suppress(OSError):
                self._send(sock, messages.ACK)
            return True
        # Input and menu requests, display texts ...: not supported by this till, said so in the way the
        # protocol provides, so the PT can go on or end the command.
        self._send(sock, messages.nak(RESULT_FUNCTION_NOT_POSSIBLE))
        return False
