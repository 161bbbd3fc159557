"""Running a transaction again after the database rolled it back for colliding with another one.

PostgreSQL breaks a lock cycle by aborting one of its transactions (`deadlock_detected`, SQLSTATE 40P01) and
refuses a commit that would break serializability (`serialization_failure`, 40001). Either way the whole
transaction was rolled back — nothing of it is left — so running the use case again from the start is safe
and usually succeeds, the other transaction having gone on. The lock order in `store.uow` keeps deadlocks
out of the paths we know; this is the net under the ones nobody has found yet. When the retries run out, or
SQLite's write lock stays taken longer than its busy timeout, the caller gets `DatabaseBusy` (503), never a
bare database error.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from tapzone.errors import DatabaseBusy

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 4
BACKOFF_S = 0.02  # the n-th retry waits up to n × this, at random, so the colliding pair does not meet again


def is_retryable(error: BaseException) -> bool:
    """A PostgreSQL collision that rolled the whole transaction back."""
    return isinstance(error, sa.exc.DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def is_busy(error: BaseException) -> bool:
    """A collision the caller should hear about as `DatabaseBusy`: a retryable one, or SQLite still locked."""
    if is_retryable(error):
        return True
    return (
        isinstance(error, sa.exc.OperationalError)
        and isinstance(error.orig, sqlite3.OperationalError)
        and "locked" in str(error.orig)
    )


def run_with_retries(work: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """`work()` — one whole transaction — again after a retryable collision, at most `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except sa.exc.DBAPIError as error:
            if not is_busy(error):
                raise
            if attempt == attempts or not is_retryable(error):
                raise DatabaseBusy(
                    f"{what} collided with other requests {attempt} times; nothing was booked"
                ) from error
            log.warning("%s: %s on attempt %d, retrying", what, getattr(error.orig, "sqlstate", "?"), attempt)
            time.sleep(random.uniform(0, BACKOFF_S * attempt))  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")  # the loop returns or raises
