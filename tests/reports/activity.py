"""A day and a half of venue activity, booked through the real use cases, for the report tests.

Card tenders go to the world's simulated terminal; amounts ending in 13, 14 or 15 would decline, abort or
time out there, so none is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from tapzone.access.entry import sell_entry
from tapzone.access.setup import create_entry_product, create_zone
from tapzone.access.visits import issue_medium
from tapzone.clock import FixedClock
from tapzone.context import RequestContext
from tapzone.ledger.model import Purpose
from tapzone.media.lifecycle import report_lost
from tapzone.media.model import MediumKind
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.selling import sell_account_type
from tapzone.plans.setup import create_account_type, create_topup_rule
from tapzone.plans.specs import AccountTypeSpec, StepSpec, TopupRuleSpec
from tapzone.plans.topup_rules import RuleKind
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import refund_prepaid, settle_tab
from tapzone.pos.shifts import open_shift
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.topup import top_up
from tapzone.store.tables import account_balances, card_balances, ledger_accounts
from tapzone.venues.settings import update_venue_settings
from tapzone.venues.setup import create_customer
from tests.world import World

DAY_ONE = date(2026, 7, 4)  # the world's clock starts at 10:00 UTC, 12:00 in Berlin


@dataclass
class Activity:
    world: World
    zone_id: int
    money_card_type: int
    ten_visits_type: int
    lost_customer: str
    day_one_closed: datetime  # a moment after everything of day one and before day two

    @property
    def clock(self) -> FixedClock:
        clock = self.world.uow.clock
        assert isinstance(clock, FixedClock)
        return clock


def _types(world: World) -> tuple[int, int]:
    def ctx() -> RequestContext:
        return world.ctx(operator=world.admin_id)

    def rule(name: str, step: StepSpec) -> int:
        return create_topup_rule(world.uow, ctx(), TopupRuleSpec(name=name, kind=RuleKind.STEPPED, steps=[step])).id

    money = rule("Money year", StepSpec(price_minor=5_000, money_minor=3_000, months=12))
    ten = rule("Ten visits", StepSpec(price_minor=4_000, money_minor=1_000, visits=10, days=90))

    def account_type(number: int, name: str, rule_id: int, price: int, vat_rate_bp: int) -> int:
        spec = AccountTypeSpec.model_validate(
            {
                "number": number,
                "name": name,
                "topup_rule_id": rule_id,
                "default_price_minor": price,
                "vat_rate_bp": vat_rate_bp,
                "deposit_minor": 0,
            }
        )
        return create_account_type(world.uow, ctx(), spec).id

    return account_type(3, "Money card", money, 5_000, 1900), account_type(4, "Ten visits", ten, 4_000, 700)


def build_activity(world: World) -> Activity:
    """Day one on two tills, then day two begins with one more top-up."""
    uow, ctx = world.uow, world.ctx
    zone_id = create_zone(uow, world.venue_id, name="Pools")
    credit_entry = create_entry_product(
        uow,
        world.venue_id,
        name="Day ticket",
        price_minor=1_800,
        vat_rate_bp=700,
        zone_id=zone_id,
        credit_type=CreditType.CREDIT,
        credit_limit_minor=5_000,
        deposit_minor=500,
    )
    money_card, ten_visits = _types(world)

    # Till 1: a prepaid wristband from entry to refund.
    issue_medium(uow, ctx(), medium_uid="P1", credit_type=CreditType.PREPAID, initial_load=world.eur(5_000))
    top_up(uow, ctx(), medium_uid="P1", amount=world.eur(1_000), tender=TenderKind.CARD)
    save_items(uow, ctx(), medium_uid="P1", items=[Item(world.beer_id, 2), Item(world.fries_id, 1)])
    settle_tab(uow, ctx(), medium_uid="P1", tenders=[Tender(TenderKind.PREPAID, world.eur(1_220))])
    sell_from_balance(uow, ctx(), medium_uid="P1", items=[Item(world.fries_id, 1)])
    refund_prepaid(uow, ctx(), medium_uid="P1", amount=world.eur(1_000))

    # Till 1: a credit card settled by card and cash with change.
    issue_medium(
        uow,
        ctx(),
        medium_uid="C1",
        credit_type=CreditType.CREDIT,
        credit_limit=world.eur(3_000),
        medium_kind=MediumKind.CARD,
    )
    save_items(uow, ctx(), medium_uid="C1", items=[Item(world.towel_id, 1), Item(world.beer_id, 1)])
    settle_tab(
        uow,
        ctx(),
        medium_uid="C1",
        tenders=[Tender(TenderKind.CARD, world.eur(1_000)), Tender(TenderKind.CASH, world.eur(700))],
    )

    # Till 1: account types sold onto cards (money card: 30.00 value; ten visits: 10.00 value and 10 visits).
    sell_account_type(uow, ctx(), medium_uid="K1", account_type_id=money_card)
    sell_account_type(uow, ctx(), medium_uid="K2", account_type_id=ten_visits, tender=TenderKind.CARD)

    # Till 2, with a shift float: an entry with a deposit whose visitor then loses the wristband, tab unpaid.
    till2 = world.till2_id
    open_shift(uow, ctx(till=till2), float_minor=10_000)
    lost_customer = "Lena Lost"
    customer_id = create_customer(uow, world.venue_id, name=lost_customer)
    sell_entry(
        uow,
        ctx(till=till2),
        entry_product_id=credit_entry,
        medium_uid="E1",
        tenders=[Tender(TenderKind.CASH, world.eur(2_300))],
        customer_id=customer_id,
    )
    # A registered customer's goods go to the customer account (seed 001 kundkonto), until the venue keeps
    # such debts on the wristband: then they stay on its open tab.
    save_items(uow, ctx(till=till2), medium_uid="E1", items=[Item(world.beer_id, 2)])
    update_venue_settings(uow, world.ctx(operator=world.admin_id), member_debt_on_medium=True)
    save_items(uow, ctx(till=till2), medium_uid="E1", items=[Item(world.towel_id, 1)])
    # A second entry, still in the pools with its deposit, tab open.
    sell_entry(
        uow,
        ctx(till=till2),
        entry_product_id=credit_entry,
        medium_uid="E2",
        tenders=[Tender(TenderKind.CARD, world.eur(2_300))],
    )
    clock = world.uow.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=90))
    save_items(uow, ctx(till=till2), medium_uid="E2", items=[Item(world.fries_id, 1)])
    report_lost(uow, world.manager(), medium_uid="E1", reason="lost in the wave pool")

    clock.advance(timedelta(minutes=30))
    day_one_closed = clock.now()
    # Day two, 08:00 in Berlin: one more top-up.
    clock.set(datetime.combine(DAY_ONE + timedelta(days=1), time(6), tzinfo=UTC))
    top_up(uow, ctx(), medium_uid="P1", amount=world.eur(2_000))
    return Activity(world, zone_id, money_card, ten_visits, lost_customer, day_one_closed)


def ledger_sum(world: World, purpose: Purpose, *, buckets: list[str] | None = None, key: str | None = None) -> int:
    """Sum of the materialised balances (account_balances), the source the reports do not read for this."""
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(account_balances.c.balance), 0))
        .select_from(account_balances.join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id))
        .where(ledger_accounts.c.venue_id == world.venue_id, ledger_accounts.c.purpose == purpose.value)
    )
    if buckets is not None:
        query = query.where(account_balances.c.bucket.in_(buckets))
    if key is not None:
        query = query.where(ledger_accounts.c.key == key)
    with world.uow.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def card_side_money(world: World) -> int:
    with world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0)).where(
                card_balances.c.venue_id == world.venue_id, card_balances.c.unit == world.currency
            )
        ).scalar_one()
    return int(value)
