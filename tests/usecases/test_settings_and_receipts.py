"""Paying with the medium per venue and till (seed 001 activation), and several wristbands on one receipt."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.errors import NotFound, PaymentWithMediumDisabled, PermissionDenied
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import save_items, view_tab
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.store.tables import audit_log, journal_entries
from tapzone.venues.settings import set_till_payment, update_venue_settings
from tests.world import World


def admin(world: World):  # type: ignore[no-untyped-def]
    return world.ctx(operator=world.admin_id)


def test_paying_with_the_medium_can_be_switched_off_per_venue_and_per_till(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="PW1", credit_type=CreditType.PREPAID, initial_load=world.eur(5000))
    boss = admin(world)
    with pytest.raises(PermissionDenied):
        update_venue_settings(world.uow, world.manager(), pay_with_medium=False)
    assert update_venue_settings(world.uow, boss, pay_with_medium=False).pay_with_medium is False
    before = world.counts()
    with pytest.raises(PaymentWithMediumDisabled):
        save_items(world.uow, world.ctx(), medium_uid="PW1", items=[Item(world.beer_id)])
    with pytest.raises(PaymentWithMediumDisabled):
        sell_from_balance(world.uow, world.ctx(), medium_uid="PW1", items=[Item(world.beer_id)])
    assert world.counts() == before

    # The pool bar's till is switched on although the venue is off (seed 001: per computer).
    view = set_till_payment(
        world.uow, world.ctx(operator=boss.operator_id), till_id=world.till2_id, pay_with_medium=True
    )
    assert (view.pay_with_medium, view.effective) == (True, True)
    save_items(world.uow, world.ctx(till=world.till2_id), medium_uid="PW1", items=[Item(world.beer_id)])
    with pytest.raises(PaymentWithMediumDisabled):
        save_items(world.uow, world.ctx(), medium_uid="PW1", items=[Item(world.beer_id)])
    # Back to following the venue.
    assert (
        set_till_payment(
            world.uow, world.ctx(operator=boss.operator_id), till_id=world.till2_id, pay_with_medium=None
        ).effective
        is False
    )
    with pytest.raises(NotFound):
        set_till_payment(world.uow, world.ctx(operator=boss.operator_id), till_id=99999, pay_with_medium=True)
    with world.uow.engine.connect() as conn:
        actions = [row[0] for row in conn.execute(sa.select(audit_log.c.action))]
    assert actions.count("venue.settings") == 1
    assert actions.count("till.pay_with_medium") == 2
    world.assert_ledger_clean()


def test_several_wristbands_on_one_receipt(world: World) -> None:
    """seed 001: members' debts on two wristbands read in a row are paid on one receipt."""
    for uid in ("R1", "R2", "R3"):
        issue_medium(
            world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.CREDIT, credit_limit=world.eur(5000)
        )
    save_items(world.uow, world.ctx(), medium_uid="R1", items=[Item(world.beer_id)])
    save_items(world.uow, world.ctx(), medium_uid="R2", items=[Item(world.fries_id)])
    save_items(world.uow, world.ctx(), medium_uid="R3", items=[Item(world.towel_id)])
    paid = settle_tab(
        world.uow,
        world.ctx(),
        medium_uid="R1",
        other_media=["R2", "R2"],
        tenders=[Tender(TenderKind.CARD, world.eur(770))],
    )
    assert (paid.total_minor, len(paid.party_tab_ids)) == (770, 1)
    assert view_tab(world.uow, world.ctx(), medium_uid="R2").open_total_minor == 0
    assert view_tab(world.uow, world.ctx(), medium_uid="R3").open_total_minor == 1200  # not read, not paid
    with world.uow.engine.connect() as conn:
        codes = [row[0] for row in conn.execute(sa.select(journal_entries.c.code))]
    assert codes.count("settlement") == 1
    world.assert_ledger_clean()
