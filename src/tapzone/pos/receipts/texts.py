"""Every text a receipt prints, as English msgids of the tapzone catalogs.

The layout asks for texts only through `Label`, so the catalog test can check the complete list in every
language: a receipt can never print a msgid that a catalog lacks.
"""

from __future__ import annotations

from enum import StrEnum

from tapzone.i18n import gettext
from tapzone.ledger.codes import EntryCode
from tapzone.pos.receipts.model import ReceiptKind


class Label(StrEnum):
    # titles, one per kind
    TITLE_ENTRY = "Entry ticket"
    TITLE_TOPUP = "Top-up"
    TITLE_PURCHASE = "Receipt"
    TITLE_BILL = "Bill — not paid"
    TITLE_SETTLEMENT = "Settlement"
    TITLE_REFUND = "Refund"
    TITLE_Z_REPORT = "Z report"
    # a bill is not a receipt of payment (seed 001 "Nota") and says so at top and bottom
    NOT_PAID = "NOT PAID"
    BILL_NOTE = "This bill is not a receipt of payment."
    THANK_YOU = "Thank you for your visit!"
    # header and meta data
    TAX_NUMBER = "Tax no."
    VAT_ID = "VAT ID"
    NUMBER = "No."
    DATE = "Date"
    TILL = "Till"
    OPERATOR = "Operator"
    MEDIUM = "Card no."
    REFERENCE = "Reference"
    # lines, totals, VAT
    TOTAL = "Total"
    VAT_RATE = "VAT rate"
    NET = "Net"
    VAT = "VAT"
    GROSS = "Gross"
    # tenders
    CASH = "Cash"
    CARD = "Card payment"
    PREPAID = "Prepaid value"
    BANK_TRANSFER = "Bank transfer"
    PAYMENT_TYPE = "Payment type"
    CASHLESS = "cashless"
    SLIP_NUMBER = "Terminal slip no."
    CHANGE = "Change"
    BALANCE_AFTER = "Balance left on card"
    # 54-FZ settlement method per line (tag 1214)
    FULL_PREPAYMENT = "Full prepayment"
    PARTIAL_PREPAYMENT = "Partial prepayment"
    ADVANCE = "Advance"
    FULL_PAYMENT = "Full payment"
    PARTIAL_PAYMENT_AND_CREDIT = "Partial payment and credit"
    CREDIT = "On credit"
    CREDIT_PAYMENT = "Credit payment"
    # KassenSichV: the signature data a German receipt carries
    FISCAL_HEADING = "TSE signature data"
    TSE_SERIAL = "TSE serial no."
    CLIENT_ID = "Till serial no."
    TRANSACTION_NUMBER = "Transaction no."
    SIGNATURE_COUNTER = "Signature counter"
    PROCESS_START = "Process start"
    PROCESS_END = "Process end"
    PROCESS_TYPE = "Process type"
    SIGNATURE_ALGORITHM = "Signature algorithm"
    SIGNATURE = "Signature"
    # Z report
    BUSINESS_DAY = "Business day"
    REVENUE_BY_RATE = "Revenue by VAT rate"
    TENDERS = "Tenders"
    TOPUPS = "Top-ups"
    REFUNDS = "Refunds"
    CASH_EXPECTED = "Cash expected in drawer"
    BOOKINGS_BY_KIND = "Bookings by kind"
    BOOKINGS = "Bookings in total"
    # journal entry codes, as the Z report counts them (top-ups and refunds reuse TOPUPS and REFUNDS)
    CODE_SALE = "Sales"
    CODE_SETTLEMENT = "Tab settlements"
    CODE_PAYOUT = "Payouts"
    CODE_TRANSFER = "Card transfers"
    CODE_UNLOAD = "Unloads"
    CODE_LOAD = "Loads"
    CODE_DEPOSIT_HOLD = "Deposits taken"
    CODE_DEPOSIT_REFUND = "Deposits refunded"
    CODE_DEPOSIT_FORFEIT = "Deposits forfeited"
    CODE_FEE = "Fees"
    CODE_USAGE = "Usages"
    CODE_BONUS = "Bonuses"
    CODE_OVERSTAY = "Overstays"
    CODE_ACCOUNT_RENEW = "Account renewals"
    CODE_ACCOUNT_DELETE = "Account deletions"
    CODE_BREAKAGE = "Breakage"
    CODE_WRITE_OFF = "Write-offs"
    CODE_CORRECTION = "Corrections"
    CODE_CASH_IN = "Cash in"
    CODE_CASH_OUT = "Cash out"
    CODE_SHIFT_DIFFERENCE = "Shift differences"


TITLES: dict[ReceiptKind, Label] = {
    ReceiptKind.ENTRY: Label.TITLE_ENTRY,
    ReceiptKind.TOPUP: Label.TITLE_TOPUP,
    ReceiptKind.PURCHASE: Label.TITLE_PURCHASE,
    ReceiptKind.BILL: Label.TITLE_BILL,
    ReceiptKind.SETTLEMENT: Label.TITLE_SETTLEMENT,
    ReceiptKind.REFUND: Label.TITLE_REFUND,
    ReceiptKind.Z_REPORT: Label.TITLE_Z_REPORT,
}

# TenderLine.kind and the Z report's tender keys ("card:<provider>") name these kinds.
TENDER_KINDS: dict[str, Label] = {
    "cash": Label.CASH,
    "card": Label.CARD,
    "prepaid": Label.PREPAID,
    "bank-transfer": Label.BANK_TRANSFER,
}

# ReceiptLine.settlement_method: the 54-FZ "признак способа расчёта" (tag 1214), values 1–7 in order.
SETTLEMENT_METHODS: dict[str, Label] = {
    "full-prepayment": Label.FULL_PREPAYMENT,
    "partial-prepayment": Label.PARTIAL_PREPAYMENT,
    "advance": Label.ADVANCE,
    "full-payment": Label.FULL_PAYMENT,
    "partial-payment-and-credit": Label.PARTIAL_PAYMENT_AND_CREDIT,
    "credit": Label.CREDIT,
    "credit-payment": Label.CREDIT_PAYMENT,
}

ENTRY_CODES: dict[str, Label] = {
    EntryCode.TOPUP: Label.TOPUPS,
    EntryCode.SALE: Label.CODE_SALE,
    EntryCode.SETTLEMENT: Label.CODE_SETTLEMENT,
    EntryCode.REFUND: Label.REFUNDS,
    EntryCode.PAYOUT: Label.CODE_PAYOUT,
    EntryCode.TRANSFER: Label.CODE_TRANSFER,
    EntryCode.UNLOAD: Label.CODE_UNLOAD,
    EntryCode.LOAD: Label.CODE_LOAD,
    EntryCode.DEPOSIT_HOLD: Label.CODE_DEPOSIT_HOLD,
    EntryCode.DEPOSIT_REFUND: Label.CODE_DEPOSIT_REFUND,
    EntryCode.DEPOSIT_FORFEIT: Label.CODE_DEPOSIT_FORFEIT,
    EntryCode.FEE: Label.CODE_FEE,
    EntryCode.USAGE: Label.CODE_USAGE,
    EntryCode.BONUS: Label.CODE_BONUS,
    EntryCode.OVERSTAY: Label.CODE_OVERSTAY,
    EntryCode.ACCOUNT_RENEW: Label.CODE_ACCOUNT_RENEW,
    EntryCode.ACCOUNT_DELETE: Label.CODE_ACCOUNT_DELETE,
    EntryCode.BREAKAGE: Label.CODE_BREAKAGE,
    EntryCode.WRITE_OFF: Label.CODE_WRITE_OFF,
    EntryCode.CORRECTION: Label.CODE_CORRECTION,
    EntryCode.CASH_IN: Label.CODE_CASH_IN,
    EntryCode.CASH_OUT: Label.CODE_CASH_OUT,
    EntryCode.SHIFT_DIFFERENCE: Label.CODE_SHIFT_DIFFERENCE,
}

RECEIPT_TEXTS: frozenset[str] = frozenset(label.value for label in Label)


def translate(label: Label, language: str) -> str:
    return gettext(label.value, language)
