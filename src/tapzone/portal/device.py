"""The venue's "customer portal" device: every entry, receipt and idempotency key needs a device, and the
portal and the payment providers' callbacks act as this one (no token: it never signs in over the API)."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.errors import Conflict
from tapzone.store.tables import devices
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import DeviceKind

PORTAL_DEVICE_NAME = "customer portal"


def portal_device(tx: Tx, venue_id: int) -> int:
    """The portal device of the venue, created on first use."""
    query = sa.select(devices.c.id, devices.c.kind).where(
        devices.c.venue_id == venue_id, devices.c.name == PORTAL_DEVICE_NAME
    )
    row = tx.conn.execute(query).first()
    if row is None:  # insert-or-ignore: two first requests at once find the same device
        tx.insert_ignore(
            devices,
            [{"venue_id": venue_id, "kind": DeviceKind.PORTAL.value, "name": PORTAL_DEVICE_NAME, "created_at": tx.now}],
            ["venue_id", "name"],
        )
        row = tx.conn.execute(query).one()
    if row.kind != DeviceKind.PORTAL.value:
        raise Conflict(f"the device name {PORTAL_DEVICE_NAME!r} is taken by a {row.kind}; rename that device")
    return int(row.id)


def portal_context(uow: UnitOfWork, venue_id: int, idempotency_key: str) -> RequestContext:
    """The context of a customer's write through the portal: the portal device, no operator."""
    with uow.transaction() as tx:
        device_id = portal_device(tx, venue_id)
    return RequestContext(venue_id=venue_id, device_id=device_id, operator_id=None, idempotency_key=idempotency_key)
