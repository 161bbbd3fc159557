"""Reads for the back office: the venue's devices, staff, roles, products and audit log, page by page.

Each read checks its permission in its own transaction like any use case: configuration lists need
`venue.configure`; the audit log needs `report.view`, so managers and support can review who did what
without being able to change the venue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.errors import NotFound, PermissionDenied
from tapzone.store.paging import Page, read_page, rows_as
from tapzone.store.tables import audit_log, device_tokens, devices, products, role_permissions, roles, staff
from tapzone.store.uow import UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class DeviceRow(BaseModel):
    id: int
    name: str
    kind: str
    active_tokens: int
    pay_with_medium: bool | None  # a till's override; None follows the venue


class StaffRow(BaseModel):
    id: int
    name: str
    login: str
    role: str
    language: str | None  # None: the venue's language
    active: bool
    has_password: bool


class RoleRow(BaseModel):
    name: str
    permissions: list[str]


class ProductRow(BaseModel):
    id: int
    name: str
    price_minor: int
    vat_rate_bp: int
    product_group: str
    active: bool


class AuditRow(BaseModel):
    id: int
    recorded_at: datetime
    device_id: int
    device: str
    seq: int
    operator: str | None
    action: str
    subject: str
    details: str


def operator_permissions(uow: UnitOfWork, ctx: RequestContext) -> frozenset[str]:
    """What the signed-in staff member may do, so a screen offers only that (the use cases still check)."""
    if ctx.operator_id is None:
        raise PermissionDenied("sign in first")
    with uow.engine.connect() as conn:
        held = conn.execute(
            sa.select(role_permissions.c.permission)
            .join(staff, staff.c.role_id == role_permissions.c.role_id)
            .where(staff.c.id == ctx.operator_id, staff.c.venue_id == ctx.venue_id, staff.c.active.is_(True))
        ).scalars()
        return frozenset(held)


_active_tokens = (
    sa.select(sa.func.count())
    .where(device_tokens.c.device_id == devices.c.id, device_tokens.c.revoked_at.is_(None))
    .correlate(devices)
    .scalar_subquery()
)


def _device(row: sa.Row[Any]) -> DeviceRow:
    return DeviceRow(
        id=row.id,
        name=row.name,
        kind=row.kind,
        active_tokens=row.active_tokens,
        pay_with_medium=row.pay_with_medium,
    )


def _devices_of(venue_id: int) -> sa.Select[Any]:
    return sa.select(
        devices.c.id,
        devices.c.name,
        devices.c.kind,
        devices.c.pay_with_medium,
        _active_tokens.label("active_tokens"),
    ).where(devices.c.venue_id == venue_id)


def list_devices(
    uow: UnitOfWork, ctx: RequestContext, *, kinds: frozenset[str] | None, limit: int, offset: int
) -> Page[DeviceRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = _devices_of(venue.id).order_by(devices.c.name, devices.c.id)
        if kinds is not None:
            query = query.where(devices.c.kind.in_(sorted(kinds)))
        return read_page(tx.conn, query, _device, limit=limit, offset=offset)


def read_device(uow: UnitOfWork, ctx: RequestContext, *, device_id: int) -> DeviceRow:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        row = tx.conn.execute(_devices_of(venue.id).where(devices.c.id == device_id)).first()
        if row is None:
            raise NotFound(f"device {device_id} does not exist in this venue")
        return _device(row)


def _staff_of(venue_id: int) -> sa.Select[Any]:
    return (
        sa.select(
            staff.c.id,
            staff.c.name,
            staff.c.login,
            roles.c.name.label("role"),
            staff.c.language,
            staff.c.active,
            staff.c.password_hash.is_not(None).label("has_password"),
        )
        .join(roles, roles.c.id == staff.c.role_id)
        .where(staff.c.venue_id == venue_id)
    )


def list_staff(
    uow: UnitOfWork, ctx: RequestContext, *, role: str | None, search: str | None, limit: int, offset: int
) -> Page[StaffRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = _staff_of(venue.id).order_by(staff.c.name, staff.c.id)
        if role:
            query = query.where(roles.c.name == role)
        if search:
            pattern = f"%{_escape_like(search.strip().lower())}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(staff.c.name).like(pattern, escape="\\"),
                    sa.func.lower(staff.c.login).like(pattern, escape="\\"),
                )
            )
        return read_page(tx.conn, query, rows_as(StaffRow), limit=limit, offset=offset)


def read_staff_member(uow: UnitOfWork, ctx: RequestContext, *, staff_id: int) -> StaffRow:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        row = tx.conn.execute(_staff_of(venue.id).where(staff.c.id == staff_id)).first()
        if row is None:
            raise NotFound(f"staff member {staff_id} does not exist in this venue")
        return rows_as(StaffRow)(row)


def list_roles(uow: UnitOfWork, ctx: RequestContext) -> list[RoleRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        rows = tx.conn.execute(
            sa.select(roles.c.name, role_permissions.c.permission)
            .outerjoin(role_permissions, role_permissions.c.role_id == roles.c.id)
            .where(roles.c.venue_id == venue.id)
            .order_by(roles.c.name, role_permissions.c.permission)
        ).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        held = found.setdefault(row.name, [])
        if row.permission is not None:
            held.append(row.permission)
    return [RoleRow(name=name, permissions=held) for name, held in found.items()]


def list_products(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    group: str | None,
    search: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> Page[ProductRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = (
            sa.select(
                products.c.id,
                products.c.name,
                products.c.price_minor,
                products.c.vat_rate_bp,
                products.c.product_group,
                products.c.active,
            )
            .where(products.c.venue_id == venue.id)
            .order_by(products.c.product_group, products.c.name, products.c.id)
        )
        if group:
            query = query.where(products.c.product_group == group)
        if active is not None:
            query = query.where(products.c.active.is_(active))
        if search:
            pattern = f"%{_escape_like(search.strip().lower())}%"
            query = query.where(sa.func.lower(products.c.name).like(pattern, escape="\\"))
        return read_page(tx.conn, query, rows_as(ProductRow), limit=limit, offset=offset)


def product_groups(uow: UnitOfWork, ctx: RequestContext) -> list[str]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        return list(
            tx.conn.execute(
                sa.select(products.c.product_group)
                .where(products.c.venue_id == venue.id)
                .distinct()
                .order_by(products.c.product_group)
            ).scalars()
        )


def read_audit_log(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    action: str | None,
    device_id: int | None,
    limit: int,
    offset: int,
) -> Page[AuditRow]:
    """The venue's audit log, newest first; read-only, its rows are hash-chained per device."""
    operator = staff.alias("operator")
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.REPORT_VIEW)
        query = (
            sa.select(
                audit_log.c.id,
                audit_log.c.recorded_at,
                audit_log.c.device_id,
                devices.c.name.label("device"),
                audit_log.c.seq,
                operator.c.name.label("operator"),
                audit_log.c.action,
                audit_log.c.subject,
                audit_log.c.details,
            )
            .join(devices, devices.c.id == audit_log.c.device_id)
            .outerjoin(operator, operator.c.id == audit_log.c.operator_id)
            .where(audit_log.c.venue_id == venue.id)
            .order_by(audit_log.c.recorded_at.desc(), audit_log.c.id.desc())
        )
        if action:
            query = query.where(audit_log.c.action == action)
        if device_id is not None:
            query = query.where(audit_log.c.device_id == device_id)
        return read_page(tx.conn, query, rows_as(AuditRow), limit=limit, offset=offset)


def audit_filters(uow: UnitOfWork, ctx: RequestContext) -> tuple[list[str], list[tuple[int, str]]]:
    """The actions that occur in the venue's audit log and the venue's devices, for the log's filter. The
    log holds privileged actions only (not every sale), so reading its distinct actions stays cheap."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.REPORT_VIEW)
        actions = list(
            tx.conn.execute(
                sa.select(audit_log.c.action)
                .where(audit_log.c.venue_id == venue.id)
                .distinct()
                .order_by(audit_log.c.action)
            ).scalars()
        )
        found = tx.conn.execute(
            sa.select(devices.c.id, devices.c.name).where(devices.c.venue_id == venue.id).order_by(devices.c.name)
        ).all()
        return actions, [(row.id, row.name) for row in found]


def _escape_like(text: str) -> str:
    """A search text matched literally: % and _ typed into a filter are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
