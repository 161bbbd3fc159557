"""Gapless per-till numbers (receipts, shifts, Z reports): one counter row per device and name."""

from __future__ import annotations

from tapzone.store.tables import device_counters
from tapzone.store.uow import Tx


def next_number(tx: Tx, venue_id: int, device_id: int, name: str) -> int:
    """The next number of this till's series. The upsert locks the counter row until commit, so two
    requests of one till get consecutive numbers and a rolled-back request leaves no gap. The device row is
    locked first: a request that numbers a receipt before it posts an entry (a bill, a Z report) must not hold
    the counter while it waits for the device that a booking of the same till holds (lock order, `store.uow`)."""
    tx.lock_device(device_id)
    statement = tx.insert_for(device_counters).values(venue_id=venue_id, device_id=device_id, name=name, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[device_counters.c.device_id, device_counters.c.name],
        set_={"value": device_counters.c.value + 1},
    ).returning(device_counters.c.value)
    value: int = tx.conn.execute(statement).scalar_one()
    return value
