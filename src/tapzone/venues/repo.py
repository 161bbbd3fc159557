"""Reads of venue, device and staff rows that use cases need inside their transaction."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.errors import NotFound, PaymentWithMediumDisabled, PermissionDenied
from tapzone.store.tables import devices, role_permissions, staff, venues
from tapzone.store.uow import Tx
from tapzone.venues.model import FiscalProfile, Venue
from tapzone.venues.permissions import Permission, usable_from


def load_venue(tx: Tx, venue_id: int) -> Venue:
    row = tx.conn.execute(sa.select(venues).where(venues.c.id == venue_id)).first()
    if row is None:
        raise NotFound(f"venue {venue_id} does not exist")
    return _venue_from_row(row)


def authorise(tx: Tx, ctx: RequestContext, *permissions: Permission) -> Venue:
    """Load the venue and check that the device belongs to it and the operator holds every permission.

    One round trip, however many permissions a use case needs: this runs at the start of every use case.
    """
    wanted = [permission.value for permission in permissions]
    operator = staff.alias("operator")
    rows = tx.conn.execute(
        sa.select(
            venues,
            devices.c.id.label("device_found"),
            devices.c.kind.label("device_kind"),
            sa.func.coalesce(devices.c.pay_with_medium, venues.c.pay_with_medium).label("till_pays_with_medium"),
            operator.c.id.label("operator_found"),
            role_permissions.c.permission.label("allowed"),
        )
        .select_from(
            venues.outerjoin(devices, sa.and_(devices.c.id == ctx.device_id, devices.c.venue_id == venues.c.id))
            .outerjoin(
                operator,
                sa.and_(
                    operator.c.id == ctx.operator_id, operator.c.venue_id == venues.c.id, operator.c.active.is_(True)
                ),
            )
            .outerjoin(
                role_permissions,
                sa.and_(role_permissions.c.role_id == operator.c.role_id, role_permissions.c.permission.in_(wanted)),
            )
        )
        .where(venues.c.id == ctx.venue_id)
    ).all()
    if not rows:
        raise NotFound(f"venue {ctx.venue_id} does not exist")
    row = rows[0]  # one row per permission held; the venue, device and operator columns are the same in each
    if row.device_found is None:
        raise PermissionDenied("this device is not registered for the venue")
    if ctx.operator_id is None:
        raise PermissionDenied(f"{wanted[0]} needs a signed-in staff member")
    elsewhere = [permission for permission in wanted if not usable_from(row.device_kind, permission)]
    if elsewhere:
        raise PermissionDenied(f"{elsewhere[0]} cannot be used from a device of kind {row.device_kind}")
    held = {r.allowed for r in rows}
    missing = [permission for permission in wanted if permission not in held]
    if missing:
        raise PermissionDenied(f"this staff member lacks the permission {missing[0]}")
    return dataclasses.replace(_venue_from_row(row), pay_with_medium=bool(row.till_pays_with_medium))


def authorise_unattended(
    tx: Tx, ctx: RequestContext, unattended: frozenset[str], *permissions: Permission
) -> tuple[Venue, str]:
    """For actions a self-service device may take without staff (a kiosk, a sunbed): devices of the kinds
    in `unattended` pass on their token alone; any other device needs a signed-in staff member holding
    `permissions`. Returns the venue and the calling device's kind."""
    kind = tx.conn.execute(
        sa.select(devices.c.kind).where(devices.c.id == ctx.device_id, devices.c.venue_id == ctx.venue_id)
    ).scalar_one_or_none()
    if kind is None:
        raise PermissionDenied("this device is not registered for the venue")
    if kind in unattended:
        return load_venue(tx, ctx.venue_id), kind
    return authorise(tx, ctx, *permissions), kind


def require_payment_with_medium(venue: Venue) -> None:
    """seed 001: buying with the wristband only works where the venue (or this till) switched it on."""
    if not venue.pay_with_medium:
        raise PaymentWithMediumDisabled("paying with the medium is switched off for this till")


def _venue_from_row(row: sa.Row[Any]) -> Venue:
    return Venue(
        id=row.id,
        name=row.name,
        currency=row.currency,
        timezone=row.timezone,
        language=row.language,
        fiscal_profile=FiscalProfile(row.fiscal_profile),
        advance_vat_rate_bp=row.advance_vat_rate_bp,
        member_debt_on_medium=row.member_debt_on_medium,
    )
