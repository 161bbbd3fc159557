"""Configuring the paid zone: zones, gates guarding them, and entry products (seed 001 "Entré")."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.access.model import AntiPassback, Direction, ServiceType
from tapzone.errors import Conflict, InvalidRequest, NotFound
from tapzone.money import check_non_negative_amount
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import entry_products, gates, products, zones
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.text import clean_name
from tapzone.venues.model import GATE_KINDS, DeviceKind
from tapzone.venues.setup import insert_device, insert_product

DEFAULT_OPEN_MS = 3000
MAX_COMPANIONS = 20
MAX_NAME_LENGTH = 200  # zones.name


def create_zone(uow: UnitOfWork, venue_id: int, *, name: str, service_type: ServiceType = ServiceType.PAID) -> int:
    with uow.transaction() as tx:
        return insert_zone(tx, venue_id, name=name, service_type=service_type)


def insert_zone(tx: Tx, venue_id: int, *, name: str, service_type: ServiceType) -> int:
    """The zone row inside the caller's transaction; a name the venue already uses is a conflict."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"a zone needs a name of 1..{MAX_NAME_LENGTH} characters")
    zone_id = tx.conn.execute(
        tx.insert_for(zones)
        .values(
            venue_id=venue_id,
            name=clean_name(name, "zone name", MAX_NAME_LENGTH),
            service_type=ServiceType(service_type).value,
            created_at=tx.now,
        )
        .on_conflict_do_nothing(index_elements=[zones.c.venue_id, zones.c.name])
        .returning(zones.c.id)
    ).scalar_one_or_none()
    if zone_id is None:
        raise Conflict(f"a zone named {name.strip()!r} already exists")
    return int(zone_id)


def _require_zone(tx: Tx, venue_id: int, zone_id: int) -> None:
    found = tx.conn.execute(sa.select(zones.c.id).where(zones.c.id == zone_id, zones.c.venue_id == venue_id)).first()
    if found is None:
        raise NotFound(f"zone {zone_id} does not exist in this venue")


def add_gate(
    uow: UnitOfWork,
    venue_id: int,
    *,
    name: str,
    kind: DeviceKind,
    zone_id: int,
    direction: Direction,
    open_ms: int = DEFAULT_OPEN_MS,
) -> int:
    """Register a gate device guarding `zone_id`; returns its device id (issue it a token to let it tap)."""
    with uow.transaction() as tx:
        return insert_gate(tx, venue_id, name=name, kind=kind, zone_id=zone_id, direction=direction, open_ms=open_ms)


def insert_gate(
    tx: Tx, venue_id: int, *, name: str, kind: DeviceKind, zone_id: int, direction: Direction, open_ms: int
) -> int:
    """The gate's device and gate rows inside the caller's transaction, after checking kind and direction."""
    kind = DeviceKind(kind)
    if kind not in GATE_KINDS:
        raise InvalidRequest(f"{kind} is not a gate kind; use one of {sorted(GATE_KINDS)}")
    if kind is DeviceKind.COLLECTOR and Direction(direction) is not Direction.OUT:
        raise InvalidRequest("a collector takes media back, so it only guards the way out")
    if isinstance(open_ms, bool) or not isinstance(open_ms, int) or not 100 <= open_ms <= 60_000:
        raise InvalidRequest("open_ms must be 100..60000")
    _require_zone(tx, venue_id, zone_id)
    device_id = insert_device(tx, venue_id, name=name, kind=kind)
    tx.conn.execute(
        gates.insert().values(
            device_id=device_id,
            venue_id=venue_id,
            zone_id=zone_id,
            direction=Direction(direction).value,
            open_ms=open_ms,
        )
    )
    return device_id


def create_entry_product(
    uow: UnitOfWork,
    venue_id: int,
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
) -> int:
    """An entry ticket: its price, what credit it grants, and for how many companions (family/group)."""
    with uow.transaction() as tx:
        return insert_entry_product(
            tx,
            venue_id,
            name=name,
            price_minor=price_minor,
            vat_rate_bp=vat_rate_bp,
            zone_id=zone_id,
            credit_type=credit_type,
            credit_limit_minor=credit_limit_minor,
            included_minutes=included_minutes,
            deposit_minor=deposit_minor,
            anti_passback=anti_passback,
            companions=companions,
            overstay_product_id=overstay_product_id,
            overstay_block_minutes=overstay_block_minutes,
            overstay_grace_minutes=overstay_grace_minutes,
        )


def insert_entry_product(
    tx: Tx,
    venue_id: int,
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
) -> int:
    """The entry product's product and entry rows inside the caller's transaction, after every check."""
    credit_type = CreditType(credit_type)
    check_non_negative_amount(credit_limit_minor, "credit limit")
    check_non_negative_amount(deposit_minor, "deposit")
    if credit_type is not CreditType.CREDIT and credit_limit_minor:
        raise InvalidRequest("only credit entries have a credit limit (seed 001)")
    if credit_type is CreditType.CREDIT and not credit_limit_minor:
        raise InvalidRequest("a credit entry needs a credit limit (seed 001 'Kreditgräns')")
    if isinstance(companions, bool) or not isinstance(companions, int) or not 0 <= companions <= MAX_COMPANIONS:
        raise InvalidRequest(f"companions must be 0..{MAX_COMPANIONS}")
    if included_minutes is not None and (not isinstance(included_minutes, int) or included_minutes <= 0):
        raise InvalidRequest("included minutes must be a positive number of minutes")
    if overstay_product_id is not None and (included_minutes is None or not overstay_block_minutes):
        raise InvalidRequest("overstay needs the included minutes and a block length")
    for value, what in ((overstay_block_minutes, "block"), (overstay_grace_minutes, "grace")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24 * 60):
            raise InvalidRequest(f"overstay {what} must be 0..1440 minutes")
    _require_zone(tx, venue_id, zone_id)
    if (
        overstay_product_id is not None
        and tx.conn.execute(
            sa.select(products.c.id).where(products.c.id == overstay_product_id, products.c.venue_id == venue_id)
        ).first()
        is None
    ):
        raise NotFound(f"overstay product {overstay_product_id} does not exist in this venue")
    product_id = insert_product(
        tx, venue_id, name=name, price_minor=price_minor, vat_rate_bp=vat_rate_bp, product_group="entry"
    )
    tx.conn.execute(
        entry_products.insert().values(
            product_id=product_id,
            venue_id=venue_id,
            zone_id=zone_id,
            credit_type=credit_type.value,
            credit_limit_minor=credit_limit_minor,
            included_minutes=included_minutes,
            deposit_minor=deposit_minor,
            anti_passback=AntiPassback(anti_passback).value,
            companions=companions,
            overstay_product_id=overstay_product_id,
            overstay_block_minutes=overstay_block_minutes,
            overstay_grace_minutes=overstay_grace_minutes,
        )
    )
    return product_id
