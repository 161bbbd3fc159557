"""The pure rules of seed 002: lock periods across midnight and daylight-saving switches, top-up rules,
tariffs, display digits and the field combinations an account type refuses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tapzone.errors import InvalidAccountType, InvalidAmount, InvalidRequest
from tapzone.plans.account_types import AccountType, display_number
from tapzone.plans.tariffs import Rate, Tariff, TariffKind
from tapzone.plans.topup_rules import (
    Balances,
    Increments,
    RuleKind,
    Step,
    TopupRule,
    add_months,
    extended_validity,
    increments_for,
)
from tapzone.plans.usage import Denial, PaidWith, UsageFacts, days_absent, decide_usage, unlock_at

BERLIN = ZoneInfo("Europe/Berlin")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


# --- lock periods -----------------------------------------------------------------------------------------


def test_lock_one_calendar_day_allows_evening_then_next_morning() -> None:
    """seed 002: with lock 1 the sunbed can be used twice within 24 hours, evening and next morning."""
    evening = local(2026, 6, 10, 20, 0)
    opens = unlock_at(evening, 1, None, BERLIN)
    assert opens == local(2026, 6, 11, 0, 0)
    assert local(2026, 6, 11, 7, 0) >= opens
    assert local(2026, 6, 10, 23, 59) < opens


def test_lock_hours_are_strict_hours() -> None:
    """24 hours really are 24 hours: evening, then the next morning is refused until the evening."""
    evening = local(2026, 6, 10, 20, 0)
    opens = unlock_at(evening, None, 24, BERLIN)
    assert opens == local(2026, 6, 11, 20, 0)


def test_days_and_hours_combine_strictly() -> None:
    """seed 002: 1 day + 12 hours = 36 hours as soon as hours are set."""
    used = local(2026, 6, 10, 9, 0)
    assert unlock_at(used, 1, 12, BERLIN) == used + timedelta(hours=36)


@pytest.mark.parametrize(
    ("used", "expected_local_day"),
    [
        (local(2026, 3, 28, 23, 30), date(2026, 3, 29)),  # the night clocks go forward (CET → CEST)
        (local(2026, 10, 24, 23, 30), date(2026, 10, 25)),  # the night clocks go back (CEST → CET)
    ],
)
def test_lock_days_across_daylight_saving_switch_end_at_local_midnight(
    used: datetime, expected_local_day: date
) -> None:
    opens = unlock_at(used, 1, None, BERLIN)
    assert opens is not None
    as_local = opens.astimezone(BERLIN)
    assert (as_local.date(), as_local.hour, as_local.minute) == (expected_local_day, 0, 0)


@pytest.mark.parametrize(
    ("used", "local_hour_after"),
    [
        (local(2026, 3, 28, 12, 0), 13),  # 24 real hours later the wall clock shows one hour more
        (local(2026, 10, 24, 12, 0), 11),  # and one hour less in autumn
    ],
)
def test_lock_hours_across_daylight_saving_switch_count_real_hours(used: datetime, local_hour_after: int) -> None:
    opens = unlock_at(used, None, 24, BERLIN)
    assert opens is not None
    assert opens - used == timedelta(hours=24)
    assert opens.astimezone(BERLIN).hour == local_hour_after


def test_no_lock_without_settings_or_history() -> None:
    assert unlock_at(None, 1, 12, BERLIN) is None
    assert unlock_at(local(2026, 6, 10, 9, 0), None, None, BERLIN) is None
    assert unlock_at(local(2026, 6, 10, 9, 0), 0, 0, BERLIN) is None


def test_days_absent_counts_local_calendar_days() -> None:
    assert days_absent(local(2026, 6, 10, 23, 59), date(2026, 6, 11), BERLIN) == 1
    assert days_absent(None, date(2026, 6, 11), BERLIN) is None


# --- top-up rules -------------------------------------------------------------------------------------------


def test_no_rule_puts_the_whole_price_into_money() -> None:
    assert increments_for(None, 2500) == Increments(money=2500)


def test_free_rule_adds_bonus_percentage_rounded_down() -> None:
    rule = TopupRule(1, "Happy Hour", RuleKind.FREE, bonus_percent_bp=1500)
    assert increments_for(rule, 3333) == Increments(money=3333, bonus=499)


def test_stepped_rule_maps_prices_and_refuses_others() -> None:
    rule = TopupRule(
        1,
        "Zehnerkarte",
        RuleKind.STEPPED,
        steps=(Step(8000, Increments(visits=10)), Step(4500, Increments(visits=5))),
    )
    assert increments_for(rule, 8000) == Increments(visits=10)
    assert rule.prices == [4500, 8000]
    with pytest.raises(InvalidAmount):
        increments_for(rule, 7000)


def test_a_step_cannot_load_more_money_than_its_price() -> None:
    with pytest.raises(InvalidRequest):
        Step(5000, Increments(money=5500))
    with pytest.raises(InvalidRequest):
        Step(5000, Increments())


def test_months_clamp_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 15), 12) == date(2028, 12, 15)


def test_validity_extends_from_a_running_end_or_from_today() -> None:
    today = date(2026, 6, 1)
    month = Increments(months=1)
    assert extended_validity(None, today, month) == date(2026, 7, 1)
    assert extended_validity(date(2026, 6, 20), today, month) == date(2026, 7, 20)
    assert extended_validity(date(2026, 5, 1), today, month) == date(2026, 7, 1)  # expired: from today
    assert extended_validity(date(2026, 6, 20), today, Increments(valid_until=date(2026, 12, 24))) == date(2026, 12, 24)
    assert extended_validity(date(2026, 6, 20), today, Increments(money=5)) == date(2026, 6, 20)


# --- tariffs ------------------------------------------------------------------------------------------------


def test_time_table_overrides_base_price_by_weekday_and_hour() -> None:
    happy_hour = Rate(weekdays=0b0011111, start_minute=14 * 60, end_minute=17 * 60, price_minor=30)
    tariff = Tariff(1, "Solarium", TariffKind.PER_MINUTE, price_minor=50, rates=(happy_hour,))
    wednesday_afternoon = datetime(2026, 6, 10, 15, 0, tzinfo=BERLIN)
    assert tariff.price(wednesday_afternoon, 10) == 300
    assert tariff.price(wednesday_afternoon.replace(hour=17), 10) == 500
    saturday_afternoon = datetime(2026, 6, 13, 15, 0, tzinfo=BERLIN)
    assert tariff.price(saturday_afternoon, 10) == 500


def test_time_table_without_base_price_has_no_price_outside_its_rates() -> None:
    evenings = Rate(weekdays=0b1111111, start_minute=18 * 60, end_minute=22 * 60, price_minor=700)
    tariff = Tariff(1, "Sauna evening", TariffKind.PER_USE, rates=(evenings,))
    assert tariff.price(datetime(2026, 6, 10, 19, 0, tzinfo=BERLIN), 60) == 700
    assert tariff.price(datetime(2026, 6, 10, 12, 0, tzinfo=BERLIN), 60) is None


def test_subscription_tariff_has_no_price() -> None:
    with pytest.raises(InvalidRequest):
        Tariff(1, "Abo", TariffKind.SUBSCRIPTION, price_minor=100)
    with pytest.raises(InvalidRequest):
        Tariff(1, "Fixed", TariffKind.PER_USE)


# --- account types ------------------------------------------------------------------------------------------

PER_MINUTE = Tariff(1, "per minute", TariffKind.PER_MINUTE, price_minor=50)
PER_USE = Tariff(2, "per use", TariffKind.PER_USE, price_minor=600)
SUBSCRIPTION = Tariff(3, "Abo", TariffKind.SUBSCRIPTION, max_minutes=15, resource_ids=frozenset({7}))
VISITS = TopupRule(1, "10 visits", RuleKind.STEPPED, steps=(Step(8000, Increments(visits=10)),))
MINUTES = TopupRule(2, "100 minutes", RuleKind.STEPPED, steps=(Step(4000, Increments(minutes=100)),))
BONUS = TopupRule(3, "bonus", RuleKind.FREE, bonus_percent_bp=2000)
MONTHS = TopupRule(4, "month", RuleKind.STEPPED, steps=(Step(4900, Increments(months=1)),))


def account_type(**changes: object) -> AccountType:
    base = AccountType(
        id=1,
        venue_id=1,
        number=1,
        name="card",
        tariff=PER_MINUTE,
        usage_free=False,
        rule=None,
        discount_type_id=None,
        default_price_minor=None,
        vat_rate_bp=1900,
        deposit_minor=None,
        deposit_is_sale_price=False,
        lock_days=None,
        lock_hours=None,
        half_time_after_days=None,
        fee_minor=0,
        number_from=None,
        number_to=None,
        sellable=True,
        auto_renew=False,
        delete_on_expiry=False,
        pay_without_topup=False,
        staff_only=False,
        fingerprint_required=False,
        picture=None,
        skin_types_enforced=False,
        contract_required=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_pay_without_topup_only_for_money_accounts_with_a_per_minute_tariff() -> None:
    account_type(pay_without_topup=True, rule=BONUS).check()
    account_type(pay_without_topup=True).check()  # no rule: money
    for refused in (
        account_type(pay_without_topup=True, rule=VISITS),
        account_type(pay_without_topup=True, rule=MINUTES),
        account_type(pay_without_topup=True, tariff=PER_USE),
        account_type(pay_without_topup=True, tariff=SUBSCRIPTION, usage_free=True, rule=MONTHS),
        account_type(pay_without_topup=True, tariff=None),
    ):
        with pytest.raises(InvalidAccountType, match="per-minute"):
            refused.check()


def test_contradicting_fields_are_refused() -> None:
    for refused in (
        account_type(tariff=SUBSCRIPTION),  # a subscription tariff needs usage free
        account_type(usage_free=True, tariff=PER_USE),
        account_type(number_from=10000),
        account_type(number_from=20000, number_to=10000),
        account_type(auto_renew=True, delete_on_expiry=True),
        account_type(discount_type_id=1),
        account_type(rule=VISITS, default_price_minor=7000),
    ):
        with pytest.raises(InvalidAccountType):
            refused.check()


def test_signature_tells_a_bonus_card_from_a_subscription() -> None:
    bonus_card = account_type(rule=BONUS)
    subscription = account_type(tariff=SUBSCRIPTION, usage_free=True, rule=MONTHS)
    assert bonus_card.signature != subscription.signature
    assert bonus_card.signature == account_type(rule=BONUS, name="other name", number=9).signature


def test_display_digits() -> None:
    """seed 002: the card number 10046 with 3 digits is shown as 046."""
    assert display_number("10046", 3) == "046"
    assert display_number("10046", None) == "10046"
    assert display_number("04A1B2", 3) == "04A1B2"


# --- using a service ----------------------------------------------------------------------------------------


def facts(kind: AccountType | None, **changes: object) -> UsageFacts:
    base = UsageFacts(
        account_type=kind,
        resource_id=7,
        resource_max_minutes=20,
        requested_minutes=12,
        now=local(2026, 6, 10, 15, 0),
        tz=BERLIN,
        balances=Balances(money=1000),
        last_used_at=None,
        from_kiosk=False,
        fingerprint_confirmed=False,
        skin_type_max_minutes=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_money_pays_first_then_bonus() -> None:
    usage = decide_usage(facts(account_type(rule=BONUS), balances=Balances(money=400, bonus=300)))
    assert usage.allowed
    assert (usage.price_minor, usage.money_minor, usage.bonus, usage.paid_with) == (600, 400, 200, PaidWith.BALANCE)


def test_visits_card_pays_one_visit() -> None:
    usage = decide_usage(facts(account_type(rule=VISITS), balances=Balances(visits=3)))
    assert (usage.paid_with, usage.visits, usage.money_minor) == (PaidWith.VISITS, 1, 0)


def test_insufficient_balance_and_pay_without_topup() -> None:
    poor = Balances(money=100)
    assert decide_usage(facts(account_type(), balances=poor)).denial is Denial.INSUFFICIENT_BALANCE
    usage = decide_usage(facts(account_type(pay_without_topup=True), balances=poor))
    assert (usage.paid_with, usage.price_minor, usage.money_minor) == (PaidWith.TAB, 600, 0)


def test_subscription_is_free_but_limited() -> None:
    kind = account_type(tariff=SUBSCRIPTION, usage_free=True, rule=MONTHS)
    held = Balances(valid_until=date(2026, 7, 1))
    usage = decide_usage(facts(kind, balances=held))
    assert (usage.paid_with, usage.minutes, usage.price_minor) == (PaidWith.FREE, 12, 0)
    assert decide_usage(facts(kind, balances=held, requested_minutes=30)).minutes == 15
    assert decide_usage(facts(kind, balances=held, resource_id=8)).denial is Denial.RESOURCE_NOT_INCLUDED
    expired = Balances(valid_until=date(2026, 6, 9))
    assert decide_usage(facts(kind, balances=expired)).denial is Denial.EXPIRED


def test_type_without_tariff_is_unusable_unless_usage_free() -> None:
    assert decide_usage(facts(account_type(tariff=None))).denial is Denial.NO_TARIFF
    assert decide_usage(facts(None)).denial is Denial.NO_TARIFF
    assert decide_usage(facts(account_type(tariff=None, usage_free=True))).paid_with is PaidWith.FREE


def test_half_time_after_long_absence() -> None:
    kind = account_type(half_time_after_days=30)
    away = decide_usage(facts(kind, last_used_at=local(2026, 5, 1, 15, 0), requested_minutes=20))
    assert (away.minutes, away.max_minutes, away.halved) == (10, 10, True)
    recent = decide_usage(facts(kind, last_used_at=local(2026, 6, 1, 15, 0), requested_minutes=20))
    assert (recent.minutes, recent.halved) == (20, False)


def test_denials_in_order() -> None:
    assert decide_usage(facts(account_type(staff_only=True), from_kiosk=True)).denial is Denial.STAFF_ONLY
    assert decide_usage(facts(account_type(staff_only=True))).allowed
    assert decide_usage(facts(account_type(fingerprint_required=True))).denial is Denial.FINGERPRINT_NOT_CONFIRMED
    assert decide_usage(facts(account_type(fingerprint_required=True), fingerprint_confirmed=True)).allowed
    assert decide_usage(facts(account_type(skin_types_enforced=True))).denial is Denial.SKIN_TYPE_MISSING
    over = decide_usage(facts(account_type(skin_types_enforced=True), skin_type_max_minutes=10))
    assert (over.denial, over.max_minutes) == (Denial.SKIN_TYPE_MAXIMUM_EXCEEDED, 10)
    locked = decide_usage(facts(account_type(lock_days=1), last_used_at=local(2026, 6, 10, 9, 0)))
    assert locked.denial is Denial.LOCKED
    assert locked.unlock_at == local(2026, 6, 11, 0, 0)
