"""Retrying a transaction PostgreSQL rolled back for a deadlock or a serialization conflict (issue 9)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa

from tapzone.errors import DatabaseBusy
from tapzone.store.retry import ATTEMPTS, is_busy, run_with_retries


def collision(orig: Exception) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE card_accounts …", {}, orig)


def test_a_deadlock_is_run_again_until_it_goes_through() -> None:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise collision(psycopg.errors.DeadlockDetected("deadlock detected"))
        return "booked"

    assert run_with_retries(work, "sale") == "booked"
    assert len(calls) == 3


def test_a_collision_that_never_clears_is_database_busy_after_the_last_attempt() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise collision(psycopg.errors.SerializationFailure("could not serialize access"))

    with pytest.raises(DatabaseBusy) as refused:
        run_with_retries(work, "sale")
    assert len(calls) == ATTEMPTS
    assert (refused.value.status, refused.value.type) == (503, "database-busy")


def test_other_database_errors_are_not_retried() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise sa.exc.IntegrityError("INSERT …", {}, psycopg.errors.UniqueViolation("duplicate key"))

    with pytest.raises(sa.exc.IntegrityError):
        run_with_retries(work, "sale")
    assert len(calls) == 1


def test_sqlite_still_locked_after_its_busy_timeout_is_busy_without_retry() -> None:
    locked = collision(sqlite3.OperationalError("database is locked"))
    assert is_busy(locked)
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise locked

    with pytest.raises(DatabaseBusy):
        run_with_retries(work, "sale")
    assert len(calls) == 1  # it already waited its busy timeout; the client retries later
