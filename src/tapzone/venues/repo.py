"""Reads of venue, device and staff rows that use cases need inside their transaction."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.errors import NotFound, PermissionDenied
from tapzone.store.tables import devices, role_permissions, staff, venues
from tapzone.store.uow import Tx
from tapzone.venues.model import FiscalProfile, Venue
from tapzone.venues.permissions import Permission


def load_venue(tx: Tx, venue_id: int) -> Venue:
    row = tx.conn.execute(sa.select(venues).where(venues.c.id == venue_id)).first()
    if row is None:
        raise NotFound(f"venue {venue_id} does not exist")
    return Venue(
        id=row.id,
        name=row.name,
        currency=row.currency,
        timezone=row.timezone,
        language=row.language,
        fiscal_profile=FiscalProfile(row.fiscal_profile),
        advance_vat_rate_bp=row.advance_vat_rate_bp,
    )


def authorise(tx: Tx, ctx: RequestContext, permission: Permission) -> Venue:
    """Load the venue and check that the device belongs to it and the operator may do `permission`."""
    venue = load_venue(tx, ctx.venue_id)
    device_venue = tx.conn.execute(
        sa.select(devices.c.venue_id).where(devices.c.id == ctx.device_id)
    ).scalar_one_or_none()
    if device_venue != ctx.venue_id:
        raise PermissionDenied("this device is not registered for the venue")
    if ctx.operator_id is None:
        raise PermissionDenied(f"{permission.value} needs a signed-in staff member")
    allowed = tx.conn.execute(
        sa.select(sa.literal(1))
        .select_from(staff.join(role_permissions, role_permissions.c.role_id == staff.c.role_id))
        .where(
            staff.c.id == ctx.operator_id,
            staff.c.venue_id == ctx.venue_id,
            staff.c.active.is_(True),
            role_permissions.c.permission == permission.value,
        )
    ).first()
    if allowed is None:
        raise PermissionDenied(f"this staff member lacks the permission {permission.value}")
    return venue
