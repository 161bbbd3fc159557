"""Tills signing at once share one TSE: every operation gets its own counter value, none is lost or doubled."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tapzone.fiscal.signer import PROCESS_TYPE_RECEIPT
from tapzone.fiscal.tse_sim import TseSimulator
from tapzone.store.tables import tse_signers, tse_transactions
from tests.world import World

THREADS = 8
RECEIPTS_PER_THREAD = 15


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_concurrent_signing_on_postgres_gives_gapless_unique_counters(world: World) -> None:
    signer = TseSimulator(world.venue_id)
    start_together = threading.Barrier(THREADS)

    def till(index: int) -> list[tuple[int, int, int]]:
        start_together.wait()  # the first receipts also race to create the venue's TSE
        signed = []
        for receipt in range(RECEIPTS_PER_THREAD):
            with world.uow.transaction() as tx:
                handle = signer.start_transaction(tx, f"TZ-TILL-{index}", PROCESS_TYPE_RECEIPT, "")
                done = signer.finish_transaction(tx, handle, PROCESS_TYPE_RECEIPT, f"Beleg^{index}.{receipt:02d}")
            signed.append((handle.started.signature_counter, done.signature_counter, done.transaction_number))
        return signed

    with ThreadPoolExecutor(THREADS) as pool:
        results = [item for batch in pool.map(till, range(THREADS)) for item in batch]

    total = THREADS * RECEIPTS_PER_THREAD
    counters = sorted(counter for start, finish, _ in results for counter in (start, finish))
    assert counters == list(range(1, 2 * total + 1))  # unique and gapless
    assert sorted(number for _, _, number in results) == list(range(1, total + 1))
    # Within one transaction the finish follows its own start: nothing of another till's slipped between.
    assert all(finish == start + 1 for start, finish, _ in results)
    with world.uow.engine.connect() as conn:
        signers = conn.execute(sa.select(tse_signers)).all()
        finished = conn.execute(
            sa.select(sa.func.count()).select_from(tse_transactions).where(tse_transactions.c.state == "finished")
        ).scalar_one()
    assert len(signers) == 1  # the race to create the TSE made exactly one
    assert (signers[0].signature_counter, signers[0].transaction_counter) == (2 * total, total)
    assert finished == total
