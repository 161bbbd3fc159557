"""seed 001: a registered customer's debt goes to the customer account by default; with
usePaymentKeyForPerson it stays on the wristband and must be settled before exit."""

from __future__ import annotations

import pytest

from tapzone.access.visits import issue_medium, return_medium
from tapzone.customers.accounts import pay_customer_account, view_customer_account
from tapzone.errors import CreditLimitExceeded, NothingToSettle, OverTender, UnpaidGoods
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.venues.settings import update_venue_settings
from tapzone.venues.setup import create_customer
from tests.world import World


def test_member_debt_goes_to_the_customer_account(world: World) -> None:
    olga = create_customer(world.uow, world.venue_id, name="Olga Ordinarie")
    issue_medium(
        world.uow,
        world.ctx(),
        medium_uid="M1",
        credit_type=CreditType.CREDIT,
        credit_limit=world.eur(1000),
        customer_id=olga,
    )
    tab = save_items(world.uow, world.ctx(), medium_uid="M1", items=[Item(world.beer_id, 2)])
    assert (tab.open_total_minor, tab.available_minor) == (0, 100)  # nothing open on the wristband
    with pytest.raises(CreditLimitExceeded):  # the entry's limit still applies
        save_items(world.uow, world.ctx(), medium_uid="M1", items=[Item(world.beer_id)])
    assert view_customer_account(world.uow, world.ctx(), customer_id=olga).owed_minor == 900
    assert return_medium(world.uow, world.ctx(), medium_uid="M1").medium_state == "returned"  # may leave

    part = pay_customer_account(
        world.uow, world.ctx(), customer_id=olga, tenders=[Tender(TenderKind.CARD, world.eur(400))]
    )
    assert (part.paid_minor, part.owed_minor) == (400, 500)
    with pytest.raises(OverTender):
        pay_customer_account(
            world.uow, world.ctx(), customer_id=olga, tenders=[Tender(TenderKind.CARD, world.eur(501))]
        )
    rest = pay_customer_account(
        world.uow, world.ctx(), customer_id=olga, tenders=[Tender(TenderKind.CASH, world.eur(1000))]
    )
    assert (rest.paid_minor, rest.change_minor, rest.owed_minor) == (500, 500, 0)
    with pytest.raises(NothingToSettle):
        pay_customer_account(world.uow, world.ctx(), customer_id=olga, tenders=[Tender(TenderKind.CASH, world.eur(1))])
    world.assert_ledger_clean()


def test_member_debt_on_the_wristband_when_the_venue_says_so(world: World) -> None:
    update_venue_settings(world.uow, world.ctx(operator=world.admin_id), member_debt_on_medium=True)
    max_ = create_customer(world.uow, world.venue_id, name="Max Mustermann")
    issue_medium(
        world.uow,
        world.ctx(),
        medium_uid="M2",
        credit_type=CreditType.CREDIT,
        credit_limit=world.eur(1000),
        customer_id=max_,
    )
    tab = save_items(world.uow, world.ctx(), medium_uid="M2", items=[Item(world.beer_id)])
    assert tab.open_total_minor == 450
    assert view_customer_account(world.uow, world.ctx(), customer_id=max_).owed_minor == 0
    with pytest.raises(UnpaidGoods):
        return_medium(world.uow, world.ctx(), medium_uid="M2")
