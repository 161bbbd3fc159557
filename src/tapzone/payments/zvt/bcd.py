"""Number encodings of ZVT: packed BCD, the F-nibble lengths of variable fields, ISO 4217 numeric codes.

ZVT writes amounts, passwords, trace and receipt numbers, dates and the currency code as packed BCD, two
decimal digits per byte, most significant first, left-padded with zeros (PA00P015 "Summary of utilised
BMPs": BMP 04 amount 6 bytes BCD, 0B trace 3, 87 receipt 2, 49 currency 2, password 3 bytes BCD).
A variable field is preceded by its length in decimal, one digit per byte, each as F0..F9: two bytes for an
LLVAR field (F0 F8 = 8 bytes), three for an LLLVAR field (F0 F1 F4 = 14 bytes).
"""

from __future__ import annotations

# ISO 4217 numeric codes of the currencies a venue is likely to run in. ZVT carries the numeric code as BCD
# (EUR = 978 = 09 78); an unknown currency is refused rather than guessed.
CURRENCY_NUMERIC: dict[str, int] = {
    "EUR": 978,
    "CHF": 756,
    "GBP": 826,
    "USD": 840,
    "SEK": 752,
    "NOK": 578,
    "DKK": 208,
    "PLN": 985,
    "CZK": 203,
    "HUF": 348,
    "RON": 946,
    "BGN": 975,
    "RUB": 643,
}
# The password terminals ship with. Not a secret: it only guards admin commands against a misconfigured till.
DEFAULT_PASSWORD = "000000"  # noqa: S105

CURRENCY_ALPHA: dict[int, str] = {number: code for code, number in CURRENCY_NUMERIC.items()}


class BcdError(ValueError):
    """A value does not fit its BCD field, or bytes that should be BCD are not."""


def encode_bcd(value: int, length: int) -> bytes:
    """`value` as `length` bytes of packed BCD: encode_bcd(1000, 6) == 00 00 00 00 10 00."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BcdError(f"BCD holds non-negative integers, got {value!r}")
    digits = str(value)
    if len(digits) > 2 * length:
        raise BcdError(f"{value} needs more than {2 * length} digits")
    return bytes.fromhex(digits.zfill(2 * length))


def decode_bcd_digits(data: bytes) -> str:
    """The decimal digits of packed BCD, leading zeros kept (a terminal id or a time keeps its width)."""
    digits = data.hex()
    if not digits.isdigit():
        raise BcdError(f"not BCD: {data.hex(' ')}")
    return digits


def decode_bcd(data: bytes) -> int:
    return int(decode_bcd_digits(data)) if data else 0


def encode_password(password: str) -> bytes:
    """The six-digit terminal password as 3 bytes BCD (123456 -> 12 34 56)."""
    if len(password) != 6 or not password.isascii() or not password.isdigit():
        raise BcdError("the ZVT password is six digits")
    return bytes.fromhex(password)


def currency_numeric(currency: str) -> int:
    try:
        return CURRENCY_NUMERIC[currency]
    except KeyError:
        raise BcdError(f"no ISO 4217 numeric code known for {currency!r}") from None


def encode_currency(currency: str) -> bytes:
    """The currency as 2 bytes BCD of its ISO 4217 numeric code (EUR -> 09 78)."""
    return encode_bcd(currency_numeric(currency), 2)


def encode_var_length(length: int, digits: int) -> bytes:
    """The length prefix of an LLVAR (digits=2) or LLLVAR (digits=3) field: 14 -> F0 F1 F4."""
    text = str(length)
    if length < 0 or len(text) > digits:
        raise BcdError(f"length {length} does not fit {digits} digits")
    return bytes(0xF0 | int(digit) for digit in text.zfill(digits))


def decode_var_length(prefix: bytes) -> int:
    """Inverse of encode_var_length; every byte must be F0..F9."""
    value = 0
    for byte in prefix:
        if byte >> 4 != 0xF or byte & 0x0F > 9:
            raise BcdError(f"not a ZVT length prefix: {prefix.hex(' ')}")
        value = value * 10 + (byte & 0x0F)
    return value
