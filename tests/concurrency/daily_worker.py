"""Runs in a child process: the daily job for whatever day the test sends, started together with the other
job process and the test's till through one barrier."""

from __future__ import annotations

from datetime import datetime
from multiprocessing.connection import Connection
from threading import Barrier

from tapzone.clock import FixedClock
from tapzone.plans.daily_job import run_daily
from tapzone.store.db import make_engine
from tapzone.store.uow import UnitOfWork

BATCH_SIZE = 2  # small batches, so the two jobs take turns many times within one day


def serve(db_url: str, venue_id: int, start: Barrier, orders: Connection) -> None:
    """Until told None: receive a moment, wait for the others, run that day's job, send back its totals."""
    engine = make_engine(db_url)
    try:
        while (moment := orders.recv()) is not None:
            assert isinstance(moment, datetime)
            start.wait(timeout=60)
            try:
                run = run_daily(UnitOfWork(engine, clock=FixedClock(moment)), venue_id, batch_size=BATCH_SIZE)
            except Exception as error:  # reported to the test, which fails on it
                orders.send(f"{type(error).__name__}: {error}")
            else:
                orders.send((run.business_day, run.renewed, run.deleted))
    finally:
        engine.dispose()
