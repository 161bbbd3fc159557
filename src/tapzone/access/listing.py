"""Reads for the back office: the venue's zones, gates and entry products (`venue.configure`)."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.store.paging import Page, read_page, rows_as
from tapzone.store.tables import devices, entry_products, gates, products, zones
from tapzone.store.uow import UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class ZoneRow(BaseModel):
    id: int
    name: str
    service_type: str
    gates: int


class GateRow(BaseModel):
    device_id: int
    name: str
    kind: str
    zone_id: int
    zone: str
    direction: str
    open_ms: int


class EntryProductRow(BaseModel):
    product_id: int
    name: str
    price_minor: int
    vat_rate_bp: int
    active: bool
    zone: str
    credit_type: str
    credit_limit_minor: int
    included_minutes: int | None
    deposit_minor: int
    anti_passback: str
    companions: int
    overstay_product: str | None
    overstay_block_minutes: int | None
    overstay_grace_minutes: int


def list_zones(uow: UnitOfWork, ctx: RequestContext, *, limit: int, offset: int) -> Page[ZoneRow]:
    gate_count = (
        sa.select(sa.func.count())
        .where(gates.c.zone_id == zones.c.id)
        .correlate(zones)
        .scalar_subquery()
        .label("gates")
    )
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = (
            sa.select(zones.c.id, zones.c.name, zones.c.service_type, gate_count)
            .where(zones.c.venue_id == venue.id)
            .order_by(zones.c.name, zones.c.id)
        )
        return read_page(tx.conn, query, rows_as(ZoneRow), limit=limit, offset=offset)


def list_gates(uow: UnitOfWork, ctx: RequestContext, *, zone_id: int | None, limit: int, offset: int) -> Page[GateRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = (
            sa.select(
                gates.c.device_id,
                devices.c.name,
                devices.c.kind,
                gates.c.zone_id,
                zones.c.name.label("zone"),
                gates.c.direction,
                gates.c.open_ms,
            )
            .join(devices, devices.c.id == gates.c.device_id)
            .join(zones, zones.c.id == gates.c.zone_id)
            .where(gates.c.venue_id == venue.id)
            .order_by(zones.c.name, devices.c.name, gates.c.device_id)
        )
        if zone_id is not None:
            query = query.where(gates.c.zone_id == zone_id)
        return read_page(tx.conn, query, rows_as(GateRow), limit=limit, offset=offset)


def list_entry_products(uow: UnitOfWork, ctx: RequestContext, *, limit: int, offset: int) -> Page[EntryProductRow]:
    overstay = products.alias("overstay")
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = (
            sa.select(
                entry_products.c.product_id,
                products.c.name,
                products.c.price_minor,
                products.c.vat_rate_bp,
                products.c.active,
                zones.c.name.label("zone"),
                entry_products.c.credit_type,
                entry_products.c.credit_limit_minor,
                entry_products.c.included_minutes,
                entry_products.c.deposit_minor,
                entry_products.c.anti_passback,
                entry_products.c.companions,
                overstay.c.name.label("overstay_product"),
                entry_products.c.overstay_block_minutes,
                entry_products.c.overstay_grace_minutes,
            )
            .join(products, products.c.id == entry_products.c.product_id)
            .join(zones, zones.c.id == entry_products.c.zone_id)
            .outerjoin(overstay, overstay.c.id == entry_products.c.overstay_product_id)
            .where(entry_products.c.venue_id == venue.id)
            .order_by(products.c.name, entry_products.c.product_id)
        )
        return read_page(tx.conn, query, rows_as(EntryProductRow), limit=limit, offset=offset)
