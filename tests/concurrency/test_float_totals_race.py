"""Two tills top up and empty the same card at the same instant (issue 9), on PostgreSQL: the card float's
kept totals still count the card once, or not at all, exactly as its balance says.

Each till adds to totals of its own, and whether the card turned zero or non-zero is judged from the balance
the booking itself left; a count judged from a balance read before the other till committed would count a
card twice or drop it.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tapzone.access.visits import issue_medium
from tapzone.ledger import float_totals
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.settlement import refund_prepaid
from tapzone.pos.tenders import TenderKind
from tapzone.pos.topup import top_up
from tapzone.reports.card_float import read_card_float
from tapzone.venues.repo import load_venue
from tests.concurrency.races import outcome_name, race
from tests.world import World

pytestmark = pytest.mark.postgres

ROUNDS = 20


def test_two_tills_moving_one_card_keep_its_float_count_exact(pg_world: World) -> None:
    world = pg_world
    tally: Counter[tuple[str, str]] = Counter()
    for n in range(ROUNDS):
        uid = f"F{n}"
        # Odd rounds start from a card holding 5.00: till 2 empties it while till 1 tops it up.
        start = world.eur(500) if n % 2 else None
        issue_medium(world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=start)
        second = (
            (lambda uid=uid: refund_prepaid(world.uow, world.ctx(till=world.till2_id), medium_uid=uid))
            if n % 2
            else (
                lambda uid=uid: top_up(
                    world.uow,
                    world.ctx(till=world.till2_id),
                    medium_uid=uid,
                    amount=world.eur(200),
                    tender=TenderKind.CASH,
                )
            )
        )
        outcomes = race(
            [
                lambda uid=uid: top_up(
                    world.uow, world.ctx(), medium_uid=uid, amount=world.eur(300), tender=TenderKind.CASH
                ),
                second,
            ]
        )
        tally[(outcome_name(outcomes[0]), outcome_name(outcomes[1]))] += 1
        assert [outcome_name(outcome) for outcome in outcomes] == ["ok", "ok"], outcomes

    print(f"\ntwo tills, one card's float: {ROUNDS} rounds, outcomes {dict(tally)}")
    with world.uow.engine.connect() as conn:
        assert float_totals.mismatches(conn) == []
    with world.uow.transaction() as tx:
        report = read_card_float(tx, load_venue(tx, world.venue_id), cross_check=True)
    assert report.total_minor == report.card_side_total_minor
    # Even rounds hold 3.00 + 2.00; odd rounds hold 3.00 if the refund came first, else nothing.
    (row,) = report.rows
    assert ROUNDS // 2 <= row.accounts <= ROUNDS
    assert row.balance_minor == 500 * (ROUNDS // 2) + 300 * (row.accounts - ROUNDS // 2)
    world.assert_ledger_clean()
