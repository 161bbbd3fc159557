"""A provider delivers the same confirmation many times at once while support resolves the same top-up: the card
is credited exactly once, by whichever comes first (seed 004), and the rest change nothing."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.context import RequestContext
from tapzone.errors import Conflict
from tapzone.payments.online import SIMULATOR, SimulatorProvider, provider_secret
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import card_balance
from tapzone.portal.access import PortalMedium
from tapzone.portal.topups import confirm_online_payment, start_online_topup
from tapzone.store.tables import journal_entries, media, online_topups
from tapzone.support.resolutions import resolve_online_topup
from tapzone.venues.setup import add_staff
from tests.world import World

WEBHOOKS = 8
PROVIDER = SimulatorProvider(provider_secret(b"race-secret-" * 4, SIMULATOR))


def _portal_medium(world: World, uid: str) -> PortalMedium:
    visit = issue_medium(
        world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=world.eur(1000)
    )
    with world.uow.engine.connect() as conn:
        medium_id = conn.execute(sa.select(media.c.id).where(media.c.uid == uid)).scalar_one()
    return PortalMedium(world.venue_id, medium_id, uid, visit.visit_id, world.uow.clock.now(), "en")


@pytest.mark.slow
def test_concurrent_confirmations_and_a_resolution_credit_once(world: World) -> None:
    medium = _portal_medium(world, "RACE-WEB")
    top_up = start_online_topup(
        world.uow, medium, uuid.uuid4().hex, amount=world.eur(2500), provider=PROVIDER, return_url="https://x.example/"
    )
    support = add_staff(world.uow, world.venue_id, name="Sue", login="sue", role="support")
    payload, signature = PROVIDER.signed_confirmation(top_up.provider_reference, 2500, "EUR")
    barrier = threading.Barrier(WEBHOOKS + 1)

    def deliver(_: int) -> str:
        barrier.wait()
        return confirm_online_payment(world.uow, PROVIDER, payload, signature).state

    def resolve() -> str:
        barrier.wait()
        ctx = RequestContext(world.venue_id, world.till_id, support, uuid.uuid4().hex)
        try:
            return resolve_online_topup(
                world.uow,
                ctx,
                topup_id=top_up.online_top_up_id,
                provider_transaction=top_up.provider_reference,
                correction=world.eur(2500),
                reason="guest called",
            ).state
        except Conflict:
            return "refused"

    with ThreadPoolExecutor(WEBHOOKS + 1) as pool:
        resolution = pool.submit(resolve)
        states = list(pool.map(deliver, range(WEBHOOKS)))
    final = resolution.result()

    with world.uow.transaction() as tx:
        balance = card_balance(tx, top_up.card_account_id, "EUR")
        state = tx.conn.execute(
            sa.select(online_topups.c.state).where(online_topups.c.id == top_up.online_top_up_id)
        ).scalar_one()
        credits = tx.conn.execute(
            sa.select(sa.func.count()).where(journal_entries.c.code.in_(["topup", "correction"]))
        ).scalar_one()
    assert balance == 1000 + 2500
    assert credits == 2  # the initial load, and one credit of the online top-up
    assert (final == "resolved") == (state == "resolved")
    assert set(states) == {state}  # every delivery answers with the one final state
    world.assert_ledger_clean()
