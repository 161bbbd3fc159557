"""`tapzone fiscal tse-info` and `tapzone fiscal export-dsfinvk` on a real database."""

from __future__ import annotations

import zipfile
from pathlib import Path

from typer.testing import CliRunner

from tapzone.cli import app
from tapzone.pos.receipts.model import ReceiptKind, TenderLine
from tests.fiscal.issue import issue, line
from tests.world import World

runner = CliRunner()


def test_tse_info_before_and_after_the_first_signature(world: World, db_url: str) -> None:
    result = runner.invoke(app, ["fiscal", "tse-info", "--venue", str(world.venue_id), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "no TSE yet" in result.output

    receipt = issue(
        world,
        number=1,
        kind=ReceiptKind.PURCHASE,
        lines=[line("Beer", 1, 450, 1900)],
        tenders=[TenderLine(kind="cash", amount_minor=450)],
    )
    assert receipt.fiscal is not None
    result = runner.invoke(app, ["fiscal", "tse-info", "--venue", str(world.venue_id), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert receipt.fiscal.tse_serial in result.output
    assert "ecdsa-plain-SHA256" in result.output
    assert "unixTime" in result.output
    assert "signature counter:   2\n" in result.output
    assert "transaction counter: 1\n" in result.output
    assert receipt.fiscal.public_key in result.output


def test_export_writes_the_zip(world: World, db_url: str, tmp_path: Path) -> None:
    issue(
        world,
        number=1,
        kind=ReceiptKind.PURCHASE,
        lines=[line("Beer", 1, 450, 1900)],
        tenders=[TenderLine(kind="cash", amount_minor=500)],
        change_minor=50,
        business_day=world.uow.clock.now().date(),
    )
    out = tmp_path / "dsfinvk.zip"
    args = ["fiscal", "export-dsfinvk", "--venue", str(world.venue_id), "--day", "2026-07-04", "--out", str(out)]
    result = runner.invoke(app, [*args, "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "written to" in result.output
    with zipfile.ZipFile(out) as archive:
        transactions = archive.read("transactions.csv").decode("utf-8").splitlines()
    assert len(transactions) == 2
    assert ";4,50;" in transactions[1]


def test_export_of_an_unknown_venue_exits_2(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "none.zip"
    args = ["fiscal", "export-dsfinvk", "--venue", "999", "--day", "2026-07-04", "--out", str(out)]
    result = runner.invoke(app, [*args, "--database-url", db_url])
    assert result.exit_code == 2
    assert "not-found" in result.output
    assert not out.exists()


def test_fiscal_help_lists_both_commands() -> None:
    result = runner.invoke(app, ["fiscal", "--help"])
    assert result.exit_code == 0
    assert "tse-info" in result.output
    assert "export-dsfinvk" in result.output
