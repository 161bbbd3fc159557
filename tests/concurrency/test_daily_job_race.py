"""Two daily jobs in two processes run the same day at once, day after day, while a till sells from the cards
being renewed (issue 9, seed 002), on PostgreSQL: every renewal and deletion is booked exactly once, and the
renewal fee and the sale both come off the card, whichever locks it first.

(tests/usecases/test_daily_job.py runs two jobs on threads of one process for one day; here they are separate
processes with their own connection pools, over many days, with a till in the middle.)
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.store.tables import card_account_changes, card_accounts, card_balances, journal_entries
from tests.concurrency.daily_worker import serve
from tests.usecases.daily_setup import RENEWAL_FEE, create_types
from tests.world import World

pytestmark = pytest.mark.postgres

DAYS = 8
RENEWALS_PER_DAY = 2  # money cards: the fee comes from the card's 30.00
DELETIONS_PER_DAY = 1  # ten-visit cards: leftover money and visits go to breakage
FIRST_DAY = date(2026, 9, 1)
CARD_MONEY = 3_000
BEER = 450


def _day_rows(world: World, day: date) -> tuple[Counter[str], int, int]:
    """(changes logged for the day by code, account-renew entries, account-delete entries) of that day."""
    with world.uow.engine.connect() as conn:
        codes = Counter(
            conn.execute(
                sa.select(card_account_changes.c.code).where(card_account_changes.c.business_day == day)
            ).scalars()
        )
        entries = Counter(
            conn.execute(
                sa.select(journal_entries.c.code).where(
                    journal_entries.c.business_day == day,
                    journal_entries.c.code.in_(["account-renew", "account-delete"]),
                )
            ).scalars()
        )
    return codes, entries["account-renew"], entries["account-delete"]


def test_two_daily_jobs_at_once_book_each_change_once(pg_world: World, pg_url: str) -> None:
    world = pg_world
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(3)  # two jobs and the till
    pipes = [spawn.Pipe() for _ in range(2)]
    jobs = [spawn.Process(target=serve, args=(pg_url, world.venue_id, start, child), daemon=True) for _, child in pipes]
    for job in jobs:  # started first: a child takes seconds to import, time the set-up below can use
        job.start()
    try:
        types = create_types(world)
        plan: dict[date, tuple[list[str], list[int], list[int]]] = {}
        for d in range(DAYS):
            day = FIRST_DAY + timedelta(days=d)
            uids = [f"R{d}-{i}" for i in range(RENEWALS_PER_DAY)]
            renewing = [types.sell(types.money_card, uid) for uid in uids]
            deleting = [types.sell(types.ten_visits, f"D{d}-{i}") for i in range(DELETIONS_PER_DAY)]
            for account in renewing:
                types.set_valid_until(account, day)  # renewed on its last valid day
            for account in deleting:
                types.set_valid_until(account, day - timedelta(days=1))  # deleted the day after its last valid day
            plan[day] = (uids, renewing, deleting)

        for day, (uids, renewing, deleting) in plan.items():
            moment = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
            types.clock.set(moment)
            for parent, _ in pipes:
                parent.send(moment)
            start.wait(timeout=60)
            # The till sells from the first card due today while both jobs renew it.
            sell_from_balance(world.uow, world.ctx(), medium_uid=uids[0], items=[Item(world.beer_id)])
            answers = [parent.recv() for parent, _ in pipes]

            expected = (day, len(renewing), len(deleting))
            assert answers == [expected, expected], answers  # both jobs saw the day's whole work, done once
            codes, renew_entries, delete_entries = _day_rows(world, day)
            assert codes == Counter({"account-renew": len(renewing), "account-delete": len(deleting)}), codes
            assert (renew_entries, delete_entries) == (len(renewing), len(deleting))
            for account in renewing:
                assert types.valid_until(account) == date(day.year + 1, day.month, day.day)  # one year, not two
            with world.uow.engine.connect() as conn:
                closed = conn.execute(
                    sa.select(card_accounts.c.closed_reason).where(card_accounts.c.id.in_(deleting))
                ).scalars()
                assert list(closed) == ["expired"] * len(deleting)
                money = dict(
                    conn.execute(
                        sa.select(card_balances.c.card_account_id, card_balances.c.balance).where(
                            card_balances.c.card_account_id.in_(renewing), card_balances.c.unit == "EUR"
                        )
                    ).all()
                )
            assert money == {
                account: CARD_MONEY - RENEWAL_FEE - (BEER if n == 0 else 0) for n, account in enumerate(renewing)
            }
    finally:
        for parent, _ in pipes:
            parent.send(None)
        for job in jobs:
            job.join(timeout=30)
    assert [job.exitcode for job in jobs] == [0, 0]
    print(
        f"\ntwo daily jobs in two processes: {DAYS} days, {DAYS * RENEWALS_PER_DAY} renewals and "
        f"{DAYS * DELETIONS_PER_DAY} deletions, each booked once"
    )
    world.assert_ledger_clean()
