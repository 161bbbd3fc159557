"""The server's WAL checkpoints run in a thread of their own (store/wal.py), not in a till's commit."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from tapzone.store.db import make_engine
from tapzone.store.wal import FALLBACK_AUTOCHECKPOINT_PAGES, checkpoint_in_background


def _main_file_size(path: Path) -> int:
    return path.stat().st_size


def test_the_thread_copies_the_log_into_the_database_file_while_commits_leave_it(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    stop = checkpoint_in_background(engine)
    assert stop is not None
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == FALLBACK_AUTOCHECKPOINT_PAGES
            conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        before = _main_file_size(path)
        with engine.begin() as conn:  # about 500 pages: far below the commits' own threshold
            conn.execute(sa.text("INSERT INTO filler (body) VALUES (:body)"), [{"body": "x" * 4000}] * 500)
        deadline = time.monotonic() + 5
        while _main_file_size(path) < before + 500 * 4000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _main_file_size(path) >= before + 500 * 4000, "the log was not checkpointed into the file"
    finally:
        stop()
        engine.dispose()


def test_other_databases_keep_their_own_checkpoints() -> None:
    assert checkpoint_in_background(make_engine("sqlite://")) is None
    assert checkpoint_in_background(make_engine("postgresql://postgres@127.0.0.1:5432/test")) is None
