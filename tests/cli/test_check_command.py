"""`tapzone check` on a real database: clean after business, exit 1 naming the first corrupted row."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tapzone import audit
from tapzone.access.visits import issue_medium
from tapzone.cli import app
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import cancel_lines, save_items
from tapzone.store.tables import (
    account_balances,
    audit_log,
    card_balances,
    journal_entries,
    ledger_accounts,
    postings,
)
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


def busy_till(world: World) -> None:
    """Three journal entries and three audit rows on till 1, so a row can go missing from the middle."""
    business(world)
    for uid in ("CK2", "CK3"):
        issue_medium(
            world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=world.eur(1000)
        )
        save_items(world.uow, world.ctx(), medium_uid=uid, items=[Item(world.beer_id)])
        cancel_lines(world.uow, world.manager(), medium_uid=uid, reason="wrong medium read")
    with world.uow.engine.connect() as conn:
        entries = conn.execute(sa.select(sa.func.count()).select_from(journal_entries)).scalar_one()
        rows = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    assert (entries, rows) == (3, 3)


def entry_of_seq(world: World, seq: int) -> sa.Row[Any]:
    with world.uow.engine.connect() as conn:
        return conn.execute(
            sa.select(journal_entries).where(
                journal_entries.c.device_id == world.till_id, journal_entries.c.device_seq == seq
            )
        ).one()


def test_check_names_a_changed_journal_entry(world: World, db_url: str) -> None:
    busy_till(world)
    second = entry_of_seq(world, 2)
    with world.uow.engine.begin() as conn:  # a memo rewritten after the fact: every sum still agrees
        conn.execute(journal_entries.update().where(journal_entries.c.id == second.id).values(memo="nothing to see"))
    code, output = check(db_url)
    assert code == 1
    assert f"journal entry {second.id} (device {world.till_id}, seq 2) hash does not match its content" in output


def delete_ignoring_references(world: World, db_url: str, entry_id: int) -> None:
    """Remove an entry and its postings as someone with the database's keys would: receipts and holds still
    point at it, so the foreign keys are switched off for that session."""
    delete_postings = f"DELETE FROM postings WHERE entry_id = {int(entry_id)}"
    delete_entry = f"DELETE FROM journal_entries WHERE id = {int(entry_id)}"
    if db_url.startswith("sqlite"):
        raw = sqlite3.connect(sa.engine.make_url(db_url).database or "")  # foreign keys are off by default
        with raw:
            raw.execute(delete_postings)
            raw.execute(delete_entry)
        raw.close()
        return
    with world.uow.engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(delete_postings)
        conn.exec_driver_sql(delete_entry)


def test_check_names_a_deleted_journal_entry(world: World, db_url: str) -> None:
    busy_till(world)
    second, third = entry_of_seq(world, 2), entry_of_seq(world, 3)
    delete_ignoring_references(world, db_url, second.id)
    code, output = check(db_url)
    assert code == 1
    assert (
        f"journal entry {third.id} (device {world.till_id}, seq 3) does not link to its predecessor "
        "(seq 2 missing: deleted)"
    ) in output


def test_check_names_a_deleted_posting(world: World, db_url: str) -> None:
    busy_till(world)
    second = entry_of_seq(world, 2)
    with world.uow.engine.begin() as conn:
        last = conn.execute(sa.select(sa.func.max(postings.c.id)).where(postings.c.entry_id == second.id)).scalar_one()
        conn.execute(postings.delete().where(postings.c.id == last))
    code, output = check(db_url)
    assert code == 1
    assert f"journal entry {second.id} does not sum to zero" in output
    assert f"journal entry {second.id} (device {world.till_id}, seq 2) hash does not match its content" in output


def test_check_names_an_inserted_journal_entry(world: World, db_url: str) -> None:
    """A balanced entry written by hand: its sums agree, only the chain can tell."""
    busy_till(world)
    last = entry_of_seq(world, 3)
    forged = {
        name: value
        for name, value in last._mapping.items()
        if name not in ("id", "idempotency_key", "memo", "device_seq", "prev_hash", "hash")
    }
    with world.uow.engine.begin() as conn:
        lines = conn.execute(sa.select(postings).where(postings.c.entry_id == last.id)).all()
        for seq, hash_ in ((4, "f" * 64), (None, None)):
            entry_id = conn.execute(
                journal_entries.insert()
                .values(
                    **forged, idempotency_key=f"forged-{seq}", memo="", device_seq=seq, prev_hash=last.hash, hash=hash_
                )
                .returning(journal_entries.c.id)
            ).scalar_one()
            conn.execute(
                postings.insert(),
                [{**{k: v for k, v in line._mapping.items() if k != "id"}, "entry_id": entry_id} for line in lines],
            )
    code, output = check(db_url)
    assert code == 1
    assert f"journal entry {last.id + 1} (device {world.till_id}, seq 4) hash does not match its content" in output
    assert f"journal entry {last.id + 2} (device {world.till_id}) is outside its device's hash chain" in output
    assert (
        f"device {world.till_id}'s journal chain ends at seq 4 but the device records seq 3 "
        "(entries after 3 not appended by tapzone)"
    ) in output


def test_check_passes_on_a_busy_till(world: World, db_url: str) -> None:
    """The heads the devices record are the chains' last rows after ordinary business."""
    busy_till(world)
    code, output = check(db_url)
    assert code == 0, output


def test_check_names_the_newest_journal_entry_deleted_with_its_balances(world: World, db_url: str) -> None:
    """The last entry of a chain goes, postings and all, and every balance is taken back with it: each sum
    agrees and every remaining link verifies; only the head the device recorded tells."""
    busy_till(world)
    newest = entry_of_seq(world, 3)
    with world.uow.engine.connect() as conn:
        lines = conn.execute(
            sa.select(
                postings.c.account_id,
                postings.c.bucket,
                postings.c.unit,
                postings.c.amount,
                ledger_accounts.c.card_account_id,
            )
            .join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id)
            .where(postings.c.entry_id == newest.id)
        ).all()
    delete_ignoring_references(world, db_url, newest.id)
    with world.uow.engine.begin() as conn:
        for line in lines:
            conn.execute(
                account_balances.update()
                .where(account_balances.c.account_id == line.account_id, account_balances.c.bucket == line.bucket)
                .values(balance=account_balances.c.balance - line.amount)
            )
            if line.card_account_id is not None:
                conn.execute(
                    card_balances.update()
                    .where(card_balances.c.card_account_id == line.card_account_id, card_balances.c.unit == line.unit)
                    .values(balance=card_balances.c.balance + line.amount)
                )
    code, output = check(db_url)
    assert code == 1
    assert "✓ stored balances equal postings" in output
    assert "✓ card balances equal liabilities" in output
    assert (
        f"device {world.till_id}'s journal chain ends at seq 2 but the device records seq 3 (entries after 2 deleted)"
    ) in output
    assert "does not link to its predecessor" not in output


def test_check_names_a_deleted_audit_row(world: World, db_url: str) -> None:
    busy_till(world)
    with world.uow.engine.begin() as conn:
        rows = conn.execute(sa.select(audit_log.c.id).order_by(audit_log.c.seq)).scalars().all()
        conn.execute(audit_log.delete().where(audit_log.c.id == rows[1]))
    code, output = check(db_url)
    assert code == 1
    assert (
        f"audit row {rows[2]} (device {world.till_id}, seq 3) does not link to its predecessor (seq 2 missing: deleted)"
    ) in output


def test_check_names_an_inserted_audit_row(world: World, db_url: str) -> None:
    busy_till(world)
    with world.uow.engine.begin() as conn:
        last = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).one()
        copied = {k: v for k, v in last._mapping.items() if k not in ("id", "seq", "prev_hash", "hash", "details")}
        inserted = conn.execute(
            audit_log.insert()
            .values(**copied, seq=last.seq + 1, prev_hash=last.hash, hash="0" * 64, details='{"reason":"forged"}')
            .returning(audit_log.c.id)
        ).scalar_one()
    code, output = check(db_url)
    assert code == 1
    assert f"audit row {inserted} (device {world.till_id}, seq 4) hash does not match its content" in output
    assert (
        f"device {world.till_id}'s audit chain ends at seq 4 but the device records seq 3 "
        "(rows after 3 not appended by tapzone)"
    ) in output


def test_check_names_the_newest_audit_row_deleted(world: World, db_url: str) -> None:
    busy_till(world)
    with world.uow.engine.begin() as conn:
        newest = conn.execute(sa.select(audit_log.c.id).order_by(audit_log.c.seq.desc()).limit(1)).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.id == newest))
    code, output = check(db_url)
    assert code == 1
    assert (
        f"device {world.till_id}'s audit chain ends at seq 2 but the device records seq 3 (rows after 2 deleted)"
    ) in output
    assert "does not link to its predecessor" not in output


def test_check_names_a_rewritten_newest_audit_row(world: World, db_url: str) -> None:
    """The newest row changed and its hash computed anew, as someone who read audit.py could: it links and
    verifies, but it is no longer the row whose hash the device recorded."""
    busy_till(world)
    with world.uow.engine.begin() as conn:
        newest = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).one()
        details = '{"reason":"nothing happened"}'
        fields = ("venue_id", "device_id", "seq", "operator_id", "action", "subject", "prev_hash", "recorded_at")
        forged = audit.row_hash(**{name: getattr(newest, name) for name in fields}, details=details)
        conn.execute(audit_log.update().where(audit_log.c.id == newest.id).values(details=details, hash=forged))
    code, output = check(db_url)
    assert code == 1
    assert "hash does not match its content" not in output
    assert (
        f"device {world.till_id}'s audit chain ends at seq 3 but with another hash than the device records "
        "(the last of its rows was replaced)"
    ) in output


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
