"""Idempotency at the use-case level: a key books once, however often and however concurrently it arrives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.context import RequestContext
from tapzone.errors import IdempotencyKeyReused, InsufficientBalance, InvalidRequest
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import TenderKind
from tapzone.pos.topup import top_up
from tapzone.store.tables import tab_lines
from tests.world import World


def test_replayed_top_up_books_once(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="I1", credit_type=CreditType.PREPAID)
    before = world.counts()
    ctx = world.ctx("topup-key-1")
    results = [top_up(world.uow, ctx, medium_uid="I1", amount=world.eur(2500)) for _ in range(5)]
    assert len({result.entry_id for result in results}) == 1
    assert results[-1].balance_minor == 2500  # the stored response, not a re-run
    assert world.counts() == (before[0] + 1, before[1] + 2)
    world.assert_ledger_clean()


def test_concurrent_replays_book_once(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="I2", credit_type=CreditType.CREDIT, credit_limit=world.eur(10_000))
    ctx = world.ctx("save-key-1")
    with ThreadPoolExecutor(5) as pool:
        futures = [
            pool.submit(save_items, world.uow, ctx, medium_uid="I2", items=[Item(world.beer_id)]) for _ in range(5)
        ]
        results = [future.result() for future in futures]
    assert {tuple(line.id for line in result.lines) for result in results} == {(results[0].lines[0].id,)}
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tab_lines)).scalar_one() == 1


def test_same_key_with_other_content_is_refused(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="I3", credit_type=CreditType.PREPAID)
    ctx = world.ctx("topup-key-2")
    top_up(world.uow, ctx, medium_uid="I3", amount=world.eur(1000))
    before = world.counts()
    with pytest.raises(IdempotencyKeyReused):
        top_up(world.uow, ctx, medium_uid="I3", amount=world.eur(1001))
    with pytest.raises(IdempotencyKeyReused):
        top_up(world.uow, ctx, medium_uid="I3", amount=world.eur(1000), tender=TenderKind.CARD)
    assert world.counts() == before


def test_keys_are_scoped_per_device(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="I4", credit_type=CreditType.PREPAID)
    first = top_up(world.uow, world.ctx("shared-key"), medium_uid="I4", amount=world.eur(100))
    second = top_up(world.uow, world.ctx("shared-key", till=world.till2_id), medium_uid="I4", amount=world.eur(100))
    assert first.entry_id != second.entry_id
    assert second.balance_minor == 200


def test_refused_request_does_not_burn_its_key(world: World) -> None:
    """A refusal rolls back the key with everything else, so the till may retry once the cause is fixed."""
    issue_medium(world.uow, world.ctx(), medium_uid="I5", credit_type=CreditType.PREPAID)
    ctx = world.ctx("retry-key")
    with pytest.raises(InsufficientBalance):
        save_items(world.uow, ctx, medium_uid="I5", items=[Item(world.beer_id)])
    top_up(world.uow, world.ctx(), medium_uid="I5", amount=world.eur(1000))
    tab = save_items(world.uow, ctx, medium_uid="I5", items=[Item(world.beer_id)])
    assert tab.open_total_minor == 450


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_missing_or_oversized_key_is_refused(world: World, key: str) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="I6", credit_type=CreditType.PREPAID)
    ctx = RequestContext(world.venue_id, world.till_id, world.cashier_id, key)
    before = world.counts()
    with pytest.raises(InvalidRequest):
        top_up(world.uow, ctx, medium_uid="I6", amount=world.eur(100))
    assert world.counts() == before
