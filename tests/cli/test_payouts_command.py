"""`tapzone payouts export` and `batch-xml` on a real database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tapzone.access.visits import issue_medium
from tapzone.cli import app
from tapzone.payouts.requests import request_bank_payout
from tapzone.plans.card_accounts import CreditType
from tests.sepa_schema import pain001_errors
from tests.world import World

runner = CliRunner()


def test_export_writes_the_file_and_a_rerun_finds_nothing(world: World, db_url: str, tmp_path: Path) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="CL1", credit_type=CreditType.PREPAID, initial_load=world.eur(2345))
    request_bank_payout(
        world.uow, world.manager(), medium_uid="CL1", account_holder="Ann Ek", iban="AT611904300234573201"
    )
    out = tmp_path / "payouts.xml"
    args = ["payouts", "export", "--venue", str(world.venue_id), "--database-url", db_url, "--out", str(out)]
    args += ["--debtor-name", "Aquapark Test GmbH", "--debtor-iban", "DE02 1203 0000 0000 2020 51"]

    first = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "1 transfer(s), 23.45 EUR" in first.output
    document = out.read_text(encoding="utf-8")
    assert pain001_errors(document) == []
    assert '<InstdAmt Ccy="EUR">23.45</InstdAmt>' in document

    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "nothing-to-export" in again.output

    copy = tmp_path / "copy.xml"
    batch_id = first.output.split("batch ")[1].split(" ")[0]
    fetch = ["payouts", "batch-xml", "--venue", str(world.venue_id), "--batch", batch_id]
    fetched = runner.invoke(app, [*fetch, "--database-url", db_url, "--out", str(copy)])
    assert fetched.exit_code == 0, fetched.output
    assert copy.read_text(encoding="utf-8") == document
    world.assert_ledger_clean()


def test_a_bad_debtor_iban_is_refused_before_anything_changes(world: World, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "payouts.xml"
    args = ["payouts", "export", "--venue", str(world.venue_id), "--database-url", db_url, "--out", str(out)]
    result = runner.invoke(app, [*args, "--debtor-name", "Aquapark", "--debtor-iban", "DE02120300000000202052"])
    assert result.exit_code == 2
    assert "invalid-iban" in result.output
    assert not out.exists()


def test_payouts_help_names_the_commands_and_options() -> None:
    overview = runner.invoke(app, ["payouts", "--help"])
    assert overview.exit_code == 0
    assert "export" in overview.output and "batch-xml" in overview.output
    export = runner.invoke(app, ["payouts", "export", "--help"])
    assert export.exit_code == 0
    for option in ("--venue", "--debtor-name", "--debtor-iban", "--debtor-bic", "--out"):
        assert option in export.output
