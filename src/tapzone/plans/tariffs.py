"""Tariffs (seed 002 "Tarif"): what one use of a service costs.

A fixed tariff prices per use or per minute; a time table overrides that price by weekday and time of day;
a subscription tariff ("Abotarif") prices nothing but limits the session length and which resources it
may switch on. Pure domain: no database here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tapzone.errors import InvalidRequest
from tapzone.money import check_positive_amount

MINUTES_PER_DAY = 24 * 60
ALL_WEEKDAYS = 0b1111111


class TariffKind(StrEnum):
    PER_USE = "per-use"
    PER_MINUTE = "per-minute"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True, slots=True)
class Rate:
    """One row of a time table: on these weekdays (bit 0 = Monday), from start to end minute of the day."""

    weekdays: int
    start_minute: int
    end_minute: int
    price_minor: int

    def __post_init__(self) -> None:
        if not 0 < self.weekdays <= ALL_WEEKDAYS:
            raise InvalidRequest("weekdays is a bit mask 1..127 (bit 0 = Monday)")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise InvalidRequest("a rate needs 0 <= start_minute < end_minute <= 1440")
        check_positive_amount(self.price_minor, "rate price")

    def covers(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return bool(self.weekdays >> local.weekday() & 1) and self.start_minute <= minute < self.end_minute


@dataclass(frozen=True, slots=True)
class Tariff:
    id: int
    name: str
    kind: TariffKind
    price_minor: int | None = None
    rates: tuple[Rate, ...] = field(default=())
    max_minutes: int | None = None
    resource_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.kind is TariffKind.SUBSCRIPTION:
            if self.price_minor is not None or self.rates:
                raise InvalidRequest("a subscription tariff has no price; it limits minutes and resources")
        else:
            if self.price_minor is None and not self.rates:
                raise InvalidRequest("a priced tariff needs a price or a time table")
            if self.price_minor is not None:
                check_positive_amount(self.price_minor, "tariff price")
            if self.resource_ids:
                raise InvalidRequest("only a subscription tariff limits the resources")
        if self.max_minutes is not None and not 1 <= self.max_minutes <= MINUTES_PER_DAY:
            raise InvalidRequest("max_minutes must be 1..1440")

    @property
    def is_time_table(self) -> bool:
        return bool(self.rates)

    def unit_price(self, local_start: datetime) -> int | None:
        """The price per use or per minute at this local time; None when the time table has no rate for it."""
        for rate in self.rates:
            if rate.covers(local_start):
                return rate.price_minor
        return self.price_minor

    def price(self, local_start: datetime, minutes: int) -> int | None:
        """What a session of `minutes` starting at `local_start` costs; 0 for a subscription."""
        if self.kind is TariffKind.SUBSCRIPTION:
            return 0
        unit = self.unit_price(local_start)
        if unit is None:
            return None
        return unit * minutes if self.kind is TariffKind.PER_MINUTE else unit

    def allows_resource(self, resource_id: int) -> bool:
        return not self.resource_ids or resource_id in self.resource_ids
