"""A demo venue for trying tapzone: tills with tokens, staff in every role, products at two VAT rates and a
box of 100 wristbands. Used by `tapzone demo` and `make demo`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa

from tapzone.access.model import AntiPassback, Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.errors import Conflict
from tapzone.media.model import MediumKind
from tapzone.media.stock import register_media
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import venues
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import issue_device_token, set_password
from tapzone.venues.model import DeviceKind, FiscalProfile
from tapzone.venues.setup import add_device, add_staff, create_customer, create_product, create_venue

DEMO_PRODUCTS = [
    # name, gross price in cents, VAT basis points, group
    ("Beer 0.5 l", 450, 1900, "drinks"),
    ("Mineral water", 250, 1900, "drinks"),
    ("Espresso", 220, 1900, "drinks"),
    ("Fries", 320, 700, "food"),
    ("Bratwurst", 480, 700, "food"),
    ("Ice cream", 290, 700, "food"),
    ("Towel rental", 500, 1900, "rental"),
    ("Sauna infusion", 800, 1900, "services"),
]
DEMO_TILLS = ["Entrance", "Pool bar", "Restaurant"]
DEMO_STAFF = [  # name, login, role
    ("Anna Cashier", "anna", "cashier"),
    ("Ben Manager", "ben", "manager"),
    ("Cleo Support", "cleo", "support"),
    ("Dan Gate", "dan", "gate"),
    ("Eva Admin", "eva", "admin"),
]
DEMO_MEDIA_COUNT = 100


DEMO_GATES = [  # name, kind, direction
    ("Entrance turnstile", DeviceKind.TURNSTILE, Direction.IN),
    ("Exit turnstile", DeviceKind.TURNSTILE, Direction.OUT),
    ("Exit collector", DeviceKind.COLLECTOR, Direction.OUT),
    ("Lifeguard phone", DeviceKind.MOBILE, Direction.BOTH),
]


@dataclass
class DemoVenue:
    venue_id: int
    tills: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, token
    gates: list[tuple[int, str, str]] = field(default_factory=list)  # id, name (kind), token
    entry_products: list[tuple[int, str]] = field(default_factory=list)  # id, name
    staff: list[tuple[str, str, str]] = field(default_factory=list)  # login, role, password
    products: list[tuple[int, str, int, int]] = field(default_factory=list)  # id, name, price, vat
    media: list[str] = field(default_factory=list)


def demo_password(login: str) -> str:
    return f"{login}-demo-2026"


def load_demo(uow: UnitOfWork) -> DemoVenue:
    with uow.engine.connect() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(venues)).scalar_one():
            raise Conflict("this database already holds a venue; the demo needs an empty database")
    venue_id = create_venue(
        uow,
        name="Aquapark Demo",
        currency="EUR",
        timezone="Europe/Berlin",
        language="en",
        fiscal_profile=FiscalProfile.DE,
    )
    demo = DemoVenue(venue_id)
    for name in DEMO_TILLS:
        till_id = add_device(uow, venue_id, name=name)
        demo.tills.append((till_id, name, issue_device_token(uow, till_id)))
    for name, login, role in DEMO_STAFF:
        staff_id = add_staff(uow, venue_id, name=name, login=login, role=role)
        set_password(uow, staff_id, demo_password(login))
        demo.staff.append((login, role, demo_password(login)))
    for name, price, vat, group in DEMO_PRODUCTS:
        product_id = create_product(uow, venue_id, name=name, price_minor=price, vat_rate_bp=vat, product_group=group)
        demo.products.append((product_id, name, price, vat))
    _load_paid_zone(uow, demo)
    for name in ("Olga Ordinarie", "Max Mustermann"):
        create_customer(uow, venue_id, name=name)
    demo.media = [f"W{number:04d}" for number in range(1, DEMO_MEDIA_COUNT + 1)]
    register_media(uow, venue_id, demo.media, MediumKind.WRISTBAND)
    return demo


def _load_paid_zone(uow: UnitOfWork, demo: DemoVenue) -> None:
    """The pools as a paid zone: gates, a credit and a prepaid day ticket, and a family ticket."""
    venue_id = demo.venue_id
    zone_id = create_zone(uow, venue_id, name="Pools and saunas")
    for name, kind, direction in DEMO_GATES:
        gate_id = add_gate(uow, venue_id, name=name, kind=kind, zone_id=zone_id, direction=direction)
        demo.gates.append((gate_id, f"{name} ({kind.value}, {direction.value})", issue_device_token(uow, gate_id)))
    overstay = create_product(
        uow, venue_id, name="Overstay, per 30 min", price_minor=400, vat_rate_bp=700, product_group="time"
    )
    ticket = functools.partial(create_entry_product, uow, venue_id, vat_rate_bp=700, zone_id=zone_id)
    for name, product_id in (
        (
            "Day ticket with credit (30.00)",
            ticket(
                name="Day ticket with credit (30.00)",
                price_minor=1800,
                credit_type=CreditType.CREDIT,
                credit_limit_minor=3000,
            ),
        ),
        (
            "Day ticket with prepaid value",
            ticket(name="Day ticket with prepaid value", price_minor=1800, credit_type=CreditType.PREPAID),
        ),
        (
            "3-hour ticket with credit",
            ticket(
                name="3-hour ticket with credit",
                price_minor=1200,
                credit_type=CreditType.CREDIT,
                credit_limit_minor=3000,
                included_minutes=180,
                overstay_product_id=overstay,
                overstay_block_minutes=30,
                overstay_grace_minutes=10,
            ),
        ),
        (
            "Family ticket (up to 4)",
            ticket(
                name="Family ticket (up to 4)",
                price_minor=4900,
                credit_type=CreditType.CREDIT,
                credit_limit_minor=5000,
                deposit_minor=500,
                anti_passback=AntiPassback.SHARED,
                companions=3,
            ),
        ),
    ):
        demo.entry_products.append((product_id, name))
