"""A demo venue for trying tapzone: tills with tokens, staff in every role, products at two VAT rates and a
box of 100 wristbands. Used by `tapzone demo` and `make demo`."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import sqlalchemy as sa

from tapzone.access.model import AntiPassback, Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.context import RequestContext
from tapzone.errors import Conflict
from tapzone.media.model import MediumKind
from tapzone.media.stock import register_media
from tapzone.payments.model import TerminalKind
from tapzone.payments.terminals import add_terminal
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.setup import (
    add_resource,
    create_account_type,
    create_tariff,
    create_topup_rule,
    set_skin_type,
)
from tapzone.plans.specs import AccountTypeSpec, RateSpec, StepSpec, TariffSpec, TopupRuleSpec
from tapzone.plans.tariffs import TariffKind
from tapzone.plans.topup_rules import RuleKind
from tapzone.store.tables import roles, staff, venues
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
    devices: list[tuple[int, str, str]] = field(default_factory=list)  # sunbeds and kiosk: id, name, token
    account_types: list[tuple[int, int, str]] = field(default_factory=list)  # id, number, name


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
        _add_terminals(uow, venue_id, till_id, name)
    for name, login, role in DEMO_STAFF:
        staff_id = add_staff(uow, venue_id, name=name, login=login, role=role)
        set_password(uow, staff_id, demo_password(login))
        demo.staff.append((login, role, demo_password(login)))
    for name, price, vat, group in DEMO_PRODUCTS:
        product_id = create_product(uow, venue_id, name=name, price_minor=price, vat_rate_bp=vat, product_group=group)
        demo.products.append((product_id, name, price, vat))
    _load_paid_zone(uow, demo)
    _load_tanning(uow, demo)
    for name in ("Olga Ordinarie", "Max Mustermann"):
        create_customer(uow, venue_id, name=name)
    demo.media = [f"W{number:04d}" for number in range(1, DEMO_MEDIA_COUNT + 1)]
    register_media(uow, venue_id, demo.media, MediumKind.WRISTBAND)
    return demo


def _add_terminals(uow: UnitOfWork, venue_id: int, till_id: int, till_name: str) -> None:
    """Every till takes cards on a simulated terminal by default; the entrance also has a standalone
    terminal and bank transfer (seed 003's confirm-first flow), the restaurant an integrated ZVT terminal
    (start `tapzone zvt-sim` to answer it)."""
    add_terminal(uow, venue_id, till_id, name="simulator", kind=TerminalKind.SIMULATOR, is_default=True)
    if till_name == "Entrance":
        add_terminal(uow, venue_id, till_id, name="counter terminal", kind=TerminalKind.STANDALONE)
        add_terminal(uow, venue_id, till_id, name="bank transfer", kind=TerminalKind.NONE)
    if till_name == "Restaurant":
        add_terminal(uow, venue_id, till_id, name="zvt", kind=TerminalKind.INTEGRATED_ZVT, host="127.0.0.1", port=20007)


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


def _load_tanning(uow: UnitOfWork, demo: DemoVenue) -> None:
    """The solarium of seed 002: two sunbeds, a kiosk, and cards sold by type (happy hour with bonus, ten
    visits, a subscription, pay as you tan), configured through the same use cases the back office calls."""
    venue_id = demo.venue_id
    admin_id = next(staff_id for staff_id, role in _staff_ids(uow, venue_id) if role == "admin")
    till_id = demo.tills[0][0]
    keys = itertools.count(1)

    def ctx() -> RequestContext:
        return RequestContext(venue_id, till_id, admin_id, f"demo-tanning-{next(keys)}")

    usage = create_product(uow, venue_id, name="Sunbed use", price_minor=100, vat_rate_bp=1900, product_group="tanning")
    for name, minutes in (("Sunbed 1", 20), ("Sunbed 2 (turbo)", 15)):
        bed = add_resource(uow, venue_id, name=name, product_id=usage, max_minutes=minutes)
        demo.devices.append((bed, f"{name} (resource)", issue_device_token(uow, bed)))
    kiosk = add_device(uow, venue_id, name="Solarium kiosk", kind=DeviceKind.KIOSK)
    demo.devices.append((kiosk, "Solarium kiosk (kiosk)", issue_device_token(uow, kiosk)))

    happy_hour = RateSpec(weekdays=0b0011111, start_minute=14 * 60, end_minute=17 * 60, price_minor=35)
    per_minute = create_tariff(
        uow, ctx(), TariffSpec(name="Sunbed per minute", kind=TariffKind.PER_MINUTE, price_minor=50, rates=[happy_hour])
    ).id
    subscription = create_tariff(
        uow, ctx(), TariffSpec(name="Subscription, 20 min", kind=TariffKind.SUBSCRIPTION, max_minutes=20)
    ).id
    bonus = create_topup_rule(
        uow, ctx(), TopupRuleSpec(name="20 % bonus", kind=RuleKind.FREE, bonus_percent_bp=2000)
    ).id
    visits = create_topup_rule(
        uow,
        ctx(),
        TopupRuleSpec(
            name="Visit cards",
            kind=RuleKind.STEPPED,
            steps=[StepSpec(price_minor=4500, visits=5), StepSpec(price_minor=8000, visits=10)],
        ),
    ).id
    monthly = create_topup_rule(
        uow,
        ctx(),
        TopupRuleSpec(name="Monthly", kind=RuleKind.STEPPED, steps=[StepSpec(price_minor=3900, months=1)]),
    ).id
    for spec in (
        AccountTypeSpec(
            number=1,
            name="Happy Hour card",
            tariff_id=per_minute,
            topup_rule_id=bonus,
            default_price_minor=5000,
            deposit_minor=500,
            lock_days=1,
            half_time_after_days=30,
            number_from=10000,
            number_to=19999,
            vat_rate_bp=1900,
        ),
        AccountTypeSpec(
            number=2,
            name="Subscription",
            tariff_id=subscription,
            usage_free=True,
            topup_rule_id=monthly,
            default_price_minor=3900,
            fee_minor=1500,
            auto_renew=True,
            contract_required=True,
            staff_only=True,
            lock_days=1,
            skin_types_enforced=True,
            vat_rate_bp=1900,
        ),
        AccountTypeSpec(
            number=3,
            name="Ten-visit card",
            tariff_id=per_minute,
            topup_rule_id=visits,
            default_price_minor=8000,
            lock_hours=12,
            vat_rate_bp=1900,
        ),
        AccountTypeSpec(
            number=4,
            name="Pay as you tan",
            tariff_id=per_minute,
            pay_without_topup=True,
            default_price_minor=1000,
        ),
    ):
        demo.account_types.append((create_account_type(uow, ctx(), spec).id, spec.number, spec.name))
    for skin_type, name, minutes in ((1, "I (very fair)", 8), (2, "II (fair)", 12), (3, "III", 18), (4, "IV", 20)):
        set_skin_type(uow, ctx(), skin_type=skin_type, name=name, max_minutes=minutes)
    with uow.transaction() as tx:
        tx.conn.execute(venues.update().where(venues.c.id == venue_id).values(card_number_digits=3))


def _staff_ids(uow: UnitOfWork, venue_id: int) -> list[tuple[int, str]]:
    with uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(staff.c.id, roles.c.name)
            .join(roles, roles.c.id == staff.c.role_id)
            .where(staff.c.venue_id == venue_id)
        ).all()
    return [(row.id, row.name) for row in rows]
