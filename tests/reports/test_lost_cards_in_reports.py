"""seed 004 in the reports: a transferred lost medium counts 0 in the card float, its tab is found under its
old number, and a swap shows an equal unload and load."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tapzone.ledger.model import Purpose
from tapzone.media.transfer import swap_media, transfer_lost_medium
from tapzone.reports.open_tabs import OpenTabsQuery
from tapzone.reports.service import card_float_report, daily_revenue_report, open_tabs_report
from tapzone.store.tables import card_accounts, card_balances, media
from tests.reports.activity import DAY_ONE, build_activity, card_side_money, ledger_sum
from tests.world import World


def _money_on(world: World, uid: str) -> int:
    """What the card side holds on every card account ever opened on this medium."""
    with world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0))
            .select_from(
                card_balances.join(card_accounts, card_accounts.c.id == card_balances.c.card_account_id).join(
                    media, media.c.id == card_accounts.c.medium_id
                )
            )
            .where(media.c.uid == uid, card_balances.c.unit == world.currency)
        ).scalar_one()
    return int(value)


def test_a_transferred_medium_counts_zero_and_its_tab_is_found_by_its_old_number(world: World) -> None:
    activity = build_activity(world)
    before, _ = card_float_report(world.uow, world.manager())
    activity.clock.advance(timedelta(minutes=5))
    # P1 is lost with 54.60 on it; E1, lost already, still has its unpaid towel.
    transfer_lost_medium(world.uow, world.manager(), lost_uid="P1", new_uid="N1")
    transfer_lost_medium(world.uow, world.manager(), lost_uid="E1", new_uid="N2")

    after, _ = card_float_report(world.uow, world.manager())
    assert after.total_minor == before.total_minor == -ledger_sum(world, Purpose.CARD_MONEY) == card_side_money(world)
    assert (_money_on(world, "P1"), _money_on(world, "N1")) == (0, 5_460)
    wristbands = next(row for row in after.rows if row.medium_kind == "wristband")
    assert (wristbands.accounts, wristbands.balance_minor) == (1, 5_460)  # the new medium's account only
    # History is not rewritten: just before the transfer the old medium's account held the value.
    assert card_float_report(world.uow, world.manager(), as_of=before.as_of)[0].total_minor == before.total_minor

    found, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery(medium_uid="E1"))
    assert [(r.medium_uid, r.medium_state, r.visitor, r.amount_minor) for r in found.rows] == [
        ("N2", "active", "Lena Lost", 1_200)
    ]
    everything, _ = open_tabs_report(world.uow, world.manager(), query=OpenTabsQuery())
    assert everything.total_count == 2  # the tab moved; it was not copied
    # A transfer moves value between card accounts: neither loaded nor paid back.
    flow = daily_revenue_report(world.uow, world.manager())[0].value_flow
    assert (flow.loaded_minor, flow.paid_back_minor, flow.other_minor) == (2_000, 0, 0)
    assert (
        flow.float_change_minor
        == after.total_minor - card_float_report(world.uow, world.manager(), as_of=DAY_ONE)[0].total_minor
    )
    world.assert_ledger_clean()


def test_a_swap_shows_an_equal_unload_and_load(world: World) -> None:
    build_activity(world)
    swap_media(world.uow, world.manager(), old_uid="K1", new_uid="K9")
    report, _ = daily_revenue_report(world.uow, world.manager())
    assert report.business_day == DAY_ONE + timedelta(days=1)
    flow = report.value_flow
    assert (flow.unload_minor, flow.load_minor) == (3_000, 3_000)
    cash = next(t for t in report.by_tender if t.tender == "cash")
    assert (cash.received_minor - 2_000, cash.paid_out_minor) == (3_000, 3_000)  # the cash is notional
    float_now, _ = card_float_report(world.uow, world.manager())
    assert {s.key: s.balance_minor for s in float_now.by_account_type}["3 Money card"] == 3_000
    assert (_money_on(world, "K1"), _money_on(world, "K9")) == (0, 3_000)
