"""The TSE simulator on SQLite and PostgreSQL: counters, numbers, times, signatures, refusals, restarts."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tapzone.clock import FixedClock
from tapzone.fiscal.signer import (
    PROCESS_TYPE_RECEIPT,
    SignedOperation,
    SignedTransaction,
    TransactionHandle,
    TseTransactionFinished,
    TseTransactionUnknown,
    fiscal_block,
)
from tapzone.fiscal.tse_sim import SIGNATURE_ALGORITHM, TIME_FORMAT, TseSimulator, verify
from tapzone.store.db import make_engine
from tapzone.store.tables import tse_signers, tse_transactions
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tapzone.venues.setup import create_venue
from tests.world import World

DATA = "Beleg^4.50_3.20_0.00_0.00_0.00^7.70:Bar"


def sign(uow: UnitOfWork, venue_id: int, data: str = DATA, client_id: str = "TZ-TILL-1") -> SignedTransaction:
    signer = TseSimulator(venue_id)
    with uow.transaction() as tx:
        handle = signer.start_transaction(tx, client_id, PROCESS_TYPE_RECEIPT, "")
        return signer.finish_transaction(tx, handle, PROCESS_TYPE_RECEIPT, data)


def signer_row(uow: UnitOfWork, venue_id: int) -> sa.Row[Any]:
    with uow.engine.connect() as conn:
        return conn.execute(sa.select(tse_signers).where(tse_signers.c.venue_id == venue_id)).one()


def test_start_update_finish_take_increasing_counters(world: World) -> None:
    signer = TseSimulator(world.venue_id)
    with world.uow.transaction() as tx:
        handle = signer.start_transaction(tx, "TZ-TILL-1", PROCESS_TYPE_RECEIPT, "")
        update = signer.update_transaction(tx, handle, PROCESS_TYPE_RECEIPT, "Beleg^4.50_0.00_0.00_0.00_0.00^")
        done = signer.finish_transaction(tx, handle, PROCESS_TYPE_RECEIPT, DATA)
    assert (handle.number, handle.started.signature_counter) == (1, 1)
    assert update.signature_counter == 2
    assert (done.transaction_number, done.signature_counter) == (1, 3)

    second = sign(world.uow, world.venue_id)
    assert (second.transaction_number, second.signature_counter) == (2, 5)
    row = signer_row(world.uow, world.venue_id)
    assert (row.signature_counter, row.transaction_counter) == (5, 2)
    with world.uow.engine.connect() as conn:
        stored = conn.execute(sa.select(tse_transactions).order_by(tse_transactions.c.number)).all()
    assert [(t.number, t.state, t.signature_counter) for t in stored] == [(1, "finished", 3), (2, "finished", 5)]
    assert stored[0].process_data == DATA


def test_signer_sets_the_times_in_utc_from_the_clock(world: World) -> None:
    clock = world.uow.clock
    assert isinstance(clock, FixedClock)
    signer = TseSimulator(world.venue_id)
    with world.uow.transaction() as tx:
        handle = signer.start_transaction(tx, "TZ-TILL-1", PROCESS_TYPE_RECEIPT, "")
    clock.advance(timedelta(seconds=42, milliseconds=700))  # a long order: finished in a later transaction
    with world.uow.transaction() as tx:
        done = signer.finish_transaction(tx, handle, PROCESS_TYPE_RECEIPT, DATA)
    assert done.start == datetime(2026, 7, 4, 10, 0, tzinfo=UTC)
    assert done.end == datetime(2026, 7, 4, 10, 0, 42, tzinfo=UTC)  # unixTime: whole seconds
    assert done.end.utcoffset() == timedelta(0)
    assert done.time_format == TIME_FORMAT


def test_serial_is_the_sha256_of_the_public_key(world: World) -> None:
    done = sign(world.uow, world.venue_id)
    row = signer_row(world.uow, world.venue_id)
    point = base64.b64decode(row.public_key)
    assert len(point) == 65 and point[0] == 0x04  # an uncompressed brainpoolP256r1 point
    assert row.serial == hashlib.sha256(point).hexdigest() == done.tse_serial
    assert row.signature_algorithm == SIGNATURE_ALGORITHM == done.signature_algorithm
    assert len(base64.b64decode(done.signature)) == 64  # plain r‖s


def test_signatures_verify_with_the_stored_key_and_fail_when_tampered(world: World) -> None:
    done = sign(world.uow, world.venue_id)
    public_key = signer_row(world.uow, world.venue_id).public_key
    assert verify(done, public_key)
    assert not verify(dataclasses.replace(done, process_data=DATA.replace("7.70:Bar", "0.77:Bar")), public_key)
    assert not verify(dataclasses.replace(done, signature_counter=done.signature_counter + 1), public_key)
    assert not verify(dataclasses.replace(done, end=done.end + timedelta(seconds=1)), public_key)
    assert not verify(dataclasses.replace(done, client_id="TZ-TILL-2"), public_key)
    assert not verify(dataclasses.replace(done, signature="not base64!"), public_key)

    other_venue = create_venue(
        world.uow,
        name="Other",
        currency="EUR",
        timezone="Europe/Berlin",
        language="de",
        fiscal_profile=FiscalProfile.DE,
    )
    other = sign(world.uow, other_venue)
    assert other.tse_serial != done.tse_serial
    assert not verify(done, other.public_key)


def test_a_finished_transaction_cannot_be_finished_or_updated_again(world: World) -> None:
    signer = TseSimulator(world.venue_id)
    with world.uow.transaction() as tx:
        handle = signer.start_transaction(tx, "TZ-TILL-1", PROCESS_TYPE_RECEIPT, "")
        signer.finish_transaction(tx, handle, PROCESS_TYPE_RECEIPT, DATA)
    with pytest.raises(TseTransactionFinished), world.uow.transaction() as tx:
        signer.finish_transaction(tx, handle, PROCESS_TYPE_RECEIPT, DATA)
    with pytest.raises(TseTransactionFinished), world.uow.transaction() as tx:
        signer.update_transaction(tx, handle, PROCESS_TYPE_RECEIPT, DATA)
    assert signer_row(world.uow, world.venue_id).signature_counter == 2  # refusals sign nothing


def test_an_unknown_transaction_is_refused(world: World) -> None:
    signer = TseSimulator(world.venue_id)
    known = sign(world.uow, world.venue_id)
    with world.uow.engine.connect() as conn:
        signer_id = conn.execute(sa.select(tse_signers.c.id)).scalar_one()
    never_signed = SignedOperation(signature_counter=99, log_time=known.end, signature="")
    made_up = TransactionHandle(
        signer_id=signer_id,
        transaction_id=known.transaction_id + 99,
        number=99,
        client_id="TZ-TILL-1",
        started=never_signed,
    )
    with pytest.raises(TseTransactionUnknown), world.uow.transaction() as tx:
        signer.finish_transaction(tx, made_up, PROCESS_TYPE_RECEIPT, DATA)
    wrong_number = dataclasses.replace(made_up, transaction_id=known.transaction_id)
    with pytest.raises(TseTransactionUnknown) as refused, world.uow.transaction() as tx:
        signer.finish_transaction(tx, wrong_number, PROCESS_TYPE_RECEIPT, DATA)
    assert refused.value.type == "tse-transaction-unknown"
    assert refused.value.status == 404


def test_a_booking_that_fails_takes_its_signatures_back(world: World) -> None:
    """The counter is gapless: signing inside a transaction that rolls back leaves no trace."""
    sign(world.uow, world.venue_id)
    signer = TseSimulator(world.venue_id)

    def book_and_fail() -> None:
        with world.uow.transaction() as tx:
            signer.start_transaction(tx, "TZ-TILL-1", PROCESS_TYPE_RECEIPT, "")
            raise RuntimeError("the booking failed after signing")

    with pytest.raises(RuntimeError):
        book_and_fail()
    assert sign(world.uow, world.venue_id).signature_counter == 4
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tse_transactions)).scalar_one() == 2


def test_tse_counter_monotonic_across_restarts(world: World, db_url: str) -> None:
    """Issue 6: counters and transaction numbers continue after the process (and its engine) is gone."""
    sign(world.uow, world.venue_id)
    before = sign(world.uow, world.venue_id)
    serial = before.tse_serial
    world.uow.engine.dispose()

    for restart in range(2):
        engine = make_engine(db_url)
        try:
            uow = UnitOfWork(engine, clock=FixedClock(datetime(2026, 7, 5, 9, restart, tzinfo=UTC)))
            after = sign(uow, world.venue_id)
        finally:
            engine.dispose()
        assert after.tse_serial == serial  # the same TSE, not a new one
        assert after.signature_counter == before.signature_counter + 2
        assert after.transaction_number == before.transaction_number + 1
        before = after


def test_fiscal_block_carries_the_signed_data_and_its_qr_code(world: World) -> None:
    done = sign(world.uow, world.venue_id)
    block = fiscal_block(done)
    fields = block.qr_payload.split(";")
    assert fields == [
        "V0",
        "TZ-TILL-1",
        PROCESS_TYPE_RECEIPT,
        DATA,
        "1",
        "2",
        "2026-07-04T10:00:00.000Z",
        "2026-07-04T10:00:00.000Z",
        SIGNATURE_ALGORITHM,
        TIME_FORMAT,
        done.signature,
        done.public_key,
    ]
    assert (block.tse_serial, block.transaction_number, block.signature_counter) == (done.tse_serial, 1, 2)
