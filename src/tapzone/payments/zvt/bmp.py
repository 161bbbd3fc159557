"""BMP fields: the tagged data of ZVT messages, and the status information (04 0F) read from them.

A BMP is one tag byte followed by its value; the tag fixes how long the value is (PA00P015 "Summary of
utilised BMPs"): a fixed number of bytes, an LLVAR or LLLVAR field with an F-nibble length prefix, or for BMP
06 a TLV container with a BER length (1 byte below 80, else 81 xx or 82 xx xx). A tag that is not in the
table cannot be skipped, because its length is unknown; parsing stops there and keeps the rest as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tapzone.payments.zvt.bcd import (
    CURRENCY_ALPHA,
    BcdError,
    decode_bcd,
    decode_bcd_digits,
    decode_var_length,
    encode_bcd,
    encode_var_length,
)

LLVAR = -2
LLLVAR = -3
TLV = -1

BMP_AMOUNT = 0x04
BMP_TLV = 0x06
BMP_TRACE = 0x0B
BMP_TIME = 0x0C
BMP_DATE = 0x0D
BMP_PAYMENT_TYPE = 0x19
BMP_RESULT_CODE = 0x27
BMP_TERMINAL_ID = 0x29
BMP_ORIGINAL_TRACE = 0x37
BMP_ADDITIONAL_TEXT = 0x3C
BMP_CURRENCY = 0x49
BMP_TOTALS = 0x60
BMP_RECEIPT = 0x87
BMP_TURNOVER = 0x88
BMP_CARD_TYPE = 0x8A
BMP_CARD_NAME = 0x8B
BMP_SERVICE_BYTE = 0x03

# tag -> value length in bytes, or LLVAR / LLLVAR / TLV
BMP_LENGTHS: dict[int, int] = {
    0x01: 1, 0x02: 1, 0x03: 1, 0x04: 6, 0x05: 1, 0x06: TLV, 0x0B: 3, 0x0C: 3, 0x0D: 2, 0x0E: 2,
    0x17: 2, 0x19: 1, 0x22: LLVAR, 0x23: LLVAR, 0x24: LLLVAR, 0x27: 1, 0x29: 4, 0x2A: 15, 0x2D: LLVAR,
    0x2E: LLLVAR, 0x37: 3, 0x3A: 2, 0x3B: 8, 0x3C: LLLVAR, 0x3D: 3, 0x49: 2, 0x60: LLLVAR, 0x87: 2,
    0x88: 3, 0x8A: 1, 0x8B: LLVAR, 0x8C: 1, 0x9A: LLLVAR, 0xA0: 1, 0xA7: LLVAR, 0xAA: 3, 0xAF: LLLVAR,
    0xBA: 5, 0xD0: 1, 0xD1: LLVAR, 0xD2: 1, 0xD3: 1, 0xE0: 1, 0xE9: 1, 0xEA: 1, 0xEB: 8, 0xF0: 1,
    0xF9: 1, 0xFA: 1, 0xFB: 1, 0xFC: 1, 0xFD: 1,
    **dict.fromkeys((*range(225, 233), *range(241, 249)), LLVAR),
}  # fmt: skip

# ZVT's default character set is code page 437; receipt and card-name texts are plain ASCII in practice.
TEXT_ENCODING = "cp437"


class BmpError(ValueError):
    """A BMP value that is cut short or not of its declared form."""


def _tlv_length(data: bytes, at: int) -> tuple[int, int]:
    """(length, bytes used by the length field) of the BER length at `at`."""
    if at >= len(data):
        raise BmpError("TLV container without length")
    first = data[at]
    if first < 0x80:
        return first, 1
    size = first & 0x7F
    if size not in (1, 2) or at + 1 + size > len(data):
        raise BmpError(f"unsupported TLV length field {first:02X}")
    return int.from_bytes(data[at + 1 : at + 1 + size], "big"), 1 + size


def parse_bmps(data: bytes) -> tuple[dict[int, bytes], bytes]:
    """The BMP values of `data` by tag (a repeated tag keeps its last value), and any bytes after the first
    unknown tag."""
    fields: dict[int, bytes] = {}
    at = 0
    while at < len(data):
        tag = data[at]
        kind = BMP_LENGTHS.get(tag)
        if kind is None:
            return fields, data[at:]
        at += 1
        if kind == TLV:
            length, used = _tlv_length(data, at)
            at += used
        elif kind in (LLVAR, LLLVAR):
            digits = -kind
            try:
                length = decode_var_length(data[at : at + digits])
            except BcdError as error:
                raise BmpError(f"BMP {tag:02X}: {error}") from None
            at += digits
        else:
            length = kind
        if at + length > len(data):
            raise BmpError(f"BMP {tag:02X} needs {length} bytes, {len(data) - at} left")
        fields[tag] = data[at : at + length]
        at += length
    return fields, b""


def encode_bmp(tag: int, value: bytes) -> bytes:
    kind = BMP_LENGTHS.get(tag)
    if kind is None:
        raise BmpError(f"BMP {tag:02X} is not known here")
    if kind == TLV:
        if len(value) < 0x80:
            prefix = bytes((len(value),))
        elif len(value) <= 0xFF:
            prefix = bytes((0x81, len(value)))
        else:
            prefix = b"\x82" + len(value).to_bytes(2, "big")
        return bytes((tag,)) + prefix + value
    if kind in (LLVAR, LLLVAR):
        return bytes((tag,)) + encode_var_length(len(value), -kind) + value
    if len(value) != kind:
        raise BmpError(f"BMP {tag:02X} is {kind} bytes, got {len(value)}")
    return bytes((tag,)) + value


def encode_text(text: str) -> bytes:
    return text.encode(TEXT_ENCODING, errors="replace")


def decode_text(value: bytes) -> str:
    return value.decode(TEXT_ENCODING, errors="replace").rstrip("\x00")


# Individual totals (BMP 60) of an end-of-day: receipt numbers from and to (2 bytes BCD each), then for each
# card group in this order its count (1 byte binary) and total (6 bytes BCD).
TOTALS_GROUPS = ("girocard", "JCB", "Eurocard/Mastercard", "American Express", "Visa", "Diners", "others")
_GROUP_BY_CARD_TYPE = {5: 0, 14: 1, 6: 2, 46: 2, 8: 3, 10: 4, 11: 4, 13: 4, 12: 5}


def totals_group(card_type: int | None) -> str:
    return TOTALS_GROUPS[_GROUP_BY_CARD_TYPE.get(card_type or 0, len(TOTALS_GROUPS) - 1)]


@dataclass(frozen=True, slots=True)
class GroupTotal:
    group: str
    count: int
    total_minor: int


@dataclass(frozen=True, slots=True)
class Totals:
    receipt_from: int
    receipt_to: int
    groups: tuple[GroupTotal, ...]

    def encode(self) -> bytes:
        by_name = {group.group: group for group in self.groups}
        body = encode_bcd(self.receipt_from, 2) + encode_bcd(self.receipt_to, 2)
        for name in TOTALS_GROUPS:
            group = by_name.get(name, GroupTotal(name, 0, 0))
            body += bytes((group.count,)) + encode_bcd(group.total_minor, 6)
        return body

    @staticmethod
    def decode(value: bytes) -> Totals:
        if len(value) < 4 + 7 * len(TOTALS_GROUPS):
            raise BmpError(f"individual totals are {4 + 7 * len(TOTALS_GROUPS)} bytes, got {len(value)}")
        groups = []
        for index, name in enumerate(TOTALS_GROUPS):
            at = 4 + 7 * index
            groups.append(GroupTotal(name, value[at], decode_bcd(value[at + 1 : at + 7])))
        return Totals(decode_bcd(value[0:2]), decode_bcd(value[2:4]), tuple(groups))


@dataclass(frozen=True, slots=True)
class StatusInformation:
    """What a terminal reports in a 04 0F: the result of a payment, a reversal or an end-of-day."""

    result_code: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    trace_number: int | None = None
    original_trace_number: int | None = None  # set on a reversal: the trace of the payment it reverses
    receipt_number: int | None = None
    terminal_id: str | None = None
    time: str | None = None  # HHMMSS, terminal local time
    date: str | None = None  # MMDD
    card_type: int | None = None
    card_name: str | None = None
    additional_text: str | None = None
    totals: Totals | None = None
    fields: Mapping[int, bytes] = field(default_factory=dict)
    unparsed: bytes = b""

    @staticmethod
    def decode(data: bytes) -> StatusInformation:
        fields, rest = parse_bmps(data)

        def number(tag: int) -> int | None:
            return decode_bcd(fields[tag]) if tag in fields else None

        def digits(tag: int) -> str | None:
            return decode_bcd_digits(fields[tag]) if tag in fields else None

        def text(tag: int) -> str | None:
            return decode_text(fields[tag]) if tag in fields else None

        try:
            currency_number = number(BMP_CURRENCY)
            return StatusInformation(
                result_code=fields[BMP_RESULT_CODE][0] if BMP_RESULT_CODE in fields else None,
                amount_minor=number(BMP_AMOUNT),
                currency=None if currency_number is None else CURRENCY_ALPHA.get(currency_number, str(currency_number)),
                trace_number=number(BMP_TRACE),
                original_trace_number=number(BMP_ORIGINAL_TRACE),
                receipt_number=number(BMP_RECEIPT),
                terminal_id=digits(BMP_TERMINAL_ID),
                time=digits(BMP_TIME),
                date=digits(BMP_DATE),
                card_type=fields[BMP_CARD_TYPE][0] if BMP_CARD_TYPE in fields else None,
                card_name=text(BMP_CARD_NAME),
                additional_text=text(BMP_ADDITIONAL_TEXT),
                totals=Totals.decode(fields[BMP_TOTALS]) if BMP_TOTALS in fields else None,
                fields=fields,
                unparsed=rest,
            )
        except BcdError as error:
            raise BmpError(str(error)) from None
