"""The back office's configuration use cases: permission-checked, idempotent, audited, secrets shown once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tapzone.access import configure as access_config
from tapzone.access.listing import list_gates, list_zones
from tapzone.access.model import Direction, ServiceType
from tapzone.context import RequestContext
from tapzone.errors import Conflict, InvalidRequest, NotFound, PermissionDenied, Unauthenticated
from tapzone.store.tables import audit_log, devices, idempotency_keys, products
from tapzone.venues import configure
from tapzone.venues.credentials import DeviceIdentity, identify_device, sign_in
from tapzone.venues.listing import list_products, operator_permissions, read_audit_log, read_staff_member
from tapzone.venues.model import DeviceKind
from tapzone.venues.settings import read_venue, update_venue_details
from tests.world import World


def admin(world: World, key: str | None = None) -> RequestContext:
    return world.ctx(key, operator=world.admin_id)


def actions(world: World) -> list[str]:
    with world.uow.engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def test_configuration_needs_venue_configure(world: World) -> None:
    with pytest.raises(PermissionDenied):
        configure.create_product(
            world.uow, world.manager(), name="Cola", price_minor=300, vat_rate_bp=1900, product_group="drinks"
        )
    with pytest.raises(PermissionDenied):
        list_products(world.uow, world.manager(), group=None, search=None, active=None, limit=10, offset=0)
    assert actions(world) == []


def test_a_product_is_created_repriced_and_taken_off_the_tills(world: World) -> None:
    created = configure.create_product(
        world.uow, admin(world), name="Cola", price_minor=300, vat_rate_bp=1900, product_group="drinks"
    )
    changed = configure.update_product(world.uow, admin(world), product_id=created.id, price_minor=320, active=False)
    assert (changed.price_minor, changed.vat_rate_bp, changed.active) == (320, 1900, False)
    on_sale = list_products(world.uow, admin(world), group="drinks", search=None, active=True, limit=10, offset=0)
    assert [row.name for row in on_sale.items] == ["Beer"]
    assert actions(world) == ["product.create", "product.update"]


def test_lists_page_with_totals(world: World) -> None:
    first = list_products(world.uow, admin(world), group=None, search=None, active=None, limit=2, offset=0)
    second = list_products(world.uow, admin(world), group=None, search=None, active=None, limit=2, offset=2)
    assert (first.total, len(first.items), first.next_offset, first.previous_offset) == (3, 2, 2, None)
    assert (len(second.items), second.next_offset, second.previous_offset) == (1, None, 0)
    found = list_products(world.uow, admin(world), group=None, search="%", active=None, limit=10, offset=0)
    assert found.items == []  # a typed % is a character, not a wildcard


def test_a_new_device_token_is_shown_once_and_never_stored(world: World) -> None:
    first = configure.add_device(world.uow, admin(world, "kiosk-1"), name="Kiosk", kind=DeviceKind.KIOSK)
    again = configure.add_device(world.uow, admin(world, "kiosk-1"), name="Kiosk", kind=DeviceKind.KIOSK)
    assert first.token is not None
    assert again == configure.Issued(device_id=first.device_id, token=None)
    assert identify_device(world.uow, first.token).device_id == first.device_id
    with world.uow.engine.connect() as conn:
        stored = " ".join(conn.execute(sa.select(idempotency_keys.c.response)).scalars())
        kiosks = conn.execute(sa.select(sa.func.count()).where(devices.c.name == "Kiosk")).scalar_one()
    assert first.token not in stored
    assert kiosks == 1
    with pytest.raises(Conflict):
        configure.add_device(world.uow, admin(world), name="Kiosk", kind=DeviceKind.TILL)
    with pytest.raises(InvalidRequest):
        configure.add_device(world.uow, admin(world), name="Sunbed", kind=DeviceKind.RESOURCE)


def test_a_new_token_can_revoke_the_earlier_ones_but_not_for_the_callers_own_device(world: World) -> None:
    old = configure.issue_token(world.uow, admin(world), device_id=world.till2_id, revoke_earlier=False).token
    assert old is not None
    new = configure.issue_token(world.uow, admin(world), device_id=world.till2_id, revoke_earlier=True).token
    assert new is not None
    assert identify_device(world.uow, new).device_id == world.till2_id
    with pytest.raises(Unauthenticated):
        identify_device(world.uow, old)
    with pytest.raises(InvalidRequest):
        configure.issue_token(world.uow, admin(world), device_id=world.till_id, revoke_earlier=True)


def test_a_staff_member_signs_in_with_the_password_and_speaks_their_language(world: World) -> None:
    done = configure.create_staff_member(
        world.uow, admin(world), name="Greta", login="greta", role="cashier", password="secret-greta", language="sv"
    )
    till = DeviceIdentity(world.venue_id, world.till_id, "till", "de")
    assert sign_in(world.uow, till, "greta", "secret-greta").staff_id == done.staff_id
    assert read_staff_member(world.uow, admin(world), staff_id=done.staff_id).language == "sv"
    configure.set_staff_language(world.uow, admin(world), staff_id=done.staff_id, language=None)
    assert read_staff_member(world.uow, admin(world), staff_id=done.staff_id).language is None
    configure.set_staff_password(world.uow, admin(world), staff_id=done.staff_id, password="another-secret")
    with world.uow.engine.connect() as conn:
        kept = " ".join(conn.execute(sa.select(idempotency_keys.c.response)).scalars()) + " ".join(
            conn.execute(sa.select(audit_log.c.details)).scalars()
        )
    assert "secret-greta" not in kept
    assert "another-secret" not in kept
    with pytest.raises(InvalidRequest):
        configure.create_staff_member(
            world.uow, admin(world), name="X", login="x", role="cashier", password="short", language=None
        )
    with pytest.raises(Conflict):
        configure.create_staff_member(
            world.uow, admin(world), name="G2", login="greta", role="cashier", password="secret-greta", language=None
        )


def test_an_admin_cannot_lock_themselves_out(world: World) -> None:
    with pytest.raises(InvalidRequest):
        configure.set_staff_role(world.uow, admin(world), staff_id=world.admin_id, role="cashier")
    with pytest.raises(InvalidRequest):
        configure.set_staff_active(world.uow, admin(world), staff_id=world.admin_id, active=False)
    configure.set_staff_role(world.uow, admin(world), staff_id=world.cashier_id, role="manager")
    assert "report.view" in operator_permissions(world.uow, world.ctx())


def test_a_gate_is_added_in_one_transaction(world: World) -> None:
    with pytest.raises(NotFound):
        access_config.add_gate(
            world.uow, admin(world), name="Exit", kind=DeviceKind.TURNSTILE, zone_id=999, direction=Direction.OUT
        )
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(devices.c.id).where(devices.c.name == "Exit")).first() is None
    zone = access_config.create_zone(world.uow, admin(world), name="Pools", service_type=ServiceType.PAID)
    gate = access_config.add_gate(
        world.uow, admin(world), name="Exit", kind=DeviceKind.COLLECTOR, zone_id=zone.id, direction=Direction.OUT
    )
    assert gate.token is not None
    assert [row.gates for row in list_zones(world.uow, admin(world), limit=10, offset=0).items] == [1]
    assert list_gates(world.uow, admin(world), zone_id=zone.id, limit=10, offset=0).items[0].kind == "collector"


def test_venue_details_and_the_audit_log(world: World) -> None:
    view = update_venue_details(
        world.uow,
        admin(world),
        language="sv",
        card_deposit_minor=200,
        card_number_digits=3,
        address=" Badvägen 1 ",
        tax_id="SE556677889901",
    )
    assert (view.language, view.card_deposit_minor, view.address) == ("sv", 200, "Badvägen 1")
    assert read_venue(world.uow, admin(world)) == view
    with pytest.raises(InvalidRequest):
        update_venue_details(
            world.uow,
            admin(world),
            language="fi",
            card_deposit_minor=0,
            card_number_digits=None,
            address="",
            tax_id=None,
        )
    log = read_audit_log(world.uow, world.manager(), action="venue.details", device_id=world.till_id, limit=5, offset=0)
    assert [row.action for row in log.items] == ["venue.details"]
    assert log.items[0].operator == "Ada Admin"
    with pytest.raises(PermissionDenied):
        read_audit_log(world.uow, world.ctx(), action=None, device_id=None, limit=5, offset=0)
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(products)).scalar_one() == 3
