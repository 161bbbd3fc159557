"""Checkpoints of SQLite's write-ahead log, moved off the tills' path while `tapzone serve` runs.

By default SQLite checkpoints inside the commit that lets the log pass 1,000 pages: that request copies
every page the log holds back into the database file and syncs it, while the till waits. In a large
database those pages lie all over the file, so the copy grows with the database (issue 9: sale p99 several
times the small database's). The server instead checkpoints from a thread of its own every half second,
in PASSIVE mode, which never makes a writer wait; the commits' own threshold is raised so they only step
in when this thread has fallen far behind. CLI commands and tests keep SQLite's default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

CHECKPOINT_INTERVAL_S = 0.5
# If the thread stalls, a commit still checkpoints once the log holds this many pages (about 40 MB).
FALLBACK_AUTOCHECKPOINT_PAGES = 10_000

log = logging.getLogger(__name__)


def checkpoint_in_background(engine: Engine) -> Callable[[], None] | None:
    """Start checkpointing the engine's SQLite file in a thread; returns the function that stops it, or None
    when the engine is not an SQLite file. Call it before the engine opens its first connection."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    event.listen(engine, "connect", _leave_checkpoints_to_the_thread)
    stop = threading.Event()
    thread = threading.Thread(target=_checkpoint_until, args=(path, stop), name="tapzone-wal-checkpoint", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=5)

    return halt


def _leave_checkpoints_to_the_thread(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_AUTOCHECKPOINT_PAGES}")
    cursor.close()


def _checkpoint_until(path: str, stop: threading.Event) -> None:
    # A connection of its own, outside SQLAlchemy's pool: the engine's connections begin every transaction
    # with BEGIN IMMEDIATE, and a checkpoint must run outside any transaction.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        while not stop.wait(CHECKPOINT_INTERVAL_S):
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # busy or locked: the next round tries again
                log.warning("WAL checkpoint failed: %s", error)
    finally:
        connection.close()
