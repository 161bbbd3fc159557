"""The SQL baselines: the exact statements of one real tab sale, replayed without the application around them.

Why
---
The HTTP figure alone cannot say whether tapzone is slow or the database is. So one real tab sale
(`tapzone.pos.tabs.save_items`, run in-process through the same engine factory and the same in-flight policy
as the API server) is captured statement by statement with SQLAlchemy's `before_cursor_execute` event, with
its bound parameters, and then replayed as fast as the database allows at the same concurrency:

* PostgreSQL: a generated `pgbench -f` script, `-M prepared` (psycopg 3 also prepares statements it runs
  repeatedly), BEGIN … COMMIT around the captured statements;
* SQLite: the same statements through `sqlite3` in 32 threads with the application's settings (WAL,
  synchronous=FULL, foreign keys, busy timeout, BEGIN IMMEDIATE).

Parameters are replayed as what they are, not as the captured literals: the medium is chosen at random
(its UID computed from a random number), each replay client is its own till (device), the idempotency key
and the advisory-lock key are fresh per transaction, and ids that the application reads back (medium,
visit, card account, tab, the new tab line and idempotency row) are taken from the results of the same
statements that produced them in the captured run (pgbench `\\gset`; for SQLite the per-medium ids come
from a table loaded before the timed loop, the inserted ids from their RETURNING clause). Everything else
(venue, staff, product, prices, timestamps, fingerprint, stored response) is replayed as captured: it does
not change what the database has to do. A capture whose role values could be confused with a constant is
thrown away and taken again on another medium.

Not replayed: the connection pool's pre-ping (`SELECT 1` on every checkout, outside the transaction). It is
application overhead, not part of the booking, and is reported separately.
"""

from __future__ import annotations

import random
import re
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import event

from scratch import UID_BASE, BenchVenue
from tapzone.context import RequestContext
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.store.db import SQLITE_BUSY_TIMEOUT_S, make_engine
from tapzone.store.tables import card_accounts, idempotency_keys, media, tab_lines, tabs, visits
from tapzone.store.uow import InFlightPolicy, UnitOfWork

# What a parameter is, told by the column it is compared with or inserted into ("*" = any table); the
# captured value must then equal the value the captured request really used, or the capture is refused.
ROLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "uid": ("media.uid",),
    "ikey": ("idempotency_keys.key",),
    "dev": ("devices.id", "*.device_id"),
    "m_id": ("media.id", "*.medium_id"),
    "visit_id": ("visits.id", "*.visit_id"),
    "ca_id": ("card_accounts.id", "*.card_account_id"),
    "tab_id": ("tabs.id", "*.tab_id"),
    "line_id": ("tab_lines.id", "*.tab_line_id"),
    "key_id": ("idempotency_keys.id",),
}
# Ids the application reads back: from the first statement that selects or returns `<table>.id`.
READ_BACK = {
    "m_id": "media",
    "visit_id": "visits",
    "ca_id": "card_accounts",
    "tab_id": "tabs",
    "line_id": "tab_lines",
    "key_id": "idempotency_keys",
}
PER_TRANSACTION = ("uid", "dev", "ikey", "adv")  # chosen afresh by the replay for every transaction
ADVISORY = "pg_try_advisory_xact_lock"

_PG_PARAM = re.compile(r"%\((\w+)\)s")
_SQLITE_PARAM = re.compile(r"\?")
_INSERT = re.compile(r"\s*INSERT INTO (\w+) \(([^)]*)\) VALUES \(")
_UPDATE = re.compile(r"\s*UPDATE (\w+) SET")
_COMPARED = re.compile(r"([\w.\"]+)\s*(?:=|IN \()\s*$")


@dataclass(slots=True)
class Statement:
    """One captured statement: SQL text, bound parameters, and (PostgreSQL) its single-row result."""

    sql: str
    params: dict[str, Any] | tuple[Any, ...]
    result: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a replayed parameter comes from: a constant, a role (per transaction or read back) or NULL."""

    kind: str  # "const" | "role" | "null"
    value: Any = None


@dataclass(frozen=True, slots=True)
class Producer:
    """A statement whose result gives a role: the role and the position of `id` in its result row."""

    role: str
    column: int
    name: str


@dataclass(slots=True)
class Capture:
    """One captured tab sale: its statements, where each parameter comes from, and what each result gives."""

    dialect: str
    statements: list[Statement]
    roles: dict[str, Any]
    sources: list[list[tuple[str, Source]]] = field(default_factory=list)
    producers: dict[int, list[Producer]] = field(default_factory=dict)

    @property
    def statement_count(self) -> int:
        return len(self.statements)


def _role_values(url: str, uid: str, device_id: int, key: str) -> dict[str, Any]:
    """Ask the database which ids the captured request used and created."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            m_id, visit_id, ca_id, tab_id = conn.execute(
                sa.select(media.c.id, visits.c.id, card_accounts.c.id, tabs.c.id)
                .join(visits, (visits.c.medium_id == media.c.id) & visits.c.closed_at.is_(None))
                .join(card_accounts, (card_accounts.c.visit_id == visits.c.id) & card_accounts.c.is_active.is_(True))
                .join(tabs, (tabs.c.card_account_id == card_accounts.c.id) & (tabs.c.state == "open"))
                .where(media.c.uid == uid)
            ).one()
            line_id = conn.execute(sa.select(sa.func.max(tab_lines.c.id)).where(tab_lines.c.tab_id == tab_id)).scalar()
            key_id = conn.execute(
                sa.select(idempotency_keys.c.id).where(
                    idempotency_keys.c.device_id == device_id, idempotency_keys.c.key == key
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return {
        "uid": uid,
        "ikey": key,
        "dev": device_id,
        "m_id": m_id,
        "visit_id": visit_id,
        "ca_id": ca_id,
        "tab_id": tab_id,
        "line_id": line_id,
        "key_id": key_id,
    }


def placeholders(sql_text: str, dialect: str) -> list[tuple[str, str | None, tuple[int, int]]]:
    """Every parameter placeholder in order: (parameter key, the column it belongs to, its span)."""
    pattern = _PG_PARAM if dialect == "postgresql" else _SQLITE_PARAM
    insert = _INSERT.match(sql_text)
    update = _UPDATE.match(sql_text)
    found = []
    for position, match in enumerate(pattern.finditer(sql_text)):
        key = match.group(1) if dialect == "postgresql" else str(position)
        before = sql_text[: match.start()]
        column: str | None = None
        if insert and match.start() >= insert.end():
            columns = [name.strip().strip('"') for name in insert.group(2).split(",")]
            index = len(pattern.findall(sql_text, insert.end(), match.start()))
            column = f"{insert.group(1)}.{columns[index]}" if index < len(columns) else None
        elif before.rstrip().endswith(f"{ADVISORY}("):
            column = ADVISORY
        elif compared := _COMPARED.search(before):
            column = compared.group(1).replace('"', "")
            if "." not in column and update:
                column = f"{update.group(1)}.{column}"
        found.append((key, column, match.span()))
    return found


def _role_of(column: str | None) -> str | None:
    if column is None:
        return None
    if column == ADVISORY:
        return "adv"
    wildcard = "*." + column.rpartition(".")[2]
    return next((role for role, names in ROLE_COLUMNS.items() if column in names or wildcard in names), None)


def _split_top_level(text: str) -> list[str]:
    """Split a select list at the commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _produces(sql_text: str, table: str) -> tuple[int, str] | None:
    """(position, result column name) of `<table>.id` in the statement's result row, if it returns it."""
    returning = re.search(r"\bRETURNING (.*)$", sql_text, re.S)
    if returning and re.match(rf"\s*INSERT INTO {table} ", sql_text):
        items = _split_top_level(returning.group(1))
    elif re.match(r"\s*SELECT ", sql_text):
        items = _split_top_level(_select_list(sql_text))
    else:
        return None
    for position, item in enumerate(items):
        expression, _, alias = item.rpartition(" AS ") if " AS " in item else (item, "", "")
        expression, alias = expression.strip(), alias.strip()
        # `tabs.id`, or a scalar subquery selecting it and named after it (`(SELECT tabs.id …) AS tab_id`).
        named_subquery = alias == f"{table.removesuffix('s')}_id" and expression.startswith(f"(SELECT {table}.id ")
        if expression == f"{table}.id" or named_subquery or (returning and expression == "id"):
            return position, alias or "id"
    return None


def _select_list(sql_text: str) -> str:
    """The select list of a SELECT: everything up to its own FROM (not a subquery's), or to the end."""
    text = sql_text.strip()[len("SELECT ") :]
    depth = 0
    for position, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif (depth == 0 and text.startswith(" FROM ", position)) or (
            depth == 0 and text.startswith("\nFROM ", position)
        ):
            return text[:position]
    return text


def analyse(dialect: str, statements: list[Statement], roles: dict[str, Any]) -> Capture:
    """Decide for every parameter where the replay takes it from, and which results give which ids."""
    capture = Capture(dialect, statements, roles)
    available = set(PER_TRANSACTION)
    for index, st in enumerate(statements):
        params = st.params if isinstance(st.params, dict) else dict(enumerate(st.params))
        sources: list[tuple[str, Source]] = []
        for key, column, _span in placeholders(st.sql, dialect):
            value = params[key if dialect == "postgresql" else int(key)]
            role = _role_of(column)
            if value is None:
                sources.append((key, Source("null")))
            elif role is None:
                sources.append((key, Source("const", value)))
            else:
                if role != "adv" and str(value) != str(roles[role]):
                    raise RuntimeError(
                        f"{column} in statement {index} carries {value!r}, not the {role} {roles[role]!r}"
                    )
                if role not in available:
                    raise RuntimeError(f"statement {index} uses {role} before any statement read it")
                sources.append((key, Source("role", role)))
        capture.sources.append(sources)
        for role, table in READ_BACK.items():
            produced = _produces(st.sql, table)
            if role not in available and produced is not None:
                column_index, name = produced
                if st.result is not None and st.result.get(name) != str(roles[role]):
                    raise RuntimeError(f"statement {index} returned {st.result}, expected {role}={roles[role]}")
                capture.producers.setdefault(index, []).append(Producer(role, column_index, name))
                available.add(role)
    if not any(source.value == "uid" for sources in capture.sources for _, source in sources):
        raise RuntimeError("the captured statements never look the medium up by UID: the capture is broken")
    return capture


def capture_tab_sale(url: str, venue: BenchVenue, rng: random.Random) -> Capture:
    """Run one real tab sale in-process (API server's engine settings and in-flight policy) and capture it."""
    engine = make_engine(url)
    uow = UnitOfWork(engine, in_flight_policy=InFlightPolicy.REFUSE)
    device = venue.tills[-1][0]
    product = venue.products[0][0]
    captured: list[Statement] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        if many:
            raise RuntimeError("executemany in the tab sale path: the replay does not handle it")
        captured.append(Statement(statement, parameters))

    def after(_conn: Any, cursor: Any, *_args: Any) -> None:
        result = getattr(cursor, "pgresult", None)  # psycopg 3 keeps the whole result client-side
        if result is not None and result.ntuples == 1 and result.nfields:
            captured[-1].result = {
                result.fname(i).decode(): (value.decode() if (value := result.get_value(0, i)) else "")
                for i in range(result.nfields)
                if result.fformat(i) == 0
            }

    try:
        # A first, uncaptured sale opens the connection, so connect-time statements are not captured.
        save_items(
            uow,
            RequestContext(venue.venue_id, device, venue.staff_id, str(uuid.uuid4())),
            medium_uid=rng.choice(venue.uids),
            items=[Item(product, 1)],
        )
        uid, key = rng.choice(venue.uids), str(uuid.uuid4())
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            save_items(
                uow,
                RequestContext(venue.venue_id, device, venue.staff_id, key),
                medium_uid=uid,
                items=[Item(product, 1)],
            )
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        dialect = engine.dialect.name
    finally:
        engine.dispose()
    statements = [st for st in captured if st.sql.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE")]
    return analyse(dialect, statements, _role_values(url, uid, device, key))


# --------------------------------------------------------------------------- PostgreSQL: pgbench -f


def _pg_text(value: Any) -> str:
    """How psycopg would send a constant, as the text pgbench passes for a prepared parameter."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def pgbench_script(capture: Capture, venue: BenchVenue) -> tuple[str, list[str]]:
    """The captured statements as a pgbench script plus its `-D name=value` constants."""
    variables = {role: role for role in PER_TRANSACTION}
    defines: list[str] = []
    body: list[str] = []
    for index, (st, sources) in enumerate(zip(capture.statements, capture.sources, strict=True)):
        pieces: list[str] = []
        last = 0
        spans = [span for _, _, span in placeholders(st.sql, "postgresql")]
        for position, ((_, source), (start, end)) in enumerate(zip(sources, spans, strict=True)):
            pieces.append(st.sql[last:start])
            if source.kind == "null":
                pieces.append("NULL")
            elif source.kind == "role":
                pieces.append(f":{variables[source.value]}")
            else:
                variable = f"c{index}_{position}"
                defines += ["-D", f"{variable}={_pg_text(source.value)}"]
                pieces.append(f":{variable}")
            last = end
        pieces.append(st.sql[last:])
        text = "".join(pieces).replace("%%", "%").replace("\n", " ")
        producers = capture.producers.get(index, [])
        if not producers:
            body.append(f"{text};")
        else:
            body.append(f"{text} \\gset s{index}_")
            variables |= {producer.role: f"s{index}_{producer.name}" for producer in producers}
    header = [
        f"\\set uid {UID_BASE} + random(0, {len(venue.uids) - 1})",
        f"\\set dev {venue.first_device} + :client_id % {len(venue.tills)}",
        "\\set ikey random(1, 999999999999999)",
        "\\set adv random(1, 9000000000000000000)",
        "BEGIN;",
    ]
    return "\n".join([*header, *body, "COMMIT;", ""]), defines


@dataclass(frozen=True, slots=True)
class PgbenchRun:
    """pgbench's own summary of one run."""

    name: str
    clients: int
    tps: float
    processed: int
    failed: int
    latency_avg_ms: float
    aborted: bool
    stderr_tail: str


def _pgbench_conn_args(url: str) -> list[str]:
    parts = urlsplit(url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", parts.username]
    return [*args, parts.path.lstrip("/")]


def _parse_pgbench(name: str, clients: int, proc: subprocess.CompletedProcess[str]) -> PgbenchRun:
    out = proc.stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.M)
        return float(match.group(1)) if match else 0.0

    return PgbenchRun(
        name=name,
        clients=clients,
        tps=number(r"^tps = ([\d.]+) \(without initial connection time\)"),
        processed=int(number(r"^number of transactions actually processed: (\d+)")),
        failed=int(number(r"^number of failed transactions: (\d+)")),
        latency_avg_ms=number(r"^latency average = ([\d.]+) ms"),
        aborted=proc.returncode != 0,
        stderr_tail="\n".join(proc.stderr.strip().splitlines()[-3:]),
    )


def run_pgbench(
    pgbench: str,
    url: str,
    *,
    name: str,
    clients: int,
    threads: int,
    seconds: int,
    script: Path | None = None,
    defines: Sequence[str] = (),
    protocol: str = "prepared",
) -> PgbenchRun:
    """pgbench -T against `url`: the built-in TPC-B-like script, or `script` with its constants."""
    command = [pgbench, "-n", "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-M", protocol]
    if script is not None:
        command += ["-f", str(script), *defines]
    command += _pgbench_conn_args(url)
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120)
    return _parse_pgbench(name, clients, proc)


def init_tpcb(pgbench: str, url: str, scale: int) -> None:
    """pgbench -i -s `scale` (scale = clients, so branch rows are not one hot row for all clients)."""
    subprocess.run(
        [pgbench, "-i", "-q", "-s", str(scale), *_pgbench_conn_args(url)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )


# --------------------------------------------------------------------------- SQLite: in-process loop


@dataclass(slots=True)
class LoopRun:
    """What the in-process SQLite replay did."""

    name: str
    clients: int
    committed: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)

    @property
    def tps(self) -> float:
        return self.committed / max(self.elapsed_s, 1e-9)

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        if not ordered:
            return float("nan")
        return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))] * 1000


def _sqlite_connect(path: str) -> sqlite3.Connection:
    """A connection with exactly the PRAGMAs of tapzone.store.db for SQLite."""
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    return conn


def sqlite_replay(
    url: str,
    capture: Capture,
    venue: BenchVenue,
    *,
    clients: int,
    seconds: float,
    seed: int,
    max_transactions: int = 1_000_000,
) -> LoopRun:
    """`clients` threads, one connection each, replaying the captured tab sale for `seconds`."""
    path = sa.engine.make_url(url).database or ""
    plan = [
        (st.sql, [source for _, source in sources], capture.producers.get(index, []))
        for index, (st, sources) in enumerate(zip(capture.statements, capture.sources, strict=True))
    ]
    run = LoopRun(f"sqlite replay, {clients} conns", clients)
    lock = threading.Lock()
    budget = [max_transactions]
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        conn = _sqlite_connect(path)
        latencies: list[float] = []
        committed = errors = 0
        try:
            barrier.wait(timeout=60)
            while time.perf_counter() < deadline[0]:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                values: dict[str, Any] = {
                    "uid": venue.uids[rng.randrange(len(venue.uids))],
                    "dev": venue.first_device + index % len(venue.tills),
                    "ikey": str(uuid.uuid4()),
                }
                started = time.perf_counter()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    for text, sources, producers in plan:
                        params = tuple(
                            None if s.kind == "null" else values[s.value] if s.kind == "role" else s.value
                            for s in sources
                        )
                        rows = conn.execute(text, params).fetchall()  # the application reads every result
                        for producer in producers:
                            values[producer.role] = rows[0][producer.column]
                    conn.execute("COMMIT")
                except (sqlite3.Error, IndexError):
                    errors += 1
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    continue
                committed += 1
                latencies.append(time.perf_counter() - started)
        finally:
            conn.close()
            with lock:
                run.committed += committed
                run.errors += errors
                run.latencies_s.extend(latencies)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait(timeout=60)
    for thread in threads:
        thread.join(timeout=seconds + 2 * SQLITE_BUSY_TIMEOUT_S)
    run.elapsed_s = time.perf_counter() - started
    return run
