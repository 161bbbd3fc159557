"""Account types for the daily-job tests, created and sold through the real use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from tapzone.clock import FixedClock
from tapzone.plans.selling import sell_account_type
from tapzone.plans.setup import create_account_type, create_topup_rule
from tapzone.plans.specs import AccountTypeSpec, StepSpec, TopupRuleSpec
from tapzone.plans.topup_rules import RuleKind
from tapzone.store.tables import card_accounts
from tapzone.venues.setup import create_customer
from tests.world import World

SUBSCRIPTION_PRICE = 12_000  # a year of subscription, no money on the card
MONEY_CARD_PRICE = 5_000  # 30.00 of prepaid value and a year of validity
TEN_VISIT_PRICE = 5_000  # ten visits, 10.00 of prepaid value, valid for 90 days
RENEWAL_FEE = 1_500  # 15.00 at 19 %


@dataclass(frozen=True)
class Types:
    world: World
    admin_id: int
    subscription: int  # auto-renew, no fee
    subscription_fee: int  # auto-renew with a fee, holds no money: the fee goes to the customer or is unpaid
    money_card: int  # auto-renew with a fee, holds money: the fee comes from the card
    ten_visits: int  # deleted on expiry, holds money and visits
    month_pass: int  # deleted on expiry, holds nothing but its validity
    plain: int  # neither renewed nor deleted

    @property
    def clock(self) -> FixedClock:
        clock = self.world.uow.clock
        assert isinstance(clock, FixedClock)
        return clock

    def sell(self, type_id: int, uid: str, *, customer_id: int | None = None, make_active: bool = True) -> int:
        sale = sell_account_type(
            self.world.uow,
            self.world.ctx(),
            medium_uid=uid,
            account_type_id=type_id,
            customer_id=customer_id,
            make_active=make_active,
        )
        return sale.account.card_account_id

    def customer(self, name: str = "Dora Direct-Debit") -> int:
        return create_customer(self.world.uow, self.world.venue_id, name=name)

    def valid_until(self, account_id: int) -> date | None:
        with self.world.uow.engine.connect() as conn:
            value: date | None = conn.execute(
                sa.select(card_accounts.c.valid_until).where(card_accounts.c.id == account_id)
            ).scalar_one()
        return value

    def set_valid_until(self, account_id: int, day: date) -> None:
        with self.world.uow.engine.begin() as conn:
            conn.execute(card_accounts.update().where(card_accounts.c.id == account_id).values(valid_until=day))


def create_types(world: World) -> Types:
    admin_id = world.admin_id

    def rule(name: str, step: StepSpec) -> int:
        spec = TopupRuleSpec(name=name, kind=RuleKind.STEPPED, steps=[step])
        return create_topup_rule(world.uow, world.ctx(operator=admin_id), spec).id

    def account_type(number: int, name: str, rule_id: int, price: int, **flags: object) -> int:
        spec = AccountTypeSpec.model_validate(
            {"number": number, "name": name, "topup_rule_id": rule_id, "default_price_minor": price, **flags}
        )
        return create_account_type(world.uow, world.ctx(operator=admin_id), spec).id

    year = rule("Year", StepSpec(price_minor=SUBSCRIPTION_PRICE, months=12))
    money_year = rule("Money year", StepSpec(price_minor=MONEY_CARD_PRICE, money_minor=3_000, months=12))
    month = rule("Month", StepSpec(price_minor=3_900, days=30))
    ten = rule("Ten visits", StepSpec(price_minor=TEN_VISIT_PRICE, money_minor=1_000, visits=10, days=90))
    return Types(
        world=world,
        admin_id=admin_id,
        subscription=account_type(1, "Abo", year, SUBSCRIPTION_PRICE, auto_renew=True, vat_rate_bp=1900),
        subscription_fee=account_type(
            2, "Abo with fee", year, SUBSCRIPTION_PRICE, auto_renew=True, fee_minor=RENEWAL_FEE, vat_rate_bp=1900
        ),
        money_card=account_type(
            3, "Money card", money_year, MONEY_CARD_PRICE, auto_renew=True, fee_minor=RENEWAL_FEE, vat_rate_bp=1900
        ),
        ten_visits=account_type(4, "Ten visits", ten, TEN_VISIT_PRICE, delete_on_expiry=True, vat_rate_bp=700),
        month_pass=account_type(6, "Month pass", month, 3_900, delete_on_expiry=True, vat_rate_bp=1900),
        plain=account_type(5, "Plain year", year, SUBSCRIPTION_PRICE, vat_rate_bp=1900),
    )
