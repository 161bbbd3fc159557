"""Top-up rules (seed 002 "Aufwertung"): how a sale price turns into card-account balances.

Free top-up: any price goes to money, plus an optional bonus percentage. Stepped top-up: a price list, each
price mapping to increments of money, bonus, minutes, visits, days, months or a valid-until date. Without a
rule the whole price goes to money. The same functions serve the preview and the booking, so the preview
can never promise what the booking does not do.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from tapzone.errors import InvalidAmount, InvalidRequest
from tapzone.money import MAX_AMOUNT_MINOR, check_positive_amount

MAX_BONUS_PERCENT_BP = 100_00  # a free rule may at most double the value


class RuleKind(StrEnum):
    FREE = "free"
    STEPPED = "stepped"


class Field(StrEnum):
    """The fields of a card account a rule can fill (seed 002 "Haben, Bonus, Minuten, Besuche, Tage, Monate,
    Datum"); fields no rule fills are hidden and do not matter for the account."""

    MONEY = "money"
    BONUS = "bonus"
    MINUTES = "minutes"
    VISITS = "visits"
    DAYS = "days"
    MONTHS = "months"
    DATE = "date"


VALIDITY_FIELDS = frozenset({Field.DAYS, Field.MONTHS, Field.DATE})


@dataclass(frozen=True, slots=True)
class Increments:
    money: int = 0
    bonus: int = 0
    minutes: int = 0
    visits: int = 0
    days: int = 0
    months: int = 0
    valid_until: date | None = None

    @property
    def extends_validity(self) -> bool:
        return bool(self.days or self.months or self.valid_until)


@dataclass(frozen=True, slots=True)
class Step:
    price_minor: int
    increments: Increments

    def __post_init__(self) -> None:
        check_positive_amount(self.price_minor, "step price")
        inc = self.increments
        for name in ("money", "bonus", "minutes", "visits", "days", "months"):
            value = getattr(inc, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT_MINOR:
                raise InvalidRequest(f"step {name} must be a non-negative integer")
        # Money on the card is what the customer paid for; value beyond the price is a bonus, kept apart.
        if inc.money > self.price_minor:
            raise InvalidRequest("a step cannot load more money than its price; give the extra as bonus")
        if inc == Increments():
            raise InvalidRequest("a step must increase at least one field")


@dataclass(frozen=True, slots=True)
class TopupRule:
    id: int
    name: str
    kind: RuleKind
    bonus_percent_bp: int = 0
    steps: tuple[Step, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind is RuleKind.FREE:
            if self.steps:
                raise InvalidRequest("a free top-up rule has no price list")
            if not 0 <= self.bonus_percent_bp <= MAX_BONUS_PERCENT_BP:
                raise InvalidRequest("bonus_percent_bp must be 0..10000")
        else:
            if not self.steps:
                raise InvalidRequest("a stepped top-up rule needs at least one price")
            if self.bonus_percent_bp:
                raise InvalidRequest("a stepped rule gives bonus per step, not as a percentage")
            prices = [step.price_minor for step in self.steps]
            if len(set(prices)) != len(prices):
                raise InvalidRequest("each price appears once in a price list")

    @property
    def prices(self) -> list[int]:
        return sorted(step.price_minor for step in self.steps)

    @property
    def fields(self) -> frozenset[Field]:
        """The account fields this rule fills."""
        if self.kind is RuleKind.FREE:
            return frozenset({Field.MONEY} | ({Field.BONUS} if self.bonus_percent_bp else set()))
        found: set[Field] = set()
        for step in self.steps:
            inc = step.increments
            for name, flag in (
                (Field.MONEY, inc.money),
                (Field.BONUS, inc.bonus),
                (Field.MINUTES, inc.minutes),
                (Field.VISITS, inc.visits),
                (Field.DAYS, inc.days),
                (Field.MONTHS, inc.months),
                (Field.DATE, inc.valid_until),
            ):
                if flag:
                    found.add(name)
        return frozenset(found)


def rule_fields(rule: TopupRule | None) -> frozenset[Field]:
    return rule.fields if rule is not None else frozenset({Field.MONEY})


def increments_for(rule: TopupRule | None, price_minor: int) -> Increments:
    """What a sale at `price_minor` adds to the account."""
    check_positive_amount(price_minor, "price")
    if rule is None:
        return Increments(money=price_minor)
    if rule.kind is RuleKind.FREE:
        return Increments(money=price_minor, bonus=price_minor * rule.bonus_percent_bp // 100_00)
    for step in rule.steps:
        if step.price_minor == price_minor:
            return step.increments
    raise InvalidAmount(f"{price_minor} is not on the price list of {rule.name!r}; choose one of {rule.prices}")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 January + 1 month = 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def extended_validity(current: date | None, today: date, inc: Increments) -> date | None:
    """The account's valid-until after a top-up: days and months extend from the current end if it is
    still ahead, else from today; a date sets the end; when both apply, the later end wins."""
    if not inc.extends_validity:
        return current
    candidates: list[date] = []
    if inc.valid_until is not None:
        candidates.append(inc.valid_until)
    if inc.days or inc.months:
        start = current if current is not None and current >= today else today
        candidates.append(add_months(start, inc.months) + timedelta(days=inc.days))
    if current is not None:
        candidates.append(current)
    return max(candidates)


@dataclass(frozen=True, slots=True)
class Balances:
    """A card account's balances as the customer sees them (seed 002's preview fields)."""

    money: int = 0
    bonus: int = 0
    minutes: int = 0
    visits: int = 0
    valid_until: date | None = None

    def after(self, inc: Increments, today: date) -> Balances:
        return Balances(
            money=self.money + inc.money,
            bonus=self.bonus + inc.bonus,
            minutes=self.minutes + inc.minutes,
            visits=self.visits + inc.visits,
            valid_until=extended_validity(self.valid_until, today, inc),
        )
