"""Overstay, deposits and paying for a whole party at the till (seed 000, DESIGN §7)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tapzone.access.setup import create_entry_product
from tapzone.access.visits import return_medium
from tapzone.clock import FixedClock
from tapzone.media.lifecycle import report_lost
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import save_items, view_tab
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.store.tables import account_balances, journal_entries, ledger_accounts, media
from tapzone.venues.setup import create_product
from tests.access.conftest import Zone


def balance_of(zone: Zone, key: str) -> int:
    with zone.world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(account_balances.c.balance), 0))
            .join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
            .where(ledger_accounts.c.key == key)
        ).scalar_one()
    return int(value)


def cash(zone: Zone, amount: int) -> list[Tender]:
    return [Tender(TenderKind.CASH, Money(amount, "EUR"))]


def test_overstay_is_charged_per_started_block_after_grace(zone: Zone) -> None:
    w = zone.world
    clock = w.uow.clock
    assert isinstance(clock, FixedClock)
    block = create_product(
        w.uow, w.venue_id, name="Overstay 30 min", price_minor=400, vat_rate_bp=700, product_group="time"
    )
    timed = create_entry_product(
        w.uow,
        w.venue_id,
        name="3 hours",
        price_minor=1500,
        vat_rate_bp=700,
        zone_id=zone.zone_id,
        credit_type=CreditType.CREDIT,
        credit_limit_minor=2000,
        included_minutes=180,
        overstay_product_id=block,
        overstay_block_minutes=30,
        overstay_grace_minutes=10,
    )
    zone.sell(timed, "T1", price=1500)
    zone.tap(zone.entrance, "T1")
    clock.advance(timedelta(minutes=189))  # within grace
    assert zone.tap(zone.exit, "T1").allowed

    zone.sell(timed, "T2", price=1500)
    zone.tap(zone.entrance, "T2")
    clock.advance(timedelta(minutes=211))  # 31 minutes over: two started blocks
    denied = zone.tap(zone.exit, "T2")
    assert denied.reason == "overstay-unpaid"
    again = zone.tap(zone.exit, "T2")  # tapping again does not charge again
    assert again.reason == "overstay-unpaid"
    tab = view_tab(w.uow, w.ctx(), medium_uid="T2")
    assert [(line.name, line.quantity, line.amount_minor) for line in tab.lines] == [("Overstay 30 min", 2, 800)]
    settle_tab(w.uow, w.ctx(), medium_uid="T2", tenders=cash(zone, 800))
    assert zone.tap(zone.exit, "T2").allowed
    w.assert_ledger_clean()


def test_deposit_back_at_the_collector_not_at_a_validator(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.family_shared, "DP1")  # deposit 5.00
    assert balance_of(zone, "deposits-held:EUR") == -500
    zone.tap(zone.entrance, "DP1")
    out = zone.tap(zone.collector, "DP1")
    assert out.unbound
    assert balance_of(zone, "deposits-held:EUR") == 0  # refunded: the collector took the wristband

    zone.sell(zone.family_shared, "DP2")
    zone.tap(zone.entrance, "DP2")
    assert zone.tap(zone.exit, "DP2").unbound  # a turnstile: the visitor keeps the wristband
    assert balance_of(zone, "deposits-held:EUR") == -500
    returned = return_medium(w.uow, w.ctx(), medium_uid="DP2")  # handed in at the till later
    assert (returned.visit_id, returned.deposit_refunded_minor) == (None, 500)
    assert balance_of(zone, "deposits-held:EUR") == 0
    w.assert_ledger_clean()


def test_lost_medium_forfeits_its_deposit_and_is_refused(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.family_shared, "LOST1")
    zone.tap(zone.entrance, "LOST1")
    report_lost(w.uow, w.manager(), medium_uid="LOST1", reason="visitor lost it in the pool")
    assert balance_of(zone, "deposits-held:EUR") == 0
    assert balance_of(zone, "revenue:deposit-forfeit:EUR") == -500
    assert zone.tap(zone.exit, "LOST1").reason == "medium-lost"
    with w.uow.engine.connect() as conn:
        assert conn.execute(sa.select(media.c.deposit_minor).where(media.c.uid == "LOST1")).scalar_one() == 0
        codes = [row[0] for row in conn.execute(sa.select(journal_entries.c.code).order_by(journal_entries.c.id))]
    assert codes[-1] == "deposit-forfeit"
    w.assert_ledger_clean()


def test_shared_party_pays_all_on_one_receipt(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.family_shared, "PA1", companions=["PA2", "PA3"])
    save_items(w.uow, w.ctx(), medium_uid="PA2", items=[Item(w.beer_id)])
    save_items(w.uow, w.ctx(), medium_uid="PA3", items=[Item(w.fries_id)])
    tab = view_tab(w.uow, w.ctx(), medium_uid="PA1")
    assert [(debt.medium_uid, debt.open_total_minor) for debt in tab.party_debts] == [("PA2", 450), ("PA3", 320)]
    paid = settle_tab(w.uow, w.ctx(), medium_uid="PA1", tenders=cash(zone, 1000), include_party=True)
    assert (paid.total_minor, paid.change_minor, len(paid.party_tab_ids)) == (770, 230, 2)
    assert view_tab(w.uow, w.ctx(), medium_uid="PA2").open_total_minor == 0
    assert view_tab(w.uow, w.ctx(), medium_uid="PA1").party_debts == []
    with w.uow.engine.connect() as conn:
        settlements = conn.execute(
            sa.select(sa.func.count()).select_from(journal_entries).where(journal_entries.c.code == "settlement")
        ).scalar_one()
    assert settlements == 1  # one receipt
    w.assert_ledger_clean()


def test_separate_party_gets_no_pay_all_offer(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.group_separate, "SP1", companions=["SP2"])
    save_items(w.uow, w.ctx(), medium_uid="SP2", items=[Item(w.beer_id)])
    assert view_tab(w.uow, w.ctx(), medium_uid="SP1").party_debts == []
