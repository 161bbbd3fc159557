"""Lock order on PostgreSQL: requests that lock the same rows in opposite orders deadlock, and PostgreSQL then
kills one of them after `deadlock_timeout`. These tests stage the worst interleaving on purpose — a third
connection holds the card account so both requests pile up behind it, in the order that used to close a
cycle — and require both requests to book without PostgreSQL ever detecting a deadlock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tapzone.access.entry import sell_entry
from tapzone.access.gates import TapView, tap
from tapzone.access.model import AntiPassback, Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.access.visits import issue_medium, return_medium
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import MediumNotBound
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.views import SettlementView
from tapzone.store.tables import card_accounts, journal_entries, media
from tapzone.venues.model import DeviceKind
from tests.concurrency.races import lock_waiters
from tests.world import World

pytestmark = pytest.mark.postgres


def _deadlocks(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        return int(
            conn.execute(
                sa.text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def _account_of(world: World, uid: str) -> int:
    with world.uow.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(card_accounts.c.id)
                .join(media, media.c.id == card_accounts.c.medium_id)
                .where(media.c.uid == uid)
            ).scalar_one()
        )


def _wait_for_waiters(engine: sa.Engine, count: int) -> None:
    deadline = time.monotonic() + 10
    while lock_waiters(engine) < count:
        assert time.monotonic() < deadline, f"expected {count} requests waiting for a lock"
        time.sleep(0.01)


def _staged(
    world: World, account_ids: list[int], first: Callable[[], object], second: Callable[[], object]
) -> list[object]:
    """Hold the card accounts; let `first` queue on them, then `second`; release; what each returned or raised."""
    outcomes: list[object] = [None, None]

    def run(index: int, action: Callable[[], object]) -> None:
        try:
            outcomes[index] = action()
        except Exception as error:  # judged by the test
            outcomes[index] = error

    engine = world.uow.engine
    with engine.connect() as blocker:
        blocker.execute(sa.select(card_accounts.c.id).where(card_accounts.c.id.in_(account_ids)).with_for_update())
        threads = [threading.Thread(target=run, args=(n, action)) for n, action in enumerate((first, second))]
        threads[0].start()
        _wait_for_waiters(engine, 1)
        threads[1].start()
        _wait_for_waiters(engine, 2)
        blocker.rollback()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_a_typed_number_and_a_read_card_on_one_till_book_without_deadlock(pg_world: World) -> None:
    """The typed request audits its manual entry; the read one posts to the till's journal chain. Both rows hang
    off the same till device, so whichever locks the device row before the card account closes a cycle."""
    world = pg_world
    issue_medium(world.uow, world.ctx(), medium_uid="LO1", credit_type=CreditType.PREPAID, initial_load=world.eur(5000))
    account_id = _account_of(world, "LO1")
    before = _deadlocks(world.uow.engine)

    def read() -> object:
        return sell_from_balance(world.uow, world.manager(), medium_uid="LO1", items=[Item(world.beer_id)])

    def typed() -> object:
        return sell_from_balance(
            world.uow, world.manager(), medium_uid="LO1", items=[Item(world.beer_id)], entry=MediumEntry.TYPED
        )

    outcomes = _staged(world, [account_id], read, typed)

    assert [type(outcome).__name__ for outcome in outcomes] == ["SaleView", "SaleView"], outcomes
    assert _deadlocks(world.uow.engine) == before
    with world.uow.engine.connect() as conn:
        sales = conn.execute(
            sa.select(sa.func.count()).select_from(journal_entries).where(journal_entries.c.code == "sale")
        ).scalar_one()
    assert sales == 2
    world.assert_ledger_clean()


def test_two_tills_settling_a_party_from_either_end_do_not_deadlock(pg_world: World) -> None:
    """Each till settles "this one and the whole party" from another member's wristband. Locking the own card
    account first and the companions' after would have each till hold what the other waits for."""
    world = pg_world
    uow, venue = world.uow, world.venue_id
    zone = create_zone(uow, venue, name="Pools")
    family = create_entry_product(
        uow, venue, name="Family", price_minor=4000, vat_rate_bp=700, zone_id=zone, credit_type=CreditType.CREDIT,
        credit_limit_minor=2000, anti_passback=AntiPassback.SHARED, companions=1,
    )  # fmt: skip
    sell_entry(
        uow, world.ctx(), entry_product_id=family, medium_uid="FAM1", companion_uids=["FAM2"],
        tenders=[Tender(TenderKind.CASH, world.eur(4000))],
    )  # fmt: skip
    for uid in ("FAM1", "FAM2"):
        save_items(uow, world.ctx(), medium_uid=uid, items=[Item(world.beer_id)])
    before = _deadlocks(uow.engine)

    def settle_from(uid: str, till: int) -> Callable[[], object]:
        return lambda: settle_tab(
            uow, world.ctx(till=till), medium_uid=uid, tenders=[Tender(TenderKind.CASH, world.eur(2000))],
            include_party=True,
        )  # fmt: skip

    outcomes = _staged(
        world,
        [_account_of(world, "FAM1"), _account_of(world, "FAM2")],
        settle_from("FAM1", world.till_id),
        settle_from("FAM2", world.till2_id),
    )

    # Whoever locks first pays both tabs on one receipt; the other finds nothing left to settle.
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NothingToSettle", "SettlementView"], outcomes
    (paid,) = [outcome for outcome in outcomes if isinstance(outcome, SettlementView)]
    assert paid.total_minor == 2 * 450
    assert _deadlocks(uow.engine) == before
    world.assert_ledger_clean()


def test_an_exit_and_a_return_of_the_same_wristband_do_not_deadlock(pg_world: World) -> None:
    """The gate unbinds at the exit, which updates the medium row; the till's return locks the medium row before
    the visit. A gate that locked the visit first and the medium last would close a cycle with the return."""
    world = pg_world
    uow, venue = world.uow, world.venue_id
    zone = create_zone(uow, venue, name="Pools")
    entrance = add_gate(uow, venue, name="In", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.IN)
    exit_gate = add_gate(uow, venue, name="Out", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.OUT)
    day = create_entry_product(
        uow, venue, name="Day", price_minor=1500, vat_rate_bp=700, zone_id=zone, credit_type=CreditType.CREDIT,
        credit_limit_minor=2000,
    )  # fmt: skip
    sell_entry(
        uow, world.ctx(), entry_product_id=day, medium_uid="GO1", tenders=[Tender(TenderKind.CASH, world.eur(1500))]
    )
    assert tap(uow, RequestContext(venue, entrance, None, ""), tap_id="in-1", medium_uid="GO1").allowed
    before = _deadlocks(uow.engine)

    outcomes = _staged(
        world,
        [_account_of(world, "GO1")],
        lambda: tap(uow, RequestContext(venue, exit_gate, None, ""), tap_id="out-1", medium_uid="GO1"),
        lambda: return_medium(uow, world.ctx(till=world.till2_id), medium_uid="GO1"),
    )

    # The gate came first and let the visitor out, unbinding the wristband; the till then finds it returned.
    exit_view, returned = outcomes
    assert isinstance(exit_view, TapView) and (exit_view.allowed, exit_view.unbound) == (True, True), exit_view
    assert isinstance(returned, MediumNotBound), returned
    assert _deadlocks(uow.engine) == before
    world.assert_ledger_clean()
