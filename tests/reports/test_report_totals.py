"""Report totals equal the ledger (issue 7), on SQLite and PostgreSQL.

The reports read postings and tab lines; every assertion holds them against another source: the materialised
balances per account and bucket, the card-side balances, the media's deposits, or figures worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tapzone.access.visits import issue_medium
from tapzone.errors import NotFound, PermissionDenied
from tapzone.ledger.model import Purpose
from tapzone.payouts.requests import pay_out_cash, request_bank_payout, revoke_payout
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.reports.card_float import read_card_float
from tapzone.reports.open_tabs import OpenTabsQuery
from tapzone.reports.service import (
    card_float_report,
    daily_revenue_report,
    open_tabs_report,
    read_for_venue,
)
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tests.reports.activity import DAY_ONE, Activity, build_activity, card_side_money, ledger_sum
from tests.world import World, build_world


@pytest.fixture
def activity(world: World) -> Activity:
    return build_activity(world)


def test_card_float_equals_the_liability_postings_and_the_card_side(activity: Activity) -> None:
    world = activity.world
    report, _ = card_float_report(world.uow, world.manager(), cross_check=True)
    assert report.total_minor == -ledger_sum(world, Purpose.CARD_MONEY)
    assert report.total_minor == card_side_money(world) == report.card_side_total_minor
    # P1 kept 34.60 + 20.00 of day two; K1 holds 30.00, K2 10.00; credit accounts owe nothing to anybody.
    assert report.total_minor == 3_460 + 2_000 + 3_000 + 1_000
    rows = [(r.account_type, r.medium_kind, r.accounts, r.balance_minor) for r in report.rows]
    assert rows == [("Money card", "card", 1, 3_000), ("Ten visits", "card", 1, 1_000), ("none", "wristband", 1, 5_460)]
    assert {s.key: s.balance_minor for s in report.by_account_type} == {
        "3 Money card": 3_000,
        "4 Ten visits": 1_000,
        "none": 5_460,
    }
    assert {s.key: s.balance_minor for s in report.by_medium_kind} == {"card": 4_000, "wristband": 5_460}
    # Visits are owed too, but never added to money.
    assert [(u.account_type, u.unit, u.balance) for u in report.units] == [("Ten visits", "visits", 10)]
    world.assert_ledger_clean()


def test_card_float_as_of_an_earlier_moment_leaves_out_later_entries(activity: Activity) -> None:
    world = activity.world
    end_of_day_one, _ = card_float_report(world.uow, world.manager(), as_of=DAY_ONE, cross_check=True)
    at_close, _ = card_float_report(world.uow, world.manager(), as_of=activity.day_one_closed)
    before_opening, _ = card_float_report(world.uow, world.manager(), as_of=datetime(2026, 7, 4, 9, 59, tzinfo=UTC))
    now, _ = card_float_report(world.uow, world.manager(), cross_check=True)
    assert end_of_day_one.total_minor == at_close.total_minor == 7_460
    assert now.total_minor - end_of_day_one.total_minor == 2_000  # the top-up of day two
    assert (before_opening.total_minor, before_opening.rows) == (0, [])
    # Only a cut-off that is not in the past can be held against what the cards hold now.
    assert end_of_day_one.card_side_total_minor is None
    assert now.card_side_total_minor == now.total_minor
    # A moment without an offset is the venue's time: 11:59 in Berlin is 09:59 UTC.
    naive, _ = card_float_report(world.uow, world.manager(), as_of=datetime(2026, 7, 4, 11, 59))  # noqa: DTZ001
    assert naive.total_minor == 0


def test_daily_revenue_by_rate_equals_revenue_and_vat_balances(activity: Activity) -> None:
    world = activity.world
    report, _ = daily_revenue_report(world.uow, world.manager(), day=DAY_ONE)
    buckets = [f"d{till}:{DAY_ONE.isoformat()}" for till in (world.till_id, world.till2_id)]
    for rate in report.by_rate:
        net = -ledger_sum(world, Purpose.REVENUE, buckets=buckets, key=f"revenue:vat{rate.rate_bp}:EUR")
        vat = -ledger_sum(world, Purpose.VAT_PAYABLE, buckets=buckets, key=f"vat-payable:vat{rate.rate_bp}:EUR")
        assert (rate.net_minor, rate.vat_minor, rate.gross_minor) == (net, vat, net + vat)
    assert {r.rate_bp: r.gross_minor for r in report.by_rate} == {700: 7_240, 1900: 5_450}
    assert report.gross_minor == report.goods_gross_minor == 12_690  # no advance VAT under de
    # Product groups from the settled lines, plus what was booked without lines, add up to the rates.
    groups = {(g.product_group, g.quantity, g.gross_minor) for g in report.by_product_group}
    assert groups == {("drinks", 5, 2_250), ("food", 2, 640), ("shop", 1, 1_200)}
    assert {c.code: c.gross_minor for c in report.unitemized} == {"topup": 5_000, "sale": 3_600}
    itemised = sum(g.gross_minor for g in report.by_product_group)
    assert itemised + sum(c.gross_minor for c in report.unitemized) == report.goods_gross_minor
    assert [(o.kind, o.amount_minor) for o in report.other_revenue] == [("deposit-forfeit", 500)]
    assert report.net_minor == -ledger_sum(world, Purpose.REVENUE, buckets=buckets) - 500


def test_daily_revenue_tenders_equal_cash_and_clearing_balances(activity: Activity) -> None:
    world = activity.world
    report, _ = daily_revenue_report(world.uow, world.manager(), day=DAY_ONE)
    buckets = [f"d{till}:{DAY_ONE.isoformat()}" for till in (world.till_id, world.till2_id)]
    tenders = {t.tender: t for t in report.by_tender}
    assert list(tenders) == ["cash", "card:simulator", "prepaid", "customer-account"]
    assert tenders["cash"].net_minor + report.drawer_moves_minor == ledger_sum(world, Purpose.CASH, buckets=buckets)
    assert report.drawer_moves_minor == 10_000  # the float of till 2's shift: no one paid it
    assert tenders["card:simulator"].net_minor == ledger_sum(world, Purpose.CARD_CLEARING, buckets=buckets)
    assert (tenders["cash"].received_minor, tenders["cash"].paid_out_minor) == (5_000 + 700 - 50 + 5_000 + 2_300, 1_000)
    assert tenders["card:simulator"].net_minor == 1_000 + 1_000 + 4_000 + 2_300
    assert tenders["prepaid"].received_minor == 1_220 + 320
    # Lena's beers went to her customer account: a tender too, owed by her rather than paid.
    assert tenders["customer-account"].net_minor == 900 == ledger_sum(world, Purpose.CUSTOMER_RECEIVABLE)
    # Value put on cards against value paid back.
    flow = report.value_flow
    assert (flow.topup_minor, flow.load_minor, flow.loaded_minor) == (10_000, 0, 10_000)
    assert (flow.refund_minor, flow.unload_minor, flow.paid_back_minor) == (1_000, 0, 1_000)
    # With the prepaid value used, that is the day's change of the card float (which was 0 before day one).
    float_change = card_float_report(world.uow, world.manager(), as_of=DAY_ONE)[0].total_minor
    assert flow.net_minor - tenders["prepaid"].received_minor == flow.float_change_minor == float_change
    assert flow.other_minor == 0


def test_daily_revenue_deposits_agree_with_the_media(activity: Activity) -> None:
    world = activity.world
    day_one, _ = daily_revenue_report(world.uow, world.manager(), day=DAY_ONE)
    deposits = day_one.deposits
    assert (deposits.taken_minor, deposits.forfeited_minor, deposits.refunded_minor) == (1_000, 500, 0)
    assert deposits.held_end_of_day_minor == deposits.held_now_minor == deposits.held_on_media_minor == 500
    assert deposits.agrees
    assert deposits.held_now_minor == -ledger_sum(world, Purpose.DEPOSITS_HELD)


def test_daily_revenue_per_till_adds_up_to_the_venue(activity: Activity) -> None:
    world = activity.world
    venue, _ = daily_revenue_report(world.uow, world.manager(), day=DAY_ONE)
    tills = [
        daily_revenue_report(world.uow, world.manager(), day=DAY_ONE, till_id=till)[0]
        for till in (world.till_id, world.till2_id)
    ]
    assert sum(t.gross_minor for t in tills) == venue.gross_minor
    assert sum(t.drawer_moves_minor for t in tills) == venue.drawer_moves_minor
    # Till 2 sold entries, and Lena's beers on her customer account; the towel and fries are still unpaid.
    assert [(g.product_group, g.gross_minor) for g in tills[1].by_product_group] == [("drinks", 900)]
    assert {c.code: c.gross_minor for c in tills[1].unitemized} == {"sale": 3_600}
    own_bucket = [f"d{world.till2_id}:{DAY_ONE.isoformat()}"]
    assert tills[1].gross_minor == -ledger_sum(world, Purpose.REVENUE, buckets=own_bucket) - ledger_sum(
        world, Purpose.VAT_PAYABLE, buckets=own_bucket
    )
    day_two, _ = daily_revenue_report(world.uow, world.manager())
    assert (day_two.business_day, day_two.gross_minor, day_two.value_flow.topup_minor) == (
        DAY_ONE + timedelta(days=1),
        0,
        2_000,
    )
    with pytest.raises(NotFound):
        daily_revenue_report(world.uow, world.manager(), day=DAY_ONE, till_id=424242)


def test_open_tabs_oldest_first_and_the_tab_of_a_lost_medium(activity: Activity) -> None:
    world = activity.world
    report, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery())
    assert [(r.medium_uid, r.amount_minor) for r in report.rows] == [("E1", 1_200), ("E2", 320)]
    assert (report.total_count, report.total_amount_minor) == (2, 1_520)
    lost, kept = report.rows
    assert (lost.medium_state, lost.visitor, lost.zone, lost.credit_type) == ("lost", "Lena Lost", "Pools", "credit")
    assert (kept.visitor, kept.zone, kept.medium_state) == (None, "Pools", "active")
    # Day two 06:00 UTC: E1's tab opened at 10:00 the day before, E2's at 11:30.
    assert (lost.age_minutes, kept.age_minutes) == (20 * 60, 18 * 60 + 30)

    found, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery(medium_uid="e1"))
    assert [(r.tab_id, r.medium_uid, r.medium_state) for r in found.rows] == [(lost.tab_id, "E1", "lost")]
    old, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery(min_age_minutes=19 * 60))
    assert [r.medium_uid for r in old.rows] == ["E1"]
    second_page, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery(limit=1, offset=1))
    assert ([r.medium_uid for r in second_page.rows], second_page.total_count) == (["E2"], 2)
    unknown, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery(medium_uid="NOPE"))
    assert (unknown.rows, unknown.total_count) == ([], 0)
    # Settled tabs (P1, C1) and tabs of immediate sales never show.
    assert {r.medium_uid for r in report.rows}.isdisjoint({"P1", "C1", "K1", "K2"})


def test_reports_need_the_report_permission(activity: Activity) -> None:
    world = activity.world
    with pytest.raises(PermissionDenied):
        card_float_report(world.uow, world.ctx())  # a cashier
    with pytest.raises(PermissionDenied):
        open_tabs_report(world.uow, world.ctx(), query=OpenTabsQuery())
    with pytest.raises(PermissionDenied):
        daily_revenue_report(world.uow, world.ctx())
    # The command line reads as the operator at the server, who holds the database already.
    report, venue = read_for_venue(world.uow, world.venue_id, read_card_float)
    assert (report.total_minor, venue.id) == (9_460, world.venue_id)


def test_daily_revenue_under_54_fz_keeps_advance_vat_apart_from_goods(uow: UnitOfWork) -> None:
    world = build_world(uow, FiscalProfile.RU)
    issue_medium(world.uow, world.ctx(), medium_uid="R1", credit_type=CreditType.PREPAID, initial_load=world.eur(2_400))
    sell_from_balance(world.uow, world.ctx(), medium_uid="R1", items=[Item(world.towel_id)])  # 12.00 at 19 %
    report, _ = daily_revenue_report(world.uow, world.manager())
    # 20/120 of the 12.00 still on the card is VAT on an advance; the towel's VAT is 19 % of its price.
    assert report.advance_vat_minor == 200 == ledger_sum(world, Purpose.ADVANCE_VAT)
    assert {r.rate_bp: r.vat_minor for r in report.by_rate} == {1900: 192, 2000: 200}
    assert report.vat_minor == -ledger_sum(world, Purpose.VAT_PAYABLE)
    assert report.goods_gross_minor == 1_200 == sum(g.gross_minor for g in report.by_product_group)
    assert report.unitemized == []


def test_payouts_are_paid_back_and_a_revoked_one_nets_out(world: World) -> None:
    build_activity(world)
    before, _ = card_float_report(world.uow, world.manager())
    pay_out_cash(world.uow, world.ctx(), medium_uid="P1", amount=world.eur(460))
    requested = request_bank_payout(
        world.uow,
        world.manager(),
        medium_uid="P1",
        account_holder="Pia Prepaid",
        iban="DE89 3704 0044 0532 0130 00",
        amount=world.eur(1_000),
    )
    revoke_payout(world.uow, world.manager(), payout_id=requested.payout_id, reason="visitor changed her mind")
    request_bank_payout(
        world.uow,
        world.manager(),
        medium_uid="P1",
        account_holder="Pia Prepaid",
        iban="DE89 3704 0044 0532 0130 00",
        amount=world.eur(2_000),
    )
    report, _ = daily_revenue_report(world.uow, world.manager())
    flow = report.value_flow
    assert (flow.payout_minor, flow.paid_back_minor) == (460 + 2_000, 460 + 2_000)
    after, _ = card_float_report(world.uow, world.manager())
    # Day two: 20.00 topped up, 24.60 paid out; the float moved by exactly what the report says.
    assert after.total_minor - card_float_report(world.uow, world.manager(), as_of=DAY_ONE)[0].total_minor == (
        flow.float_change_minor
    )
    assert before.total_minor - after.total_minor == 2_460
    cash = next(t for t in report.by_tender if t.tender == "cash")
    assert cash.paid_out_minor == 460
    world.assert_ledger_clean()
