"""The one place that builds engines. SQLite is the embedded default, PostgreSQL the multi-till production store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

DEFAULT_SQLITE_PATH = Path("var/tapzone.db")
SQLITE_BUSY_TIMEOUT_S = 60
PG_POOL_SIZE = 20
# SQLite has one writer at a time; more threads only wait in its sleeping busy handler, which is unfair
# (a late request can overtake one that waited long). A few threads queue fairly in the API instead.
SQLITE_POOL_SIZE = 4


def default_database_url() -> str:
    return os.environ.get("TAPZONE_DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and pick the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def request_threads(engine: Engine) -> int:
    """How many requests may use the engine at once: the size of its connection pool."""
    size = getattr(engine.pool, "size", None)
    return int(size()) if callable(size) else SQLITE_POOL_SIZE


def make_engine(url: str | None = None, **engine_args: Any) -> Engine:
    url = normalise_url(url or default_database_url())
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **engine_args)
    if "poolclass" not in engine_args:
        # A fixed pool as large as the request threads that use it (api/app.py caps those): no connection
        # is opened and closed per request under load, as an overflow pool would.
        engine_args.setdefault("pool_size", PG_POOL_SIZE)
        engine_args.setdefault("max_overflow", 0)
        engine_args.setdefault("pool_timeout", 60)
    # Recycle instead of pinging on every checkout: a ping is one more round trip on every tap.
    engine_args.setdefault("pool_recycle", 1800)
    return sa.create_engine(url, **engine_args)


def _sqlite_engine(url: str, **engine_args: Any) -> Engine:
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    if database and database != ":memory:" and "poolclass" not in engine_args:
        engine_args.setdefault("pool_size", SQLITE_POOL_SIZE)
        engine_args.setdefault("max_overflow", 0)
        engine_args.setdefault("pool_timeout", SQLITE_BUSY_TIMEOUT_S)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        **engine_args,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event emit BEGIN instead of pysqlite's implicit deferred transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # BEGIN IMMEDIATE takes the write lock up front, so a use case's reads and its checks happen under the
        # same lock as its writes (DESIGN §4); a deferred BEGIN would let two tills read the same limit.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
