"""Unit of work: one database transaction per use case, with the helpers a use case needs inside it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from tapzone.clock import Clock, SystemClock


@dataclass
class Tx:
    """An open transaction. `now` is the business time of the whole use case (one clock reading)."""

    conn: sa.Connection
    now: datetime

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

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.engine.begin() as conn:
            yield Tx(conn=conn, now=self.clock.now())
