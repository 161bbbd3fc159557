"""Setting up a venue: the venue itself, its tills, roles, staff, customers and products.

These are configuration writes done by an administrator before the venue opens; they validate everything
and create a venue's default roles so a fresh venue can work at once.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from tapzone.errors import Conflict, InvalidRequest, NotFound
from tapzone.money import check_currency, check_positive_amount
from tapzone.store.tables import customers, devices, products, role_permissions, roles, staff, venues
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.text import clean_name
from tapzone.venues.model import SUPPORTED_LANGUAGES, DeviceKind, FiscalProfile
from tapzone.venues.permissions import DEFAULT_ROLES

RU_DEFAULT_ADVANCE_VAT_BP = 2000


def create_venue(
    uow: UnitOfWork,
    *,
    name: str,
    currency: str,
    timezone: str,
    language: str = "en",
    fiscal_profile: FiscalProfile = FiscalProfile.GENERIC,
    advance_vat_rate_bp: int | None = None,
) -> int:
    check_currency(currency)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidRequest(f"unknown time zone {timezone!r}") from error
    if language not in SUPPORTED_LANGUAGES:
        raise InvalidRequest(f"language must be one of {sorted(SUPPORTED_LANGUAGES)}")
    profile = FiscalProfile(fiscal_profile)
    if profile is FiscalProfile.RU and advance_vat_rate_bp is None:
        advance_vat_rate_bp = RU_DEFAULT_ADVANCE_VAT_BP
    if advance_vat_rate_bp is not None:
        check_vat_rate(advance_vat_rate_bp)
    with uow.transaction() as tx:
        venue_id: int = tx.conn.execute(
            venues.insert()
            .values(
                name=_required_text(name, "venue name"),
                currency=currency,
                timezone=timezone,
                language=language,
                fiscal_profile=profile.value,
                advance_vat_rate_bp=advance_vat_rate_bp,
                created_at=tx.now,
            )
            .returning(venues.c.id)
        ).scalar_one()
        for role_name, permissions in DEFAULT_ROLES.items():
            role_id = tx.conn.execute(
                roles.insert().values(venue_id=venue_id, name=role_name).returning(roles.c.id)
            ).scalar_one()
            tx.conn.execute(
                role_permissions.insert(),
                [{"role_id": role_id, "permission": p.value} for p in sorted(permissions)],
            )
        return venue_id


def add_device(uow: UnitOfWork, venue_id: int, *, name: str, kind: DeviceKind = DeviceKind.TILL) -> int:
    with uow.transaction() as tx:
        _require_venue(tx.conn, venue_id)
        return insert_device(tx, venue_id, name=name, kind=kind)


def insert_device(tx: Tx, venue_id: int, *, name: str, kind: DeviceKind) -> int:
    """The device row inside the caller's transaction. ON CONFLICT rather than a prior read, so a name the
    venue already uses is a 409 even when two back offices add it at the same moment."""
    clean = _required_text(name, "device name")
    device_id = tx.conn.execute(
        tx.insert_for(devices)
        .values(venue_id=venue_id, kind=DeviceKind(kind).value, name=clean, created_at=tx.now)
        .on_conflict_do_nothing(index_elements=[devices.c.venue_id, devices.c.name])
        .returning(devices.c.id)
    ).scalar_one_or_none()
    if device_id is None:
        raise Conflict(f"a device named {clean!r} already exists")
    return int(device_id)


def add_staff(uow: UnitOfWork, venue_id: int, *, name: str, login: str, role: str) -> int:
    with uow.transaction() as tx:
        _require_venue(tx.conn, venue_id)
        return insert_staff(tx, venue_id, name=name, login=login, role=role)


def role_id_of(tx: Tx, venue_id: int, role: str) -> int:
    role_id = tx.conn.execute(
        sa.select(roles.c.id).where(roles.c.venue_id == venue_id, roles.c.name == role)
    ).scalar_one_or_none()
    if role_id is None:
        raise NotFound(f"role {role!r} does not exist in this venue")
    return int(role_id)


def insert_staff(tx: Tx, venue_id: int, *, name: str, login: str, role: str, language: str | None = None) -> int:
    """The staff row inside the caller's transaction; `language` None follows the venue's language."""
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise InvalidRequest(f"language must be one of {sorted(SUPPORTED_LANGUAGES)}")
    role_id = role_id_of(tx, venue_id, role)
    clean_login = _required_text(login, "login", 64)
    staff_id = tx.conn.execute(
        tx.insert_for(staff)
        .values(
            venue_id=venue_id,
            name=_required_text(name, "staff name"),
            login=clean_login,
            role_id=role_id,
            language=language,
            created_at=tx.now,
        )
        .on_conflict_do_nothing(index_elements=[staff.c.venue_id, staff.c.login])
        .returning(staff.c.id)
    ).scalar_one_or_none()
    if staff_id is None:
        raise Conflict(f"the login {clean_login!r} is taken")
    return int(staff_id)


def create_customer(uow: UnitOfWork, venue_id: int, *, name: str, email: str | None = None) -> int:
    with uow.transaction() as tx:
        _require_venue(tx.conn, venue_id)
        customer_id: int = tx.conn.execute(
            customers.insert()
            .values(venue_id=venue_id, name=_required_text(name, "customer name"), email=email, created_at=tx.now)
            .returning(customers.c.id)
        ).scalar_one()
        return customer_id


def create_product(
    uow: UnitOfWork, venue_id: int, *, name: str, price_minor: int, vat_rate_bp: int, product_group: str
) -> int:
    """A product with a gross price (VAT included) in minor units and its VAT rate in basis points."""
    with uow.transaction() as tx:
        _require_venue(tx.conn, venue_id)
        return insert_product(
            tx, venue_id, name=name, price_minor=price_minor, vat_rate_bp=vat_rate_bp, product_group=product_group
        )


def insert_product(tx: Tx, venue_id: int, *, name: str, price_minor: int, vat_rate_bp: int, product_group: str) -> int:
    """The product row inside the caller's transaction, after checking price, rate and texts."""
    check_positive_amount(price_minor, "price")
    check_vat_rate(vat_rate_bp)
    product_id: int = tx.conn.execute(
        products.insert()
        .values(
            venue_id=venue_id,
            name=_required_text(name, "product name"),
            price_minor=price_minor,
            vat_rate_bp=vat_rate_bp,
            product_group=_required_text(product_group, "product group", 64),
            created_at=tx.now,
        )
        .returning(products.c.id)
    ).scalar_one()
    return product_id


def check_vat_rate(vat_rate_bp: int) -> None:
    if isinstance(vat_rate_bp, bool) or not isinstance(vat_rate_bp, int) or not 0 <= vat_rate_bp <= 10000:
        raise InvalidRequest(f"VAT rate must be 0..10000 basis points, got {vat_rate_bp!r}")


def _required_text(value: str, what: str, max_length: int = 200) -> str:
    return clean_name(value, what, max_length)


def _require_venue(conn: sa.Connection, venue_id: int) -> None:
    if conn.execute(sa.select(venues.c.id).where(venues.c.id == venue_id)).first() is None:
        raise NotFound(f"venue {venue_id} does not exist")
