"""`tapzone report …` on a real database: tables on screen, CSV to stdout, XLSX and charts to files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from tapzone.cli import app
from tests.reports.activity import DAY_ONE, build_activity
from tests.world import World

runner = CliRunner()


def test_report_commands_write_every_format(world: World, db_url: str, tmp_path: Path) -> None:
    build_activity(world)
    base = ["--venue", str(world.venue_id), "--database-url", db_url]

    # The command line runs on the real clock; the activity is dated 2026-07-04/05, so ask for its day.
    shown = runner.invoke(app, ["report", "card-float", *base, "--as-of", "2026-07-05"])
    assert shown.exit_code == 0, shown.output
    assert "Money card" in shown.output and "9460" in shown.output

    as_json = runner.invoke(app, ["report", "card-float", *base, "--as-of", "2026-07-04", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["total_minor"] == 7_460

    as_csv = runner.invoke(app, ["report", "open-tabs", *base, "--medium", "E1", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(row["medium_uid"], row["medium_state"], row["amount_minor"]) for row in rows] == [("E1", "lost", "1200")]

    xlsx = tmp_path / "revenue.xlsx"
    written = runner.invoke(
        app, ["report", "daily-revenue", *base, "--day", DAY_ONE.isoformat(), "--format", "xlsx", "--out", str(xlsx)]
    )
    assert written.exit_code == 0, written.output
    sheet = load_workbook(xlsx, read_only=True)["by_rate"]
    # VAT per receipt and rate, rounded half-up: at 7 % 21 + 21 (fries) + 196 (ten visits) + 2 × 118 (entries),
    # at 19 % 144 + 263 + 319 + 144.
    assert [list(row) for row in sheet.iter_rows(values_only=True)][1:] == [
        [700, 7_240 - 474, 474, 7_240],
        [1900, 5_450 - 870, 870, 5_450],
    ]

    png = tmp_path / "float.png"
    drawn = runner.invoke(app, ["report", "chart", "card-float", *base, "--as-of", "2026-07-05", "--out", str(png)])
    assert drawn.exit_code == 0, drawn.output
    assert png.read_bytes().startswith(b"\x89PNG")

    refused = runner.invoke(app, ["report", "daily-revenue", *base, "--format", "xlsx"])
    assert refused.exit_code == 2
    unknown = runner.invoke(app, ["report", "card-float", "--venue", "999", "--database-url", db_url])
    assert unknown.exit_code == 2
    assert "not-found" in unknown.output


def test_report_help_lists_the_reports() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    for name in ("card-float", "open-tabs", "daily-revenue", "chart"):
        assert name in result.output
