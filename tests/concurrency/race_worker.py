"""Runs in a child process: many threads trying to put the same product on one credit tab at once."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from tapzone.context import RequestContext
from tapzone.errors import CreditLimitExceeded
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.store.db import make_engine
from tapzone.store.uow import UnitOfWork


@dataclass(frozen=True)
class RaceJob:
    db_url: str
    venue_id: int
    till_id: int
    cashier_id: int
    medium_uid: str
    product_id: int
    threads: int
    attempts_per_thread: int
    start_at: float  # wall-clock second at which every thread of every process starts


def run_race(job: RaceJob) -> tuple[int, int, list[str]]:
    """Returns (accepted, refused for the limit, unexpected errors)."""
    engine = make_engine(job.db_url)
    uow = UnitOfWork(engine)
    accepted = refused = 0
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        nonlocal accepted, refused
        while time.time() < job.start_at:
            time.sleep(0.001)
        for _ in range(job.attempts_per_thread):
            ctx = RequestContext(job.venue_id, job.till_id, job.cashier_id, uuid.uuid4().hex)
            try:
                save_items(uow, ctx, medium_uid=job.medium_uid, items=[Item(job.product_id)])
            except CreditLimitExceeded:
                with lock:
                    refused += 1
            except Exception as error:
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
            else:
                with lock:
                    accepted += 1

    threads = [threading.Thread(target=worker) for _ in range(job.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    return accepted, refused, errors
