"""Fixed-window attempt limits kept in the database, so they hold across every API process.

An attempt is claimed *before* the check it guards and given back when the check succeeds: N parallel
guesses can never get past a limit of N, however they interleave, and a success costs nothing. The window
starts with the first claim and ends `window` later; a claim after that starts a new one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from tapzone.errors import RateLimited
from tapzone.store.tables import rate_limits
from tapzone.store.uow import Tx, UnitOfWork

MAX_KEY_LENGTH = 128
# Rows whose window started longer ago than this are purged. Longer than every limit's window, so a purge never
# forgets failures of a window still open.
RETENTION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str  # what is limited, e.g. "portal-number"
    attempts: int  # failed attempts allowed per window
    window: timedelta

    def __post_init__(self) -> None:
        if not timedelta(0) < self.window <= RETENTION:
            raise ValueError(f"a limit's window is longer than zero and at most {RETENTION}")


def claim_attempt(tx: Tx, claims: list[tuple[Limit, str]]) -> None:
    """Count one attempt against every (limit, key), or refuse with `RateLimited` and count nothing when any of
    them is used up. Rows are locked in (scope, key) order so two claims never wait on each other in a cycle."""
    ordered = sorted({(limit.scope, _key(key)): limit for limit, key in claims}.items())
    tx.insert_ignore(
        rate_limits,
        [{"scope": scope, "key": key, "window_start": tx.now, "count": 0} for (scope, key), _ in ordered],
        ["scope", "key"],
    )
    retry_after: list[int] = []
    updates: list[tuple[str, str, datetime, int]] = []
    for (scope, key), limit in ordered:
        window_start, count = _locked(tx, scope, key)
        if window_start + limit.window <= tx.now:  # the old window is over: this attempt opens a new one
            window_start, count = tx.now, 0
        if count >= limit.attempts:
            retry_after.append(_seconds_until(window_start + limit.window, tx.now))
        updates.append((scope, key, window_start, count + 1))
    if retry_after:
        raise RateLimited("too many failed attempts; try again later", max(retry_after))
    for scope, key, window_start, count in updates:
        tx.conn.execute(
            rate_limits.update()
            .where(rate_limits.c.scope == scope, rate_limits.c.key == key)
            .values(window_start=window_start, count=count)
        )


@dataclass(frozen=True, slots=True)
class WindowState:
    used: int  # attempts counted in the limit's current window (0 when none is open)
    retry_after: int | None  # seconds until the window ends when it is used up, else None


def window_state(conn: sa.Connection, now: datetime, limit: Limit, key: str) -> WindowState:
    """How much of the limit `key` has used now, in one read without locks: for refusing early, never for
    admitting an attempt (`claim_attempt` does that)."""
    row = conn.execute(
        sa.select(rate_limits.c.window_start, rate_limits.c.count).where(
            rate_limits.c.scope == limit.scope, rate_limits.c.key == _key(key)
        )
    ).first()
    if row is None:
        return WindowState(used=0, retry_after=None)
    window_start, count = row
    if window_start + limit.window <= now:
        return WindowState(used=0, retry_after=None)
    used_up = count >= limit.attempts
    return WindowState(
        used=int(count), retry_after=_seconds_until(window_start + limit.window, now) if used_up else None
    )


def purge_expired(tx: Tx) -> int:
    """Delete the counters whose window is over for every limit; returns how many. Nothing else ever deletes
    them, and every guessed number or client address leaves one behind."""
    result = tx.conn.execute(rate_limits.delete().where(rate_limits.c.window_start < tx.now - RETENTION))
    return int(result.rowcount or 0)


def purge_expired_counters(uow: UnitOfWork) -> int:
    with uow.transaction() as tx:
        return purge_expired(tx)


def give_back(tx: Tx, limit: Limit, key: str) -> None:
    """Return an attempt that succeeded, so only failures use up the limit."""
    tx.conn.execute(
        rate_limits.update()
        .where(rate_limits.c.scope == limit.scope, rate_limits.c.key == _key(key), rate_limits.c.count > 0)
        .values(count=rate_limits.c.count - 1)
    )


def reset(tx: Tx, limit: Limit, key: str) -> None:
    """Forget the failures counted against `key` (the right credentials were shown)."""
    tx.conn.execute(rate_limits.delete().where(rate_limits.c.scope == limit.scope, rate_limits.c.key == _key(key)))


def _locked(tx: Tx, scope: str, key: str) -> tuple[datetime, int]:
    query = sa.select(rate_limits.c.window_start, rate_limits.c.count).where(
        rate_limits.c.scope == scope, rate_limits.c.key == key
    )
    window_start, count = tx.conn.execute(query.with_for_update() if tx.is_postgres else query).one()
    return window_start, int(count)


def _key(key: str) -> str:
    # Keys come from callers (numbers, addresses): long ones are cut, not refused; the limit still holds.
    return key[:MAX_KEY_LENGTH]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
