"""Bad input at the use-case boundary: a typed error, and nothing written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tapzone.access.visits import issue_medium
from tapzone.context import MediumEntry
from tapzone.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidRequest,
    MediumBlocked,
    MediumNotBound,
    TapzoneError,
    UnknownMedium,
    UnknownOrInactiveMedium,
)
from tapzone.media.lifecycle import block_medium
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.topup import top_up
from tests.world import World

BAD_AMOUNTS = [0, -1, -450, 2**63, 2**63 - 1, 10**11 + 1]


def assert_refused_without_writes(world: World, error: type[TapzoneError], action: Callable[[], object]) -> None:
    before = world.counts()
    with pytest.raises(error):
        action()
    assert world.counts() == before
    world.assert_ledger_clean()


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_top_up_refuses_bad_amounts(world: World, amount: int) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="B1", credit_type=CreditType.PREPAID)
    assert_refused_without_writes(
        world, InvalidAmount, lambda: top_up(world.uow, world.ctx(), medium_uid="B1", amount=world.eur(amount))
    )


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_tender_refuses_bad_amounts(world: World, amount: int) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="B2", credit_type=CreditType.CREDIT, credit_limit=world.eur(1000))
    save_items(world.uow, world.ctx(), medium_uid="B2", items=[Item(world.beer_id)])
    assert_refused_without_writes(
        world,
        InvalidAmount,
        lambda: settle_tab(
            world.uow, world.ctx(), medium_uid="B2", tenders=[Tender(TenderKind.CASH, world.eur(amount))]
        ),
    )


@pytest.mark.parametrize("amount", [-1, 2**63])
def test_issue_refuses_bad_credit_limits_and_loads(world: World, amount: int) -> None:
    assert_refused_without_writes(
        world,
        InvalidAmount,
        lambda: issue_medium(
            world.uow, world.ctx(), medium_uid="B3", credit_type=CreditType.CREDIT, credit_limit=world.eur(amount)
        ),
    )
    assert_refused_without_writes(
        world,
        InvalidAmount,
        lambda: issue_medium(
            world.uow, world.ctx(), medium_uid="B3", credit_type=CreditType.PREPAID, initial_load=world.eur(amount)
        ),
    )


def test_amounts_must_be_integers() -> None:
    with pytest.raises(InvalidAmount):
        Money(10.0, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money("10", "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(minor=True, currency="EUR")


def test_wrong_currency_is_refused(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="B4", credit_type=CreditType.PREPAID)
    assert_refused_without_writes(
        world, CurrencyMismatch, lambda: top_up(world.uow, world.ctx(), medium_uid="B4", amount=Money(1000, "SEK"))
    )
    assert_refused_without_writes(
        world,
        CurrencyMismatch,
        lambda: issue_medium(
            world.uow, world.ctx(), medium_uid="B5", credit_type=CreditType.CREDIT, credit_limit=Money(1000, "RUB")
        ),
    )


def test_unknown_medium_is_refused(world: World) -> None:
    assert_refused_without_writes(
        world, UnknownMedium, lambda: top_up(world.uow, world.ctx(), medium_uid="NOPE", amount=world.eur(100))
    )


def test_typed_numbers_get_one_uniform_answer(world: World) -> None:
    """DESIGN §5: a typed number cannot tell unknown, blocked and unbound media apart."""
    issue_medium(world.uow, world.ctx(), medium_uid="T1", credit_type=CreditType.PREPAID)
    block_medium(world.uow, world.manager(), medium_uid="T1", reason="damaged")
    for uid in ("NOPE", "T1"):
        assert_refused_without_writes(
            world,
            UnknownOrInactiveMedium,
            lambda uid=uid: top_up(
                world.uow,
                world.manager(),
                medium_uid=uid,
                amount=world.eur(100),  # type: ignore[misc]
                entry=MediumEntry.TYPED,
            ),
        )


def test_blocked_medium_is_refused(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="K1", credit_type=CreditType.PREPAID, initial_load=world.eur(500))
    block_medium(world.uow, world.manager(), medium_uid="K1", reason="reported stolen")
    assert_refused_without_writes(
        world, MediumBlocked, lambda: top_up(world.uow, world.ctx(), medium_uid="K1", amount=world.eur(100))
    )
    assert_refused_without_writes(
        world,
        MediumBlocked,
        lambda: issue_medium(world.uow, world.ctx(), medium_uid="K1", credit_type=CreditType.NONE),
    )


def test_unbound_medium_is_refused(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="U1", credit_type=CreditType.NONE)
    from tapzone.access.visits import return_medium

    return_medium(world.uow, world.ctx(), medium_uid="U1")
    assert_refused_without_writes(
        world, MediumNotBound, lambda: save_items(world.uow, world.ctx(), medium_uid="U1", items=[Item(world.beer_id)])
    )


@pytest.mark.parametrize("uid", ["", " ", "a b", "x" * 65, "ünïcode", "1;DROP TABLE media"])
def test_malformed_uids_are_refused(world: World, uid: str) -> None:
    assert_refused_without_writes(
        world, InvalidRequest, lambda: issue_medium(world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.NONE)
    )


@pytest.mark.parametrize("quantity", [0, -1, 1000, 1.5, True])
def test_bad_quantities_are_refused(quantity: object) -> None:
    with pytest.raises(InvalidRequest):
        Item(1, quantity)  # type: ignore[arg-type]


def test_unknown_product_is_refused(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="B6", credit_type=CreditType.CREDIT, credit_limit=world.eur(1000))
    from tapzone.errors import NotFound

    assert_refused_without_writes(
        world, NotFound, lambda: save_items(world.uow, world.ctx(), medium_uid="B6", items=[Item(999_999)])
    )
