"""The ZVT messages tapzone builds: the till's commands (ECR -> PT) and, for the simulator, the terminal's
answers (PT -> ECR). Field layouts follow PA00P015 chapter by command; each builder names its layout.
"""

from __future__ import annotations

from tapzone.payments.zvt.apdu import Control, command, encode_apdu
from tapzone.payments.zvt.bcd import (
    BcdError,
    decode_var_length,
    encode_bcd,
    encode_currency,
    encode_password,
    encode_var_length,
)
from tapzone.payments.zvt.bmp import (
    BMP_ADDITIONAL_TEXT,
    BMP_AMOUNT,
    BMP_CARD_NAME,
    BMP_CARD_TYPE,
    BMP_CURRENCY,
    BMP_DATE,
    BMP_ORIGINAL_TRACE,
    BMP_PAYMENT_TYPE,
    BMP_RECEIPT,
    BMP_RESULT_CODE,
    BMP_SERVICE_BYTE,
    BMP_TERMINAL_ID,
    BMP_TIME,
    BMP_TOTALS,
    BMP_TRACE,
    BmpError,
    Totals,
    encode_bmp,
    encode_text,
)

# Registration config byte (PA00P015 "Registration", config-byte): what the ECR takes over from the PT.
CONFIG_ECR_PRINTS_PAYMENT_RECEIPT = 0x02
CONFIG_ECR_PRINTS_ADMIN_RECEIPT = 0x04
CONFIG_INTERMEDIATE_STATUS = 0x08  # the PT sends 04 FF while it works, so the till can show "insert card"
CONFIG_ECR_CONTROLS_PAYMENT = 0x10  # no amount can be keyed on the PT: every payment starts at the till
CONFIG_ECR_CONTROLS_ADMIN = 0x20
CONFIG_PRINT_VIA_ECR = 0x80  # receipts come to the ECR as 06 D1 print lines
# The terminal prints its own slips; the till gets intermediate states and is the only place a payment can
# start, so every card payment on this terminal is one the till knows about (status enquiry relies on it).
DEFAULT_CONFIG_BYTE = CONFIG_INTERMEDIATE_STATUS | CONFIG_ECR_CONTROLS_PAYMENT

ACK = command(Control.ACK)  # 80 00 00


def nak(code: int) -> bytes:
    """Negative acknowledgement 84 xx 00."""
    return encode_apdu(0x84, code)


# --- ECR -> PT -------------------------------------------------------------------------------------------


def registration(
    password: str, config_byte: int = DEFAULT_CONFIG_BYTE, currency: str | None = None, service_byte: int | None = None
) -> bytes:
    """06 00 <password 3 BCD> <config-byte> [<CC 2 BCD> [03 <service-byte>]]; the currency code stands
    without a BMP tag here, unlike in every other command."""
    if not 0 <= config_byte <= 0xFF:
        raise ValueError("the config byte is one byte")
    data = encode_password(password) + bytes((config_byte,))
    if currency is not None:
        data += encode_currency(currency)
        if service_byte is not None:
            data += encode_bmp(BMP_SERVICE_BYTE, bytes((service_byte,)))
    elif service_byte is not None:
        raise ValueError("the service byte follows the currency code")
    return command(Control.REGISTRATION, data)


def authorisation(amount_minor: int, currency: str | None = None, payment_type: int | None = None) -> bytes:
    """06 01 04 <amount 6 BCD> [49 <CC 2 BCD>] [19 <payment-type>]: the amount in minor units, no password."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise ValueError(f"an authorisation needs a positive amount, got {amount_minor!r}")
    try:
        data = encode_bmp(BMP_AMOUNT, encode_bcd(amount_minor, 6))
    except BcdError as error:
        raise ValueError(str(error)) from None
    if currency is not None:
        data += encode_bmp(BMP_CURRENCY, encode_currency(currency))
    if payment_type is not None:
        data += encode_bmp(BMP_PAYMENT_TYPE, bytes((payment_type,)))
    return command(Control.AUTHORISATION, data)


def reversal(password: str, receipt_number: int) -> bytes:
    """06 30 <password 3 BCD> 87 <receipt-no 2 BCD>: reverses the payment with that receipt number, which is
    possible until the terminal's next end-of-day."""
    return command(Control.REVERSAL, encode_password(password) + encode_bmp(BMP_RECEIPT, encode_bcd(receipt_number, 2)))


def end_of_day(password: str) -> bytes:
    """06 50 <password 3 BCD>."""
    return command(Control.END_OF_DAY, encode_password(password))


def status_enquiry(password: str) -> bytes:
    """05 01 <password 3 BCD>."""
    return command(Control.STATUS_ENQUIRY, encode_password(password))


def ecr_abort() -> bytes:
    """06 B0 00: sent while the terminal is master, to stop a transaction that waits for the customer."""
    return command(Control.ECR_ABORT)


# --- PT -> ECR (the simulator's side) ------------------------------------------------------------------------


def intermediate_status(code: int) -> bytes:
    """04 FF <intermediate-status>."""
    return command(Control.INTERMEDIATE_STATUS, bytes((code,)))


def status_information(
    result_code: int,
    *,
    amount_minor: int | None = None,
    currency: str | None = None,
    trace_number: int | None = None,
    original_trace_number: int | None = None,
    time: str | None = None,
    date: str | None = None,
    receipt_number: int | None = None,
    terminal_id: str | None = None,
    card_type: int | None = None,
    card_name: str | None = None,
    text: str | None = None,
    totals: Totals | None = None,
) -> bytes:
    """04 0F with 27 <result-code> and the BMPs given, in the order a terminal usually sends them."""
    data = encode_bmp(BMP_RESULT_CODE, bytes((result_code,)))
    if amount_minor is not None:
        data += encode_bmp(BMP_AMOUNT, encode_bcd(amount_minor, 6))
    if trace_number is not None:
        data += encode_bmp(BMP_TRACE, encode_bcd(trace_number, 3))
    if original_trace_number is not None:
        data += encode_bmp(BMP_ORIGINAL_TRACE, encode_bcd(original_trace_number, 3))
    if time is not None:
        data += encode_bmp(BMP_TIME, bytes.fromhex(time))
    if date is not None:
        data += encode_bmp(BMP_DATE, bytes.fromhex(date))
    if receipt_number is not None:
        data += encode_bmp(BMP_RECEIPT, encode_bcd(receipt_number, 2))
    if terminal_id is not None:
        data += encode_bmp(BMP_TERMINAL_ID, bytes.fromhex(terminal_id))
    if currency is not None:
        data += encode_bmp(BMP_CURRENCY, encode_currency(currency))
    if card_type is not None:
        data += encode_bmp(BMP_CARD_TYPE, bytes((card_type,)))
    if card_name is not None:
        data += encode_bmp(BMP_CARD_NAME, encode_text(card_name))
    if text is not None:
        data += encode_bmp(BMP_ADDITIONAL_TEXT, encode_text(text))
    if totals is not None:
        data += encode_bmp(BMP_TOTALS, totals.encode())
    return command(Control.STATUS_INFORMATION, data)


def completion(data: bytes = b"") -> bytes:
    """06 0F [BMPs]: the command has ended and the ECR is master again."""
    return command(Control.COMPLETION, data)


def registration_completion(terminal_id: str, currency: str | None, status_byte: int = 0) -> bytes:
    """06 0F 19 <status-byte> 29 <TID> [49 <CC>]: the CC only when the ECR sent one."""
    data = encode_bmp(BMP_PAYMENT_TYPE, bytes((status_byte,))) + encode_bmp(BMP_TERMINAL_ID, bytes.fromhex(terminal_id))
    if currency is not None:
        data += encode_bmp(BMP_CURRENCY, encode_currency(currency))
    return completion(data)


def status_enquiry_completion(software_version: str, terminal_status: int) -> bytes:
    """06 0F <software-version LLLVAR> <terminal-status-code>: the answer to a status enquiry."""
    version = encode_text(software_version)
    return completion(encode_var_length(len(version), 3) + version + bytes((terminal_status,)))


def parse_status_enquiry_completion(data: bytes) -> tuple[str, int | None]:
    """(software version, terminal status code) of a status-enquiry completion; tolerant of a bare 06 0F."""
    if len(data) < 3:
        return "", None
    try:
        length = decode_var_length(data[:3])
    except BcdError:
        return "", None
    if len(data) < 3 + length:
        raise BmpError("status-enquiry completion cut short")
    version = data[3 : 3 + length].decode("cp437", errors="replace")
    status = data[3 + length] if len(data) > 3 + length else None
    return version, status


def pt_abort(result_code: int, text: str | None = None) -> bytes:
    """06 1E <result-code> [3C <text>]."""
    data = bytes((result_code,))
    if text is not None:
        data += encode_bmp(BMP_ADDITIONAL_TEXT, encode_text(text))
    return command(Control.PT_ABORT, data)


__all__ = [
    "ACK",
    "DEFAULT_CONFIG_BYTE",
    "authorisation",
    "completion",
    "ecr_abort",
    "end_of_day",
    "intermediate_status",
    "nak",
    "parse_status_enquiry_completion",
    "pt_abort",
    "registration",
    "registration_completion",
    "reversal",
    "status_enquiry",
    "status_enquiry_completion",
    "status_information",
]
