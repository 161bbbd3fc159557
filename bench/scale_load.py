"""Writing a generated chain into PostgreSQL (COPY) or SQLite (executemany), as fast as the machine allows.

Why it is built this way
------------------------
* Rows come from the generators of scale_rows.py in chunks (a chunk of media, one venue's day of journal)
  and are written chunk by chunk, so memory stays flat at any size.
* PostgreSQL: `cursor.copy` (COPY … FROM STDIN) with rows passed as tuples, formatted by psycopg's C
  extension; journal entries and postings go through two connections so two server processes parse and
  insert while Python builds the next day. The bulk tables' secondary indexes, unique and foreign-key
  constraints are dropped before and recreated after the load from their own definitions
  (`pg_get_indexdef`, `pg_get_constraintdef`), two at a time: building an index once over sorted data is
  far cheaper than maintaining it row by row, and re-adding a constraint checks every row against it, so the
  recreated schema is exactly the migrated one and the data is proven to satisfy it. Primary keys stay (the
  ids grow, so their upkeep is an append).
* SQLite: the same with the named indexes (inline UNIQUE constraints cannot be dropped and stay), then
  `PRAGMA foreign_key_check` over the whole database.
* Only commit durability is relaxed during the load (synchronous_commit=off / synchronous=OFF); it changes
  nothing in the data, and the database is settled (VACUUM ANALYZE, checkpoint) before anything is measured.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from multiprocessing import get_context
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import Copy, sql
from sqlalchemy.engine import Engine

from scale_rows import (
    COLUMNS,
    PER_MEDIUM_TABLES,
    Ids,
    Shape,
    VenueSetup,
    audit_rows,
    bucket_rows,
    journal_days,
    medium_rows,
    open_journal,
    venue_starts,
)
from tapzone import audit as audit_chain
from tapzone.ledger import chain, float_totals
from tapzone.ledger.chain import chain_head
from tapzone.store.tables import audit_log
from tapzone.store.uow import UnitOfWork

BULK_TABLES = (*PER_MEDIUM_TABLES, "account_balances", "journal_entries", "postings", "audit_log")
ID_TABLES = ("media", "visits", "card_accounts", "tabs", "ledger_accounts", "journal_entries", "postings", "audit_log")
MEDIA_CHUNK = 20_000

Advance = Callable[[str, int], None]  # (progress task, rows done) → redraw


@dataclass(slots=True)
class LoadReport:
    """Seconds per step and what was written."""

    steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def timed(self, name: str, started: float) -> None:
        self.steps[name] = round(time.perf_counter() - started, 2)


def first_ids(engine: Engine) -> Ids:
    """Bulk ids start after everything set-up wrote."""
    with engine.connect() as conn:
        start = {
            table: int(conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one()) + 1
            for table in ID_TABLES
        }
    return Ids(
        media=start["media"],
        visits=start["visits"],
        card_accounts=start["card_accounts"],
        tabs=start["tabs"],
        ledger_accounts=start["ledger_accounts"],
        entries=start["journal_entries"],
        postings=start["postings"],
        audit=start["audit_log"],
    )


def chain_heads(
    engine: Engine, setups: Sequence[VenueSetup]
) -> tuple[dict[int, tuple[int, str]], dict[int, tuple[int, str]]]:
    """Each till's journal chain head (the application's `chain_head`) and audit chain head, after set-up."""
    journal: dict[int, tuple[int, str]] = {}
    audit: dict[int, tuple[int, str]] = {}
    uow = UnitOfWork(engine)
    with uow.transaction() as tx:
        for till in (till for setup in setups for till in setup.tills):
            journal[till] = chain_head(tx, till)
            row = tx.conn.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash)
                .where(audit_log.c.device_id == till)
                .order_by(audit_log.c.seq.desc())
                .limit(1)
            ).first()
            if row is not None:
                audit[till] = (int(row.seq), str(row.hash))
    return journal, audit


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True, slots=True)
class Definition:
    table: str
    name: str
    create: str  # the statement that recreates it
    kind: str  # index, unique, foreign key


def pg_definitions(conn: psycopg.Connection[Any]) -> list[Definition]:
    """Secondary indexes, unique and foreign-key constraints of the bulk tables, as they are now."""
    tables = list(BULK_TABLES)
    found = []
    for table, name, definition, kind in conn.execute(
        """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
             FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')""",
        [tables],
    ):
        text = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.Identifier(table), sql.Identifier(name))
        found.append(
            Definition(table, name, text.as_string(conn) + definition, "foreign key" if kind == "f" else "unique")
        )
    for table, name, definition in conn.execute(
        """SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                               WHERE c.conindid = i.indexrelid AND c.contype IN ('u', 'p', 'x'))""",
        [tables],
    ):
        found.append(Definition(table, name, definition, "index"))
    return found


def pg_drop(conn: psycopg.Connection[Any], definitions: Sequence[Definition]) -> None:
    for item in sorted(definitions, key=lambda d: d.kind != "foreign key"):  # foreign keys first
        if item.kind == "index":
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(item.name)))
        else:
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(item.table), sql.Identifier(item.name)
                )
            )
    conn.commit()


def pg_recreate(url: str, definitions: Sequence[Definition], advance: Advance) -> None:
    """Indexes and unique constraints, then foreign keys (each validates every row), two at a time."""

    def run(item: Definition) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")  # the two sessions already use both cores
            conn.execute(item.create)  # type: ignore[arg-type]  # a definition read back from the catalog
        advance("schema", 1)

    # Largest tables first so the two sessions finish together rather than one waiting on postings.
    weight = {"postings": 0, "journal_entries": 1}
    for stage in (("index", "unique"), ("foreign key",)):
        batch = sorted((d for d in definitions if d.kind in stage), key=lambda d: weight.get(d.table, 2))
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(run, batch))


def _copy_statement(table: str) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in COLUMNS[table])
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterable[tuple[object, ...]]) -> int:
    count = 0
    with conn.cursor().copy(_copy_statement(table)) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _open_copies(stack: ExitStack, url: str, tables: Sequence[str]) -> dict[str, Copy]:
    """One connection and one COPY per table, open together for a whole stream of rows (one COPY statement
    per chunk would cost a round trip and a writer start each time)."""
    copies = {}
    for table in tables:
        conn = stack.enter_context(psycopg.connect(url))
        conn.execute("SET synchronous_commit = off")
        copies[table] = stack.enter_context(conn.cursor().copy(_copy_statement(table)))
    return copies


def load_pg(
    url: str,
    engine: Engine,
    shape: Shape,
    setups: Sequence[VenueSetup],
    advance: Advance,
    report: LoadReport,
    *,
    workers: int = 2,
) -> None:
    """COPY the whole chain into a migrated, set-up PostgreSQL database; the journal in `workers` processes."""
    ids = first_ids(engine)
    journal_heads, audit_heads = chain_heads(engine, setups)
    with ExitStack() as stack:
        main = stack.enter_context(psycopg.connect(url))
        main.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        definitions = pg_definitions(main)
        pg_drop(main, definitions)
        report.timed("drop indexes and constraints", started)

        started = time.perf_counter()
        with ExitStack() as copying:
            copies = _open_copies(copying, url, (*PER_MEDIUM_TABLES, "account_balances"))
            for chunk in _chunks(medium_rows(shape, setups, ids), MEDIA_CHUNK):
                for rows in chunk:
                    for table, row in rows.items():
                        copies[table].write_row(row)
                for table in copies:
                    _count(report, table, sum(1 for rows in chunk if table in rows))
                advance("media", len(chunk))
        report.timed("media, visits, card accounts", started)

        report.rows["audit_log"] = _copy(main, "audit_log", audit_rows(shape, setups, ids, audit_heads))
        main.commit()

        started = time.perf_counter()
        journal_pg(url, shape, setups, ids, journal_heads, workers, advance, report)
        report.timed("journal entries and postings", started)

        for table in ID_TABLES:
            main.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        main.commit()
    started = time.perf_counter()
    pg_recreate(url, definitions, advance)
    report.timed("recreate indexes and constraints", started)
    _float_totals(engine, report)
    _device_chain_heads(engine, report)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    report.timed("vacuum analyze", started)


def _venue_journal_pg(
    url: str,
    shape: Shape,
    setup: VenueSetup,
    v: int,
    ids: Ids,
    start: tuple[int, int],
    heads: dict[int, tuple[int, str]],
    progress: Any,
) -> tuple[int, int, int]:
    """One venue's journal (runs in a worker process): entries and postings through two connections, so two
    server processes insert while this one hashes, then the venue's balance buckets. Returns row counts."""
    entries_count = postings_count = 0
    journal = open_journal(setup, start, heads)
    with ExitStack() as stack:
        copies = _open_copies(stack, url, ("journal_entries", "postings"))
        for entries, postings in journal_days(shape, setup, v, ids, journal):
            for row in entries:
                copies["journal_entries"].write_row(row)
            for row in postings:
                copies["postings"].write_row(row)
            entries_count += len(entries)
            postings_count += len(postings)
            progress.put(len(postings))
    with psycopg.connect(url) as conn:
        buckets = _copy(conn, "account_balances", bucket_rows(setup, journal))
    return entries_count, postings_count, buckets


def journal_pg(
    url: str,
    shape: Shape,
    setups: Sequence[VenueSetup],
    ids: Ids,
    heads: dict[int, tuple[int, str]],
    workers: int,
    advance: Advance,
    report: LoadReport,
) -> None:
    """Every venue's journal, venues spread over `workers` processes (each venue owns an id range and its
    tills' chains, so venues need nothing from each other)."""
    starts = venue_starts(shape, setups, ids)
    context = get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        progress = manager.Queue()
        futures = [
            pool.submit(_venue_journal_pg, url, shape, setup, v, ids, starts[v], heads, progress)
            for v, setup in enumerate(setups)
        ]
        while not all(future.done() for future in futures):
            with contextlib.suppress(queue.Empty):
                advance("postings", progress.get(timeout=0.5))
        while not progress.empty():
            advance("postings", progress.get())
        for future in futures:
            entries, postings, buckets = future.result()
            report.rows["journal_entries"] = report.rows.get("journal_entries", 0) + entries
            report.rows["postings"] = report.rows.get("postings", 0) + postings
            report.rows["account_balances"] = report.rows.get("account_balances", 0) + buckets


def pg_schema_steps(url: str) -> int:
    """How many definitions `pg_recreate` will run (for the progress bar)."""
    with psycopg.connect(url) as conn:
        return len(pg_definitions(conn))


# --------------------------------------------------------------------------- SQLite


def _count(report: LoadReport, table: str, rows: int) -> None:
    report.rows[table] = report.rows.get(table, 0) + rows


def _sqlite_value(value: object) -> object:
    """What SQLAlchemy's SQLite dialect would store: naive UTC text for times, ISO dates, 0/1 booleans."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_rows(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[object, ...]]:
    for row in rows:
        yield tuple(_sqlite_value(value) for value in row)


def _insert(conn: sqlite3.Connection, table: str, rows: Iterable[tuple[object, ...]], convert: bool = True) -> int:
    columns = COLUMNS[table]
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cursor = conn.executemany(statement, _sqlite_rows(rows) if convert else rows)
    return cursor.rowcount


def load_sqlite(
    path: str, engine: Engine, shape: Shape, setups: Sequence[VenueSetup], advance: Advance, report: LoadReport
) -> None:
    """Insert the whole chain into a migrated, set-up SQLite file."""
    ids = first_ids(engine)
    journal_heads, audit_heads = chain_heads(engine, setups)
    engine.dispose()
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        started = time.perf_counter()
        names = ", ".join(f"'{table}'" for table in BULK_TABLES)
        indexes = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        report.timed("drop indexes", started)

        conn.execute("BEGIN")
        started = time.perf_counter()
        for chunk in _chunks(medium_rows(shape, setups, ids), MEDIA_CHUNK):
            for table in (*PER_MEDIUM_TABLES, "account_balances"):
                report.rows[table] = report.rows.get(table, 0) + _insert(
                    conn, table, (rows[table] for rows in chunk if table in rows)
                )
            advance("media", len(chunk))
        report.timed("media, visits, card accounts", started)

        report.rows["audit_log"] = _insert(conn, "audit_log", audit_rows(shape, setups, ids, audit_heads))
        started = time.perf_counter()
        starts = venue_starts(shape, setups, ids)
        for v, setup in enumerate(setups):
            journal = open_journal(setup, starts[v], journal_heads)
            for entries, postings in journal_days(shape, setup, v, ids, journal):
                _count(report, "journal_entries", _insert(conn, "journal_entries", entries))
                _count(report, "postings", _insert(conn, "postings", postings, convert=False))
                advance("postings", len(postings))
            _count(report, "account_balances", _insert(conn, "account_balances", bucket_rows(setup, journal)))
        conn.execute("COMMIT")
        report.timed("journal entries and postings", started)

        started = time.perf_counter()
        for _, create in indexes:
            conn.execute(create)
            advance("schema", 1)
        report.timed("recreate indexes", started)
        started = time.perf_counter()
        broken = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
        if broken:
            raise RuntimeError(f"generated rows break foreign keys: {broken}")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        report.timed("foreign key check, analyze", started)
    _float_totals(engine, report)
    _device_chain_heads(engine, report)


def _float_totals(engine: Engine, report: LoadReport) -> None:
    """The balances were written directly, not booked, so the card float's totals are summed from them once."""
    started = time.perf_counter()
    with engine.begin() as conn:
        float_totals.rebuild(conn)
    report.timed("card float totals", started)


def _device_chain_heads(engine: Engine, report: LoadReport) -> None:
    """The journal and audit rows were written directly, not appended by tapzone, so each device's recorded
    chain heads (which `tapzone check` compares with the chains' last rows) are set from the chains once."""
    started = time.perf_counter()
    with engine.begin() as conn:
        chain.set_heads_from_chains(conn)
        audit_chain.set_heads_from_chains(conn)
    report.timed("device chain heads", started)


def sqlite_schema_steps(path: str) -> int:
    names = ", ".join(f"'{table}'" for table in BULK_TABLES)
    with closing(sqlite3.connect(path)) as conn:
        query = f"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})"
        return int(conn.execute(query).fetchone()[0])
