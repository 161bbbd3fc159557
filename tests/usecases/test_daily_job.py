"""The daily job (seed 002 "Automatisch verlängern", "Bei Ablauf löschen") on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tapzone.customers.accounts import view_customer_account
from tapzone.errors import InvalidRequest
from tapzone.ledger.model import breakage
from tapzone.plans.daily_job import Progress, run_daily
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.store.db import make_engine
from tapzone.store.tables import (
    account_balances,
    card_account_changes,
    card_accounts,
    card_balances,
    daily_runs,
    devices,
    journal_entries,
    ledger_accounts,
    postings,
)
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tests.usecases.daily_setup import RENEWAL_FEE, Types, create_types
from tests.world import World, build_world

SOLD_ON = date(2026, 7, 4)  # World.default_clock(); a year's subscription runs until 2027-07-04
YEAR_END = date(2027, 7, 4)
TEN_VISITS_END = date(2026, 10, 2)  # sold + 90 days
MONTH_PASS_END = date(2026, 8, 3)  # sold + 30 days


@pytest.fixture
def types(world: World) -> Types:
    return create_types(world)


def at(types: Types, day: date, hour_utc: int = 10) -> None:
    types.clock.set(datetime(day.year, day.month, day.day, hour_utc, tzinfo=UTC))


def changes(world: World, account_id: int | None = None) -> list[sa.Row[object]]:
    query = sa.select(card_account_changes).order_by(card_account_changes.c.id)
    if account_id is not None:
        query = query.where(card_account_changes.c.card_account_id == account_id)
    with world.uow.engine.connect() as conn:
        return list(conn.execute(query))


def entries(world: World, code: str) -> list[sa.Row[object]]:
    with world.uow.engine.connect() as conn:
        return list(conn.execute(sa.select(journal_entries).where(journal_entries.c.code == code)))


def balances(world: World, account_id: int) -> dict[str, int]:
    with world.uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(card_balances.c.unit, card_balances.c.balance).where(
                card_balances.c.card_account_id == account_id
            )
        )
        return {row.unit: int(row.balance) for row in rows}


def account(world: World, account_id: int) -> sa.Row[object]:
    with world.uow.engine.connect() as conn:
        return conn.execute(sa.select(card_accounts).where(card_accounts.c.id == account_id)).one()


def ledger_balance(world: World, key: str) -> int:
    with world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(account_balances.c.balance), 0))
            .join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
            .where(ledger_accounts.c.key == key)
        ).scalar_one()
    return int(value)


# --------------------------------------------------------------------------- renewal


def test_renewal_adds_twelve_months_to_the_old_date_and_logs_it(types: Types) -> None:
    world = types.world
    due = types.sell(types.subscription, "R1")
    later = types.sell(types.subscription, "R2")
    types.set_valid_until(later, YEAR_END + timedelta(days=30))
    # Run a week late: the year is added to the old valid-until, not to today.
    at(types, YEAR_END + timedelta(days=7))

    run = run_daily(world.uow, world.venue_id)

    assert (run.renewed, run.deleted, run.skipped, run.already_finished) == (1, 0, 0, False)
    assert run.business_day == YEAR_END + timedelta(days=7)
    assert types.valid_until(due) == date(2028, 7, 4)
    assert types.valid_until(later) == YEAR_END + timedelta(days=30)
    [change] = changes(world)
    assert (change.card_account_id, change.code, change.note) == (due, "account-renew", "renewed")
    assert (change.valid_until_before, change.valid_until_after) == (YEAR_END, date(2028, 7, 4))
    assert change.entry_id is None  # no fee, nothing booked
    world.assert_ledger_clean()


def test_an_account_valid_until_today_renews_today_not_the_day_before(types: Types) -> None:
    world = types.world
    due = types.sell(types.subscription, "R1")
    at(types, YEAR_END - timedelta(days=1))
    assert run_daily(world.uow, world.venue_id).renewed == 0
    at(types, YEAR_END)
    assert run_daily(world.uow, world.venue_id).renewed == 1
    assert types.valid_until(due) == date(2028, 7, 4)


def test_today_is_the_venues_business_day(types: Types) -> None:
    world = types.world
    due = types.sell(types.subscription, "R1")
    # 22:30 UTC on 3 July is already 4 July in Berlin.
    types.clock.set(datetime(2027, 7, 3, 22, 30, tzinfo=UTC))
    run = run_daily(world.uow, world.venue_id)
    assert run.business_day == YEAR_END
    assert types.valid_until(due) == date(2028, 7, 4)


def test_the_fee_is_taken_from_the_money_on_the_card(types: Types) -> None:
    world = types.world
    card = types.sell(types.money_card, "M1")
    assert balances(world, card)["EUR"] == 3_000
    at(types, YEAR_END)

    run_daily(world.uow, world.venue_id)

    assert types.valid_until(card) == date(2028, 7, 4)
    assert balances(world, card)["EUR"] == 3_000 - RENEWAL_FEE
    [entry] = entries(world, "account-renew")
    [change] = changes(world, card)
    assert (change.entry_id, change.note) == (entry.id, "fee from card")
    assert entry.operator_id is None  # booked by the job's own device, no staff member
    with world.uow.engine.connect() as conn:
        amounts = sorted(
            int(a) for a in conn.execute(sa.select(postings.c.amount).where(postings.c.entry_id == entry.id)).scalars()
        )
    assert amounts == [-1261, -239, 1500]  # 15.00 gross at 19 %: 12.61 revenue + 2.39 VAT
    world.assert_ledger_clean()


def test_the_fee_goes_to_the_customer_account_when_the_card_cannot_pay(types: Types) -> None:
    world = types.world
    customer = types.customer()
    abo = types.sell(types.subscription_fee, "C1", customer_id=customer)
    at(types, YEAR_END)

    run_daily(world.uow, world.venue_id)

    assert types.valid_until(abo) == date(2028, 7, 4)
    assert view_customer_account(world.uow, world.ctx(), customer_id=customer).owed_minor == RENEWAL_FEE
    [change] = changes(world, abo)
    assert change.note == "fee to customer account"
    assert change.entry_id == entries(world, "account-renew")[0].id
    world.assert_ledger_clean()


def test_an_unpaid_fee_leaves_the_account_to_expire_and_is_logged(types: Types) -> None:
    world = types.world
    abo = types.sell(types.subscription_fee, "U1")  # no money on the card, no customer to bill
    at(types, YEAR_END)

    run = run_daily(world.uow, world.venue_id)

    assert (run.renewed, run.skipped) == (0, 1)
    assert types.valid_until(abo) == YEAR_END
    [change] = changes(world, abo)
    assert (change.code, change.note, change.valid_until_after, change.entry_id) == (
        "account-renew",
        "fee unpaid",
        None,
        None,
    )
    assert entries(world, "account-renew") == []
    # The next day tries again (the customer may have paid in the meantime) and logs that day too.
    at(types, YEAR_END + timedelta(days=1))
    assert run_daily(world.uow, world.venue_id).skipped == 1
    assert len(changes(world, abo)) == 2


# --------------------------------------------------------------------------- deletion


def test_deletion_sends_leftover_value_to_breakage_and_keeps_the_float_right(types: Types) -> None:
    world = types.world
    card = types.sell(types.ten_visits, "D1")
    assert balances(world, card) == {"EUR": 1_000, "visits": 10}
    at(types, TEN_VISITS_END)
    assert run_daily(world.uow, world.venue_id).deleted == 0  # still valid today
    at(types, TEN_VISITS_END + timedelta(days=1))

    run = run_daily(world.uow, world.venue_id)

    assert run.deleted == 1
    closed = account(world, card)
    assert closed.closed_at is not None
    assert (closed.closed_reason, closed.is_active) == ("expired", False)
    assert balances(world, card) == {"EUR": 0, "visits": 0}
    assert ledger_balance(world, breakage("EUR").key) == -1_000  # income: a credit
    [entry] = entries(world, "account-delete")
    [change] = changes(world, card)
    assert (change.code, change.note, change.entry_id) == ("account-delete", "leftover to breakage", entry.id)
    world.assert_ledger_clean()


def test_an_empty_expired_account_is_closed_without_an_entry(types: Types) -> None:
    world = types.world
    card = types.sell(types.month_pass, "D1")  # validity only: nothing left to book
    at(types, MONTH_PASS_END + timedelta(days=1))
    run = run_daily(world.uow, world.venue_id)
    assert run.deleted == 1
    assert entries(world, "account-delete") == []
    assert account(world, card).closed_reason == "expired"
    assert changes(world, card)[0].note == "deleted"


def test_an_account_with_an_open_tab_is_not_deleted(types: Types) -> None:
    world = types.world
    card = types.sell(types.ten_visits, "D1")
    save_items(world.uow, world.ctx(), medium_uid="D1", items=[Item(world.fries_id)])
    at(types, TEN_VISITS_END + timedelta(days=1))

    run = run_daily(world.uow, world.venue_id)

    assert (run.deleted, run.skipped) == (0, 1)
    assert account(world, card).closed_at is None
    assert changes(world, card)[0].note == "open tab"
    assert entries(world, "account-delete") == []
    world.assert_ledger_clean()


def test_the_next_open_account_on_the_medium_becomes_active(types: Types) -> None:
    world = types.world
    abo = types.sell(types.subscription, "P1")
    visits_card = types.sell(types.ten_visits, "P1")  # sold last: the active one
    assert (account(world, abo).is_active, account(world, visits_card).is_active) == (False, True)
    at(types, TEN_VISITS_END + timedelta(days=1))

    run_daily(world.uow, world.venue_id)

    assert account(world, visits_card).is_active is False
    assert account(world, abo).is_active is True


def test_types_without_either_option_are_left_alone(types: Types) -> None:
    world = types.world
    plain = types.sell(types.plain, "N1")
    at(types, YEAR_END + timedelta(days=40))
    run = run_daily(world.uow, world.venue_id)
    assert (run.renewed, run.deleted, run.skipped) == (0, 0, 0)
    assert types.valid_until(plain) == YEAR_END
    assert account(world, plain).closed_at is None


def test_breakage_under_54_fz_keeps_the_advance_vat_owed(uow: UnitOfWork) -> None:
    world = build_world(uow, FiscalProfile.RU)
    types = create_types(world)
    types.sell(types.ten_visits, "RU1")
    at(types, TEN_VISITS_END + timedelta(days=1))
    run_daily(world.uow, world.venue_id)
    # 10.00 left; the 20/120 advance VAT (1.67) paid at top-up stays owed, the rest is income.
    assert ledger_balance(world, breakage("EUR").key) == -(1_000 - 167)
    world.assert_ledger_clean()


# --------------------------------------------------------------------------- once per day, resumable


def test_a_rerun_of_the_same_day_changes_nothing(types: Types) -> None:
    world = types.world
    abo = types.sell(types.money_card, "M1")
    types.sell(types.ten_visits, "D1")
    at(types, YEAR_END)
    first = run_daily(world.uow, world.venue_id)
    counts = world.counts()
    logged = len(changes(world))

    again = run_daily(world.uow, world.venue_id)

    assert again.already_finished is True
    assert (again.renewed, again.deleted) == (first.renewed, first.deleted) == (1, 1)
    assert world.counts() == counts
    assert len(changes(world)) == logged
    assert types.valid_until(abo) == date(2028, 7, 4)
    with world.uow.engine.connect() as conn:
        run = conn.execute(sa.select(daily_runs)).one()
    assert run.finished_at is not None
    assert (run.renewed, run.deleted) == (1, 1)


def test_a_crash_after_some_batches_resumes_and_books_each_renewal_once(types: Types) -> None:
    world = types.world
    cards = [types.sell(types.money_card, f"K{n}") for n in range(7)]
    at(types, YEAR_END)
    seen: list[Progress] = []

    def crash_after_two_batches(progress: Progress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        run_daily(world.uow, world.venue_id, batch_size=2, on_batch=crash_after_two_batches)
    assert [(p.done, p.total, p.renewed) for p in seen] == [(2, 7, 2), (4, 7, 4)]
    assert len(entries(world, "account-renew")) == 4
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(daily_runs.c.finished_at, daily_runs.c.renewed)).one() == (None, 4)

    run = run_daily(world.uow, world.venue_id, batch_size=2)

    assert run.renewed == 7
    assert len(entries(world, "account-renew")) == 7
    for card in cards:
        assert types.valid_until(card) == date(2028, 7, 4)  # once, not twice
        assert balances(world, card)["EUR"] == 3_000 - RENEWAL_FEE
        assert len(changes(world, card)) == 1
    world.assert_ledger_clean()


def test_a_past_day_can_be_rerun_but_not_a_future_one(types: Types) -> None:
    world = types.world
    due = types.sell(types.subscription, "R1")
    at(types, YEAR_END + timedelta(days=3))
    with pytest.raises(InvalidRequest):
        run_daily(world.uow, world.venue_id, day=YEAR_END + timedelta(days=4))
    run = run_daily(world.uow, world.venue_id, day=YEAR_END)
    assert (run.business_day, run.renewed) == (YEAR_END, 1)
    assert changes(world, due)[0].business_day == YEAR_END


def test_two_jobs_at_once_renew_each_account_once(types: Types, db_url: str) -> None:
    world = types.world
    cards = [types.sell(types.money_card, f"T{n}") for n in range(12)]
    deleted = [types.sell(types.ten_visits, f"V{n}") for n in range(6)]
    at(types, YEAR_END)
    clock = types.clock
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def job() -> None:
        engine = make_engine(db_url)
        try:
            start.wait()
            run_daily(UnitOfWork(engine, clock=clock), world.venue_id, batch_size=3)
        except BaseException as error:  # reported to the test thread below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(entries(world, "account-renew")) == len(cards)
    assert len(entries(world, "account-delete")) == len(deleted)
    for card in cards:
        assert types.valid_until(card) == date(2028, 7, 4)
        assert balances(world, card)["EUR"] == 3_000 - RENEWAL_FEE
    for card in deleted:
        assert account(world, card).closed_reason == "expired"
    with world.uow.engine.connect() as conn:
        run = conn.execute(sa.select(daily_runs)).one()
    assert (run.renewed, run.deleted) == (len(cards), len(deleted))
    assert run.finished_at is not None
    world.assert_ledger_clean()


def test_the_jobs_entries_are_booked_on_one_system_device(types: Types) -> None:
    world = types.world
    types.sell(types.money_card, "M1")
    types.sell(types.money_card, "M2")
    at(types, YEAR_END)
    run_daily(world.uow, world.venue_id)
    at(types, YEAR_END + timedelta(days=1))
    run_daily(world.uow, world.venue_id)
    booked_on = {entry.device_id for entry in entries(world, "account-renew")}
    with world.uow.engine.connect() as conn:
        system = conn.execute(sa.select(devices.c.id, devices.c.name).where(devices.c.kind == "system")).all()
    assert [(row.id, row.name) for row in system] == [(booked_on.pop(), "daily job")]
