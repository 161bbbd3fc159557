"""One visit end to end, on SQLite and PostgreSQL: issue, top up, save, bill, settle, return."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tapzone.access.visits import add_card_account, issue_medium, return_medium, set_active_card_account
from tapzone.errors import (
    CreditLimitExceeded,
    InsufficientBalance,
    MediumInUse,
    PermissionDenied,
    PrepaidValueLeft,
    UnpaidGoods,
    WrongCreditType,
)
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import refund_prepaid, settle_tab
from tapzone.pos.tabs import bill_tab, cancel_lines, save_items, view_tab
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.pos.topup import top_up
from tapzone.store.tables import account_balances, audit_log, bills, ledger_accounts
from tests.world import World


def revenue_and_vat(world: World) -> dict[str, int]:
    with world.uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger_accounts.c.key, sa.func.sum(account_balances.c.balance))
            .join(account_balances, account_balances.c.account_id == ledger_accounts.c.id)
            .group_by(ledger_accounts.c.key)
        )
        return {key: int(total) for key, total in rows}


def test_prepaid_visit_from_entry_to_return(world: World) -> None:
    visit = issue_medium(
        world.uow, world.ctx(), medium_uid="04a1b2c3", credit_type=CreditType.PREPAID, initial_load=world.eur(5000)
    )
    assert visit.medium_uid == "04A1B2C3"
    assert visit.balance_minor == 5000

    top_up(world.uow, world.ctx(), medium_uid="04A1B2C3", amount=world.eur(1000), tender=TenderKind.CARD)
    tab = save_items(
        world.uow,
        world.ctx(),
        medium_uid="04A1B2C3",
        items=[Item(world.beer_id, 2), Item(world.fries_id, 1)],
    )
    assert tab.open_total_minor == 2 * 450 + 320
    assert tab.available_minor == 6000 - 1220
    assert tab.balance_minor == 6000  # seed 001: goods on a prepaid tab are not paid yet

    bill = bill_tab(world.uow, world.ctx(), medium_uid="04A1B2C3")
    assert (bill.number, bill.total_minor, bill.status) == (1, 1220, "unpaid")

    with pytest.raises(UnpaidGoods):
        return_medium(world.uow, world.ctx(), medium_uid="04A1B2C3")

    settled = settle_tab(
        world.uow,
        world.ctx(),
        medium_uid="04A1B2C3",
        tenders=[Tender(TenderKind.PREPAID, world.eur(1220))],
        pay_out_leftover=True,
    )
    assert settled.prepaid_minor == 1220
    assert settled.refunded_minor == 6000 - 1220
    assert settled.balance_minor == 0

    returned = return_medium(world.uow, world.ctx(), medium_uid="04A1B2C3")
    assert returned.medium_state == "returned"

    balances = revenue_and_vat(world)
    # 2 beers at 19 %: 900 gross → 144 VAT; fries at 7 %: 320 gross → 21 VAT (20.93 rounded half-up).
    assert balances["revenue:vat1900:EUR"] == -(900 - 144)
    assert balances["vat-payable:vat1900:EUR"] == -144
    assert balances["revenue:vat700:EUR"] == -(320 - 21)
    assert balances["vat-payable:vat700:EUR"] == -21
    assert balances["cash:EUR"] == 5000 - (6000 - 1220)
    assert balances["card-clearing:simulator:EUR"] == 1000
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(bills.c.status)).scalar_one() == "paid"
    world.assert_ledger_clean()


def test_credit_tab_settled_with_cash_and_card_gives_change(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="C1", credit_type=CreditType.CREDIT, credit_limit=world.eur(3000))
    save_items(world.uow, world.ctx(), medium_uid="C1", items=[Item(world.towel_id, 2)])
    with pytest.raises(CreditLimitExceeded):
        save_items(world.uow, world.ctx(), medium_uid="C1", items=[Item(world.towel_id, 1)])
    tab = save_items(world.uow, world.ctx(), medium_uid="C1", items=[Item(world.beer_id, 1)])
    assert tab.available_minor == 3000 - 2850

    result = settle_tab(
        world.uow,
        world.ctx(),
        medium_uid="C1",
        tenders=[Tender(TenderKind.CARD, world.eur(2000)), Tender(TenderKind.CASH, world.eur(1000))],
    )
    assert (result.total_minor, result.card_minor, result.cash_minor, result.change_minor) == (2850, 2000, 850, 150)
    # After settlement the full credit is available again and the medium may be returned.
    assert view_tab(world.uow, world.ctx(), medium_uid="C1").available_minor == 3000
    return_medium(world.uow, world.ctx(), medium_uid="C1")
    world.assert_ledger_clean()


def test_returned_medium_starts_clean_for_the_next_visitor(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="W7", credit_type=CreditType.CREDIT, credit_limit=world.eur(1000))
    save_items(world.uow, world.ctx(), medium_uid="W7", items=[Item(world.beer_id)])
    settle_tab(world.uow, world.ctx(), medium_uid="W7", tenders=[Tender(TenderKind.CASH, world.eur(450))])
    return_medium(world.uow, world.ctx(), medium_uid="W7")

    second = issue_medium(
        world.uow, world.ctx(), medium_uid="W7", credit_type=CreditType.CREDIT, credit_limit=world.eur(500)
    )
    tab = view_tab(world.uow, world.ctx(), medium_uid="W7")
    assert tab.visit_id == second.visit_id
    assert tab.lines == []
    assert tab.available_minor == 500


def test_medium_cannot_be_bound_twice(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="W8", credit_type=CreditType.NONE)
    with pytest.raises(MediumInUse):
        issue_medium(world.uow, world.ctx(), medium_uid="W8", credit_type=CreditType.NONE)


def test_immediate_sale_from_card_balance(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="G1", credit_type=CreditType.PREPAID, initial_load=world.eur(1000))
    sale = sell_from_balance(world.uow, world.ctx(), medium_uid="G1", items=[Item(world.fries_id, 3)])
    assert (sale.total_minor, sale.balance_minor) == (960, 40)
    with pytest.raises(InsufficientBalance):
        sell_from_balance(world.uow, world.ctx(), medium_uid="G1", items=[Item(world.fries_id)])
    world.assert_ledger_clean()


def test_prepaid_tab_cannot_exceed_prepaid_value(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="P1", credit_type=CreditType.PREPAID, initial_load=world.eur(1000))
    save_items(world.uow, world.ctx(), medium_uid="P1", items=[Item(world.beer_id, 2)])
    with pytest.raises(InsufficientBalance):
        save_items(world.uow, world.ctx(), medium_uid="P1", items=[Item(world.beer_id)])
    # Reserved value cannot be sold a second time at once, nor paid out.
    with pytest.raises(InsufficientBalance):
        sell_from_balance(world.uow, world.ctx(), medium_uid="P1", items=[Item(world.fries_id)])
    refund = refund_prepaid(world.uow, world.ctx(), medium_uid="P1")
    assert refund.refunded_minor == 100
    world.assert_ledger_clean()


def test_cancelling_lines_needs_permission_and_is_audited(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="X1", credit_type=CreditType.PREPAID, initial_load=world.eur(2000))
    tab = save_items(world.uow, world.ctx(), medium_uid="X1", items=[Item(world.beer_id), Item(world.towel_id)])
    towel_line = next(line.id for line in tab.lines if line.product_id == world.towel_id)
    with pytest.raises(PermissionDenied):
        cancel_lines(world.uow, world.ctx(), medium_uid="X1", reason="wrong item", line_ids=[towel_line])

    cancelled = cancel_lines(world.uow, world.manager(), medium_uid="X1", reason="wrong item", line_ids=[towel_line])
    assert cancelled.open_total_minor == 450
    assert view_tab(world.uow, world.ctx(), medium_uid="X1").available_minor == 2000 - 450
    with world.uow.engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.seq)).all()
    assert [tuple(row) for row in actions] == [("tab.cancel", 1)]
    world.assert_ledger_clean()


def test_return_refused_while_prepaid_value_left(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="R1", credit_type=CreditType.PREPAID, initial_load=world.eur(700))
    with pytest.raises(PrepaidValueLeft):
        return_medium(world.uow, world.ctx(), medium_uid="R1")
    refund_prepaid(world.uow, world.ctx(), medium_uid="R1")
    assert return_medium(world.uow, world.ctx(), medium_uid="R1").medium_state == "returned"
    world.assert_ledger_clean()


def test_several_card_accounts_keep_separate_tabs_and_limits(world: World) -> None:
    """seed 001 'Cloud': two credit entries stay separate tabs, each with its own credit."""
    issue_medium(world.uow, world.ctx(), medium_uid="M234", credit_type=CreditType.CREDIT, credit_limit=world.eur(1000))
    second = add_card_account(
        world.uow, world.ctx(), medium_uid="M234", credit_type=CreditType.CREDIT, credit_limit=world.eur(1000)
    )
    first_tab = save_items(world.uow, world.ctx(), medium_uid="M234", items=[Item(world.beer_id)])
    assert first_tab.available_minor == 550
    other = view_tab(world.uow, world.ctx(), medium_uid="M234", card_account_id=second.card_account_id)
    assert (other.open_total_minor, other.available_minor) == (0, 1000)

    set_active_card_account(world.uow, world.ctx(), medium_uid="M234", card_account_id=second.card_account_id)
    assert view_tab(world.uow, world.ctx(), medium_uid="M234").card_account_id == second.card_account_id


def test_entry_without_credit_cannot_buy(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="N1", credit_type=CreditType.NONE)
    with pytest.raises(WrongCreditType):
        save_items(world.uow, world.ctx(), medium_uid="N1", items=[Item(world.beer_id)])
    with pytest.raises(WrongCreditType):
        top_up(world.uow, world.ctx(), medium_uid="N1", amount=world.eur(100))


def test_gate_staff_cannot_sell(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="Q1", credit_type=CreditType.CREDIT, credit_limit=world.eur(100))
    with pytest.raises(PermissionDenied):
        save_items(world.uow, world.ctx(operator=world.gate_staff_id), medium_uid="Q1", items=[Item(world.beer_id)])
    with pytest.raises(PermissionDenied):
        save_items(world.uow, world.ctx(operator=None), medium_uid="Q1", items=[Item(world.beer_id)])
