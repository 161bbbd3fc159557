"""Two studios of a chain take over the same card account at once while the home studio keeps selling from
it: the account moves exactly once, and every cent is either spent at home or on exactly one new card."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.errors import TapzoneError
from tapzone.plans.chain import set_venue_chain, transfer_card_account
from tapzone.plans.selling import sell_account_type
from tapzone.plans.setup import create_account_type
from tapzone.plans.specs import AccountTypeSpec
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.store.tables import card_balances
from tapzone.venues.setup import add_device, add_staff, create_venue
from tests.world import World

LOAD = 10_000
BEER = 450
PER_STUDIO = 4


def _studio(world: World, name: str) -> tuple[int, list[int], int]:
    """A second studio of the chain with the same type number 1: (venue, its tills, manager)."""
    uow = world.uow
    venue = create_venue(uow, name=name, currency="EUR", timezone="Europe/Berlin")
    # One till per worker: a till sends one request at a time, and its audit chain is locked per till.
    tills = [add_device(uow, venue, name=f"Counter {n}") for n in range(PER_STUDIO)]
    manager = add_staff(uow, venue, name="Manager", login="mgr", role="manager")
    admin = add_staff(uow, venue, name="Admin", login="adm", role="admin")
    ctx = RequestContext(venue, tills[0], admin, uuid.uuid4().hex)
    create_account_type(uow, ctx, AccountTypeSpec(number=1, name="card"))
    set_venue_chain(uow, venue, "chain")
    return venue, tills, manager


@pytest.mark.slow
def test_the_account_moves_once_and_no_value_is_doubled(world: World) -> None:
    admin = add_staff(world.uow, world.venue_id, name="Admin", login="chain-admin", role="admin")
    kind = create_account_type(world.uow, world.ctx(operator=admin), AccountTypeSpec(number=1, name="card"))
    sell_account_type(world.uow, world.ctx(), medium_uid="RACE", account_type_id=kind.id, price_minor=LOAD)
    set_venue_chain(world.uow, world.venue_id, "chain")
    studios = [_studio(world, "Nord"), _studio(world, "Süd")]
    workers = 2 * PER_STUDIO + PER_STUDIO
    barrier = threading.Barrier(workers)

    def worker(n: int) -> str:
        barrier.wait()
        try:
            if n < 2 * PER_STUDIO:
                venue, tills, manager = studios[n % 2]
                ctx = RequestContext(venue, tills[n // 2], manager, uuid.uuid4().hex)
                transfer_card_account(world.uow, ctx, source_venue_id=world.venue_id, medium_uid="RACE")
            else:
                sell_from_balance(world.uow, world.ctx(), medium_uid="RACE", items=[Item(world.beer_id, 1)])
        except TapzoneError as error:
            return error.type
        return "moved" if n < 2 * PER_STUDIO else "sold"

    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(worker, range(workers)))

    assert outcomes.count("moved") == 1, outcomes
    with world.uow.engine.connect() as conn:
        on_cards = conn.execute(
            sa.select(sa.func.sum(card_balances.c.balance)).where(card_balances.c.unit == "EUR")
        ).scalar_one()
    assert int(on_cards) + outcomes.count("sold") * BEER == LOAD
    world.assert_ledger_clean()
