"""Compare psycopg 3 and asyncpg on tapzone's ledger booking transaction.

Why this benchmark exists
-------------------------
tapzone has to pick one PostgreSQL driver for its booking path: every tap at a
gate, bar or till books one balanced journal entry while holding a row lock on
the card account.  That path is round-trip bound (nine statements per
transaction), so driver overhead per statement and behaviour under concurrent
connections matter more than raw row throughput.  This script measures exactly
that transaction with both candidate drivers:

1. psycopg 3 (sync), one connection, sequential;
2. asyncpg, one connection, sequential;
3. psycopg 3 (sync), N threads, each with its own connection;
4. asyncpg, N asyncio tasks, each with its own connection.

pgbench's built-in TPC-B-like script is run in the same invocation (with -c 1
and -c N) as a baseline for what this server and machine can do with a C
client, and each driver figure is printed as a ratio to the pgbench tps at the
same concurrency.  pgbench uses its default (simple) query protocol unless
--pgbench-protocol says otherwise, and runs its usual pre-run VACUUM; the
driver cases get the equivalent (truncate, VACUUM ANALYZE, CHECKPOINT) before
each case so that every case starts from the same state.

The booking transaction (same SQL for both drivers, written once with %s
placeholders and rewritten to $1, $2, ... for asyncpg):

    BEGIN
    SELECT ... FROM accounts WHERE id = card FOR UPDATE
    INSERT INTO journal_entries (...) RETURNING id
    INSERT INTO postings (...)            -- debit leg
    INSERT INTO postings (...)            -- credit leg, the two sum to zero
    INSERT INTO account_balances ... ON CONFLICT DO UPDATE  -- x2, account_id order
    UPDATE accounts SET balance = ... WHERE id = card
    COMMIT

Card accounts are picked at random among 1000; the counter-leg goes to one of
ten venue revenue accounts, so concurrent runs see some realistic contention on
hot balance rows (pgbench -s 1 has a single hot branch row, so it is not free
of contention either).  Workloads are pre-generated from a fixed seed, so both
drivers book identical transactions, and the ledger is checked for consistency
after every case.

The script creates its own scratch databases from the database in
TAPZONE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres) and
drops them at the end, also on error.

Usage:
    .venv/bin/python bench/driver_booking.py [--transactions 3000] [--workers 8]
"""

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import psycopg
from psycopg import sql

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"

CARD_COUNT = 1000
VENUE_COUNT = 10
REVENUE_ACCOUNT_BASE = 100_000  # revenue account of venue v is REVENUE_ACCOUNT_BASE + v
CARD_OPENING_BALANCE = 10_000_000
UNIT = "EUR"
CARD_BUCKET = "prepaid"
REVENUE_BUCKET = "sales"

SCHEMA = """
CREATE TABLE accounts (
    id         bigint PRIMARY KEY,
    venue_id   integer NOT NULL,
    kind       text    NOT NULL,
    unit       text    NOT NULL,
    balance    bigint  NOT NULL DEFAULT 0
);
CREATE TABLE journal_entries (
    id              bigserial   PRIMARY KEY,
    venue_id        integer     NOT NULL,
    code            text        NOT NULL,
    device_id       integer     NOT NULL,
    idempotency_key text        NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    effective_at    timestamptz NOT NULL
);
CREATE TABLE postings (
    id         bigserial PRIMARY KEY,
    entry_id   bigint    NOT NULL REFERENCES journal_entries (id),
    account_id bigint    NOT NULL REFERENCES accounts (id),
    unit       text      NOT NULL,
    bucket     text      NOT NULL,
    amount     bigint    NOT NULL
);
CREATE INDEX postings_entry_id_idx ON postings (entry_id);
CREATE INDEX postings_account_id_idx ON postings (account_id);
CREATE TABLE account_balances (
    account_id bigint NOT NULL REFERENCES accounts (id),
    bucket     text   NOT NULL,
    balance    bigint NOT NULL,
    PRIMARY KEY (account_id, bucket)
);
"""

# The booking statements, written once in psycopg's %s style.
SELECT_CARD = "SELECT id, balance FROM accounts WHERE id = %s FOR UPDATE"
INSERT_ENTRY = (
    "INSERT INTO journal_entries (venue_id, code, device_id, idempotency_key, effective_at)"
    " VALUES (%s, %s, %s, %s, %s) RETURNING id"
)
INSERT_POSTING = "INSERT INTO postings (entry_id, account_id, unit, bucket, amount) VALUES (%s, %s, %s, %s, %s)"
UPSERT_BALANCE = (
    "INSERT INTO account_balances (account_id, bucket, balance) VALUES (%s, %s, %s)"
    " ON CONFLICT (account_id, bucket)"
    " DO UPDATE SET balance = account_balances.balance + EXCLUDED.balance"
)
UPDATE_CARD = "UPDATE accounts SET balance = balance + %s WHERE id = %s"


def to_dollar_params(query: str) -> str:
    """Rewrite psycopg's positional %s placeholders to asyncpg's $1, $2, ..."""
    counter = iter(range(1, query.count("%s") + 1))
    return re.sub(r"%s", lambda _: f"${next(counter)}", query)


SELECT_CARD_PG = to_dollar_params(SELECT_CARD)
INSERT_ENTRY_PG = to_dollar_params(INSERT_ENTRY)
INSERT_POSTING_PG = to_dollar_params(INSERT_POSTING)
UPSERT_BALANCE_PG = to_dollar_params(UPSERT_BALANCE)
UPDATE_CARD_PG = to_dollar_params(UPDATE_CARD)


# --------------------------------------------------------------------------- workload


@dataclass(frozen=True, slots=True)
class Leg:
    """One posting of a journal entry."""

    account_id: int
    bucket: str
    amount: int


@dataclass(frozen=True, slots=True)
class Booking:
    """One pre-generated booking: a card pays a venue."""

    card_id: int
    venue_id: int
    device_id: int
    idempotency_key: str
    effective_at: datetime
    amount: int

    @property
    def legs(self) -> tuple[Leg, Leg]:
        """Debit the card's prepaid bucket, credit the venue's sales; sorted by account id."""
        card = Leg(self.card_id, CARD_BUCKET, -self.amount)
        revenue = Leg(REVENUE_ACCOUNT_BASE + self.venue_id, REVENUE_BUCKET, self.amount)
        return (card, revenue) if card.account_id < revenue.account_id else (revenue, card)


def plan_bookings(count: int, rng: random.Random) -> list[Booking]:
    """Generate `count` bookings on random cards (identical for both drivers given the seed)."""
    bookings = []
    for _ in range(count):
        card_id = rng.randint(1, CARD_COUNT)
        bookings.append(
            Booking(
                card_id=card_id,
                venue_id=card_id % VENUE_COUNT + 1,
                device_id=rng.randint(1, 200),
                idempotency_key=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                effective_at=datetime.now(UTC),
                amount=rng.randint(100, 5_000),
            )
        )
    return bookings


# --------------------------------------------------------------------------- database setup


def with_database(url: str, dbname: str) -> str:
    """Return `url` pointing at database `dbname` (user, host, port and query kept)."""
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


def create_database(admin_url: str, dbname: str) -> None:
    """CREATE DATABASE `dbname` through the admin connection URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def drop_database(admin_url: str, dbname: str) -> None:
    """DROP DATABASE `dbname`, terminating any connection still attached to it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def create_schema(url: str) -> None:
    """Create the ledger tables and the card and venue revenue accounts."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO accounts (id, venue_id, kind, unit, balance) VALUES (%s, %s, %s, %s, %s)",
                [
                    *(
                        (card, card % VENUE_COUNT + 1, "card", UNIT, CARD_OPENING_BALANCE)
                        for card in range(1, CARD_COUNT + 1)
                    ),
                    *((REVENUE_ACCOUNT_BASE + venue, venue, "revenue", UNIT, 0) for venue in range(1, VENUE_COUNT + 1)),
                ],
            )


def reset_ledger(url: str) -> None:
    """Bring the ledger back to its opening state so every case starts alike."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE postings, journal_entries, account_balances RESTART IDENTITY")
        conn.execute(
            "UPDATE accounts SET balance = CASE kind WHEN 'card' THEN %s::bigint ELSE 0 END",
            (CARD_OPENING_BALANCE,),
        )
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def check_ledger(url: str, expected_entries: int) -> None:
    """Fail loudly if the run did not book what it should have, or left the ledger unbalanced."""
    with psycopg.connect(url) as conn:
        entries, postings, total = conn.execute(
            "SELECT (SELECT count(*) FROM journal_entries),"
            " (SELECT count(*) FROM postings),"
            " (SELECT coalesce(sum(amount), 0) FROM postings)"
        ).fetchone() or (0, 0, 0)
        mismatched = conn.execute(
            "SELECT count(*) FROM accounts a"
            " LEFT JOIN account_balances b ON b.account_id = a.id AND b.bucket = %s"
            " WHERE a.kind = 'card' AND a.balance <> %s + coalesce(b.balance, 0)",
            (CARD_BUCKET, CARD_OPENING_BALANCE),
        ).fetchone() or (1,)
    if entries != expected_entries or postings != 2 * expected_entries or total != 0 or mismatched[0]:
        raise RuntimeError(
            f"ledger check failed: {entries} entries (expected {expected_entries}),"
            f" {postings} postings, sum {total}, {mismatched[0]} card balance mismatches"
        )


# --------------------------------------------------------------------------- measurement


@dataclass(frozen=True, slots=True)
class Result:
    """Outcome of one measured case."""

    name: str
    concurrency: int
    transactions: int
    seconds: float
    latencies_ms: Sequence[float]

    @property
    def tps(self) -> float:
        return self.transactions / self.seconds

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies_ms)

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[98]


@dataclass(frozen=True, slots=True)
class Span:
    """What one worker saw: its start and end time and per-transaction latencies."""

    start: float
    end: float
    latencies_ms: list[float]


def combine(name: str, concurrency: int, spans: Sequence[Span]) -> Result:
    """Merge worker spans: wall time runs from the first start to the last end."""
    latencies = [lat for span in spans for lat in span.latencies_ms]
    wall = max(span.end for span in spans) - min(span.start for span in spans)
    return Result(name, concurrency, len(latencies), wall, latencies)


def split(work: Sequence[Booking], parts: int) -> list[list[Booking]]:
    """Deal `work` round-robin into `parts` lists."""
    return [list(work[i::parts]) for i in range(parts)]


# psycopg 3 ------------------------------------------------------------------


def book_psycopg(conn: psycopg.Connection, cur: psycopg.Cursor, booking: Booking) -> None:
    """Run one booking transaction on a psycopg 3 connection."""
    with conn.transaction():
        cur.execute(SELECT_CARD, (booking.card_id,))
        cur.fetchone()
        cur.execute(
            INSERT_ENTRY,
            (booking.venue_id, "sale", booking.device_id, booking.idempotency_key, booking.effective_at),
        )
        row = cur.fetchone()
        assert row is not None
        entry_id = row[0]
        legs = booking.legs
        for leg in legs:
            cur.execute(INSERT_POSTING, (entry_id, leg.account_id, UNIT, leg.bucket, leg.amount))
        for leg in legs:
            cur.execute(UPSERT_BALANCE, (leg.account_id, leg.bucket, leg.amount))
        cur.execute(UPDATE_CARD, (-booking.amount, booking.card_id))


def psycopg_worker(url: str, warmup: Sequence[Booking], work: Sequence[Booking], barrier: threading.Barrier) -> Span:
    """Open a connection, warm it up, wait for the others, then book `work` and time it."""
    try:
        conn = psycopg.connect(url, autocommit=True)
    except BaseException:
        barrier.abort()
        raise
    with conn, conn.cursor() as cur:
        try:
            for booking in warmup:
                book_psycopg(conn, cur, booking)
        except BaseException:
            barrier.abort()
            raise
        barrier.wait(timeout=120)
        latencies: list[float] = []
        start = time.perf_counter()
        for booking in work:
            t0 = time.perf_counter()
            book_psycopg(conn, cur, booking)
            latencies.append((time.perf_counter() - t0) * 1000)
        end = time.perf_counter()
    return Span(start, end, latencies)


def run_psycopg(
    name: str, url: str, workers: int, warmups: Sequence[Sequence[Booking]], work: Sequence[Booking]
) -> Result:
    """psycopg 3 sync: `workers` threads, one connection each (1 = plain sequential)."""
    if workers == 1:
        return combine(name, 1, [psycopg_worker(url, warmups[0], work, threading.Barrier(1))])
    barrier = threading.Barrier(workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(psycopg_worker, url, warmups[i], part, barrier) for i, part in enumerate(split(work, workers))
        ]
        spans = [future.result() for future in futures]
    return combine(name, workers, spans)


# asyncpg --------------------------------------------------------------------


async def book_asyncpg(conn: asyncpg.Connection, booking: Booking) -> None:
    """Run one booking transaction on an asyncpg connection."""
    async with conn.transaction():
        await conn.fetchrow(SELECT_CARD_PG, booking.card_id)
        entry_id = await conn.fetchval(
            INSERT_ENTRY_PG,
            booking.venue_id,
            "sale",
            booking.device_id,
            booking.idempotency_key,
            booking.effective_at,
        )
        legs = booking.legs
        for leg in legs:
            await conn.execute(INSERT_POSTING_PG, entry_id, leg.account_id, UNIT, leg.bucket, leg.amount)
        for leg in legs:
            await conn.execute(UPSERT_BALANCE_PG, leg.account_id, leg.bucket, leg.amount)
        await conn.execute(UPDATE_CARD_PG, -booking.amount, booking.card_id)


async def asyncpg_worker(
    url: str, warmup: Sequence[Booking], work: Sequence[Booking], barrier: asyncio.Barrier
) -> Span:
    """Open a connection, warm it up, wait for the others, then book `work` and time it."""
    conn = await asyncpg.connect(url)
    try:
        for booking in warmup:
            await book_asyncpg(conn, booking)
        await asyncio.wait_for(barrier.wait(), timeout=120)
        latencies: list[float] = []
        start = time.perf_counter()
        for booking in work:
            t0 = time.perf_counter()
            await book_asyncpg(conn, booking)
            latencies.append((time.perf_counter() - t0) * 1000)
        end = time.perf_counter()
    finally:
        await conn.close()
    return Span(start, end, latencies)


async def run_asyncpg_async(
    name: str, url: str, workers: int, warmups: Sequence[Sequence[Booking]], work: Sequence[Booking]
) -> Result:
    """asyncpg: `workers` tasks on one event loop, one connection each (1 = plain sequential)."""
    barrier = asyncio.Barrier(workers)
    async with asyncio.TaskGroup() as group:  # a failing task cancels the others
        tasks = [
            group.create_task(asyncpg_worker(url, warmups[i], part, barrier))
            for i, part in enumerate(split(work, workers))
        ]
    return combine(name, workers, [task.result() for task in tasks])


def run_asyncpg(
    name: str, url: str, workers: int, warmups: Sequence[Sequence[Booking]], work: Sequence[Booking]
) -> Result:
    """Synchronous wrapper so both drivers share one calling convention."""
    return asyncio.run(run_asyncpg_async(name, url, workers, warmups, work))


# pgbench --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PgbenchUrl:
    """Connection settings for pgbench, which wants them as options and environment."""

    args: list[str]
    env: dict[str, str]


def pgbench_connection(url: str) -> PgbenchUrl:
    """Translate a postgresql:// URL into pgbench -h/-p/-U options plus PGPASSWORD."""
    parts = urlsplit(url)
    args: list[str] = []
    if parts.hostname:
        args += ["-h", parts.hostname]
    if parts.port:
        args += ["-p", str(parts.port)]
    if parts.username:
        args += ["-U", parts.username]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return PgbenchUrl(args, env)


def run_command(command: list[str], env: dict[str, str]) -> str:
    """Run `command`, returning its stdout; on failure raise with its stderr attached."""
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


def run_pgbench(pgbench: str, url: str, dbname: str, clients: int, seconds: int, protocol: str) -> Result:
    """Run pgbench's TPC-B-like script; tps from its summary, latencies from its -l log."""
    conn = pgbench_connection(url)
    with tempfile.TemporaryDirectory(prefix="tapzone_pgbench_") as logdir:
        prefix = str(Path(logdir) / "tx")
        stdout = run_command(
            [
                pgbench, *conn.args, "-c", str(clients), "-j", "1", "-T", str(seconds),
                "-M", protocol, "-l", f"--log-prefix={prefix}", dbname,
            ],
            conn.env,
        )  # fmt: skip
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(logdir).glob("tx.*")
            for line in log.read_text().splitlines()
            if line.strip()
        ]
    match = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", stdout, re.M)
    if match is None:
        raise RuntimeError(f"cannot parse pgbench output:\n{stdout}")
    tps = float(match.group(1))
    # Report pgbench's own tps: seconds is derived so that Result.tps gives it back.
    return Result(f"pgbench tpcb-like ({protocol})", clients, len(latencies), len(latencies) / tps, latencies)


def init_pgbench(pgbench: str, url: str, dbname: str) -> None:
    """pgbench -i -s 1 into the scratch pgbench database."""
    conn = pgbench_connection(url)
    run_command([pgbench, *conn.args, "-i", "-s", "1", "-q", dbname], conn.env)


# --------------------------------------------------------------------------- report

Runner = Callable[[str, str, int, Sequence[Sequence[Booking]], Sequence[Booking]], Result]


def print_header(url: str, args: argparse.Namespace) -> None:
    """Print what was measured, on what."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    server = row[0] if row else "?"
    libpq = psycopg.pq.version()
    print("tapzone driver benchmark: ledger booking transaction (9 statements incl. BEGIN/COMMIT)")
    print(
        f"python {platform.python_version()}, psycopg {psycopg.__version__} ({psycopg.pq.__impl__},"
        f" libpq {libpq // 10000}.{libpq % 10000}), asyncpg {asyncpg.__version__},"
        f" PostgreSQL {server}, {os.cpu_count()} CPUs"
    )
    print(
        f"{args.transactions} transactions per driver case after {args.warmup} warm-up transactions"
        f" per connection; pgbench -s 1 -T {args.pgbench_seconds} -j 1 -M {args.pgbench_protocol}"
    )
    print()


def print_table(results: Sequence[Result], baseline: dict[int, Result]) -> None:
    """Print the results table, with each driver's tps as a ratio to pgbench's at equal concurrency."""
    head = f"{'case':<34} {'conns':>5} {'txns':>7} {'tx/s':>9} {'mean ms':>8} {'p99 ms':>8} {'vs pgbench':>10}"
    print(head)
    print("-" * len(head))
    for result in results:
        base = baseline.get(result.concurrency)
        ratio = f"{result.tps / base.tps:.2f}x" if base else "n/a"
        print(
            f"{result.name:<34} {result.concurrency:>5} {result.transactions:>7} {result.tps:>9.0f}"
            f" {result.mean_ms:>8.2f} {result.p99_ms:>8.2f} {ratio:>10}"
        )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; every default fits the ~3 minute budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--url",
        default=os.environ.get("TAPZONE_TEST_PG_URL", DEFAULT_URL),
        help="admin connection URL (default: $TAPZONE_TEST_PG_URL or %(default)s)",
    )
    parser.add_argument(
        "--transactions",
        type=int,
        default=3000,
        help="measured transactions per driver case (default %(default)s)",
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="warm-up transactions per connection (default %(default)s)"
    )
    parser.add_argument(
        "--workers", type=int, default=8, help="connections for the concurrent cases (default %(default)s)"
    )
    parser.add_argument(
        "--pgbench",
        default=os.environ.get("PGBENCH", DEFAULT_PGBENCH),
        help="pgbench binary (default %(default)s)",
    )
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="pgbench -T (default %(default)s)")
    parser.add_argument(
        "--pgbench-protocol",
        choices=("simple", "extended", "prepared"),
        default="simple",
        help="pgbench -M (default %(default)s, pgbench's own default)",
    )
    parser.add_argument("--seed", type=int, default=20240601, help="workload seed (default %(default)s)")
    parser.add_argument("--skip-pgbench", action="store_true", help="do not run the pgbench baseline")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Set up scratch databases, run the baseline and the four driver cases, print, clean up."""
    args = parse_args(argv)
    pgbench = None if args.skip_pgbench else shutil.which(args.pgbench)
    if not args.skip_pgbench and pgbench is None:
        print(f"pgbench not found at {args.pgbench}; running without baseline", file=sys.stderr)

    pid = os.getpid()
    driver_db = f"tapzone_bench_driver_{pid}"
    pgbench_db = f"tapzone_bench_pgbench_{pid}"
    driver_url = with_database(args.url, driver_db)
    created: list[str] = []
    try:
        create_database(args.url, driver_db)
        created.append(driver_db)
        create_schema(driver_url)
        print_header(driver_url, args)

        baseline: dict[int, Result] = {}
        if pgbench is not None:
            create_database(args.url, pgbench_db)
            created.append(pgbench_db)
            init_pgbench(pgbench, args.url, pgbench_db)
            for clients in dict.fromkeys((1, args.workers)):
                baseline[clients] = run_pgbench(
                    pgbench, args.url, pgbench_db, clients, args.pgbench_seconds, args.pgbench_protocol
                )

        rng = random.Random(args.seed)
        workers = args.workers
        warmups = [plan_bookings(args.warmup, rng) for _ in range(workers)]
        work = plan_bookings(args.transactions, rng)
        cases: list[tuple[str, Runner, int]] = [
            ("psycopg 3 sync, sequential", run_psycopg, 1),
            ("asyncpg, sequential", run_asyncpg, 1),
            (f"psycopg 3 sync, {workers} threads", run_psycopg, workers),
            (f"asyncpg, {workers} tasks", run_asyncpg, workers),
        ]
        results: list[Result] = []
        for name, runner, conns in cases:
            reset_ledger(driver_url)
            results.append(runner(name, driver_url, conns, warmups, work))
            check_ledger(driver_url, args.warmup * conns + args.transactions)

        ordered: list[Result] = []
        for level in dict.fromkeys((1, workers)):  # baseline first, then the drivers, per level
            ordered += [baseline[level]] if level in baseline else []
            ordered += [result for result in results if result.concurrency == level]
        print_table(ordered, baseline)
    finally:
        for dbname in reversed(created):
            drop_database(args.url, dbname)
    return 0


if __name__ == "__main__":
    sys.exit(main())
