"""ZVT bytes against the specification.

Every expected sequence here is written out by hand from PA00P015 "ECR-Interface ZVT-Protocol" (Verband der
Terminalhersteller in Deutschland; chapter titles as in rev. 13.x), not produced by our own code, and
cross-checked against a second public source named next to it. Abbreviations: ECR = the till, PT = the terminal.
"""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tapzone.payments.terminal import Outcome, ZvtTerminal
from tapzone.payments.zvt import messages
from tapzone.payments.zvt.adapter import TerminalMemory
from tapzone.payments.zvt.apdu import Apdu, ApduError, Control, decode_apdu, encode_apdu, split_apdu
from tapzone.payments.zvt.bcd import (
    BcdError,
    decode_bcd,
    decode_var_length,
    encode_bcd,
    encode_currency,
    encode_password,
    encode_var_length,
)
from tapzone.payments.zvt.bmp import BmpError, StatusInformation, Totals, parse_bmps
from tapzone.payments.zvt.client import Ending, ZvtClient
from tests.payments.scripted import Close, Expect, ScriptedTerminal, Send, hexbytes

ACK = hexbytes("80 00 00")

# --- 04 0F status information of an approved payment, written out from "Status-Information" and
# "Summary of utilised BMPs": 27 result code (1 byte), 04 amount (6 BCD), 0B trace (3 BCD), 0C time HHMMSS
# (3 BCD), 0D date MMDD (2 BCD), 87 receipt (2 BCD), 29 terminal id (4 BCD), 49 currency (2 BCD),
# 8A card type (1 byte), 8B card name (LLVAR), 3C additional text (LLLVAR). 0x32 = 50 data bytes.
APPROVED_STATUS = hexbytes(
    "04 0F 32"
    " 27 00"
    " 04 00 00 00 00 12 34"
    " 0B 00 00 42"
    " 0C 14 30 05"
    " 0D 11 22"
    " 87 00 17"
    " 29 12 34 56 78"
    " 49 09 78"
    " 8A 05"
    " 8B F0 F8 67 69 72 6F 63 61 72 64"  # "girocard", 8 bytes
    " 3C F0 F0 F2 4F 4B"  # "OK", 3 bytes
)
# A declined payment: the PT reports result code 05 in a 04 0F, then ends with abort 06 1E 05 (the same
# sequence as a published terminal trace in Portalum.Zvt's tests, "PaymentAsync_CardRejected").
DECLINED_STATUS = hexbytes("04 0F 1B 27 05 04 00 00 00 00 10 13 29 12 34 56 78 3C F0 F0 F9") + b"Abgelehnt"
PT_ABORT_DECLINED = hexbytes("06 1E 01 05")
PT_ABORT_CUSTOMER = hexbytes("06 1E 01 6C")  # 6C: abort via timeout or abort-key ("Error-Messages")


# --- ECR commands ---------------------------------------------------------------------------------------------


def test_registration_bytes() -> None:
    # "Registration": 06 00 <len> <password 3 BCD> <config-byte> [<CC 2 bytes> [03 <service-byte>]]; the CC
    # stands without a BMP tag. Config 08 = ECR wants intermediate status, 09 78 = EUR (ISO 4217 978).
    # Wireshark's packet-zvt.c dissect_zvt_reg reads the same layout: password, config byte, optional CC.
    assert messages.registration("000000", 0x08, "EUR") == hexbytes("06 00 06 00 00 00 08 09 78")
    assert messages.registration("123456", 0xBA, "EUR", 0x01) == hexbytes("06 00 08 12 34 56 BA 09 78 03 01")
    assert messages.registration("000000", 0x18) == hexbytes("06 00 04 00 00 00 18")


def test_authorisation_bytes() -> None:
    # "Authorisation": 06 01 <len> 04 <amount 6 BCD, minor units> [49 <CC>] ...; no password. 10.00 EUR gives
    # 06 01 07 04 00 00 00 00 10 00, the bytes Portalum.Zvt's tests expect for an amount of 10.
    assert messages.authorisation(1000) == hexbytes("06 01 07 04 00 00 00 00 10 00")
    assert messages.authorisation(1234, "EUR") == hexbytes("06 01 0A 04 00 00 00 00 12 34 49 09 78")
    assert messages.authorisation(999_999_999_999) == hexbytes("06 01 07 04 99 99 99 99 99 99")
    with pytest.raises(ValueError, match="digits"):
        messages.authorisation(10**12)
    with pytest.raises(ValueError, match="positive"):
        messages.authorisation(0)


def test_reversal_end_of_day_status_enquiry_abort_and_acknowledgement_bytes() -> None:
    # "Reversal": 06 30 <len> <password> 87 <receipt-no 2 BCD>.
    assert messages.reversal("123456", 85) == hexbytes("06 30 06 12 34 56 87 00 85")
    # "End-of-Day": 06 50 03 <password>.
    assert messages.end_of_day("123456") == hexbytes("06 50 03 12 34 56")
    # "Status-Enquiry": 05 01 <len> [<password> [03 <service-byte>] [06 <TLV>]].
    assert messages.status_enquiry("000000") == hexbytes("05 01 03 00 00 00")
    # "Abort" (ECR -> PT): 06 B0 00, no data.
    assert messages.ecr_abort() == hexbytes("06 B0 00")
    # "Positive Acknowledgement" 80 00 00, "Negative Acknowledgement" 84 <error> 00.
    assert messages.ACK == ACK
    assert messages.nak(0x83) == hexbytes("84 83 00")


def test_password_must_be_six_digits() -> None:
    assert encode_password("123456") == hexbytes("12 34 56")
    for bad in ("12345", "1234567", "12345a", "１２３４５６"):
        with pytest.raises(BcdError):
            encode_password(bad)


# --- APDU frame and BCD ------------------------------------------------------------------------------------------


def test_extended_length_above_254_bytes() -> None:
    # "APDU": a length byte FF announces two length bytes, low byte first (Wireshark packet-zvt.c reads
    # tvb_get_letohs after an FF length byte).
    short = encode_apdu(0x04, 0x0F, bytes(254))
    assert short[:3] == hexbytes("04 0F FE") and len(short) == 257
    assert encode_apdu(0x04, 0x0F, bytes(255))[:5] == hexbytes("04 0F FF FF 00")
    long = encode_apdu(0x04, 0x0F, bytes(300))
    assert long[:5] == hexbytes("04 0F FF 2C 01")
    assert decode_apdu(long) == Apdu(0x04, 0x0F, bytes(300))
    assert split_apdu(long[:100]) is None
    assert split_apdu(long[:4]) is None
    assert split_apdu(long + ACK) == (Apdu(0x04, 0x0F, bytes(300)), ACK)
    with pytest.raises(ApduError):
        decode_apdu(long + ACK)
    with pytest.raises(ApduError):
        encode_apdu(0x04, 0x0F, bytes(0x10000))


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_amount_bcd_round_trip(amount_minor: int) -> None:
    encoded = encode_bcd(amount_minor, 6)
    assert len(encoded) == 6
    assert decode_bcd(encoded) == amount_minor
    assert encoded.hex() == f"{amount_minor:012d}"


@given(st.binary(max_size=400))
def test_apdu_round_trip(data: bytes) -> None:
    assert decode_apdu(encode_apdu(0x06, 0xD1, data)) == Apdu(0x06, 0xD1, data)


def test_bcd_and_variable_lengths() -> None:
    assert encode_currency("EUR") == hexbytes("09 78")
    assert encode_currency("CHF") == hexbytes("07 56")
    assert encode_var_length(8, 2) == hexbytes("F0 F8")
    assert encode_var_length(14, 3) == hexbytes("F0 F1 F4")
    assert decode_var_length(hexbytes("F1 F2 F3")) == 123
    with pytest.raises(BcdError):
        decode_bcd(hexbytes("1A"))
    with pytest.raises(BcdError):
        decode_var_length(hexbytes("F1 0A"))
    with pytest.raises(BcdError):
        encode_bcd(-1, 2)


# --- terminal messages -----------------------------------------------------------------------------------------


def test_status_information_of_an_approved_payment() -> None:
    apdu = decode_apdu(APPROVED_STATUS)
    assert apdu.is_(Control.STATUS_INFORMATION)
    info = StatusInformation.decode(apdu.data)
    assert info.result_code == 0
    assert info.amount_minor == 1234
    assert info.trace_number == 42
    assert (info.time, info.date) == ("143005", "1122")
    assert info.receipt_number == 17
    assert info.terminal_id == "12345678"
    assert info.currency == "EUR"
    assert (info.card_type, info.card_name) == (5, "girocard")
    assert info.additional_text == "OK"
    assert not info.unparsed


def test_bmp_parser_skips_tlv_containers_and_stops_at_unknown_tags() -> None:
    # BMP 06 carries a BER length: one byte below 80, else 81 xx / 82 xx xx ("TLV-container").
    long_tlv = hexbytes("06 81 80") + bytes(128)
    fields, rest = parse_bmps(hexbytes("27 00 06 03 1F 10 00") + long_tlv + hexbytes("87 00 05 C0 01 02"))
    assert fields[0x27] == b"\x00"
    assert fields[0x06] == bytes(128)
    assert fields[0x87] == hexbytes("00 05")
    assert rest == hexbytes("C0 01 02")  # C0 is not a BMP: its length is unknown, so parsing stops
    with pytest.raises(BmpError):
        parse_bmps(hexbytes("04 00 00 12"))  # an amount cut short


def test_end_of_day_totals() -> None:
    # "Individual totals" (BMP 60, LLLVAR): receipt from, receipt to (2 BCD each), then per card group
    # (girocard, JCB, Eurocard, Amex, Visa, Diners, others) the count (1 byte) and total (6 BCD).
    totals_bytes = hexbytes(
        "00 01 00 03"
        " 02 00 00 00 00 35 00"  # girocard: 2 payments, 35.00
        " 00 00 00 00 00 00 00"
        " 01 00 00 00 00 12 34" + " 00 00 00 00 00 00 00" * 4  # Eurocard/Mastercard: 1 payment, 12.34
    )
    totals = Totals.decode(totals_bytes)
    assert (totals.receipt_from, totals.receipt_to) == (1, 3)
    assert [(g.group, g.count, g.total_minor) for g in totals.groups if g.count] == [
        ("girocard", 2, 3500),
        ("Eurocard/Mastercard", 1, 1234),
    ]
    assert totals.encode() == totals_bytes


def test_intermediate_status_abort_and_status_enquiry_completion() -> None:
    assert decode_apdu(hexbytes("04 FF 01 0A")) == Apdu(0x04, 0xFF, b"\x0a")  # 0A: insert card
    abort = decode_apdu(PT_ABORT_CUSTOMER)
    assert abort.is_(Control.PT_ABORT) and abort.data[0] == 0x6C
    # Completion of a status enquiry: 06 0F <software version LLLVAR> <terminal status code>.
    completion = decode_apdu(hexbytes("06 0F 08 F0 F0 F4 56 31 2E 30 00"))
    assert messages.parse_status_enquiry_completion(completion.data) == ("V1.0", 0)
    assert messages.status_enquiry_completion("V1.0", 0) == hexbytes("06 0F 08 F0 F0 F4 56 31 2E 30 00")


# --- the client on the wire, against scripted terminals ------------------------------------------------------------


def test_client_approved_payment_exchange() -> None:
    auth = hexbytes("06 01 0A 04 00 00 00 00 12 34 49 09 78")
    script = ScriptedTerminal(
        [
            [
                Expect(auth),
                Send(ACK),
                Send(hexbytes("04 FF 01 0A")),
                Expect(ACK),
                Send(APPROVED_STATUS),
                Expect(ACK),
                Send(hexbytes("06 0F 00")),
                Expect(ACK),
            ]
        ]
    )
    seen: list[int] = []
    client = ZvtClient("127.0.0.1", script.port, on_intermediate=lambda code, _: seen.append(code))
    result = client.authorise(1234, "EUR")
    script.finish()
    assert result.ending is Ending.COMPLETED
    assert result.status is not None and result.status.receipt_number == 17
    assert seen == [0x0A]


def test_adapter_registers_once_then_maps_a_decline() -> None:
    registration = hexbytes("06 00 04 00 00 00 18")  # password 000000, config 08 | 10, no currency
    script = ScriptedTerminal(
        [
            [Expect(registration), Send(ACK), Send(hexbytes("06 0F 07 19 00 29 12 34 56 78")), Expect(ACK)],
            [
                Expect(hexbytes("06 01 0A 04 00 00 00 00 10 13 49 09 78")),
                Send(ACK),
                Send(DECLINED_STATUS),
                Expect(ACK),
                Send(PT_ABORT_DECLINED),
                Expect(ACK),
            ],
        ]
    )
    terminal = ZvtTerminal("127.0.0.1", script.port, memory=TerminalMemory())  # not registered yet
    result = terminal.authorise(1013, "EUR", reference="p-1")
    script.finish()
    assert result.outcome is Outcome.DECLINED
    assert result.result_code == 0x05
    assert "Abgelehnt" in result.text
    assert result.approved_amount_minor is None


def test_client_abort_sends_06_b0_and_ends_on_06_1e_6c() -> None:
    script = ScriptedTerminal(
        [
            [
                Expect(hexbytes("06 01 07 04 00 00 00 00 05 00")),
                Send(ACK),
                Send(hexbytes("04 FF 01 0A")),
                Expect(ACK),
                Expect(hexbytes("06 B0 00")),
                Send(ACK),
                Send(PT_ABORT_CUSTOMER),
                Expect(ACK),
            ]
        ]
    )
    client: ZvtClient

    def cancel(code: int, _: str) -> None:
        threading.Thread(target=client.abort).start()  # as the till's cancel button would, from elsewhere

    client = ZvtClient("127.0.0.1", script.port, on_intermediate=cancel)
    result = client.authorise(500)
    script.finish()
    assert (result.ending, result.result_code) == (Ending.ABORTED, 0x6C)


def test_extended_length_status_information_from_the_terminal() -> None:
    text = ("Beleg " * 60).encode()  # 360 bytes of additional text push the APDU past 254 bytes
    data = hexbytes("27 00 04 00 00 00 00 01 00 87 00 02 3C F3 F6 F0") + text
    long_status = hexbytes("04 0F FF") + len(data).to_bytes(2, "little") + data
    script = ScriptedTerminal(
        [
            [
                Expect(hexbytes("06 01 07 04 00 00 00 00 01 00")),
                Send(ACK),
                Send(long_status),
                Expect(ACK),
                Send(hexbytes("06 0F 00")),
                Expect(ACK),
            ]
        ]
    )
    result = ZvtClient("127.0.0.1", script.port).authorise(100)
    script.finish()
    assert result.status is not None
    assert result.status.additional_text == text.decode()
    assert result.ending is Ending.COMPLETED


def test_refused_command_and_missing_acknowledgement() -> None:
    script = ScriptedTerminal([[Expect(hexbytes("05 01 03 00 00 00")), Send(hexbytes("84 83 00"))]])
    refused = ZvtClient("127.0.0.1", script.port).status_enquiry()
    script.finish()
    assert (refused.ending, refused.result_code, refused.acknowledged) == (Ending.REFUSED, 0x83, False)

    silent = ScriptedTerminal([[Expect(hexbytes("06 01 07 04 00 00 00 00 10 00"))]])
    timed_out = ZvtClient("127.0.0.1", silent.port, ack_timeout_s=0.1).authorise(1000)
    silent.finish()
    assert (timed_out.ending, timed_out.acknowledged) == (Ending.TIMED_OUT, False)


def test_dropped_line_after_the_approval_keeps_what_was_seen() -> None:
    script = ScriptedTerminal(
        [[Expect(hexbytes("06 01 07 04 00 00 00 00 12 34")), Send(ACK), Send(APPROVED_STATUS), Expect(ACK), Close()]]
    )
    result = ZvtClient("127.0.0.1", script.port).authorise(1234)
    script.finish()
    assert result.ending is Ending.CONNECTION_LOST
    assert result.status is not None and result.status.result_code == 0  # approved, but not completed: pending


def test_end_of_day_and_reversal_through_the_adapter() -> None:
    totals = hexbytes("00 01 00 02 02 00 00 00 00 47 34" + " 00 00 00 00 00 00 00" * 6)
    eod_status = hexbytes("04 0F 55 27 00 04 00 00 00 00 47 34 0B 00 00 09 0C 23 59 00 0D 11 22")
    eod_status += hexbytes("29 12 34 56 78 49 09 78 60 F0 F5 F3") + totals
    reversal_status = hexbytes("04 0F 14 27 00 04 00 00 00 00 12 34 0B 00 00 43 37 00 00 42 87 00 18")
    script = ScriptedTerminal(
        [
            [
                Expect(hexbytes("06 30 06 12 34 56 87 00 17")),
                Send(ACK),
                Send(reversal_status),
                Expect(ACK),
                Send(hexbytes("06 0F 00")),
                Expect(ACK),
            ],
            [
                Expect(hexbytes("06 50 03 12 34 56")),
                Send(ACK),
                Send(hexbytes("04 FF 01 17")),
                Expect(ACK),
                Send(eod_status),
                Expect(ACK),
                Send(hexbytes("06 0F 00")),
                Expect(ACK),
            ],
        ]
    )
    terminal = ZvtTerminal("127.0.0.1", script.port, "123456")
    reversed_ = terminal.reverse("zvt/0017/000042")
    day = terminal.end_of_day()
    script.finish()
    assert reversed_.outcome is Outcome.APPROVED
    assert (reversed_.approved_amount_minor, reversed_.receipt_number) == (1234, "0018")
    assert day.outcome is Outcome.APPROVED
    assert (day.approved_amount_minor, day.transaction_count, day.currency) == (4734, 2, "EUR")
