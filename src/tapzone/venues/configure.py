"""Configuring a running venue from the back office: devices and their tokens, staff, products.

The set-up functions in `venues.setup` serve the command line before a venue opens and check no staff
member. These are the same writes for a signed-in administrator: each needs `venue.configure`, runs in one
transaction under the request's idempotency key and lands in the audit log.

Secrets never reach the idempotency store: a device token is returned to the caller once and a replay of
the request answers without it; a password is neither stored in the response nor in the request's
fingerprint (an unsalted digest of a short password is easy to reverse).
"""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound
from tapzone.money import check_positive_amount
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import device_tokens, devices, products, staff
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.credentials import hash_password, store_device_token
from tapzone.venues.model import SUPPORTED_LANGUAGES, DeviceKind
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise
from tapzone.venues.setup import check_vat_rate, insert_device, insert_product, insert_staff, role_id_of

# Devices the back office adds on their own; gates need a zone (access.configure), resources a product.
PLAIN_DEVICE_KINDS = frozenset({DeviceKind.TILL, DeviceKind.KIOSK, DeviceKind.FINGERPRINT_READER})
# The venue's own devices: they are created by tapzone itself and never authenticate with a token.
TOKENLESS_KINDS = frozenset({DeviceKind.SYSTEM.value, DeviceKind.PORTAL.value})


class DeviceCreated(BaseModel):
    device_id: int
    name: str
    kind: str


class TokenIssued(BaseModel):
    device_id: int
    revoked: int  # earlier tokens of the device that stopped working


class StaffChanged(BaseModel):
    staff_id: int


class ProductView(BaseModel):
    id: int
    name: str
    price_minor: int
    vat_rate_bp: int
    product_group: str
    active: bool


class Issued(BaseModel):
    """What a write that creates a token answers: the token is None when the request was a replay."""

    device_id: int
    token: str | None


def add_device(uow: UnitOfWork, ctx: RequestContext, *, name: str, kind: DeviceKind) -> Issued:
    """A till, kiosk or fingerprint reader with its first token, which the caller shows once."""
    kind = DeviceKind(kind)
    if kind not in PLAIN_DEVICE_KINDS:
        raise InvalidRequest(f"add a {kind.value} where its zone or product is chosen, not as a plain device")
    payload = {"name": name, "kind": kind.value}
    issued: list[str] = []

    def handler(tx: Tx) -> DeviceCreated:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        device_id = insert_device(tx, venue.id, name=name, kind=kind)
        issued.append(store_device_token(tx, venue.id, device_id))
        audit.record(tx, ctx, "device.create", f"device:{device_id}", payload)
        return DeviceCreated(device_id=device_id, name=name.strip(), kind=kind.value)

    created = run_idempotent(uow, ctx, "add_device", payload, handler, DeviceCreated)
    return Issued(device_id=created.device_id, token=issued[0] if issued else None)


def issue_token(uow: UnitOfWork, ctx: RequestContext, *, device_id: int, revoke_earlier: bool) -> Issued:
    """A new token for a device, shown once (seed: a lost till token means a new till token). With
    `revoke_earlier` the device's other tokens stop working at once, e.g. after a tablet was stolen; refused
    for the device this request comes from, which would lock the caller out of its own screen."""
    if revoke_earlier and device_id == ctx.device_id:
        raise InvalidRequest("this screen runs on that device; revoke its tokens from another device")
    payload = {"device_id": device_id, "revoke_earlier": revoke_earlier}
    issued: list[str] = []

    def handler(tx: Tx) -> TokenIssued:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        kind = tx.conn.execute(
            sa.select(devices.c.kind).where(devices.c.id == device_id, devices.c.venue_id == venue.id)
        ).scalar_one_or_none()
        if kind is None:
            raise NotFound(f"device {device_id} does not exist in this venue")
        if kind in TOKENLESS_KINDS:
            raise InvalidRequest(f"a {kind} device never signs in with a token")
        revoked = 0
        if revoke_earlier:
            revoked = tx.conn.execute(
                device_tokens.update()
                .where(device_tokens.c.device_id == device_id, device_tokens.c.revoked_at.is_(None))
                .values(revoked_at=tx.now)
            ).rowcount
        issued.append(store_device_token(tx, venue.id, device_id))
        audit.record(tx, ctx, "device.token", f"device:{device_id}", {**payload, "revoked": revoked})
        return TokenIssued(device_id=device_id, revoked=revoked)

    done = run_idempotent(uow, ctx, "issue_token", payload, handler, TokenIssued)
    return Issued(device_id=done.device_id, token=issued[0] if issued else None)


def _check_language(language: str | None) -> None:
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise InvalidRequest(f"language must be one of {sorted(SUPPORTED_LANGUAGES)} or none (the venue's)")


def create_staff_member(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    name: str,
    login: str,
    role: str,
    password: str,
    language: str | None = None,
) -> StaffChanged:
    """A staff member who can sign in at once; `language` None means the venue's language."""
    _check_language(language)
    password_hash = hash_password(password)
    payload = {"name": name, "login": login, "role": role, "language": language}

    def handler(tx: Tx) -> StaffChanged:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        staff_id = insert_staff(tx, venue.id, name=name, login=login, role=role, language=language)
        tx.conn.execute(staff.update().where(staff.c.id == staff_id).values(password_hash=password_hash))
        audit.record(tx, ctx, "staff.create", f"staff:{staff_id}", payload)
        return StaffChanged(staff_id=staff_id)

    return run_idempotent(uow, ctx, "create_staff_member", payload, handler, StaffChanged)


def _update_staff(tx: Tx, ctx: RequestContext, staff_id: int, action: str, **values: object) -> StaffChanged:
    venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
    updated = tx.conn.execute(
        staff.update().where(staff.c.id == staff_id, staff.c.venue_id == venue.id).values(**values)
    ).rowcount
    if not updated:
        raise NotFound(f"staff member {staff_id} does not exist in this venue")
    details = {name: value for name, value in values.items() if name != "password_hash"}
    audit.record(tx, ctx, action, f"staff:{staff_id}", details)
    return StaffChanged(staff_id=staff_id)


def set_staff_password(uow: UnitOfWork, ctx: RequestContext, *, staff_id: int, password: str) -> StaffChanged:
    """A new password (e.g. a forgotten one); the staff member's open sessions stay until they sign out."""
    password_hash = hash_password(password)
    return run_idempotent(
        uow,
        ctx,
        "set_staff_password",
        {"staff_id": staff_id},
        lambda tx: _update_staff(tx, ctx, staff_id, "staff.password", password_hash=password_hash),
        StaffChanged,
    )


def set_staff_language(uow: UnitOfWork, ctx: RequestContext, *, staff_id: int, language: str | None) -> StaffChanged:
    """The language of this person's screens (issue 8: per staff user, the venue's when None)."""
    _check_language(language)
    return run_idempotent(
        uow,
        ctx,
        "set_staff_language",
        {"staff_id": staff_id, "language": language},
        lambda tx: _update_staff(tx, ctx, staff_id, "staff.language", language=language),
        StaffChanged,
    )


def set_staff_role(uow: UnitOfWork, ctx: RequestContext, *, staff_id: int, role: str) -> StaffChanged:
    """Move a staff member to another role. Not one's own role: an admin who demotes themselves by mistake
    could leave the venue without anybody allowed to configure it."""
    if staff_id == ctx.operator_id:
        raise InvalidRequest("another administrator changes your own role")

    def handler(tx: Tx) -> StaffChanged:
        role_id = role_id_of(tx, ctx.venue_id, role)
        return _update_staff(tx, ctx, staff_id, "staff.role", role_id=role_id)

    return run_idempotent(uow, ctx, "set_staff_role", {"staff_id": staff_id, "role": role}, handler, StaffChanged)


def set_staff_active(uow: UnitOfWork, ctx: RequestContext, *, staff_id: int, active: bool) -> StaffChanged:
    """Let a staff member sign in again, or no longer (someone who left). Staff are never deleted: the
    journal and the audit log keep naming them. Not oneself, for the same reason as the role."""
    if staff_id == ctx.operator_id:
        raise InvalidRequest("another administrator deactivates your own sign-in")
    return run_idempotent(
        uow,
        ctx,
        "set_staff_active",
        {"staff_id": staff_id, "active": active},
        lambda tx: _update_staff(tx, ctx, staff_id, "staff.active", active=active),
        StaffChanged,
    )


def _product_view(tx: Tx, product_id: int) -> ProductView:
    row = tx.conn.execute(sa.select(products).where(products.c.id == product_id)).one()
    return ProductView(
        id=row.id,
        name=row.name,
        price_minor=row.price_minor,
        vat_rate_bp=row.vat_rate_bp,
        product_group=row.product_group,
        active=row.active,
    )


def create_product(
    uow: UnitOfWork, ctx: RequestContext, *, name: str, price_minor: int, vat_rate_bp: int, product_group: str
) -> ProductView:
    """A product with its gross price in minor units and its VAT rate in basis points."""
    payload = {"name": name, "price_minor": price_minor, "vat_rate_bp": vat_rate_bp, "product_group": product_group}

    def handler(tx: Tx) -> ProductView:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        product_id = insert_product(
            tx, venue.id, name=name, price_minor=price_minor, vat_rate_bp=vat_rate_bp, product_group=product_group
        )
        audit.record(tx, ctx, "product.create", f"product:{product_id}", payload)
        return _product_view(tx, product_id)

    return run_idempotent(uow, ctx, "create_product", payload, handler, ProductView)


def update_product(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    product_id: int,
    price_minor: int | None = None,
    vat_rate_bp: int | None = None,
    active: bool | None = None,
) -> ProductView:
    """Reprice a product or take it off the tills (products are never deleted: tab lines and receipts
    refer to them). Lines already on a tab keep the price and rate they were sold at."""
    if price_minor is not None:
        check_positive_amount(price_minor, "price")  # the same rule as for a new product
    if vat_rate_bp is not None:
        check_vat_rate(vat_rate_bp)
    payload = {"product_id": product_id, "price_minor": price_minor, "vat_rate_bp": vat_rate_bp, "active": active}
    changes = {name: value for name, value in payload.items() if name != "product_id" and value is not None}
    if not changes:
        raise InvalidRequest("give a new price, VAT rate or active flag")

    def handler(tx: Tx) -> ProductView:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        rows = tx.lock_rows(products, [product_id])
        if not rows or rows[0].venue_id != venue.id:
            raise NotFound(f"product {product_id} does not exist in this venue")
        before = {name: getattr(rows[0], name) for name in changes}
        tx.conn.execute(products.update().where(products.c.id == product_id).values(**changes))
        audit.record(tx, ctx, "product.update", f"product:{product_id}", {"changes": changes, "before": before})
        return _product_view(tx, product_id)

    return run_idempotent(uow, ctx, "update_product", payload, handler, ProductView)
