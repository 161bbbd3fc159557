"""The card float's pre-aggregated totals (ledger/float_totals.py), on SQLite and PostgreSQL.

The report reads the totals for "now" and takes back what later entries changed for a past cut-off; these
tests hold both against the balances, per account, and show that the check notices totals that drift.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import command

from tapzone.access.visits import issue_medium
from tapzone.clock import FixedClock
from tapzone.ledger import float_totals
from tapzone.ledger.check import all_findings
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.settlement import refund_prepaid
from tapzone.pos.tenders import TenderKind
from tapzone.pos.topup import top_up
from tapzone.reports.card_float import read_card_float
from tapzone.store.migrate import alembic_config
from tapzone.store.tables import card_float_totals
from tapzone.venues.repo import load_venue
from tests.reports.activity import build_activity
from tests.world import World


def _report(world: World, as_of: datetime | None = None) -> list[tuple[str, str, int, int]]:
    with world.uow.transaction() as tx:
        report = read_card_float(tx, load_venue(tx, world.venue_id), as_of)
    return [(row.account_type, row.medium_kind, row.accounts, row.balance_minor) for row in report.rows]


def _clock(world: World) -> FixedClock:
    clock = world.uow.clock
    assert isinstance(clock, FixedClock)
    return clock


def test_a_past_cut_off_counts_the_accounts_that_were_non_zero_then(world: World) -> None:
    ctx = world.ctx
    issue_medium(world.uow, ctx(), medium_uid="A1", credit_type=CreditType.PREPAID, initial_load=world.eur(2_000))
    issue_medium(world.uow, ctx(), medium_uid="B1", credit_type=CreditType.PREPAID)  # holds nothing yet
    issue_medium(world.uow, ctx(), medium_uid="C1", credit_type=CreditType.PREPAID, initial_load=world.eur(700))
    _clock(world).advance(timedelta(hours=1))
    cut = world.uow.clock.now()
    _clock(world).advance(timedelta(minutes=5))
    # After the cut-off A1 is emptied, B1 gets value and C1 gets more: one account fewer, one more.
    refund_prepaid(world.uow, ctx(), medium_uid="A1", amount=world.eur(2_000))
    top_up(world.uow, ctx(till=world.till2_id), medium_uid="B1", amount=world.eur(1_000), tender=TenderKind.CASH)
    top_up(world.uow, ctx(), medium_uid="C1", amount=world.eur(300), tender=TenderKind.CASH)

    assert _report(world, cut) == [("none", "wristband", 2, 2_700)]
    assert _report(world) == [("none", "wristband", 2, 2_000)]
    # Each till added to totals of its own; summed they are what the balances give.
    with world.uow.engine.connect() as conn:
        slots = set(conn.execute(sa.select(card_float_totals.c.slot).distinct()).scalars())
        assert float_totals.mismatches(conn) == []
    assert slots == {world.till_id, world.till2_id}
    world.assert_ledger_clean()


def test_the_cross_check_sums_the_card_side_only_when_asked_and_only_for_now(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="A1", credit_type=CreditType.PREPAID, initial_load=world.eur(900))
    with world.uow.transaction() as tx:
        venue = load_venue(tx, world.venue_id)
        plain = read_card_float(tx, venue)
        checked = read_card_float(tx, venue, cross_check=True)
        earlier = read_card_float(tx, venue, tx.now - timedelta(minutes=1), cross_check=True)
    assert plain.card_side_total_minor is None
    assert checked.card_side_total_minor == checked.total_minor == 900
    assert earlier.card_side_total_minor is None and earlier.total_minor == 0


def test_check_names_a_total_that_does_not_match_the_balances(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="A1", credit_type=CreditType.PREPAID, initial_load=world.eur(900))
    with world.uow.engine.begin() as conn:
        conn.execute(card_float_totals.update().values(balance=card_float_totals.c.balance - 1))
    with world.uow.engine.connect() as conn:
        messages = [str(finding) for finding in all_findings(conn)]
    expected = (
        f"[card float totals equal balances] card float total of venue {world.venue_id} (no account type, "
        "wristband, card-money EUR) is stored as -901 over 1 account(s) but the balances give -900 over 1"
    )
    assert messages == [expected]


def test_rebuilt_and_migrated_totals_give_the_same_report(world: World) -> None:
    build_activity(world)
    before = _report(world)
    assert before, "the activity leaves value on cards"
    with world.uow.engine.begin() as conn:
        float_totals.rebuild(conn)  # what a bulk load does: everything in slot 0
        assert set(conn.execute(sa.select(card_float_totals.c.slot).distinct()).scalars()) == {0}
    assert _report(world) == before
    # Migration 0011 carries the balances over the same way when it meets an existing ledger.
    config = alembic_config(world.uow.engine)
    command.downgrade(config, "0010")
    command.upgrade(config, "head")
    assert _report(world) == before
    world.assert_ledger_clean()
