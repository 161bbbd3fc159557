"""Reports over HTTP: JSON, CSV and XLSX downloads, charts, and the report permission."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree as ET

from openpyxl import load_workbook

from tests.api.conftest import Api, assert_problem

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _activity(api: Api) -> None:
    """Two prepaid wristbands and a credit tab, through the API as a cashier would."""
    api.issue("R1", "prepaid", 5_000)
    api.issue("R2", "prepaid", 2_000)
    api.issue("R3", "credit", 3_000)
    saved = api.post("/media/R1/tab/lines", {"items": [{"product_id": api.world.beer_id, "quantity": 2}]})
    assert saved.status_code == 201, saved.text
    settled = api.post("/media/R1/tab/settlements", {"tenders": [{"kind": "prepaid", **api.eur(900)}]})
    assert settled.status_code == 201, settled.text
    saved = api.post("/media/R3/tab/lines", {"items": [{"product_id": api.world.fries_id, "quantity": 1}]})
    assert saved.status_code == 201, saved.text


def test_reports_as_json_csv_xlsx_and_charts(api: Api) -> None:
    _activity(api)
    float_ = api.get("/reports/card-float?cross_check=true", login="mo")
    assert float_.status_code == 200, float_.text
    assert float_.headers["cache-control"] == "no-store"
    body = float_.json()
    assert body["total_minor"] == 5_000 - 900 + 2_000 == body["card_side_total_minor"]
    assert [(s["key"], s["balance_minor"]) for s in body["by_medium_kind"]] == [("wristband", 6_100)]
    plain = api.get("/reports/card-float", login="mo").json()
    assert (plain["total_minor"], plain["card_side_total_minor"]) == (6_100, None)
    earlier = api.get("/reports/card-float?as_of=2026-07-03", login="mo").json()
    assert (earlier["total_minor"], earlier["day"]) == (0, "2026-07-03")

    download = api.get("/reports/card-float?format=csv", login="mo")
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith('attachment; filename="card-float-')
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["balance_minor"] for row in rows if row["section"] == "total"] == ["6100"]

    tabs = api.get("/reports/open-tabs?format=xlsx&medium_uid=r3", login="mo")
    assert tabs.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert tabs.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(tabs.content), read_only=True)["open_tabs"]
    header, *lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [dict(zip(header, line, strict=True))["amount_minor"] for line in lines] == [320]
    assert api.get("/reports/open-tabs?limit=0", login="mo").status_code == 422

    revenue = api.get("/reports/daily-revenue?day=2026-07-04", login="mo").json()
    assert {r["rate_bp"]: r["gross_minor"] for r in revenue["by_rate"]} == {1900: 900}
    assert revenue["value_flow"]["topup_minor"] == 7_000

    png = api.get("/reports/daily-revenue/chart.png?by=product-group", login="mo")
    assert (png.status_code, png.headers["content-type"]) == (200, "image/png")
    assert png.content.startswith(PNG_MAGIC)
    svg = api.get("/reports/card-float/chart.svg", login="mo")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"
    assert_problem(api.get("/reports/open-tabs/chart.png", login="mo"), 404, "not-found")
    assert_problem(api.get("/reports/card-float?as_of=yesterday", login="mo"), 422, "invalid-request")


def test_a_cashier_may_not_see_reports(api: Api) -> None:
    for path in (
        "/reports/card-float",
        "/reports/open-tabs",
        "/reports/daily-revenue",
        "/reports/card-float?format=csv",
        "/reports/card-float/chart.svg",
    ):
        assert_problem(api.get(path, login="kim"), 403, "permission-denied")
    assert api.get("/reports/card-float", login="ada").status_code == 200  # an admin holds every permission
    assert_problem(api.get("/reports/card-float", login=None), 403, "permission-denied")  # the till alone
