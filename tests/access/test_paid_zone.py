"""seed 000 and seed 001 at the gate: entry, anti-passback, exit tied to the tab, automatic unbinding."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tapzone.access.feed import list_access_events
from tapzone.access.visits import return_medium
from tapzone.errors import InvalidRequest, PermissionDenied
from tapzone.media.lifecycle import block_medium
from tapzone.money import Money
from tapzone.pos.catalogue import Item
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.store.tables import account_balances, ledger_accounts, media, venues, visits
from tests.access.conftest import Zone


def medium_state(zone: Zone, uid: str) -> str:
    with zone.world.uow.engine.connect() as conn:
        return str(conn.execute(sa.select(media.c.state).where(media.c.uid == uid)).scalar_one())


def open_visits(zone: Zone) -> int:
    with zone.world.uow.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(visits).where(visits.c.closed_at.is_(None))
            ).scalar_one()
        )


def pay_cash(zone: Zone, uid: str, amount: int) -> None:
    w = zone.world
    settle_tab(w.uow, w.ctx(), medium_uid=uid, tenders=[Tender(TenderKind.CASH, Money(amount, "EUR"))])


def test_credit_entry_exit_waits_for_the_tab_then_unbinds(zone: Zone) -> None:
    w = zone.world
    sale = zone.sell(zone.credit_entry, "C100")
    assert sale.total_minor == 1500
    assert zone.tap(zone.entrance, "C100").allowed
    save_items(w.uow, w.ctx(), medium_uid="C100", items=[Item(w.beer_id)])

    denied = zone.tap(zone.exit, "C100")
    assert (denied.allowed, denied.reason, denied.open_ms) == (False, "unpaid-goods", 0)
    assert denied.display_text == "Unbezahlte Waren, bitte an der Kasse bezahlen"  # venue language: German
    assert denied.tab_ids  # the entry view opens this tab at the till
    feed = list_access_events(w.uow, w.ctx(), denied_only=True)
    assert [(event.reason, event.tab_ids) for event in feed] == [("unpaid-goods", denied.tab_ids)]

    pay_cash(zone, "C100", 450)
    allowed = zone.tap(zone.exit, "C100")
    assert (allowed.allowed, allowed.reason, allowed.unbound) == (True, "goodbye", True)
    assert allowed.open_ms == 3000
    assert medium_state(zone, "C100") == "returned"  # no manual return step (seed 000)
    zone.sell(zone.credit_entry, "C100")  # ready for the next visitor
    w.assert_ledger_clean()


def test_prepaid_entry_exit_waits_for_the_value_to_be_paid_out(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.prepaid_entry, "P100", load=2000)
    zone.tap(zone.entrance, "P100")
    save_items(w.uow, w.ctx(), medium_uid="P100", items=[Item(w.beer_id)])
    assert zone.tap(zone.exit, "P100").reason == "prepaid-value-left"
    settle_tab(
        w.uow,
        w.ctx(),
        medium_uid="P100",
        tenders=[Tender(TenderKind.PREPAID, Money(450, "EUR"))],
        pay_out_leftover=True,
    )
    assert zone.tap(zone.exit, "P100").allowed
    w.assert_ledger_clean()


def test_anti_passback_and_repeated_tap_ids(zone: Zone) -> None:
    zone.sell(zone.credit_entry, "A100")
    assert zone.tap(zone.exit, "A100").reason == "not-inside"  # no exit without an entry
    first = zone.tap(zone.entrance, "A100", tap_id="gate-tap-1")
    assert first.allowed
    # MQTT QoS 1 may deliver the same tap twice: the stored decision, not a passback violation.
    assert zone.tap(zone.entrance, "A100", tap_id="gate-tap-1") == first
    assert zone.tap(zone.entrance, "A100").reason == "already-inside"
    with pytest.raises(Exception, match="idempotency key"):
        zone.tap(zone.entrance, "OTHER1", tap_id="gate-tap-1")


def test_two_way_validator_decides_by_where_the_visitor_is(zone: Zone) -> None:
    zone.sell(zone.credit_entry, "B100")
    entry = zone.tap(zone.validator, "B100")
    assert (entry.passage, entry.allowed) == ("entry", True)
    leave = zone.tap(zone.validator, "B100")
    assert (leave.passage, leave.allowed, leave.unbound) == ("exit", True, True)


def test_media_that_may_not_pass(zone: Zone) -> None:
    w = zone.world
    assert zone.tap(zone.entrance, "NEVERSEEN").reason == "unknown-medium"
    zone.sell(zone.credit_entry, "X100")
    assert zone.tap(zone.other_zone_gate, "X100").reason == "wrong-zone"
    block_medium(w.uow, w.manager(), medium_uid="X100", reason="found on the floor")
    assert zone.tap(zone.entrance, "X100").reason == "medium-blocked"
    zone.sell(zone.credit_entry, "X101")
    zone.tap(zone.entrance, "X101")
    zone.tap(zone.exit, "X101")
    assert zone.tap(zone.entrance, "X101").reason == "medium-returned"  # unbound at exit, not valid again


def test_separate_party_each_medium_on_its_own(zone: Zone) -> None:
    w = zone.world
    sale = zone.sell(zone.group_separate, "G1", companions=["G2", "G3"])
    assert [m.is_main for m in sale.media] == [True, False, False]
    for uid in ("G1", "G2", "G3"):
        assert zone.tap(zone.entrance, uid).allowed
    save_items(w.uow, w.ctx(), medium_uid="G2", items=[Item(w.beer_id)])
    assert zone.tap(zone.exit, "G1").unbound  # the main medium leaves on its own
    assert zone.tap(zone.exit, "G2").reason == "unpaid-goods"
    assert zone.tap(zone.exit, "G3").unbound
    pay_cash(zone, "G2", 450)
    assert zone.tap(zone.exit, "G2").unbound
    assert open_visits(zone) == 0


def test_shared_party_main_stays_bound_until_every_companion_is_out(zone: Zone) -> None:
    """seed 000: a family of three with debts on two cards; the main card is unbound last."""
    w = zone.world
    zone.sell(zone.family_shared, "F1", companions=["F2", "F3"])
    for uid in ("F1", "F2", "F3"):
        zone.tap(zone.entrance, uid)
    save_items(w.uow, w.ctx(), medium_uid="F1", items=[Item(w.beer_id)])
    save_items(w.uow, w.ctx(), medium_uid="F3", items=[Item(w.fries_id)])

    assert zone.tap(zone.exit, "F1").reason == "unpaid-goods"
    pay_cash(zone, "F1", 450)
    main_out = zone.tap(zone.exit, "F1")
    assert (main_out.allowed, main_out.unbound) == (True, False)  # still bound: companions inside
    assert medium_state(zone, "F1") == "active"

    assert zone.tap(zone.exit, "F2").unbound
    assert medium_state(zone, "F1") == "active"
    assert zone.tap(zone.exit, "F3").reason == "unpaid-goods"
    pay_cash(zone, "F3", 320)
    assert zone.tap(zone.exit, "F3").unbound
    assert medium_state(zone, "F1") == "returned"  # the last companion out releases the main medium
    assert open_visits(zone) == 0
    w.assert_ledger_clean()


def test_family_deposits_are_held_as_a_liability(zone: Zone) -> None:
    sale = zone.sell(zone.family_shared, "D1", companions=["D2"])
    assert sale.total_minor == 4000 + 2 * 500
    assert len(sale.entry_ids) == 2  # the ticket sale and the deposit hold
    with zone.world.uow.engine.connect() as conn:
        held = conn.execute(
            sa.select(sa.func.sum(account_balances.c.balance))
            .join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
            .where(ledger_accounts.c.key == "deposits-held:EUR")
        ).scalar_one()
    assert held == -1000
    zone.world.assert_ledger_clean()


def test_party_rules_are_checked_at_sale(zone: Zone) -> None:
    with pytest.raises(InvalidRequest, match="companion"):
        zone.sell(zone.credit_entry, "S1", companions=["S2"], price=1500)
    with pytest.raises(InvalidRequest, match="different"):
        zone.sell(zone.group_separate, "S1", companions=["S1"], price=4500)
    with pytest.raises(InvalidRequest, match="prepaid"):
        zone.sell(zone.credit_entry, "S1", load=100, price=1600)
    assert open_visits(zone) == 0


def test_one_customer_two_credit_entries_keep_separate_tabs(zone: Zone) -> None:
    """seed 001: media 234 and 789 of one customer, each with its own 30.00 credit ('Cloud')."""
    w = zone.world
    zone.sell(zone.credit_entry, "234")
    zone.sell(zone.credit_entry, "789")
    tab_234 = save_items(w.uow, w.ctx(), medium_uid="234", items=[Item(w.towel_id, 2)])
    assert tab_234.available_minor == 3000 - 2400
    tab_789 = save_items(w.uow, w.ctx(), medium_uid="789", items=[Item(w.towel_id, 2)])
    assert tab_789.available_minor == 3000 - 2400


def test_without_automatic_unbinding_the_till_returns_the_medium(zone: Zone) -> None:
    w = zone.world
    with w.uow.engine.begin() as conn:
        conn.execute(venues.update().values(auto_unbind=False))
    zone.sell(zone.credit_entry, "M100")
    zone.tap(zone.entrance, "M100")
    out = zone.tap(zone.exit, "M100")
    assert (out.allowed, out.unbound) == (True, False)
    assert return_medium(w.uow, w.ctx(), medium_uid="M100").medium_state == "returned"
    # A collector swallows the wristband, so it always unbinds.
    zone.sell(zone.credit_entry, "M101")
    zone.tap(zone.entrance, "M101")
    assert zone.tap(zone.collector, "M101").unbound


def test_tills_cannot_tap_and_gates_cannot_sell(zone: Zone) -> None:
    w = zone.world
    with pytest.raises(PermissionDenied):
        zone.tap(w.till_id, "C1")
    from tapzone.context import RequestContext

    with pytest.raises(PermissionDenied):
        save_items(
            w.uow, RequestContext(w.venue_id, zone.entrance, None, "k"), medium_uid="C1", items=[Item(w.beer_id)]
        )


def test_two_gates_tapping_one_medium_at_once_let_it_out_once(zone: Zone) -> None:
    zone.sell(zone.credit_entry, "R100")
    zone.tap(zone.entrance, "R100")
    barrier = threading.Barrier(2)
    results = []

    def tap_at(gate: int) -> None:
        barrier.wait()
        results.append(zone.tap(gate, "R100"))

    threads = [threading.Thread(target=tap_at, args=(gate,)) for gate in (zone.exit, zone.collector)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result.allowed for result in results) == [False, True]
    assert {result.reason for result in results} == {"goodbye", "medium-returned"}


def test_free_zone_gates_only_count_passages(zone: Zone) -> None:
    """seed 000: the exit and unbinding rules hold only for zones of type paid."""
    from tapzone.access.model import Direction, ServiceType
    from tapzone.access.setup import add_gate, create_zone
    from tapzone.venues.model import DeviceKind

    w = zone.world
    lobby = create_zone(w.uow, w.venue_id, name="Lobby", service_type=ServiceType.FREE)
    door = add_gate(
        w.uow, w.venue_id, name="Lobby door", kind=DeviceKind.VALIDATOR, zone_id=lobby, direction=Direction.OUT
    )
    zone.sell(zone.credit_entry, "FZ1")
    zone.tap(zone.entrance, "FZ1")
    save_items(w.uow, w.ctx(), medium_uid="FZ1", items=[Item(w.beer_id)])
    passed = zone.tap(door, "FZ1")
    assert (passed.allowed, passed.reason, passed.unbound) == (True, "goodbye", False)
    assert zone.tap(zone.exit, "FZ1").reason == "unpaid-goods"  # the paid zone's own exit still knows the tab
    assert zone.tap(door, "NOBODY").reason == "unknown-medium"
