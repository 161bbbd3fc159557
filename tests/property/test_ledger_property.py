"""Property test: random sequences of till operations keep every ledger invariant (`tapzone check` clean).

Hypothesis drives a state machine over a few media; each step calls a real use case against SQLite (and
PostgreSQL under the `postgres` marker), accepting only the refusals a cashier could meet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tapzone.access.visits import issue_medium, return_medium
from tapzone.errors import TapzoneError
from tapzone.media.transfer import swap_media, transfer_lost_medium
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import refund_prepaid, settle_tab
from tapzone.pos.tabs import cancel_lines, save_items, view_tab
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.topup import top_up
from tapzone.store.db import make_engine
from tapzone.store.tables import card_accounts, card_balances, ledger_accounts, media, postings
from tapzone.store.uow import UnitOfWork
from tests.databases import PgTemplate, SqliteTemplate, require_pg
from tests.world import World, build_world

UIDS = ["A1", "A2", "A3"]
uids = st.sampled_from(UIDS)
amounts = st.integers(min_value=1, max_value=20_000)


class TillMachine(RuleBasedStateMachine):
    db_factory: object = None  # set per database below
    successes = 0  # operations that were accepted, over all examples: the run must exercise the ledger
    fresh = 0  # numbers of new media for transfers and swaps

    @initialize(credits=st.lists(st.sampled_from(list(CreditType)), min_size=3, max_size=3), amount=amounts)
    def open_venue(self, credits: list[CreditType], amount: int) -> None:
        url = type(self).db_factory()  # type: ignore[operator]
        self.engine = make_engine(url)
        self.world: World = build_world(UnitOfWork(self.engine, clock=World.default_clock()))
        self.products = [self.world.beer_id, self.world.fries_id, self.world.towel_id]
        for uid, credit in zip(UIDS, credits, strict=True):
            self.issue(uid, credit, amount)

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine.dispose()

    def attempt(self, action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except TapzoneError:
            return  # refusals are part of the game; they must leave the ledger consistent
        type(self).successes += 1

    @rule(uid=uids, credit=st.sampled_from(list(CreditType)), amount=amounts)
    def issue(self, uid: str, credit: CreditType, amount: int) -> None:
        w = self.world
        self.attempt(
            lambda: issue_medium(
                w.uow,
                w.ctx(),
                medium_uid=uid,
                credit_type=credit,
                credit_limit=w.eur(amount) if credit is CreditType.CREDIT else None,
                initial_load=w.eur(amount) if credit is CreditType.PREPAID else None,
            )
        )

    @rule(uid=uids, amount=amounts, card=st.booleans())
    def top_up(self, uid: str, amount: int, card: bool) -> None:
        w = self.world
        tender = TenderKind.CARD if card else TenderKind.CASH
        self.attempt(lambda: top_up(w.uow, w.ctx(), medium_uid=uid, amount=w.eur(amount), tender=tender))

    @rule(uid=uids, product=st.integers(0, 2), quantity=st.integers(1, 4))
    def save(self, uid: str, product: int, quantity: int) -> None:
        w = self.world
        self.attempt(lambda: save_items(w.uow, w.ctx(), medium_uid=uid, items=[Item(self.products[product], quantity)]))

    @rule(uid=uids, product=st.integers(0, 2))
    def sell(self, uid: str, product: int) -> None:
        w = self.world
        self.attempt(lambda: sell_from_balance(w.uow, w.ctx(), medium_uid=uid, items=[Item(self.products[product])]))

    @rule(uid=uids, extra_cash=st.integers(0, 1000), use_prepaid=st.booleans(), pay_out=st.booleans())
    def settle(self, uid: str, extra_cash: int, use_prepaid: bool, pay_out: bool) -> None:
        w = self.world
        try:
            tab = view_tab(w.uow, w.ctx(), medium_uid=uid)
        except TapzoneError:
            return
        due = tab.open_total_minor
        tenders = []
        if due and use_prepaid and tab.credit_type == "prepaid":
            tenders.append(Tender(TenderKind.PREPAID, w.eur(due)))
        elif due:
            tenders.append(Tender(TenderKind.CASH, w.eur(due + extra_cash)))
        self.attempt(lambda: settle_tab(w.uow, w.ctx(), medium_uid=uid, tenders=tenders, pay_out_leftover=pay_out))

    @rule(uid=uids)
    def cancel_all(self, uid: str) -> None:
        w = self.world
        self.attempt(lambda: cancel_lines(w.uow, w.manager(), medium_uid=uid, reason="property test"))

    @rule(uid=uids)
    def refund(self, uid: str) -> None:
        w = self.world
        self.attempt(lambda: refund_prepaid(w.uow, w.ctx(), medium_uid=uid))

    @rule(uid=uids)
    def give_back(self, uid: str) -> None:
        w = self.world
        self.attempt(lambda: return_medium(w.uow, w.ctx(), medium_uid=uid))

    @rule(uid=uids)
    def transfer_lost(self, uid: str) -> None:
        """seed 004: the medium is lost and its value moves to a fresh one from stock."""
        w = self.world
        type(self).fresh += 1
        self.attempt(lambda: transfer_lost_medium(w.uow, w.manager(), lost_uid=uid, new_uid=f"N{type(self).fresh}"))

    @rule(uid=uids)
    def swap(self, uid: str) -> None:
        w = self.world
        type(self).fresh += 1
        self.attempt(lambda: swap_media(w.uow, w.ctx(), old_uid=uid, new_uid=f"S{type(self).fresh}"))

    @invariant()
    def card_float_equals_liability_postings(self) -> None:
        """The card float (money on card accounts) equals the card-money liability postings, and media whose
        value moved away hold nothing."""
        if not hasattr(self, "world"):
            return
        with self.engine.connect() as conn:
            on_cards = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0)).where(
                    card_balances.c.unit == "EUR"
                )
            ).scalar_one()
            postings_total = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(postings.c.amount), 0))
                .join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id)
                .where(ledger_accounts.c.purpose == "card-money")
            ).scalar_one()
            on_transferred = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0))
                .select_from(
                    card_balances.join(card_accounts, card_accounts.c.id == card_balances.c.card_account_id).join(
                        media, media.c.id == card_accounts.c.medium_id
                    )
                )
                .where(media.c.state == "transferred")
            ).scalar_one()
        assert on_cards == -postings_total
        assert on_transferred == 0

    @invariant()
    def ledger_is_clean(self) -> None:
        if hasattr(self, "world"):
            self.world.assert_ledger_clean()


def _run(factory: object, examples: int) -> None:
    TillMachine.db_factory = factory
    TillMachine.successes = 0
    run_settings = settings(
        max_examples=examples,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    TillMachine.TestCase.settings = run_settings
    TillMachine.TestCase().runTest()
    assert TillMachine.successes >= examples * 3, "too few accepted operations: the test would prove nothing"


def test_random_till_sessions_keep_the_ledger_clean_sqlite(tmp_path: Path) -> None:
    template = SqliteTemplate(tmp_path)
    counter = iter(range(10**6))
    _run(lambda: template.clone(tmp_path / f"prop-{next(counter)}.db"), examples=40)


@pytest.mark.postgres
def test_random_till_sessions_keep_the_ledger_clean_postgres(pg_template: PgTemplate) -> None:
    require_pg()
    urls: list[str] = []

    def factory() -> str:
        urls.append(pg_template.clone())
        return urls[-1]

    try:
        _run(factory, examples=15)
    finally:
        for url in urls:
            pg_template.drop(url)
