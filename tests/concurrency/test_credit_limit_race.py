"""32 workers in two processes race for one credit limit (issue 2): exactly ⌊L / P⌋ sales get through."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import idempotency_keys, tab_lines
from tests.concurrency.race_worker import RaceJob, run_race
from tests.world import World

PROCESSES = 2
THREADS_PER_PROCESS = 16
ATTEMPTS_PER_WORKER = 50
PRICE_MINOR = 450  # the beer of the test venue


@pytest.mark.slow
def test_concurrent_sales_never_exceed_the_credit_limit(world: World, db_url: str) -> None:
    attempts = PROCESSES * THREADS_PER_PROCESS * ATTEMPTS_PER_WORKER
    limit_minor = (attempts // 2) * PRICE_MINOR + PRICE_MINOR // 2  # lets at most half through
    issue_medium(
        world.uow, world.ctx(), medium_uid="RACE1", credit_type=CreditType.CREDIT, credit_limit=world.eur(limit_minor)
    )
    world.uow.engine.dispose()  # children open their own connections

    start_at = time.time() + 2.0
    job = RaceJob(
        db_url=db_url,
        venue_id=world.venue_id,
        till_id=world.till_id,
        cashier_id=world.cashier_id,
        medium_uid="RACE1",
        product_id=world.beer_id,
        threads=THREADS_PER_PROCESS,
        attempts_per_thread=ATTEMPTS_PER_WORKER,
        start_at=start_at,
    )
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_race, [job] * PROCESSES))

    accepted = sum(result[0] for result in results)
    refused = sum(result[1] for result in results)
    errors = [error for result in results for error in result[2]]
    assert errors == []
    assert accepted == limit_minor // PRICE_MINOR
    assert accepted + refused == attempts

    with world.uow.engine.connect() as conn:
        lines = conn.execute(sa.select(sa.func.count(), sa.func.sum(tab_lines.c.amount_minor))).one()
        keys = conn.execute(sa.select(sa.func.count()).select_from(idempotency_keys)).scalar_one()
    assert lines[0] == accepted  # each accepted sale booked exactly once
    assert lines[1] <= limit_minor
    assert keys == accepted + 1  # refused attempts left nothing behind; +1 for the issue
    world.assert_ledger_clean()
