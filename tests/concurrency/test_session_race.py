"""Sixteen counters and kiosks start sessions on one card at once: the balance pays for exactly as many
sessions as it covers, never more, and a lock period lets exactly one through."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tapzone.context import RequestContext
from tapzone.plans.resources import start_session
from tapzone.plans.selling import sell_account_type
from tapzone.plans.setup import add_resource, create_account_type, create_tariff
from tapzone.plans.specs import AccountTypeSpec, TariffSpec
from tapzone.plans.tariffs import TariffKind
from tapzone.venues.setup import create_product
from tests.world import World

WORKERS = 16
ATTEMPTS = 4
PRICE = 700


def _setup(world: World, **type_fields: object) -> int:
    admin = world.ctx(operator=world.admin_id)
    product = create_product(
        world.uow, world.venue_id, name="Sunbed", price_minor=100, vat_rate_bp=1900, product_group="tanning"
    )
    resource = add_resource(world.uow, world.venue_id, name="Sunbed", product_id=product, max_minutes=20)
    tariff = create_tariff(world.uow, admin, TariffSpec(name="per use", kind=TariffKind.PER_USE, price_minor=PRICE))
    kind = create_account_type(
        world.uow,
        world.ctx(operator=world.admin_id),
        AccountTypeSpec(number=1, name="card", tariff_id=tariff.id, **type_fields),  # type: ignore[arg-type]
    )
    sell_account_type(world.uow, world.ctx(), medium_uid="RACE", account_type_id=kind.id, price_minor=10 * PRICE + 300)
    return resource


def _race(world: World, resource: int) -> list[bool]:
    barrier = threading.Barrier(WORKERS)

    def worker(_: int) -> list[bool]:
        barrier.wait()
        outcomes = []
        for _attempt in range(ATTEMPTS):
            ctx = RequestContext(world.venue_id, world.till_id, world.cashier_id, uuid.uuid4().hex)
            view = start_session(world.uow, ctx, resource_id=resource, medium_uid="RACE", minutes=10)
            outcomes.append(view.allowed)
        return outcomes

    with ThreadPoolExecutor(WORKERS) as pool:
        return [allowed for outcomes in pool.map(worker, range(WORKERS)) for allowed in outcomes]


@pytest.mark.slow
def test_balance_pays_for_exactly_the_sessions_it_covers(world: World) -> None:
    resource = _setup(world)
    outcomes = _race(world, resource)
    assert outcomes.count(True) == 10  # 73.00 on the card, 7.00 per session
    world.assert_ledger_clean()


@pytest.mark.slow
def test_a_lock_period_lets_exactly_one_session_through(world: World) -> None:
    resource = _setup(world, lock_hours=1)
    outcomes = _race(world, resource)
    assert outcomes.count(True) == 1
    world.assert_ledger_clean()
