"""Which tab writes mark a medium for the gates' offline lists (migration 0012): the first open line of a tab
and its settlement do, a sale onto a tab that already owes does not — and the list still says who owes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tapzone.access.setup import create_entry_product
from tapzone.clock import FixedClock
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import cancel_lines, save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.store.tables import gate_list_marks, media
from tapzone.venues.setup import create_product
from tests.access.conftest import Zone
from tests.access.test_offline_list import by_uid, gate_list


def mark_of(zone: Zone, uid: str) -> int | None:
    """The medium's mark: each mark write moves it (SQLite: venue max + 1, PostgreSQL: the sequence)."""
    with zone.world.uow.engine.connect() as conn:
        return conn.execute(
            sa.select(gate_list_marks.c.seq)
            .join(media, media.c.id == gate_list_marks.c.medium_id)
            .where(media.c.uid == uid)
        ).scalar_one_or_none()


def mark_count(zone: Zone) -> int:
    with zone.world.uow.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(gate_list_marks.c.seq))).scalar_one() or 0)


def cash(amount: int) -> list[Tender]:
    return [Tender(TenderKind.CASH, Money(amount, "EUR"))]


def test_sales_onto_an_owing_tab_write_no_mark_first_line_and_settlement_do(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.credit_entry, "MK-1")
    assert zone.tap(zone.entrance, "MK-1").allowed
    entered = mark_of(zone, "MK-1")
    assert entered is not None
    version = gate_list(zone, zone.exit).version

    save_items(w.uow, w.ctx(), medium_uid="MK-1", items=[Item(w.beer_id)])  # the tab's first open line
    first = mark_of(zone, "MK-1")
    assert first is not None and first > entered
    changed = gate_list(zone, zone.exit, since=version)
    assert [(e.uid, e.owed, e.may_exit) for e in changed.entries] == [("MK-1", "unpaid-goods", False)]

    newest = mark_count(zone)
    save_items(w.uow, w.ctx(), medium_uid="MK-1", items=[Item(w.fries_id)])
    save_items(w.uow, w.ctx(), medium_uid="MK-1", items=[Item(w.beer_id, quantity=2)])
    assert (mark_of(zone, "MK-1"), mark_count(zone)) == (first, newest)  # no mark written by either sale
    assert gate_list(zone, zone.exit, since=changed.version).entries == []
    assert by_uid(gate_list(zone, zone.exit))["MK-1"].owed == "unpaid-goods"

    settle_tab(w.uow, w.ctx(), medium_uid="MK-1", tenders=cash(450 + 320 + 900))
    settled = mark_of(zone, "MK-1")
    assert settled is not None and settled > first
    after = gate_list(zone, zone.exit, since=changed.version)
    assert [(e.uid, e.owed, e.may_exit) for e in after.entries] == [("MK-1", None, True)]

    # The next sale opens a new tab: owing again, marked again.
    save_items(w.uow, w.ctx(), medium_uid="MK-1", items=[Item(w.beer_id)])
    again = mark_of(zone, "MK-1")
    assert again is not None and again > settled
    assert [(e.uid, e.owed) for e in gate_list(zone, zone.exit, since=after.version).entries] == [
        ("MK-1", "unpaid-goods")
    ]


def test_cancelling_the_open_lines_marks_and_clears_the_debt(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.credit_entry, "MK-2")
    zone.tap(zone.entrance, "MK-2")
    save_items(w.uow, w.ctx(), medium_uid="MK-2", items=[Item(w.beer_id), Item(w.fries_id)])
    before = mark_of(zone, "MK-2")
    version = gate_list(zone, zone.exit).version

    cancel_lines(w.uow, w.manager(), medium_uid="MK-2", reason="wrong wristband")
    assert (mark_of(zone, "MK-2") or 0) > (before or 0)
    assert [(e.uid, e.owed, e.may_exit) for e in gate_list(zone, zone.exit, since=version).entries] == [
        ("MK-2", None, True)
    ]


def test_overstay_charged_onto_an_owing_tab_still_reaches_the_gates(zone: Zone) -> None:
    """The overstay line lands on a tab that owes already (no line mark); the visit's charged blocks, which
    move the list's time limit, mark the medium instead."""
    w = zone.world
    clock = w.uow.clock
    assert isinstance(clock, FixedClock)
    block = create_product(w.uow, w.venue_id, name="Overstay", price_minor=400, vat_rate_bp=700, product_group="time")
    timed = create_entry_product(
        w.uow,
        w.venue_id,
        name="3 hours",
        price_minor=1500,
        vat_rate_bp=700,
        zone_id=zone.zone_id,
        credit_type=CreditType.CREDIT,
        credit_limit_minor=3000,
        included_minutes=180,
        overstay_product_id=block,
        overstay_block_minutes=30,
        overstay_grace_minutes=10,
    )
    zone.sell(timed, "MK-3", price=1500)
    zone.tap(zone.entrance, "MK-3")
    save_items(w.uow, w.ctx(), medium_uid="MK-3", items=[Item(w.beer_id)])
    listed = gate_list(zone, zone.exit)
    assert by_uid(listed)["MK-3"].stay_minutes == 190

    clock.advance(timedelta(minutes=211))  # two started blocks over
    assert zone.tap(zone.exit, "MK-3").reason == "overstay-unpaid"
    changed = by_uid(gate_list(zone, zone.exit, since=listed.version))
    assert (changed["MK-3"].owed, changed["MK-3"].stay_minutes) == ("unpaid-goods", 180 + 2 * 30)
