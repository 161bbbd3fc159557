"""Helpers for race tests: start actions on real threads at the same instant and collect what each did."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")


def race(actions: Sequence[Callable[[], T]], delays_s: Sequence[float] = ()) -> list[T | Exception]:
    """Run every action on its own thread, all released by one barrier; what each returned or raised.

    `delays_s` holds back the action of the same index after the barrier, so a test can sweep the head start
    one side gets and meet both orders even when one use case always reaches the contested lock sooner.
    """
    barrier = threading.Barrier(len(actions))
    delays = list(delays_s) + [0.0] * (len(actions) - len(delays_s))

    def run(action: Callable[[], T], delay_s: float) -> T | Exception:
        barrier.wait()
        if delay_s:
            time.sleep(delay_s)
        try:
            return action()
        except Exception as error:  # the outcome under test, judged by the caller
            return error

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions, delays))


def outcome_name(outcome: object) -> str:
    """A short label for tallies: the problem type of a refusal, the class name of anything else."""
    if isinstance(outcome, Exception):
        return getattr(outcome, "type", type(outcome).__name__)
    return "ok"


def lock_waiters(engine: sa.Engine) -> int:
    """Backends of this database waiting for a lock right now (PostgreSQL)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )
