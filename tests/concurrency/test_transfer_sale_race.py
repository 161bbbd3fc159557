"""A lost card is transferred to a new wristband while a till sells on the lost one (issue 9, seed 004), on
PostgreSQL. Either the sale lands first and moves with the balance or tab to the new medium, or it is refused
because the medium was transferred — never a sale booked on the old medium after the transfer, never lost value.
Even rounds pay from prepaid value, odd rounds put the sale on a credit tab."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.media.transfer import MediumMoveView, transfer_lost_medium
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.tabs import save_items
from tapzone.store.tables import card_accounts, card_balances, media, tab_lines, tabs
from tests.concurrency.races import outcome_name, race
from tests.world import World

pytestmark = pytest.mark.postgres

ROUNDS = 20
# The transfer does more work before it reaches the card account than a sale does, so the sale is held back a
# little longer each round to meet both orders (measured: a transfer reaches the lock 10–30 ms after start).
SALE_DELAYS_S = [0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.06, 0.08, 0.1]
LOAD = 2000
BEER = 450


def _accounts(world: World, uid: str) -> list[sa.Row[object]]:
    with world.uow.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(card_accounts.c.id, card_accounts.c.closed_reason, media.c.state)
                .join(media, media.c.id == card_accounts.c.medium_id)
                .where(media.c.uid == uid)
            )
        )


def _money(world: World, account_id: int) -> int:
    with world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(card_balances.c.balance).where(
                card_balances.c.card_account_id == account_id, card_balances.c.unit == "EUR"
            )
        ).scalar_one_or_none()
    return int(value or 0)


def _open_on_tab(world: World, account_id: int) -> int:
    with world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(tab_lines.c.amount_minor), 0))
            .join(tabs, tabs.c.id == tab_lines.c.tab_id)
            .where(tabs.c.card_account_id == account_id, tab_lines.c.state == "open")
        ).scalar_one()
    return int(value)


def test_a_sale_racing_a_transfer_lands_before_it_or_not_at_all(pg_world: World) -> None:
    world = pg_world
    tally: Counter[str] = Counter()
    for n in range(ROUNDS):
        lost, new = f"LOST{n}", f"NEW{n}"
        prepaid = n % 2 == 0
        if prepaid:
            issue_medium(
                world.uow, world.ctx(), medium_uid=lost, credit_type=CreditType.PREPAID, initial_load=world.eur(LOAD)
            )
        else:
            issue_medium(
                world.uow, world.ctx(), medium_uid=lost, credit_type=CreditType.CREDIT, credit_limit=world.eur(LOAD)
            )
        sell = sell_from_balance if prepaid else save_items

        sold, moved = race(
            [
                lambda lost=lost, sell=sell: sell(world.uow, world.ctx(), medium_uid=lost, items=[Item(world.beer_id)]),
                lambda lost=lost, new=new: transfer_lost_medium(
                    world.uow,
                    world.ctx(operator=world.manager_id, till=world.till2_id),
                    lost_uid=lost,
                    new_uid=new,
                ),
            ],
            delays_s=[SALE_DELAYS_S[(n // 2) % len(SALE_DELAYS_S)]],
        )

        assert isinstance(moved, MediumMoveView), moved  # the transfer never loses to a sale
        name = outcome_name(sold)
        tally[f"{'prepaid' if prepaid else 'tab'}: sale {name}"] += 1
        assert name in {"ok", "medium-lost"}, sold  # a till that read the card is told it was transferred
        (old_account,) = _accounts(world, lost)
        (new_account,) = _accounts(world, new)
        assert (old_account.state, old_account.closed_reason) == ("transferred", "transferred")
        assert new_account.state == "active" and new_account.closed_reason is None
        spent = BEER if name == "ok" else 0
        # Nothing stays on or comes back to the old card; the new one holds what was not spent before the move.
        assert (_money(world, old_account.id), _open_on_tab(world, old_account.id)) == (0, 0)
        if prepaid:
            assert _money(world, new_account.id) == LOAD - spent
            assert moved.accounts[0].balances.get("EUR", 0) == LOAD - spent
        else:
            assert _open_on_tab(world, new_account.id) == spent
            assert moved.accounts[0].open_tab_id is not None or spent == 0

    print(f"\ntransfer vs sale on the lost medium: {ROUNDS} rounds, {dict(tally)}")
    world.assert_ledger_clean()
