"""Unit of work: one database transaction per use case, with the helpers a use case needs inside it.

Lock order (PostgreSQL row locks; DESIGN §4). Every use case takes the locks it needs in this order, each kind
in primary-key order, so no two requests can wait on each other in a cycle:

  1. the rows the use case is about, before any card-side row: configuration (venue, product, account
     type), a customer, a shift, a payout, an online top-up, the day's `daily_runs` row;
  2. media (`FOR NO KEY UPDATE` at the gate, `FOR UPDATE` in return, block, transfer);
  3. visits — for a party every open visit of the party;
  4. card accounts, which guard everything hanging off them: tabs, tab lines, holds, card balances — and
     then a cashless payment's row, which the booking marks booked (elsewhere it is locked alone);
  5. the device row of the requesting device (`Tx.lock_device`), which guards the device's journal and
     audit chains and records their heads (updated in place under the same lock), and is taken before
  6. the device's counters (receipt, shift and Z-report numbers) and
  7. its TSE signer row.

Steps 5–7 are per device and come last: posting an entry, numbering a receipt and signing it lock the device
row first (`ledger.chain.chain_head`, `store.counters.next_number`), and audit rows are written when the use
case's work is done (`Tx.at_end`), so a privileged action that audits early can never hold its device while
it waits for a card. Venue-wide ledger balances are per till-day buckets, upserted after the device row is held,
so only that device's own requests meet on them.
A lock cycle that slips through is detected by PostgreSQL and the whole transaction is retried
(`store.idempotency.run_idempotent`), or answered 503 `database-busy` when retries run out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from tapzone.clock import Clock, SystemClock
from tapzone.store.tables import devices

log = logging.getLogger(__name__)


Observation = tuple[str, str]  # (topic, label), e.g. ("booking", "sale") or ("gate_denial", "unpaid-tab")
CommitObserver = Callable[[Sequence[Observation]], None]


@dataclass
class Tx:
    """An open transaction. `now` is the business time of the whole use case (one clock reading)."""

    conn: sa.Connection
    now: datetime
    # What the transaction did that observers count (bookings by code, denials by reason); handed to the unit
    # of work's observers only once the transaction committed, so a rollback or a retry is never counted.
    observations: list[Observation] = field(default_factory=list)

    def observe(self, topic: str, label: str) -> None:
        self.observations.append((topic, label))

    # Devices whose row this transaction has locked (step 5 of the lock order), so it is locked once.
    devices_locked: set[int] = field(default_factory=set)
    # Work to do once the use case is done, still inside the transaction: audit rows (see the lock order).
    at_end_actions: list[Callable[[], None]] = field(default_factory=list)
    # Work to do once the transaction rolled back because the use case raised, told the exception: what must
    # outlast the rollback, such as counting a failed medium lookup (media/lookup_limits.py).
    after_rollback_actions: list[Callable[[BaseException], None]] = field(default_factory=list)

    def lock_device(self, device_id: int) -> None:
        """Lock the device's row until commit: its journal chain, audit chain, counters and signer follow.

        FOR NO KEY UPDATE, not UPDATE: every insert that references the device (entries, idempotency keys,
        receipts) takes KEY SHARE on this row, which a full UPDATE lock would block into a deadlock. SQLite
        holds its database write lock since BEGIN IMMEDIATE already.
        """
        if device_id in self.devices_locked:
            return
        if self.is_postgres:
            self.conn.execute(sa.select(devices.c.id).where(devices.c.id == device_id).with_for_update(key_share=True))
        self.devices_locked.add(device_id)

    def at_end(self, action: Callable[[], None]) -> None:
        """Run `action` after the use case's own work, just before commit (in the order deferred)."""
        self.at_end_actions.append(action)

    def run_at_end(self) -> None:
        while self.at_end_actions:
            self.at_end_actions.pop(0)()

    def after_rollback(self, action: Callable[[BaseException], None]) -> None:
        """Run `action` with the use case's exception once its rollback is done, outside any transaction; it
        may raise an exception of its own in place of that one. Not run when the transaction commits."""
        self.after_rollback_actions.append(action)

    def run_after_rollback(self, error: BaseException) -> None:
        while self.after_rollback_actions:
            self.after_rollback_actions.pop(0)(error)

    @property
    def is_postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def lock_rows(self, table: sa.Table, ids: Sequence[int]) -> list[sa.Row[Any]]:
        """Lock rows by primary key, in key order so two use cases never wait on each other in a cycle.

        On PostgreSQL this is SELECT … FOR UPDATE; SQLite already holds the database write lock since BEGIN
        IMMEDIATE, so a plain read is enough there.
        """
        if not ids:
            return []
        query = sa.select(table).where(table.c.id.in_(sorted(set(ids)))).order_by(table.c.id)
        if self.is_postgres:
            query = query.with_for_update()
        return list(self.conn.execute(query))

    def among(self, column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
        """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter: a batch job's hundreds of
        placeholders make a query text too long for psycopg's cache, and parsing it again each batch costs
        more than running it."""
        if self.is_postgres:
            return column == sa.any_(sa.literal(list(values), postgresql.ARRAY(column.type)))
        return column.in_(values)

    def insert_for(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        return (postgresql.insert if self.is_postgres else sqlite.insert)(table)

    def upsert_add(self, table: sa.Table, keys: dict[str, Any], column: str, delta: int) -> None:
        """Insert a counter row or add `delta` to it, atomically."""
        values = {**keys, column: delta}
        dialect_insert = postgresql.insert if self.is_postgres else sqlite.insert
        statement = dialect_insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in keys if table.c[name].primary_key],
            set_={column: table.c[column] + statement.excluded[column]},
        )
        self.conn.execute(statement)

    def insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]], conflict_columns: list[str]) -> None:
        if not rows:
            return
        dialect_insert = postgresql.insert if self.is_postgres else sqlite.insert
        statement = dialect_insert(table).values(rows)
        self.conn.execute(statement.on_conflict_do_nothing(index_elements=conflict_columns))


class InFlightPolicy(StrEnum):
    """What a request does when its idempotency twin is still running."""

    WAIT = "wait"  # wait for the twin, then replay its response (in-process callers, tests, CLI)
    REFUSE = "refuse"  # answer 409 request-in-flight at once (the HTTP API; the till retries)


class UnitOfWork:
    """Hands out transactions on one engine; use cases own them (`with uow.transaction() as tx:`)."""

    def __init__(
        self, engine: Engine, clock: Clock | None = None, in_flight_policy: InFlightPolicy = InFlightPolicy.WAIT
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.in_flight_policy = in_flight_policy
        # Names this database in the in-process registry of running idempotency keys.
        self.engine_key = engine.url.render_as_string(hide_password=True)
        # Told what each committed transaction observed (the metrics of the process that owns this unit of work).
        self.observers: list[CommitObserver] = []

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        tx: Tx | None = None
        try:
            with self.engine.begin() as conn:
                tx = Tx(conn=conn, now=self.clock.now())
                yield tx
                tx.run_at_end()  # skipped when the body raised: the rollback takes everything back
        except BaseException as error:
            if tx is not None:
                tx.run_after_rollback(error)
            raise
        # Reached only after COMMIT succeeded: an exception inside rolls back and skips this.
        if tx.observations:
            for observer in self.observers:
                try:
                    observer(tx.observations)
                except Exception:  # the work is committed; a failing counter must not turn it into an error
                    log.exception("commit observer %r failed", observer)
