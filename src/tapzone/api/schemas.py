"""Request bodies. Amounts are strict JSON integers of minor units: "10", 10.0 and 10.5 are refused
(DESIGN §4); the currency is always named so a till configured for another currency cannot book."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from tapzone.context import MediumEntry
from tapzone.media.model import MediumKind
from tapzone.money import MAX_AMOUNT_MINOR, Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import MAX_ITEMS, MAX_QUANTITY, Item
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, Tender, TenderKind

PositiveMinor = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT_MINOR, description="minor units, e.g. 450 = 4.50")]
NonNegativeMinor = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_MINOR)]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the venue's currency")]
Uid = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountIn(Body):
    amount_minor: PositiveMinor
    currency: Currency

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)


class LimitIn(Body):
    amount_minor: NonNegativeMinor
    currency: Currency

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)


class SignIn(Body):
    login: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=256)]


class IssueMedium(Body):
    medium_uid: Uid
    medium_kind: MediumKind = MediumKind.WRISTBAND
    credit_type: CreditType
    credit_limit: LimitIn | None = None
    initial_load: AmountIn | None = None
    tender: TenderKind = TenderKind.CASH
    card_provider: Annotated[StrictStr, Field(min_length=1, max_length=32)] = DEFAULT_CARD_PROVIDER
    customer_id: StrictInt | None = None


class AddCardAccount(Body):
    credit_type: CreditType
    credit_limit: LimitIn | None = None
    initial_load: AmountIn | None = None
    tender: TenderKind = TenderKind.CASH
    card_provider: Annotated[StrictStr, Field(min_length=1, max_length=32)] = DEFAULT_CARD_PROVIDER
    make_active: StrictBool = False
    entry: MediumEntry = MediumEntry.READER


class ChooseCardAccount(Body):
    card_account_id: StrictInt
    entry: MediumEntry = MediumEntry.READER


class MediumRequest(Body):
    """Any action on a medium: how it was read, and which card account (the active one by default)."""

    entry: MediumEntry = MediumEntry.READER
    card_account_id: StrictInt | None = None


class TopUp(MediumRequest):
    amount: AmountIn
    tender: TenderKind = TenderKind.CASH
    card_provider: Annotated[StrictStr, Field(min_length=1, max_length=32)] = DEFAULT_CARD_PROVIDER


class ItemIn(Body):
    product_id: StrictInt
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)] = 1


class Items(MediumRequest):
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]

    def domain_items(self) -> list[Item]:
        return [Item(item.product_id, item.quantity) for item in self.items]


class Cancel(MediumRequest):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    line_ids: list[StrictInt] | None = None


class TenderIn(Body):
    kind: TenderKind
    amount_minor: PositiveMinor
    currency: Currency
    provider: Annotated[StrictStr, Field(min_length=1, max_length=32)] = DEFAULT_CARD_PROVIDER


class Settle(MediumRequest):
    tenders: Annotated[list[TenderIn], Field(max_length=10)]
    pay_out_leftover: StrictBool = False
    include_party: StrictBool = False
    other_media: Annotated[list[Uid], Field(max_length=20, default_factory=list)]

    def domain_tenders(self) -> list[Tender]:
        return [Tender(t.kind, Money(t.amount_minor, t.currency), t.provider) for t in self.tenders]


class Refund(MediumRequest):
    amount: AmountIn | None = None


class Reason(Body):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=200)]


class ReturnMedium(Body):
    entry: MediumEntry = MediumEntry.READER
