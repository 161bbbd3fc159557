"""`tapzone portal simulate-payment`: the simulated provider's confirmation from the shell credits a pending
online top-up once, like its webhook."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tapzone.access.visits import issue_medium
from tapzone.cli import app
from tapzone.payments.online import SIMULATOR, SimulatorProvider, provider_secret
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import card_balance
from tapzone.portal.access import PortalMedium
from tapzone.portal.keys import SECRET_ENV
from tapzone.portal.topups import start_online_topup
from tapzone.store.tables import media
from tests.world import World

runner = CliRunner()
SECRET = "cli-portal-secret-" + "x" * 32


def test_simulate_payment_credits_a_pending_top_up_once(
    world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    visit = issue_medium(world.uow, world.ctx(), medium_uid="CLI-WEB", credit_type=CreditType.PREPAID)
    with world.uow.engine.connect() as conn:
        medium_id = conn.execute(sa.select(media.c.id).where(media.c.uid == "CLI-WEB")).scalar_one()
    medium = PortalMedium(world.venue_id, medium_id, "CLI-WEB", visit.visit_id, world.uow.clock.now(), "en")
    provider = SimulatorProvider(provider_secret(SECRET.encode(), SIMULATOR))
    top_up = start_online_topup(
        world.uow, medium, uuid.uuid4().hex, amount=world.eur(1800), provider=provider, return_url="https://x.example/"
    )
    args = ["portal", "simulate-payment", top_up.provider_reference, "--database-url", db_url]

    first = runner.invoke(app, args)
    again = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert f"online top-up {top_up.online_top_up_id}: credited" in first.output
    assert again.exit_code == 0 and "nothing changed" in again.output
    with world.uow.transaction() as tx:
        assert card_balance(tx, top_up.card_account_id, "EUR") == 1800
    unknown = runner.invoke(app, ["portal", "simulate-payment", "sim_nothing", "--database-url", db_url])
    assert unknown.exit_code == 1
    world.assert_ledger_clean()
