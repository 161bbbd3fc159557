"""Two tills settle the same tab at the same instant (issue 9), on PostgreSQL: exactly one settlement is booked,
the other till is told there is nothing left to settle, and a card taken for the loser is given back."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.views import SettlementView
from tapzone.store.tables import journal_entries, payments, tab_lines, tabs
from tests.concurrency.races import outcome_name, race
from tests.world import World

pytestmark = pytest.mark.postgres

ROUNDS = 20
DUE = 450 + 320  # a beer and fries


def test_two_tills_settling_one_tab_book_it_once(pg_world: World) -> None:
    world = pg_world
    tally: Counter[tuple[str, str]] = Counter()
    card_wins = 0
    for n in range(ROUNDS):
        uid = f"TAB{n}"
        issue_medium(
            world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.CREDIT, credit_limit=world.eur(5000)
        )
        save_items(world.uow, world.ctx(), medium_uid=uid, items=[Item(world.beer_id), Item(world.fries_id)])
        # Till 2 pays by card on every other round: its terminal approves before the booking transaction runs,
        # so a till that loses the race holds an approved payment that must be given back.
        by_card = n % 2 == 1
        second = Tender(TenderKind.CARD if by_card else TenderKind.CASH, world.eur(DUE))
        outcomes = race(
            [
                lambda uid=uid: settle_tab(
                    world.uow, world.ctx(), medium_uid=uid, tenders=[Tender(TenderKind.CASH, world.eur(1000))]
                ),
                lambda uid=uid, second=second: settle_tab(
                    world.uow, world.ctx(till=world.till2_id), medium_uid=uid, tenders=[second]
                ),
            ]
        )
        names = [outcome_name(outcome) for outcome in outcomes]
        tally[(names[0], names[1])] += 1
        assert sorted(names) == ["nothing-to-settle", "ok"], outcomes
        (won,) = [outcome for outcome in outcomes if isinstance(outcome, SettlementView)]
        card_wins += by_card and isinstance(outcomes[1], SettlementView)
        assert (won.total_minor, won.change_minor) in {(DUE, 1000 - DUE), (DUE, 0)}

    print(f"\ntwo tills, one tab: {ROUNDS} rounds, (till 1, till 2) outcomes {dict(tally)}")
    with world.uow.engine.connect() as conn:
        settled = conn.execute(sa.select(tabs.c.id, tabs.c.state, tabs.c.settlement_entry_id)).all()
        entries = conn.execute(sa.select(journal_entries.c.id).where(journal_entries.c.code == "settlement")).scalars()
        open_lines = conn.execute(
            sa.select(sa.func.count()).select_from(tab_lines).where(tab_lines.c.state == "open")
        ).scalar_one()
        payment_states = Counter(conn.execute(sa.select(payments.c.state)).scalars())
    assert len(settled) == ROUNDS
    assert {row.state for row in settled} == {"settled"}
    assert sorted(row.settlement_entry_id for row in settled) == sorted(entries)  # one entry per tab, no more
    assert open_lines == 0
    # A card payment exists only where till 2 reached its terminal: it paid the tab, or the tab was settled
    # meanwhile and the payment was reversed on the terminal. None is left taken and unbooked.
    assert payment_states["booked"] == card_wins, payment_states
    assert set(payment_states) <= {"booked", "reversed"}, payment_states
    world.assert_ledger_clean()
