"""Reports as CSV and XLSX read back to the same rows; charts are real PNG and well-formed SVG."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook
from pydantic import BaseModel

from tapzone.reports.card_float import CardFloat
from tapzone.reports.daily_revenue import DailyRevenue
from tapzone.reports.export import SECTION, csv_columns
from tapzone.reports.open_tabs import OpenTabsQuery
from tapzone.reports.service import (
    card_float_report,
    chart,
    daily_revenue_report,
    open_tabs_report,
    tables_of,
    to_csv,
    to_xlsx,
)
from tapzone.reports.shapes import Bars
from tapzone.venues.model import Venue
from tests.reports.activity import DAY_ONE, Activity, build_activity
from tests.world import World

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def reports(world: World) -> tuple[list[BaseModel], Venue]:
    activity: Activity = build_activity(world)
    manager = activity.world.manager
    float_now, venue = card_float_report(world.uow, manager())
    tabs, _ = open_tabs_report(world.uow, manager(), query=OpenTabsQuery())
    revenue, _ = daily_revenue_report(world.uow, manager(), day=DAY_ONE)
    return [float_now, tabs, revenue], venue


def _text(value: object) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_csv_reads_back_to_the_report_rows(reports: tuple[list[BaseModel], Venue]) -> None:
    for report in reports[0]:
        tables = tables_of(report)
        parsed = list(csv.DictReader(io.StringIO(to_csv(report).decode("utf-8"))))
        expected = [
            {name: _text(dict(zip(table.columns, row, strict=True)).get(name)) for name in csv_columns(tables)}
            | {SECTION: table.name}
            for table in tables
            for row in table.rows
        ]
        assert parsed == expected
        assert parsed, f"{type(report).__name__} exported no rows"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_xlsx_reads_back_to_the_report_rows(reports: tuple[list[BaseModel], Venue]) -> None:
    found, venue = reports
    for report in found:
        book = load_workbook(io.BytesIO(to_xlsx(report, venue)), read_only=True)
        about = dict(book["report"].iter_rows(values_only=True))
        assert (about["venue"], about["currency"]) == (venue.name, "EUR")
        tables = tables_of(report)
        assert book.sheetnames == ["report", *(table.name for table in tables)]
        for table in tables:
            rows = [list(row) for row in book[table.name].iter_rows(values_only=True)]
            assert rows[0] == table.columns
            assert rows[1:] == table.rows  # integers stay integers: amounts in minor units, exactly


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_charts_are_png_and_svg(reports: tuple[list[BaseModel], Venue]) -> None:
    found, venue = reports
    card_float = next(r for r in found if isinstance(r, CardFloat))
    revenue = next(r for r in found if isinstance(r, DailyRevenue))
    for report, by in ((card_float, "rate"), (revenue, "rate"), (revenue, "product-group")):
        png = chart(report, venue, "png", by)  # type: ignore[arg-type]
        assert png.startswith(PNG_MAGIC)
        svg = ET.fromstring(chart(report, venue, "svg", by))  # type: ignore[arg-type]
        assert svg.tag == f"{SVG}svg"
        texts = [node.text for node in svg.iter(f"{SVG}text")]
        bars = list(svg.iter(f"{SVG}rect"))[1:]  # the first is the white background
        if report is card_float:
            assert {"3 Money card", "4 Ten visits", "none"} <= set(texts)
            assert len(bars) == 3
        elif by == "rate":
            assert {"7 %", "19 %"} <= set(texts)
        else:
            assert {"drinks", "food", "shop", "(topup, no product lines)"} <= set(texts)


def test_an_empty_chart_says_so() -> None:
    from tapzone.reports.charts import render_png, render_svg

    empty = Bars(title="Nothing yet", currency="EUR", language="de", items=[])
    assert render_png(empty).startswith(PNG_MAGIC)
    svg = ET.fromstring(render_svg(empty))
    assert "No data" in [node.text for node in svg.iter(f"{SVG}text")]
    negative = Bars(title="Refunds", currency="EUR", language="en", items=[("a", -500), ("b", 1_250)])
    svg = ET.fromstring(render_svg(negative))
    assert {"-€5.00", "€12.50"} <= {node.text for node in svg.iter(f"{SVG}text")}
