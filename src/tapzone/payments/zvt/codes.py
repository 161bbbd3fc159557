"""Texts for the codes a terminal reports: result codes (BMP 27 and the first byte of 06 1E), intermediate
states (04 FF) and ZVT card types (BMP 8A), after PA00P015 "Error-Messages", "Intermediate status" and the
"List of ZVT-card-type IDs". Only the codes a till meets in practice are named; others print as hex.
"""

from __future__ import annotations

RESULT_OK = 0x00
RESULT_DECLINED = 0x05  # a code 01..63 comes from the card issuer's host; 05 is its plain "declined"
RESULT_ABORTED = 0x6C  # abort via timeout or abort-key: the customer or the cashier stopped it
RESULT_FUNCTION_NOT_POSSIBLE = 0x83
RESULT_WRONG_CURRENCY = 0x6F
RESULT_SYSTEM_ERROR = 0xFF

RESULT_TEXTS: dict[int, str] = {
    0x00: "no error",
    0x05: "declined by the card issuer",
    0x64: "card not readable",
    0x65: "card data not present",
    0x66: "processing error",
    0x67: "function not permitted for ec and Maestro cards",
    0x68: "function not permitted for credit and tank cards",
    0x6A: "turnover file full",
    0x6B: "function deactivated (PT not registered)",
    0x6C: "abort via timeout or abort key",
    0x6E: "card in blocked list",
    0x6F: "wrong currency",
    0x71: "credit not sufficient (chip card)",
    0x72: "chip error",
    0x73: "card data incorrect",
    0x77: "end-of-day batch not possible",
    0x78: "card expired",
    0x79: "card not yet valid",
    0x7A: "card unknown",
    0x7D: "communication error",
    0x83: "function not possible",
    0x85: "key missing",
    0x89: "PIN pad defective",
    0x9A: "ZVT protocol error",
    0x9B: "error from dial-up / communication fault",
    0x9C: "please wait",
    0xA0: "receiver not ready",
    0xF0: "open end-of-day batch present",
    0xFF: "system error",
}

INTERMEDIATE_TEXTS: dict[int, str] = {
    0x00: "waiting for amount confirmation",
    0x01: "please watch PIN pad",
    0x04: "waiting for the card issuer's host",
    0x05: "sending auto-reversal",
    0x0A: "insert card",
    0x0B: "please remove card",
    0x0C: "card not readable",
    0x0E: "please wait",
    0x15: "incorrect PIN",
    0x17: "please wait",
    0x1D: "declined",
}
INTERMEDIATE_INSERT_CARD = 0x0A
INTERMEDIATE_HOST = 0x04
INTERMEDIATE_REMOVE_CARD = 0x0B
INTERMEDIATE_AUTO_REVERSAL = 0x05

CARD_TYPES: dict[int, str] = {
    5: "girocard",
    6: "Mastercard",
    8: "American Express",
    10: "Visa",
    11: "Visa Electron",
    12: "Diners",
    13: "V PAY",
    14: "JCB",
    46: "Maestro",
}


def result_text(code: int) -> str:
    if 0x01 <= code <= 0x63 and code not in RESULT_TEXTS:
        return f"declined by the card issuer's host (code {code:02X})"
    return RESULT_TEXTS.get(code, f"result code {code:02X}")


def intermediate_text(code: int) -> str:
    return INTERMEDIATE_TEXTS.get(code, f"status {code:02X}")


def card_type_name(code: int) -> str:
    return CARD_TYPES.get(code, f"card type {code}")
