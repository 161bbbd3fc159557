"""Smoke version of `make scale`: a small generated chain must be data the application accepts as its own.

The generator writes rows directly (COPY / executemany), not through the use cases, so everything the
application relies on is checked here on SQLite and PostgreSQL: every row it promised is there, `tapzone
check`'s invariants hold (balanced entries, materialised balances equal to the postings, card balances equal
to the liabilities, per-device journal and audit hash chains), the card-float report equals both the
liability postings and the card side, a top-up through the real use case extends a generated chain, and the
daily job finds exactly the accounts the shape made due and leaves the ledger clean.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from scale_load import LoadReport, load_pg, load_sqlite
from scale_rows import Shape, expected_totals
from scale_setup import build_chain
from tapzone.clock import FixedClock
from tapzone.context import RequestContext
from tapzone.ledger.check import all_findings
from tapzone.ledger.model import Purpose
from tapzone.money import Money
from tapzone.plans.daily_job import run_daily
from tapzone.pos.topup import top_up
from tapzone.reports.card_float import read_card_float
from tapzone.store.db import make_engine
from tapzone.store.tables import audit_log, card_balances, journal_entries, ledger_accounts, media, postings
from tapzone.store.uow import UnitOfWork
from tapzone.venues.repo import load_venue

SHAPE = Shape(
    media=600,
    postings=12_000,
    venues=2,
    tills_per_venue=3,
    lanes_per_venue=1,
    days=12,
    end_day=date(2026, 5, 31),
    run_day=date(2026, 6, 2),
    audit_every=50,
)


def _load(db_url: str) -> tuple[sa.Engine, list]:  # type: ignore[type-arg]
    engine = make_engine(db_url)
    chain = build_chain(engine, SHAPE)
    report = LoadReport()
    if engine.dialect.name == "postgresql":
        libpq_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        load_pg(libpq_url, engine, SHAPE, chain.setups, lambda _task, _done: None, report, workers=1)
    else:
        load_sqlite(engine.url.database or "", engine, SHAPE, chain.setups, lambda _task, _done: None, report)
    engine.dispose()
    return make_engine(db_url), chain.setups


def test_generated_chain_is_valid_data(db_url: str) -> None:
    engine, setups = _load(db_url)
    expected = expected_totals(SHAPE, setups)
    try:
        with engine.connect() as conn:
            count = lambda table: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()  # noqa: E731
            assert count(media) == expected.media == SHAPE.media
            assert count(journal_entries) == expected.entries == SHAPE.media * SHAPE.entries_per_medium
            assert count(postings) == expected.postings
            assert abs(expected.postings - SHAPE.postings) <= SHAPE.media  # near what was asked for
            assert count(audit_log) >= expected.audit_rows > 0
            assert all_findings(conn) == []
            liabilities = conn.execute(
                sa.select(ledger_accounts.c.venue_id, sa.func.sum(postings.c.amount))
                .join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id)
                .where(ledger_accounts.c.purpose == Purpose.CARD_MONEY.value)
                .group_by(ledger_accounts.c.venue_id)
            ).all()
            assert {venue: -int(total) for venue, total in liabilities} == expected.float_minor
            card_side = conn.execute(sa.select(sa.func.sum(card_balances.c.balance))).scalar_one()
            assert card_side == sum(expected.float_minor.values())

        uow = UnitOfWork(engine)
        for setup in setups:
            with uow.transaction() as tx:
                report = read_card_float(tx, load_venue(tx, setup.venue.id), cross_check=True)
            assert report.total_minor == report.card_side_total_minor == expected.float_minor[setup.venue.id]
            assert {row.account_type for row in report.rows} == {"Wallet"}  # spent media hold nothing

        # The application books onto a generated medium and continues the till's generated hash chain.
        setup = setups[0]
        ctx = RequestContext(setup.venue.id, setup.tills[0], setup.cashier_id, f"smoke-{uuid.uuid4()}")
        topped = top_up(uow, ctx, medium_uid=SHAPE.uid(0, 0), amount=Money(1000, SHAPE.currency))
        assert topped.balance_minor == SHAPE.funded_load_minor + 1000

        clock = FixedClock(datetime(2026, 6, 2, 1, 0, tzinfo=UTC))
        runs = [run_daily(UnitOfWork(engine, clock=clock), setup.venue.id) for setup in setups]
        assert sum(run.renewed for run in runs) == expected.due_renew > 0
        assert sum(run.deleted for run in runs) == expected.due_delete > 0
        assert sum(run.skipped for run in runs) == 0
        with engine.connect() as conn:
            assert all_findings(conn) == []
    finally:
        engine.dispose()
