"""A paid zone for gate tests: entrance and exit turnstiles, a collector, a two-way validator, and entry
products for credit, prepaid, a shared-mode family and a separate-mode group."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tapzone.access.entry import EntrySaleView, sell_entry
from tapzone.access.gates import TapView, tap
from tapzone.access.model import AntiPassback, Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.context import RequestContext
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.venues.model import DeviceKind
from tests.world import World


@dataclass
class Zone:
    world: World
    zone_id: int
    other_zone_id: int
    entrance: int
    exit: int
    collector: int
    validator: int
    other_zone_gate: int
    credit_entry: int
    prepaid_entry: int
    family_shared: int
    group_separate: int

    def sell(
        self, product: int, uid: str, companions: list[str] | None = None, load: int | None = None, price: int = 0
    ) -> EntrySaleView:
        w = self.world
        due = price or self._due(product, companions, load)
        return sell_entry(
            w.uow,
            w.ctx(),
            entry_product_id=product,
            medium_uid=uid,
            companion_uids=companions,
            tenders=[Tender(TenderKind.CASH, Money(due, "EUR"))],
            initial_load=Money(load, "EUR") if load else None,
        )

    def _due(self, product: int, companions: list[str] | None, load: int | None) -> int:
        price = {
            self.credit_entry: 1500,
            self.prepaid_entry: 1500,
            self.family_shared: 4000,
            self.group_separate: 4500,
        }[product]
        deposit = 500 if product == self.family_shared else 0
        return price + deposit * (1 + len(companions or [])) + (load or 0)

    def tap(self, gate: int, uid: str, tap_id: str | None = None) -> TapView:
        ctx = RequestContext(self.world.venue_id, gate, None, "")
        return tap(self.world.uow, ctx, tap_id=tap_id or uuid.uuid4().hex, medium_uid=uid)


@pytest.fixture
def zone(world: World) -> Zone:
    uow, venue = world.uow, world.venue_id
    zone_id = create_zone(uow, venue, name="Pools")
    other = create_zone(uow, venue, name="Sauna")
    return Zone(
        world=world,
        zone_id=zone_id,
        other_zone_id=other,
        entrance=add_gate(
            uow, venue, name="Entrance", kind=DeviceKind.TURNSTILE, zone_id=zone_id, direction=Direction.IN
        ),
        exit=add_gate(uow, venue, name="Exit", kind=DeviceKind.TURNSTILE, zone_id=zone_id, direction=Direction.OUT),
        collector=add_gate(
            uow, venue, name="Collector", kind=DeviceKind.COLLECTOR, zone_id=zone_id, direction=Direction.OUT
        ),
        validator=add_gate(
            uow, venue, name="Side door", kind=DeviceKind.VALIDATOR, zone_id=zone_id, direction=Direction.BOTH
        ),
        other_zone_gate=add_gate(
            uow, venue, name="Sauna door", kind=DeviceKind.TURNSTILE, zone_id=other, direction=Direction.IN
        ),
        credit_entry=create_entry_product(
            uow,
            venue,
            name="Day ticket credit",
            price_minor=1500,
            vat_rate_bp=700,
            zone_id=zone_id,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=3000,
        ),
        prepaid_entry=create_entry_product(
            uow,
            venue,
            name="Day ticket prepaid",
            price_minor=1500,
            vat_rate_bp=700,
            zone_id=zone_id,
            credit_type=CreditType.PREPAID,
        ),
        family_shared=create_entry_product(
            uow,
            venue,
            name="Family ticket",
            price_minor=4000,
            vat_rate_bp=700,
            zone_id=zone_id,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=2000,
            deposit_minor=500,
            anti_passback=AntiPassback.SHARED,
            companions=3,
        ),
        group_separate=create_entry_product(
            uow,
            venue,
            name="Group ticket",
            price_minor=4500,
            vat_rate_bp=700,
            zone_id=zone_id,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=2000,
            anti_passback=AntiPassback.SEPARATE,
            companions=5,
        ),
    )
