"""`tapzone daily` on a real database, with the real clock: renews once, a rerun says it is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from tapzone.cli import app
from tapzone.plans.topup_rules import add_months
from tests.usecases.daily_setup import create_types
from tests.world import World

runner = CliRunner()


def test_daily_renews_then_a_rerun_changes_nothing(world: World, db_url: str) -> None:
    types = create_types(world)
    abo = types.sell(types.subscription, "CLI1")
    expired = types.sell(types.month_pass, "CLI2")
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    types.set_valid_until(abo, today - timedelta(days=30))
    types.set_valid_until(expired, today - timedelta(days=2))
    args = ["daily", "--venue", str(world.venue_id), "--database-url", db_url]

    first = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "done: renewed 1, deleted 1, skipped 0" in first.output
    assert types.valid_until(abo) == add_months(today - timedelta(days=30), 12)

    again = runner.invoke(app, args)

    assert again.exit_code == 0, again.output
    assert "was already done (renewed 1, deleted 1, skipped 0); nothing changed" in again.output
    assert types.valid_until(abo) == add_months(today - timedelta(days=30), 12)
    world.assert_ledger_clean()


def test_daily_reruns_a_past_day_and_refuses_a_future_one(world: World, db_url: str) -> None:
    types = create_types(world)
    abo = types.sell(types.subscription, "CLI1")
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    past = today - timedelta(days=10)
    types.set_valid_until(abo, past)
    base = ["daily", "--venue", str(world.venue_id), "--database-url", db_url]

    future = runner.invoke(app, [*base, "--day", (today + timedelta(days=2)).isoformat()])
    assert future.exit_code == 2
    assert "has not begun" in future.output

    rerun = runner.invoke(app, [*base, "--day", past.isoformat()])
    assert rerun.exit_code == 0, rerun.output
    assert f"for {past.isoformat()} done: renewed 1" in rerun.output


def test_daily_help_names_its_options() -> None:
    result = runner.invoke(app, ["daily", "--help"])
    assert result.exit_code == 0
    for option in ("--venue", "--day", "--batch-size", "--database-url"):
        assert option in result.output
