"""Property: the top-up preview equals what the booking does (seed 002's preview fields), for random free
and stepped rules, first sales and top-ups of running accounts, with validity in days, months or a date."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tapzone.plans.selling import preview_sale, sell_account_type
from tapzone.plans.setup import create_account_type, create_topup_rule
from tapzone.plans.specs import AccountTypeSpec, StepSpec, TopupRuleSpec
from tapzone.plans.topup_rules import RuleKind
from tests.world import World

prices = st.integers(min_value=1, max_value=100_000)
counts = st.integers(min_value=0, max_value=500)


@st.composite
def steps(draw: st.DrawFn) -> StepSpec:
    price = draw(prices)
    step = StepSpec(
        price_minor=price,
        money_minor=draw(st.integers(min_value=0, max_value=price)),
        bonus=draw(counts),
        minutes=draw(counts),
        visits=draw(st.integers(min_value=0, max_value=20)),
        days=draw(st.integers(min_value=0, max_value=60)),
        months=draw(st.integers(min_value=0, max_value=13)),
        valid_until=draw(st.none() | st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))),
    )
    if step.model_dump(exclude={"price_minor"}) == StepSpec(price_minor=price).model_dump(exclude={"price_minor"}):
        return StepSpec(price_minor=price, visits=1)
    return step


rules = st.one_of(
    st.builds(lambda bp: ("free", bp, []), st.integers(min_value=0, max_value=10_000)),
    st.builds(
        lambda chosen: ("stepped", 0, chosen),
        st.lists(steps(), min_size=1, max_size=4, unique_by=lambda step: step.price_minor),
    ),
)

_numbers = itertools.count(1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rule=rules,
    first=st.integers(min_value=0, max_value=3),
    second=st.integers(min_value=0, max_value=3),
    free_price=prices,
)
def test_preview_equals_booking(
    world: World, rule: tuple[str, int, list[StepSpec]], first: int, second: int, free_price: int
) -> None:
    kind, bonus_bp, chosen = rule
    number = next(_numbers)
    admin = world.ctx(operator=world.admin_id)
    rule_id = create_topup_rule(
        world.uow,
        admin,
        TopupRuleSpec(name=f"rule {number}", kind=RuleKind(kind), bonus_percent_bp=bonus_bp, steps=chosen),
    ).id
    type_id = create_account_type(
        world.uow,
        world.ctx(operator=world.admin_id),
        AccountTypeSpec(number=number, name=f"type {number}", topup_rule_id=rule_id),
    ).id

    def price(pick: int) -> int:
        return chosen[pick % len(chosen)].price_minor if chosen else free_price + pick

    uid = f"P-{number}"
    for pick in (first, second):  # a first sale, then a top-up of the running account
        preview = preview_sale(world.uow, world.ctx(), account_type_id=type_id, price_minor=price(pick), medium_uid=uid)
        sale = sell_account_type(
            world.uow, world.ctx(), medium_uid=uid, account_type_id=type_id, price_minor=price(pick)
        )
        assert sale.account.balances == preview.resulting
        assert sale.fee_minor == preview.fee_minor
    world.assert_ledger_clean()
