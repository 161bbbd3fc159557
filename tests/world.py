"""A small venue for tests: one till, staff in each role, products at two VAT rates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from tapzone.clock import FixedClock
from tapzone.context import RequestContext
from tapzone.ledger.check import all_findings
from tapzone.money import Money
from tapzone.payments.model import TerminalKind
from tapzone.payments.terminals import add_terminal
from tapzone.store.tables import journal_entries, postings
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tapzone.venues.setup import add_device, add_staff, create_product, create_venue


@dataclass
class World:
    uow: UnitOfWork
    venue_id: int
    till_id: int
    till2_id: int
    cashier_id: int
    manager_id: int
    gate_staff_id: int
    beer_id: int  # 4.50 at 19 %
    fries_id: int  # 3.20 at 7 %
    towel_id: int  # 12.00 at 19 %
    admin_id: int = 0
    currency: str = "EUR"

    @staticmethod
    def default_clock() -> FixedClock:
        return FixedClock(datetime(2026, 7, 4, 10, 0, tzinfo=UTC))

    def ctx(self, key: str | None = None, *, operator: int | None = -1, till: int | None = None) -> RequestContext:
        return RequestContext(
            venue_id=self.venue_id,
            device_id=till or self.till_id,
            operator_id=self.cashier_id if operator == -1 else operator,
            idempotency_key=key or uuid.uuid4().hex,
        )

    def manager(self, key: str | None = None) -> RequestContext:
        return self.ctx(key, operator=self.manager_id)

    def eur(self, minor: int) -> Money:
        return Money(minor, self.currency)

    def counts(self) -> tuple[int, int]:
        with self.uow.engine.connect() as conn:
            entries = conn.execute(sa.select(sa.func.count()).select_from(journal_entries)).scalar_one()
            lines = conn.execute(sa.select(sa.func.count()).select_from(postings)).scalar_one()
        return int(entries), int(lines)

    def assert_ledger_clean(self) -> None:
        with self.uow.engine.connect() as conn:
            findings = all_findings(conn)
        assert findings == [], [str(finding) for finding in findings]


def build_world(uow: UnitOfWork, fiscal_profile: FiscalProfile = FiscalProfile.DE) -> World:
    venue_id = create_venue(
        uow,
        name="Aquapark Test",
        currency="EUR",
        timezone="Europe/Berlin",
        language="de",
        fiscal_profile=fiscal_profile,
    )
    till_id = add_device(uow, venue_id, name="Till 1")
    till2_id = add_device(uow, venue_id, name="Till 2")
    for till in (till_id, till2_id):  # card tenders are taken on an in-process simulated terminal
        add_terminal(uow, venue_id, till, name="simulator", kind=TerminalKind.SIMULATOR, is_default=True)
    return World(
        uow=uow,
        venue_id=venue_id,
        till_id=till_id,
        till2_id=till2_id,
        cashier_id=add_staff(uow, venue_id, name="Kim Cashier", login="kim", role="cashier"),
        manager_id=add_staff(uow, venue_id, name="Mo Manager", login="mo", role="manager"),
        gate_staff_id=add_staff(uow, venue_id, name="Gus Gate", login="gus", role="gate"),
        admin_id=add_staff(uow, venue_id, name="Ada Admin", login="ada", role="admin"),
        beer_id=create_product(uow, venue_id, name="Beer", price_minor=450, vat_rate_bp=1900, product_group="drinks"),
        fries_id=create_product(uow, venue_id, name="Fries", price_minor=320, vat_rate_bp=700, product_group="food"),
        towel_id=create_product(uow, venue_id, name="Towel", price_minor=1200, vat_rate_bp=1900, product_group="shop"),
    )
