"""What the POS use cases return: plain data, stored as the idempotent response and sent by the API."""

from __future__ import annotations

from pydantic import BaseModel


class TabLineView(BaseModel):
    id: int
    product_id: int
    name: str
    quantity: int
    unit_price_minor: int
    amount_minor: int
    vat_rate_bp: int
    state: str


class PartyDebtView(BaseModel):
    """What another medium of the same shared-mode party owes (seed 000)."""

    medium_uid: str
    card_account_id: int
    tab_id: int | None
    open_total_minor: int


class TabView(BaseModel):
    medium_uid: str
    visit_id: int
    card_account_id: int
    credit_type: str
    currency: str
    credit_limit_minor: int
    balance_minor: int
    open_total_minor: int
    available_minor: int
    tab_id: int | None
    lines: list[TabLineView]
    party_debts: list[PartyDebtView] = []


class VisitView(BaseModel):
    visit_id: int
    medium_uid: str
    medium_kind: str
    card_account_id: int
    credit_type: str
    currency: str
    credit_limit_minor: int
    balance_minor: int
    topup_entry_id: int | None
    receipt_id: int | None = None


class CardAccountView(BaseModel):
    card_account_id: int
    visit_id: int
    credit_type: str
    credit_limit_minor: int
    is_active: bool
    balance_minor: int
    receipt_id: int | None = None


class TopupView(BaseModel):
    entry_id: int
    card_account_id: int
    amount_minor: int
    balance_minor: int
    receipt_id: int | None = None


class BillView(BaseModel):
    bill_id: int
    number: int
    tab_id: int
    total_minor: int
    currency: str
    status: str
    line_ids: list[int]
    receipt_id: int | None = None


class SettlementView(BaseModel):
    tab_id: int | None
    party_tab_ids: list[int] = []
    settlement_entry_id: int | None
    total_minor: int
    cash_minor: int
    change_minor: int
    card_minor: int
    prepaid_minor: int
    refund_entry_id: int | None
    refunded_minor: int
    balance_minor: int
    receipt_ids: list[int] = []  # the settlement's receipt, and the refund's when value was paid out


class SaleView(BaseModel):
    entry_id: int
    card_account_id: int
    total_minor: int
    balance_minor: int
    receipt_id: int | None = None


class CancelView(BaseModel):
    tab_id: int
    cancelled_line_ids: list[int]
    open_total_minor: int


class RefundView(BaseModel):
    entry_id: int
    card_account_id: int
    refunded_minor: int
    receipt_id: int | None = None


class ReturnView(BaseModel):
    visit_id: int | None
    medium_uid: str
    medium_state: str
    deposit_refunded_minor: int = 0


class MediumView(BaseModel):
    medium_uid: str
    state: str
