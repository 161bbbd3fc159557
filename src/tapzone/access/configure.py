"""Configuring the paid zone of a running venue from the back office: zones, gates, entry products.

The same writes as `access.setup` (the command line before opening), for a signed-in administrator: each
needs `venue.configure`, runs in one transaction under the request's idempotency key and is audited. A new
gate's token is returned once and never kept in the idempotency store (see `venues.configure`).
"""

from __future__ import annotations

from pydantic import BaseModel

from tapzone import audit
from tapzone.access.model import AntiPassback, Direction, ServiceType
from tapzone.access.setup import DEFAULT_OPEN_MS, insert_entry_product, insert_gate, insert_zone
from tapzone.context import RequestContext
from tapzone.plans.card_accounts import CreditType
from tapzone.store.idempotency import run_idempotent
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.configure import Issued
from tapzone.venues.credentials import store_device_token
from tapzone.venues.model import DeviceKind
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class Created(BaseModel):
    id: int


def create_zone(uow: UnitOfWork, ctx: RequestContext, *, name: str, service_type: ServiceType) -> Created:
    """A zone: `paid` is entered with an entry product and left only when everything is paid (seed 000)."""
    payload = {"name": name, "service_type": ServiceType(service_type).value}

    def handler(tx: Tx) -> Created:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        zone_id = insert_zone(tx, venue.id, name=name, service_type=ServiceType(service_type))
        audit.record(tx, ctx, "zone.create", f"zone:{zone_id}", payload)
        return Created(id=zone_id)

    return run_idempotent(uow, ctx, "create_zone", payload, handler, Created)


def add_gate(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    name: str,
    kind: DeviceKind,
    zone_id: int,
    direction: Direction,
    open_ms: int = DEFAULT_OPEN_MS,
) -> Issued:
    """A gate guarding a zone, with its first token shown once; a collector only guards the way out."""
    payload = {
        "name": name,
        "kind": DeviceKind(kind).value,
        "zone_id": zone_id,
        "direction": Direction(direction).value,
        "open_ms": open_ms,
    }
    issued: list[str] = []

    def handler(tx: Tx) -> Created:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        gate_id = insert_gate(
            tx, venue.id, name=name, kind=kind, zone_id=zone_id, direction=Direction(direction), open_ms=open_ms
        )
        issued.append(store_device_token(tx, venue.id, gate_id))
        audit.record(tx, ctx, "gate.create", f"device:{gate_id}", payload)
        return Created(id=gate_id)

    created = run_idempotent(uow, ctx, "add_gate", payload, handler, Created)
    return Issued(device_id=created.id, token=issued[0] if issued else None)


def create_entry_product(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    name: str,
    price_minor: int,
    vat_rate_bp: int,
    zone_id: int,
    credit_type: CreditType,
    credit_limit_minor: int = 0,
    included_minutes: int | None = None,
    deposit_minor: int = 0,
    anti_passback: AntiPassback = AntiPassback.SEPARATE,
    companions: int = 0,
    overstay_product_id: int | None = None,
    overstay_block_minutes: int | None = None,
    overstay_grace_minutes: int = 0,
) -> Created:
    """An entry ticket (seed 001 "Entré"): price, the credit it grants, deposit, party size, included time
    and overstay. The checks are `access.setup`'s: a credit ticket needs a limit, overstay needs a block."""
    payload = {
        "name": name,
        "price_minor": price_minor,
        "vat_rate_bp": vat_rate_bp,
        "zone_id": zone_id,
        "credit_type": CreditType(credit_type).value,
        "credit_limit_minor": credit_limit_minor,
        "included_minutes": included_minutes,
        "deposit_minor": deposit_minor,
        "anti_passback": AntiPassback(anti_passback).value,
        "companions": companions,
        "overstay_product_id": overstay_product_id,
        "overstay_block_minutes": overstay_block_minutes,
        "overstay_grace_minutes": overstay_grace_minutes,
    }

    def handler(tx: Tx) -> Created:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        product_id = insert_entry_product(
            tx,
            venue.id,
            name=name,
            price_minor=price_minor,
            vat_rate_bp=vat_rate_bp,
            zone_id=zone_id,
            credit_type=CreditType(credit_type),
            credit_limit_minor=credit_limit_minor,
            included_minutes=included_minutes,
            deposit_minor=deposit_minor,
            anti_passback=AntiPassback(anti_passback),
            companions=companions,
            overstay_product_id=overstay_product_id,
            overstay_block_minutes=overstay_block_minutes,
            overstay_grace_minutes=overstay_grace_minutes,
        )
        audit.record(tx, ctx, "entry-product.create", f"product:{product_id}", payload)
        return Created(id=product_id)

    return run_idempotent(uow, ctx, "create_entry_product", payload, handler, Created)
