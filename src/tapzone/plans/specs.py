"""What the back office sends to configure tariffs, top-up rules and account types, and what it gets back.

Pydantic models with strict integers: the API uses them as request bodies, the CLI and the demo call the
use cases with them directly, so there is one description of each form.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from tapzone.money import MAX_AMOUNT_MINOR
from tapzone.plans.tariffs import TariffKind
from tapzone.plans.topup_rules import RuleKind
from tapzone.text import check_name_value

Minor = Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT_MINOR)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_MINOR)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name_value)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSpec(Spec):
    weekdays: Annotated[StrictInt, Field(ge=1, le=127, description="bit 0 = Monday … bit 6 = Sunday")]
    start_minute: Annotated[StrictInt, Field(ge=0, le=1439)]
    end_minute: Annotated[StrictInt, Field(ge=1, le=1440)]
    price_minor: Minor


class TariffSpec(Spec):
    name: Name
    kind: TariffKind
    price_minor: Minor | None = None
    rates: Annotated[list[RateSpec], Field(max_length=50)] = []
    max_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] | None = None
    resource_ids: Annotated[list[StrictInt], Field(max_length=100)] = []


class StepSpec(Spec):
    price_minor: Minor
    money_minor: Count = 0
    bonus: Count = 0
    minutes: Count = 0
    visits: Count = 0
    days: Annotated[StrictInt, Field(ge=0, le=3660)] = 0
    months: Annotated[StrictInt, Field(ge=0, le=120)] = 0
    valid_until: date | None = None


class TopupRuleSpec(Spec):
    name: Name
    kind: RuleKind
    bonus_percent_bp: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    steps: Annotated[list[StepSpec], Field(max_length=50)] = []


class AccountTypeSpec(Spec):
    """Every field of seed 002's "Kartenkonto" dialog."""

    number: Annotated[StrictInt, Field(ge=1, le=999_999)]
    name: Name
    tariff_id: StrictInt | None = None
    usage_free: StrictBool = False
    topup_rule_id: StrictInt | None = None
    discount_type_id: StrictInt | None = None
    default_price_minor: Minor | None = None
    vat_rate_bp: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    deposit_minor: Count | None = None
    deposit_is_sale_price: StrictBool = False
    lock_days: Annotated[StrictInt, Field(ge=0, le=365)] | None = None
    lock_hours: Annotated[StrictInt, Field(ge=0, le=8760)] | None = None
    half_time_after_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    fee_minor: Count = 0
    number_from: Annotated[StrictInt, Field(ge=0, le=10**18)] | None = None
    number_to: Annotated[StrictInt, Field(ge=0, le=10**18)] | None = None
    sellable: StrictBool = True
    auto_renew: StrictBool = False
    delete_on_expiry: StrictBool = False
    pay_without_topup: StrictBool = False
    staff_only: StrictBool = False
    fingerprint_required: StrictBool = False
    picture: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    skin_types_enforced: StrictBool = False
    contract_required: StrictBool = False


class ContractSpec(Spec):
    """seed 002 "Abovertrag": every field is mandatory except the BIC, which the IBAN usually implies."""

    account_holder: Name
    iban: Annotated[str, Field(min_length=15, max_length=42)]
    bic: Annotated[str, Field(min_length=8, max_length=11)] | None = None
    mandate_reference: Annotated[str, Field(min_length=1, max_length=35)]
    mandate_signed_on: date
    address: Annotated[str, Field(min_length=5, max_length=500)]


class CreatedView(BaseModel):
    id: int


class AccountTypeView(AccountTypeSpec):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    fields: list[str]
    price_list: list[int]


class BalancesView(BaseModel):
    money_minor: int
    bonus: int
    minutes: int
    visits: int
    valid_until: date | None


class PreviewView(BaseModel):
    """seed 002's preview: how a price turns into the account's fields, before anything is booked."""

    account_type_id: int
    price_minor: int
    fields: list[str]
    added: BalancesView
    resulting: BalancesView
    fee_minor: int


class TypedAccountView(BaseModel):
    card_account_id: int
    visit_id: int
    medium_uid: str
    display_number: str
    account_type_id: int | None
    account_type_number: int | None
    account_type_name: str | None
    is_active: bool
    credit_type: str
    balances: BalancesView
    last_used_at: datetime | None


class AccountSaleView(BaseModel):
    account: TypedAccountView
    created: bool
    price_minor: int
    fee_minor: int
    deposit_minor: int
    total_charged_minor: int
    entry_ids: list[int]
    receipt_id: int | None = None
