"""Scratch databases and the benchmark venue: 32 tills, one cashier, the demo products, 10,000 media.

Why it is built this way
------------------------
* Every database is new (PostgreSQL: a scratch database dropped WITH (FORCE) afterwards, also on error;
  SQLite: a file in a temporary directory) and migrated with `tapzone.store.migrate.upgrade`, so a run
  never depends on what an earlier run left behind.
* The 10,000 media are issued through the real use case (`tapzone.access.visits.issue_medium`), not by
  hand-written INSERTs, so they carry exactly the rows the application would create (visit, prepaid card
  account, card balance, initial-load journal entry and postings) even while the schema evolves. Only the
  commit durability is relaxed during set-up (synchronous_commit=off / synchronous=OFF), which changes
  nothing in the data; PostgreSQL set-up is split over several processes because it is CPU-bound Python.
* Every medium is prepaid with a large initial load, so tab sales (limit: balance − open tab), card-balance
  sales and top-ups all succeed on any medium for the whole run: a refusal is a failure, never the workload.
* Every card account gets its open tab at set-up (one bulk insert of `tabs` rows, the same row
  `ensure_open_tab` would write on a visitor's first order), so every tab sale of the run — over HTTP and in
  the SQL replays — takes the same steady-state path (a visitor's second and later orders).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any
from urllib.parse import urlsplit

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tapzone.access.visits import issue_medium
from tapzone.context import RequestContext
from tapzone.demo import DEMO_PRODUCTS
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.store.db import make_engine
from tapzone.store.migrate import upgrade
from tapzone.store.tables import card_accounts, journal_entries, tab_lines, tabs
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import issue_device_token, set_password
from tapzone.venues.model import FiscalProfile
from tapzone.venues.setup import add_device, add_staff, create_product, create_venue

UID_BASE = 100_000  # medium n has UID str(UID_BASE + n): pgbench can compute it from a random number
STAFF_LOGIN = "bench"
STAFF_PASSWORD = "bench-password-2026"  # a throwaway cashier, throwaway database
CURRENCY = "EUR"


# --------------------------------------------------------------------------- scratch databases


def with_database(url: str, dbname: str) -> str:
    """`url` pointing at database `dbname` (user, host, port and query kept)."""
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


@contextlib.contextmanager
def pg_scratch(admin_url: str, label: str) -> Iterator[str]:
    """Create a fresh PostgreSQL database and drop it WITH (FORCE) afterwards, whatever happened."""
    dbname = f"tapzone_bench_{label}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        yield with_database(admin_url, dbname)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@contextlib.contextmanager
def sqlite_scratch() -> Iterator[str]:
    """A SQLite database file in a new temporary directory (on the same disk as /tmp), removed afterwards."""
    directory = tempfile.mkdtemp(prefix="tapzone_bench_")
    try:
        yield f"sqlite:///{directory}/bench.db"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def setup_engine(url: str) -> Engine:
    """The application's engine factory with commit durability relaxed: for set-up only, never measured."""
    if url.startswith("sqlite"):
        engine = make_engine(url)

        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection: Any, _record: Any) -> None:  # runs after make_engine's own PRAGMAs
            dbapi_connection.execute("PRAGMA synchronous=OFF")

        return engine
    return make_engine(url, connect_args={"options": "-c synchronous_commit=off"})


# --------------------------------------------------------------------------- the venue


@dataclass(frozen=True, slots=True)
class BenchVenue:
    """Everything the load needs to know about the venue it set up."""

    venue_id: int
    staff_id: int
    tills: list[tuple[int, str]]  # device id, bearer token
    products: list[tuple[int, int]]  # product id, gross price
    uids: list[str]

    @property
    def first_device(self) -> int:
        return self.tills[0][0]


def medium_uid(n: int) -> str:
    return str(UID_BASE + n)


def _issue_range(url: str, venue_id: int, device_id: int, staff_id: int, uids: Sequence[str], load: int) -> int:
    """Issue `uids` as prepaid media through the use case (runs in a worker process)."""
    engine = setup_engine(url)
    uow = UnitOfWork(engine)
    try:
        for uid in uids:
            issue_medium(
                uow,
                RequestContext(venue_id, device_id, staff_id, f"setup-{uuid.uuid4()}"),
                medium_uid=uid,
                credit_type=CreditType.PREPAID,
                initial_load=Money(load, CURRENCY),
            )
    finally:
        engine.dispose()
    return len(uids)


def build_venue(url: str, *, tills: int, media: int, initial_load_minor: int, processes: int) -> BenchVenue:
    """Migrate the scratch database and set up the benchmark venue through tapzone's own set-up functions."""
    engine = setup_engine(url)
    try:
        upgrade(engine)
        uow = UnitOfWork(engine)
        venue_id = create_venue(
            uow, name="Bench Aquapark", currency=CURRENCY, timezone="Europe/Berlin", fiscal_profile=FiscalProfile.DE
        )
        devices = [add_device(uow, venue_id, name=f"Till {i + 1:02d}") for i in range(tills)]
        if devices != list(range(devices[0], devices[0] + tills)):
            raise RuntimeError(f"device ids are not contiguous: {devices}")  # the pgbench replay relies on it
        tokens = [(device, issue_device_token(uow, device)) for device in devices]
        staff_id = add_staff(uow, venue_id, name="Bench Cashier", login=STAFF_LOGIN, role="cashier")
        set_password(uow, staff_id, STAFF_PASSWORD)
        products = [
            (create_product(uow, venue_id, name=name, price_minor=price, vat_rate_bp=vat, product_group=group), price)
            for name, price, vat, group in DEMO_PRODUCTS
        ]
    finally:
        engine.dispose()

    uids = [medium_uid(n) for n in range(media)]
    chunks = [uids[i::processes] for i in range(processes)]
    if processes == 1:
        _issue_range(url, venue_id, devices[0], staff_id, uids, initial_load_minor)
    else:
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(_issue_range, url, venue_id, devices[0], staff_id, chunk, initial_load_minor)
                for chunk in chunks
            ]
            issued = sum(future.result() for future in futures)
        if issued != media:
            raise RuntimeError(f"issued {issued} media, expected {media}")
    open_all_tabs(url)
    settle_database(url)
    return BenchVenue(venue_id, staff_id, tokens, products, uids)


def open_all_tabs(url: str) -> None:
    """Give every card account its open tab, as `ensure_open_tab` does on a visitor's first order."""
    engine = setup_engine(url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(card_accounts.c.venue_id, card_accounts.c.id, card_accounts.c.opened_at).order_by(
                    card_accounts.c.id
                )
            ).all()
            conn.execute(
                tabs.insert(),
                [
                    {"venue_id": venue, "card_account_id": account, "state": "open", "opened_at": opened}
                    for venue, account, opened in rows
                ],
            )
    finally:
        engine.dispose()


def settle_database(url: str) -> None:
    """Start every measurement from the same state: statistics fresh, WAL checkpointed."""
    if url.startswith("sqlite"):
        # Outside any transaction (the engine would open one with BEGIN IMMEDIATE): plain sqlite3.
        conn = sqlite3.connect(sa.engine.make_url(url).database or "", isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def sessions_opened(url: str) -> int | None:
    """PostgreSQL's count of sessions ever opened on this database (None on SQLite). A connection pool that
    keeps its connections opens none during a steady run; one that overflows opens one per request."""
    if url.startswith("sqlite"):
        return None
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else None


# --------------------------------------------------------------------------- counting bookings


@dataclass(frozen=True, slots=True)
class Watermark:
    """The highest journal entry and tab line ids before a run: what came after was booked by it."""

    entry_id: int
    line_id: int


@dataclass(frozen=True, slots=True)
class Booked:
    """Bookings found in the database after a watermark, per request kind."""

    tab_lines_open: int  # tab sales: one open line each (one item per request)
    sale_entries: int  # card-balance sales: one `sale` journal entry each
    topup_entries: int  # top-ups: one `topup` journal entry each
    other_entries: int  # anything else would be a surprise

    @property
    def total(self) -> int:
        return self.tab_lines_open + self.sale_entries + self.topup_entries + self.other_entries

    def by_kind(self) -> dict[str, int]:
        return {"tab": self.tab_lines_open, "sale": self.sale_entries, "topup": self.topup_entries}


def watermark(engine: Engine) -> Watermark:
    with engine.connect() as conn:
        entry = conn.execute(sa.select(sa.func.coalesce(sa.func.max(journal_entries.c.id), 0))).scalar_one()
        line = conn.execute(sa.select(sa.func.coalesce(sa.func.max(tab_lines.c.id), 0))).scalar_one()
    return Watermark(int(entry), int(line))


def booked_since(engine: Engine, mark: Watermark) -> Booked:
    """Count journal entries (by code) and open tab lines created after `mark`."""
    with engine.connect() as conn:
        codes = dict(
            conn.execute(
                sa.select(journal_entries.c.code, sa.func.count())
                .where(journal_entries.c.id > mark.entry_id)
                .group_by(journal_entries.c.code)
            ).all()
        )
        lines = conn.execute(
            sa.select(sa.func.count()).where(tab_lines.c.id > mark.line_id, tab_lines.c.state == "open")
        ).scalar_one()
    sale = int(codes.pop("sale", 0))
    topup = int(codes.pop("topup", 0))
    return Booked(int(lines), sale, topup, sum(int(count) for count in codes.values()))
