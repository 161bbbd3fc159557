"""Payouts racing each other (SQLite and PostgreSQL): one card's value is never paid out twice, and a payout
is either revoked or exported, never both."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.errors import InsufficientBalance, NothingToExport, PayoutNotRevocable
from tapzone.payouts.batches import export_payouts
from tapzone.payouts.requests import request_bank_payout, revoke_payout
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import card_balances, payouts
from tapzone.venues.setup import add_device
from tests.world import World

T = TypeVar("T")
DEBTOR = {"debtor_name": "Aquapark Test GmbH", "debtor_iban": "DE02120300000000202051"}


def race(actions: list[Callable[[], T]]) -> list[T | Exception]:
    """Run every action at once on its own thread; what each returned or raised, in order."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], T]) -> T | Exception:
        barrier.wait()
        try:
            return action()
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions))


def test_concurrent_bank_payouts_never_pay_out_more_than_the_card_holds(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="RP1", credit_type=CreditType.PREPAID, initial_load=world.eur(5000))

    def ask() -> int:
        view = request_bank_payout(
            world.uow,
            world.manager(),
            medium_uid="RP1",
            account_holder="Ann Ek",
            iban="DE89370400440532013000",
            amount=world.eur(1000),
        )
        return view.amount_minor

    outcomes = race([ask] * 8)

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 3 and all(isinstance(o, InsufficientBalance) for o in refused), refused
    assert sum(o for o in outcomes if isinstance(o, int)) == 5000
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(card_balances.c.balance)).scalar_one() == 0
    world.assert_ledger_clean()


def test_revokes_racing_an_export_leave_each_payout_in_exactly_one_place(world: World) -> None:
    ids = []
    for n in range(6):
        uid = f"RX{n}"
        issue_medium(
            world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=world.eur(900)
        )
        ids.append(
            request_bank_payout(
                world.uow, world.manager(), medium_uid=uid, account_holder="Ann Ek", iban="DE89370400440532013000"
            ).payout_id
        )
    # Each actor on its own device, as managers at different tills would be.
    tills = [add_device(world.uow, world.venue_id, name=f"Office {n}") for n in range(len(ids) + 2)]
    revokes: list[Callable[[], object]] = [
        lambda payout_id=payout_id, till=till: revoke_payout(
            world.uow, world.ctx(operator=world.manager_id, till=till), payout_id=payout_id, reason="race"
        )
        for payout_id, till in zip(ids, tills, strict=False)
    ]
    exports: list[Callable[[], object]] = [
        lambda till=till: export_payouts(world.uow, world.ctx(operator=world.manager_id, till=till), **DEBTOR)
        for till in tills[len(ids) :]
    ]

    outcomes = race(revokes + exports)

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, PayoutNotRevocable | NothingToExport)
    ]
    assert unexpected == []
    with world.uow.engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(sa.select(payouts))}
    for payout_id, outcome in zip(ids, outcomes, strict=False):
        row = rows[payout_id]
        if isinstance(outcome, PayoutNotRevocable):
            assert (row.state, row.batch_id is not None) == ("exported", True)
        else:
            assert (row.state, row.batch_id) == ("revoked", None)
    world.assert_ledger_clean()
