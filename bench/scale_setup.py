"""The chain's venues, set up through tapzone's own set-up functions and use cases (never by hand).

Per venue: tills with device tokens and a cashier who signs in on them, the demo products, one paid zone
with entrance and exit turnstiles (lanes), an entry product, a free top-up rule and two seed 002 account
types — "Wallet" (renews every year, 5.00 fee from the card) for the funded media and "Day wallet" (deleted
on expiry) for the spent ones —, automatic unbinding off (so a medium can pass the gates again and again,
as in bench/gate_taps.py), the venue-wide ledger accounts the generated entries book to, and every venue in
one chain (`set_venue_chain`, what `tapzone venue set-chain` calls). The bulk rows come afterwards
(scale_load.py); set-up leaves its own audit rows, which the generated ones continue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from scale_rows import RENEWAL_FEE_MINOR, Shape, VenueSetup
from tapzone.access.model import Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.context import RequestContext
from tapzone.demo import DEMO_PRODUCTS
from tapzone.ledger.model import cash, revenue, vat_payable
from tapzone.ledger.posting import resolve_accounts
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.chain import set_venue_chain
from tapzone.plans.setup import create_account_type, create_topup_rule
from tapzone.plans.specs import AccountTypeSpec, TopupRuleSpec
from tapzone.plans.topup_rules import RuleKind
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import issue_device_token, set_password
from tapzone.venues.model import DeviceKind, FiscalProfile
from tapzone.venues.repo import load_venue
from tapzone.venues.settings import update_venue_settings
from tapzone.venues.setup import add_device, add_staff, create_product, create_venue

CHAIN_NAME = "scale-chain"
STAFF_LOGIN = "bench"  # the login bench/http_booking.py signs its tills in with
STAFF_PASSWORD = "bench-password-2026"  # a throwaway cashier in a throwaway database
ENTRY_PRICE_MINOR = 1500


@dataclass(frozen=True, slots=True)
class Chain:
    """The venues and the credentials the benchmarks need."""

    setups: list[VenueSetup]
    till_tokens: dict[int, str]  # till device id → bearer token
    entrances: list[list[tuple[int, str]]]  # per venue: (gate device id, token), one per lane
    exits: list[list[tuple[int, str]]]


def build_chain(engine: Engine, shape: Shape) -> Chain:
    """Create the shape's venues through the application's set-up functions, in one chain."""
    uow = UnitOfWork(engine)
    setups, tokens, entrances, exits = [], {}, [], []
    for v in range(shape.venues):
        setup, venue_tokens, ins, outs = _venue(uow, shape, v)
        setups.append(setup)
        tokens.update(venue_tokens)
        entrances.append(ins)
        exits.append(outs)
    return Chain(setups, tokens, entrances, exits)


def _venue(
    uow: UnitOfWork, shape: Shape, v: int
) -> tuple[VenueSetup, dict[int, str], list[tuple[int, str]], list[tuple[int, str]]]:
    venue_id = create_venue(
        uow,
        name=f"Scale Aquapark {v + 1}",
        currency=shape.currency,
        timezone=shape.timezone,
        fiscal_profile=FiscalProfile.DE,
    )
    set_venue_chain(uow, venue_id, CHAIN_NAME)
    tills = [add_device(uow, venue_id, name=f"Till {t + 1:02d}") for t in range(shape.tills_per_venue)]
    tokens = {till: issue_device_token(uow, till) for till in tills}
    cashier = add_staff(uow, venue_id, name="Bench Cashier", login=STAFF_LOGIN, role="cashier")
    set_password(uow, cashier, STAFF_PASSWORD)
    admin = add_staff(uow, venue_id, name="Bench Admin", login="admin", role="admin")

    def ctx() -> RequestContext:
        return RequestContext(venue_id, tills[0], admin, f"setup-{uuid.uuid4()}")

    update_venue_settings(uow, ctx(), auto_unbind=False)
    products = [
        (create_product(uow, venue_id, name=name, price_minor=price, vat_rate_bp=vat, product_group=group), price, vat)
        for name, price, vat, group in DEMO_PRODUCTS
    ]
    zone = create_zone(uow, venue_id, name="Pools")

    def gate(name: str, direction: Direction) -> tuple[int, str]:
        device = add_gate(uow, venue_id, name=name, kind=DeviceKind.TURNSTILE, zone_id=zone, direction=direction)
        return device, issue_device_token(uow, device)

    entrances = [gate(f"Entrance {k + 1:02d}", Direction.IN) for k in range(shape.lanes_per_venue)]
    exits = [gate(f"Exit {k + 1:02d}", Direction.OUT) for k in range(shape.lanes_per_venue)]
    entry_product = create_entry_product(
        uow,
        venue_id,
        name="Day ticket",
        price_minor=ENTRY_PRICE_MINOR,
        vat_rate_bp=700,
        zone_id=zone,
        credit_type=CreditType.PREPAID,
    )
    rule = create_topup_rule(uow, ctx(), TopupRuleSpec(name="Any amount", kind=RuleKind.FREE)).id
    wallet = create_account_type(
        uow,
        ctx(),
        AccountTypeSpec(
            number=1, name="Wallet", topup_rule_id=rule, vat_rate_bp=1900, auto_renew=True, fee_minor=RENEWAL_FEE_MINOR
        ),
    ).id
    day_wallet = create_account_type(
        uow,
        ctx(),
        AccountTypeSpec(number=2, name="Day wallet", topup_rule_id=rule, vat_rate_bp=1900, delete_on_expiry=True),
    ).id
    with uow.transaction() as tx:
        venue = load_venue(tx, venue_id)
        refs = {cash(venue.currency)} | {
            ref for _, _, rate in products for ref in (revenue(venue.currency, rate), vat_payable(venue.currency, rate))
        }
        account_ids = {ref.key: account_id for ref, account_id in resolve_accounts(tx, venue_id, refs).items()}
    setup = VenueSetup(
        venue=venue,
        tills=tills,
        cashier_id=cashier,
        zone_id=zone,
        entry_product_id=entry_product,
        wallet_type_id=wallet,
        day_type_id=day_wallet,
        products=products,
        account_ids=account_ids,
    )
    return setup, tokens, entrances, exits
