"""Tax treatment of prepaid value per fiscal profile (DESIGN §3)."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import refund_prepaid
from tapzone.store.tables import account_balances, ledger_accounts
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tests.world import World, build_world


def balances(world: World) -> dict[str, int]:
    with world.uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger_accounts.c.key, sa.func.sum(account_balances.c.balance))
            .join(account_balances, account_balances.c.account_id == ledger_accounts.c.id)
            .group_by(ledger_accounts.c.key)
        )
        return {key: int(total) for key, total in rows}


def test_de_top_up_books_no_vat_and_no_revenue(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="D1", credit_type=CreditType.PREPAID, initial_load=world.eur(1200))
    assert balances(world) == {"cash:EUR": 1200, "card-money:ca1:EUR": -1200}


def test_ru_advance_taxed_on_load_and_released_on_consumption(uow: UnitOfWork) -> None:
    world = build_world(uow, FiscalProfile.RU)
    issue_medium(world.uow, world.ctx(), medium_uid="R1", credit_type=CreditType.PREPAID, initial_load=world.eur(1200))
    after_load = balances(world)
    assert after_load["advance-vat:EUR"] == 200  # 20/120 of 1200
    assert after_load["vat-payable:vat2000:EUR"] == -200

    sell_from_balance(world.uow, world.ctx(), medium_uid="R1", items=[Item(world.towel_id)])  # 1200 at 19 %
    after_sale = balances(world)
    assert after_sale["advance-vat:EUR"] == 0
    assert after_sale["vat-payable:vat2000:EUR"] == 0
    assert after_sale["vat-payable:vat1900:EUR"] == -192  # VAT now owed on the goods only
    world.assert_ledger_clean()


def test_ru_refund_of_unused_advance_releases_its_vat(uow: UnitOfWork) -> None:
    world = build_world(uow, FiscalProfile.RU)
    issue_medium(world.uow, world.ctx(), medium_uid="R2", credit_type=CreditType.PREPAID, initial_load=world.eur(600))
    refund_prepaid(world.uow, world.ctx(), medium_uid="R2")
    after = balances(world)
    assert after["advance-vat:EUR"] == 0
    assert after["cash:EUR"] == 0
    world.assert_ledger_clean()
