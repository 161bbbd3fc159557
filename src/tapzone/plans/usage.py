"""Using a service with a card account (seed 002): may it start now, for how long, and what does it cost.

Pure domain. The store gathers the facts, `decide_usage` answers with the minutes allowed and what to
charge, or a denial with a stable reason the kiosk or till shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tapzone.plans.account_types import AccountType
from tapzone.plans.topup_rules import Balances, Field


class Denial(StrEnum):
    LOCKED = "locked"
    EXPIRED = "expired"
    NO_TARIFF = "no-tariff"
    RESOURCE_NOT_INCLUDED = "resource-not-included"
    STAFF_ONLY = "staff-only"
    FINGERPRINT_NOT_CONFIRMED = "fingerprint-not-confirmed"
    SKIN_TYPE_MISSING = "skin-type-missing"
    SKIN_TYPE_MAXIMUM_EXCEEDED = "skin-type-maximum-exceeded"
    INSUFFICIENT_BALANCE = "insufficient-balance"


# What the kiosk or the sunbed's display shows (English msgids; translated from the Babel catalogs).
USAGE_TEXTS: dict[Denial | None, str] = {
    None: "Enjoy your session",
    Denial.LOCKED: "Card locked until the time shown",
    Denial.EXPIRED: "Card expired, please see the counter",
    Denial.NO_TARIFF: "This card cannot be used here",
    Denial.RESOURCE_NOT_INCLUDED: "This card is not valid for this device",
    Denial.STAFF_ONLY: "Please use this card at the counter",
    Denial.FINGERPRINT_NOT_CONFIRMED: "Please confirm with your fingerprint first",
    Denial.SKIN_TYPE_MISSING: "Skin type not recorded, please see the counter",
    Denial.SKIN_TYPE_MAXIMUM_EXCEEDED: "Longer than your skin type allows",
    Denial.INSUFFICIENT_BALANCE: "Balance too low, please top up",
}


class PaidWith(StrEnum):
    FREE = "free"  # usage-free subscription
    VISITS = "visits"
    MINUTES = "minutes"
    BALANCE = "balance"  # money, then bonus
    TAB = "tab"  # pay without top-up: the price goes on the tab, paid at the counter


def unlock_at(
    last_used_at: datetime | None, lock_days: int | None, lock_hours: int | None, tz: ZoneInfo
) -> datetime | None:
    """When the account may be used again (UTC), or None if no lock applies.

    seed 002: lock days count calendar days in the venue's zone (lock 1 day: evening, then next morning is
    fine); as soon as lock hours are set the gap is strict hours, days × 24 + hours (1 day + 12 h = 36 h),
    counted in real elapsed time, so a daylight-saving switch neither shortens nor stretches it.
    """
    if last_used_at is None or not (lock_days or lock_hours):
        return None
    if lock_hours:
        return last_used_at + timedelta(hours=(lock_days or 0) * 24 + lock_hours)
    assert lock_days is not None
    next_day = last_used_at.astimezone(tz).date() + timedelta(days=lock_days)
    return datetime.combine(next_day, time(0), tzinfo=tz).astimezone(UTC)


def days_absent(last_used_at: datetime | None, today: date, tz: ZoneInfo) -> int | None:
    if last_used_at is None:
        return None
    return (today - last_used_at.astimezone(tz).date()).days


@dataclass(frozen=True, slots=True)
class UsageFacts:
    account_type: AccountType | None
    resource_id: int
    resource_max_minutes: int
    requested_minutes: int
    now: datetime
    tz: ZoneInfo
    balances: Balances
    last_used_at: datetime | None
    from_kiosk: bool
    fingerprint_confirmed: bool
    skin_type_max_minutes: int | None  # None: the customer's skin type is not recorded

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)


@dataclass(frozen=True, slots=True)
class Usage:
    """Allowed: minutes, price and the charge split; denied: the reason and what helps the caller."""

    denial: Denial | None
    minutes: int = 0
    max_minutes: int = 0
    price_minor: int = 0
    paid_with: PaidWith | None = None
    money_minor: int = 0
    bonus: int = 0
    minutes_charged: int = 0
    visits: int = 0
    unlock_at: datetime | None = None
    halved: bool = False

    @property
    def allowed(self) -> bool:
        return self.denial is None


def _max_minutes(facts: UsageFacts, kind: AccountType) -> tuple[int, bool]:
    """The longest session: the resource's limit, a subscription tariff's, halved after a long absence."""
    longest = facts.resource_max_minutes
    if kind.tariff is not None and kind.tariff.max_minutes is not None:
        longest = min(longest, kind.tariff.max_minutes)
    absent = days_absent(facts.last_used_at, facts.local_now.date(), facts.tz)
    halved = kind.half_time_after_days is not None and absent is not None and absent >= kind.half_time_after_days
    if halved:
        longest = max(1, longest // 2)
    return longest, halved


def decide_usage(facts: UsageFacts) -> Usage:
    kind = facts.account_type
    if kind is None or (kind.tariff is None and not kind.usage_free):
        return Usage(denial=Denial.NO_TARIFF)
    if kind.staff_only and facts.from_kiosk:
        return Usage(denial=Denial.STAFF_ONLY)
    if kind.fingerprint_required and not facts.fingerprint_confirmed:
        return Usage(denial=Denial.FINGERPRINT_NOT_CONFIRMED)
    valid_until = facts.balances.valid_until
    if valid_until is not None and valid_until < facts.local_now.date():
        return Usage(denial=Denial.EXPIRED)
    if kind.tariff is not None and not kind.tariff.allows_resource(facts.resource_id):
        return Usage(denial=Denial.RESOURCE_NOT_INCLUDED)
    if kind.skin_types_enforced and facts.skin_type_max_minutes is None:
        return Usage(denial=Denial.SKIN_TYPE_MISSING)
    opens = unlock_at(facts.last_used_at, kind.lock_days, kind.lock_hours, facts.tz)
    if opens is not None and facts.now < opens:
        return Usage(denial=Denial.LOCKED, unlock_at=opens)

    longest, halved = _max_minutes(facts, kind)
    if kind.skin_types_enforced and facts.skin_type_max_minutes is not None:
        longest = min(longest, facts.skin_type_max_minutes)
        if facts.requested_minutes > facts.skin_type_max_minutes:
            # Skin safety is not silently shortened: the customer chooses a shorter session knowingly.
            return Usage(denial=Denial.SKIN_TYPE_MAXIMUM_EXCEEDED, max_minutes=longest, halved=halved)
    minutes = min(facts.requested_minutes, longest)
    return _charge(facts, kind, minutes, longest, halved)


@dataclass(frozen=True, slots=True)
class _Session:
    minutes: int
    longest: int
    halved: bool

    def allow(self, price: int, paid_with: PaidWith, **charges: int) -> Usage:
        return Usage(
            denial=None,
            minutes=self.minutes,
            max_minutes=self.longest,
            halved=self.halved,
            price_minor=price,
            paid_with=paid_with,
            money_minor=charges.get("money", 0),
            bonus=charges.get("bonus", 0),
            minutes_charged=charges.get("minutes", 0),
            visits=charges.get("visits", 0),
        )


def _charge(facts: UsageFacts, kind: AccountType, minutes: int, longest: int, halved: bool) -> Usage:
    """Which balance pays: visits, else minutes, else money then bonus, else the tab if the type allows."""
    session = _Session(minutes, longest, halved)
    if kind.usage_free:
        return session.allow(0, PaidWith.FREE)
    assert kind.tariff is not None
    price = kind.tariff.price(facts.local_now, minutes)
    if price is None:  # a time table without a rate for this hour
        return Usage(denial=Denial.NO_TARIFF)
    held = facts.balances
    fields = kind.fields
    if Field.VISITS in fields and held.visits >= 1:
        return session.allow(price, PaidWith.VISITS, visits=1)
    if Field.MINUTES in fields and held.minutes >= minutes:
        return session.allow(price, PaidWith.MINUTES, minutes=minutes)
    if (Field.MONEY in fields or Field.BONUS in fields) and held.money + held.bonus >= price:
        money = min(held.money, price)  # money first: bonus is what the customer was given, not paid
        return session.allow(price, PaidWith.BALANCE, money=money, bonus=price - money)
    if kind.pay_without_topup:
        return session.allow(price, PaidWith.TAB)
    return Usage(denial=Denial.INSUFFICIENT_BALANCE, max_minutes=longest, price_minor=price)
