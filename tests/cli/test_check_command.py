"""`tapzone check` on a real database: clean after business, exit 1 naming the first corrupted row."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tapzone.access.visits import issue_medium
from tapzone.cli import app
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import cancel_lines, save_items
from tapzone.store.tables import account_balances, audit_log, card_balances, journal_entries, postings
from tests.world import World

runner = CliRunner()


def business(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="CK1", credit_type=CreditType.PREPAID, initial_load=world.eur(3000))
    save_items(world.uow, world.ctx(), medium_uid="CK1", items=[Item(world.beer_id), Item(world.fries_id)])
    cancel_lines(world.uow, world.manager(), medium_uid="CK1", reason="guest changed mind")


def check(db_url: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", "--database-url", db_url])
    return result.exit_code, result.output


def test_check_passes_on_a_clean_ledger(world: World, db_url: str) -> None:
    business(world)
    code, output = check(db_url)
    assert code == 0, output
    assert "ledger check passed" in output


def test_check_names_a_corrupted_card_balance(world: World, db_url: str) -> None:
    business(world)
    with world.uow.engine.begin() as conn:
        conn.execute(card_balances.update().values(balance=card_balances.c.balance + 1))
    code, output = check(db_url)
    assert code == 1
    assert "card account 1 holds 3001 EUR on the card side but its liability postings sum to 3000" in output


def test_check_names_a_corrupted_stored_balance(world: World, db_url: str) -> None:
    business(world)
    with world.uow.engine.begin() as conn:
        conn.execute(
            account_balances.update()
            .where(account_balances.c.bucket == "")
            .values(balance=account_balances.c.balance - 5)
        )
    code, output = check(db_url)
    assert code == 1
    assert "(card-money:ca1:EUR) bucket (card) is stored as -3005 but its postings sum to -3000" in output


def test_check_names_a_tampered_posting(world: World, db_url: str) -> None:
    business(world)
    with world.uow.engine.begin() as conn:
        first_posting = conn.execute(sa.select(sa.func.min(postings.c.id))).scalar_one()
        conn.execute(postings.update().where(postings.c.id == first_posting).values(amount=postings.c.amount + 100))
    code, output = check(db_url)
    assert code == 1
    assert (
        "first difference: [entries balance per unit] journal entry 1 does not sum to zero in EUR: off by 100" in output
    )


def test_check_names_an_unknown_entry_code(world: World, db_url: str) -> None:
    business(world)
    with world.uow.engine.begin() as conn:
        conn.execute(journal_entries.update().values(code="gift"))
    code, output = check(db_url)
    assert code == 1
    assert "journal entry 1 has unknown code 'gift'" in output


def test_check_names_a_tampered_audit_row(world: World, db_url: str) -> None:
    business(world)
    with world.uow.engine.begin() as conn:
        conn.execute(audit_log.update().values(details='{"reason":"nothing happened"}'))
    code, output = check(db_url)
    assert code == 1
    assert "audit row 1 (device 1, seq 1) hash does not match its content" in output


COMMANDS = [
    [],
    ["check"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["serve"],
    ["demo"],
    ["gate-bridge"],
    ["gate-sim"],
    ["venue"],
    ["venue", "create"],
    ["venue", "add-till"],
    ["venue", "add-staff"],
    ["venue", "add-product"],
    ["venue", "add-price-group"],
    ["venue", "set-group-price"],
    ["venue", "add-zone"],
    ["venue", "add-gate"],
    ["venue", "add-entry-product"],
]


@pytest.mark.parametrize("command", [[*command, "--help"] for command in COMMANDS])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_console_script_migrates_and_checks(tmp_path: object) -> None:
    """The installed `tapzone` entry point works end to end on a new SQLite file."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    env = {**os.environ, "TAPZONE_DATABASE_URL": url}
    tapzone = [sys.executable, "-m", "tapzone.cli"]
    upgraded = subprocess.run([*tapzone, "db", "upgrade"], env=env, capture_output=True, text=True, check=False)
    assert upgraded.returncode == 0, upgraded.stderr
    venue = subprocess.run([*tapzone, "venue", "create", "Spa"], env=env, capture_output=True, text=True, check=False)
    assert "venue 1 created" in venue.stdout
    checked = subprocess.run([*tapzone, "check"], env=env, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
