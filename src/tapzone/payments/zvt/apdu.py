"""ZVT APDUs: the frame of every message on the wire, and how to read one from a socket without ever
blocking past a deadline.

An APDU is a two-byte control field (CLASS, INSTR), a length field and the data (PA00P015, "APDU"). The length
is one byte for 0..254 data bytes; above that the length byte is FF and two bytes follow with the length, low
byte first (the same rule Wireshark's ZVT dissector applies). Acknowledgements use the same frame with the
CCRC/APRC in place of CLASS/INSTR: 80 00 00 positive, 84 xx 00 negative with error code xx.
Over TCP (default port 20007) APDUs are sent as they are: no DLE/STX framing and no CRC, those belong to the
serial transport only.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from enum import IntEnum

MAX_SHORT_LENGTH = 0xFE  # FF is the marker of the extended length field
MAX_EXTENDED_LENGTH = 0xFFFF


class Control(IntEnum):
    """Control fields (CLASS << 8 | INSTR) tapzone sends or understands."""

    STATUS_INFORMATION = 0x040F  # PT -> ECR: the result of a transaction, BMP fields
    INTERMEDIATE_STATUS = 0x04FF  # PT -> ECR: "insert card", "please wait" ...
    STATUS_ENQUIRY = 0x0501  # ECR -> PT
    REGISTRATION = 0x0600  # ECR -> PT
    AUTHORISATION = 0x0601  # ECR -> PT: a payment
    COMPLETION = 0x060F  # PT -> ECR: the command has ended, the ECR is master again
    PT_ABORT = 0x061E  # PT -> ECR: the command has ended without success; first data byte = result code
    REVERSAL = 0x0630  # ECR -> PT
    END_OF_DAY = 0x0650  # ECR -> PT
    ECR_ABORT = 0x06B0  # ECR -> PT: stop the running transaction (e.g. while waiting for a card)
    PRINT_LINE = 0x06D1  # PT -> ECR: one receipt line, when the ECR prints the receipts
    PRINT_TEXT_BLOCK = 0x06D3  # PT -> ECR: a whole receipt in a TLV container
    ACK = 0x8000  # positive acknowledgement
    # 84 xx: negative acknowledgement, xx = error code; see Apdu.is_nak


NAK_CLASS = 0x84


class ApduError(ValueError):
    """Bytes that are not a well-formed APDU."""


@dataclass(frozen=True, slots=True)
class Apdu:
    cls: int
    instr: int
    data: bytes = b""

    @property
    def control(self) -> int:
        return self.cls << 8 | self.instr

    def is_(self, control: Control) -> bool:
        return self.control == control

    @property
    def is_ack(self) -> bool:
        return self.control == Control.ACK

    @property
    def is_nak(self) -> bool:
        return self.cls == NAK_CLASS

    def encode(self) -> bytes:
        return encode_apdu(self.cls, self.instr, self.data)

    def __str__(self) -> str:
        return self.encode().hex(" ").upper()


def encode_apdu(cls: int, instr: int, data: bytes = b"") -> bytes:
    if not (0 <= cls <= 0xFF and 0 <= instr <= 0xFF):
        raise ApduError("CLASS and INSTR are one byte each")
    if len(data) <= MAX_SHORT_LENGTH:
        return bytes((cls, instr, len(data))) + data
    if len(data) > MAX_EXTENDED_LENGTH:
        raise ApduError(f"{len(data)} data bytes do not fit an APDU")
    return bytes((cls, instr, 0xFF)) + len(data).to_bytes(2, "little") + data


def command(control: Control, data: bytes = b"") -> bytes:
    return encode_apdu(control >> 8, control & 0xFF, data)


def split_apdu(buffer: bytes) -> tuple[Apdu, bytes] | None:
    """The first complete APDU of `buffer` and the bytes after it, or None while it is incomplete."""
    if len(buffer) < 3:
        return None
    length, header = buffer[2], 3
    if length == 0xFF:
        if len(buffer) < 5:
            return None
        length, header = int.from_bytes(buffer[3:5], "little"), 5
    if len(buffer) < header + length:
        return None
    end = header + length
    return Apdu(buffer[0], buffer[1], bytes(buffer[header:end])), bytes(buffer[end:])


def decode_apdu(raw: bytes) -> Apdu:
    """Exactly one APDU; trailing or missing bytes are an error."""
    split = split_apdu(raw)
    if split is None:
        raise ApduError(f"incomplete APDU: {raw.hex(' ')}")
    apdu, rest = split
    if rest:
        raise ApduError(f"{len(rest)} bytes after the APDU")
    return apdu


def _recv_exact(sock: socket.socket, count: int, deadline: float) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete APDU before the deadline")
        sock.settimeout(remaining)
        chunk = sock.recv(count - len(chunks))  # raises TimeoutError (socket.timeout) when it elapses
        if not chunk:
            raise ConnectionResetError("the peer closed the connection")
        chunks += chunk
    return bytes(chunks)


def read_apdu(sock: socket.socket, deadline: float) -> Apdu:
    """Read one APDU; `deadline` is a time.monotonic() value. Raises TimeoutError when it passes and
    ConnectionError when the peer closes; a half-read APDU is never returned."""
    header = _recv_exact(sock, 3, deadline)
    length = header[2]
    if length == 0xFF:
        length = int.from_bytes(_recv_exact(sock, 2, deadline), "little")
    data = _recv_exact(sock, length, deadline) if length else b""
    return Apdu(header[0], header[1], data)
