"""The receipt model: what a printed document says, independent of how it is printed.

A receipt is built once, when its operation is booked, stored as issued (JSON in `receipts.body`) and
rendered on demand as ESC/POS bytes, HTML or PDF — the three renderings carry the same content. Money is
in minor units; times are UTC and shown in the venue's zone by the renderers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ReceiptKind(StrEnum):
    ENTRY = "entry"  # entry ticket sold at the entrance
    TOPUP = "topup"  # prepaid value loaded (an advance receipt under 54-FZ)
    PURCHASE = "purchase"  # goods sold and paid at once
    BILL = "bill"  # seed 001 "Nota": the open lines printed, clearly marked unpaid, not a payment
    SETTLEMENT = "settlement"  # a tab paid before exit
    REFUND = "refund"  # prepaid value paid back (a return of income under 54-FZ)
    Z_REPORT = "z-report"  # a till's numbered end-of-day report


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VenueHeader(Frozen):
    name: str
    address: list[str] = []
    tax_id: str | None = None  # USt-IdNr / ИНН / org.nr, as the venue prints it


class ReceiptLine(Frozen):
    name: str
    quantity: int
    unit_price_minor: int
    amount_minor: int
    vat_rate_bp: int
    # 54-FZ "признак способа расчёта" per line: full-payment, advance, full-prepayment-offset, …; None elsewhere
    settlement_method: str | None = None


class VatLine(Frozen):
    rate_bp: int
    gross_minor: int
    net_minor: int
    vat_minor: int


class TenderLine(Frozen):
    kind: str  # cash, card, prepaid, bank-transfer
    amount_minor: int
    provider: str | None = None  # the terminal's name for card payments
    slip_number: str | None = None  # the terminal's receipt number, entered or reported
    cashless: bool = False  # seed 003: printed with payment type "cashless"


class FiscalBlock(Frozen):
    """The signature data a German receipt must carry (KassenSichV §6) and the TSE QR code's payload."""

    tse_serial: str
    signature_algorithm: str
    time_format: str  # e.g. unixTime or utcTime
    public_key: str  # base64
    client_id: str  # the till's serial number
    transaction_number: int
    signature_counter: int
    start: datetime
    end: datetime
    process_type: str
    process_data: str
    signature: str  # base64
    qr_payload: str


class ZTotals(Frozen):
    """A Z report's figures, read from the ledger for one till and business day."""

    business_day: date
    revenue_by_rate: list[VatLine]
    tenders: dict[str, int]  # tender (cash, card:<provider>, prepaid, …) → amount
    by_code: dict[str, int]  # entry code → number of entries
    cash_expected_minor: int
    topups_minor: int
    refunds_minor: int
    entries: int


class Receipt(Frozen):
    kind: ReceiptKind
    number: int  # per till, gapless
    venue: VenueHeader
    till_name: str
    till_serial: str
    issued_at: datetime
    language: str
    currency: str
    operator: str | None = None
    medium_uid: str | None = None
    lines: list[ReceiptLine] = []
    vat: list[VatLine] = []
    tenders: list[TenderLine] = []
    total_minor: int = 0
    change_minor: int = 0
    balance_after_minor: int | None = None  # prepaid value left on the card, where it matters
    unpaid: bool = False  # a bill ("Nota") is not a receipt of payment and says so
    fiscal_profile: str = "generic"
    fiscal: FiscalBlock | None = None
    z_totals: ZTotals | None = None
    reference: str | None = None  # e.g. "tab 12", "refund of entry 40"
