"""Reports: JSON for screens, CSV and XLSX downloads, bar charts as PNG or SVG (permission `report.view`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from tapzone.api.deps import Uow, Who
from tapzone.errors import NotFound
from tapzone.reports.card_float import CardFloat, parse_as_of
from tapzone.reports.charts import PNG_MEDIA_TYPE, SVG_MEDIA_TYPE
from tapzone.reports.daily_revenue import ChartBy, DailyRevenue
from tapzone.reports.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from tapzone.reports.open_tabs import PAGE_SIZE_MAX, OpenTabs, OpenTabsQuery
from tapzone.reports.service import (
    card_float_report,
    chart,
    daily_revenue_report,
    name_of,
    open_tabs_report,
    to_csv,
    to_xlsx,
)
from tapzone.venues.model import Venue

router = APIRouter(prefix="/reports", tags=["reports"])

Format = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format", description="json, csv or xlsx")]
AsOf = Annotated[
    str | None,
    Query(description="a business day (2026-07-04: its end) or an ISO moment; without offset in venue time"),
]
Day = Annotated[date | None, Query(description="business day, default today in the venue's time zone")]
Till = Annotated[int | None, Query(description="only this till (device id); default every till")]
# Money figures must not linger in shared caches or browser history.
NO_STORE = {"Cache-Control": "no-store"}
_FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA_TYPE.split(";")[0]: {}, XLSX_MEDIA_TYPE: {}}, "description": "the report"}
}
_CHARTS: dict[int | str, dict[str, Any]] = {200: {"content": {PNG_MEDIA_TYPE: {}, SVG_MEDIA_TYPE: {}}}}


def _answer(report: BaseModel, venue: Venue, fmt: str) -> Response:
    if fmt == "json":
        return Response(report.model_dump_json(), media_type="application/json", headers=NO_STORE)
    body, media_type = (to_csv(report), CSV_MEDIA_TYPE) if fmt == "csv" else (to_xlsx(report, venue), XLSX_MEDIA_TYPE)
    disposition = f'attachment; filename="{name_of(report)}.{fmt}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition, **NO_STORE})


@router.get("/card-float", response_model=CardFloat, responses=_FILES)
def get_card_float(
    who: Who,
    uow: Uow,
    as_of: AsOf = None,
    fmt: Format = "json",
    cross_check: Annotated[
        bool, Query(description="also sum the card-side balances (card_side_total_minor); reads every card")
    ] = False,
) -> Response:
    """What the venue owes card holders, by account type and medium kind, as of a moment (seed 004)."""
    report, venue = card_float_report(uow, who.context("read"), as_of=parse_as_of(as_of), cross_check=cross_check)
    return _answer(report, venue, fmt)


@router.get("/open-tabs", response_model=OpenTabs, responses=_FILES)
def get_open_tabs(
    who: Who,
    uow: Uow,
    medium_uid: Annotated[str | None, Query(description="find the tab of this medium, also lost or blocked")] = None,
    min_age_minutes: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    fmt: Format = "json",
) -> Response:
    """Unpaid tabs, oldest first, with visitor, zone, age and amount (seed 001 open card orders)."""
    query = OpenTabsQuery(medium_uid=medium_uid, min_age_minutes=min_age_minutes, limit=limit, offset=offset)
    report, venue = open_tabs_report(uow, who.context("read"), query=query)
    return _answer(report, venue, fmt)


@router.get("/daily-revenue", response_model=DailyRevenue, responses=_FILES)
def get_daily_revenue(who: Who, uow: Uow, day: Day = None, till: Till = None, fmt: Format = "json") -> Response:
    """A business day by VAT rate, product group and tender; value loaded and paid back; deposits held."""
    report, venue = daily_revenue_report(uow, who.context("read"), day=day, till_id=till)
    return _answer(report, venue, fmt)


@router.get("/{report}/chart.{ext}", response_class=Response, responses=_CHARTS)
def get_chart(
    report: str,
    ext: Literal["png", "svg"],
    who: Who,
    uow: Uow,
    as_of: AsOf = None,
    day: Day = None,
    till: Till = None,
    by: Annotated[ChartBy, Query(description="daily revenue: by VAT rate or by product group")] = "rate",
) -> Response:
    """`card-float`: the float by account type; `daily-revenue`: gross revenue by VAT rate or product group."""
    ctx = who.context("read")
    found: CardFloat | DailyRevenue
    if report == "card-float":
        found, venue = card_float_report(uow, ctx, as_of=parse_as_of(as_of))
    elif report == "daily-revenue":
        found, venue = daily_revenue_report(uow, ctx, day=day, till_id=till)
    else:
        raise NotFound(f"no chart for report {report!r}; charts exist for card-float and daily-revenue")
    suffix = f"-{by}" if report == "daily-revenue" else ""
    headers = {"Content-Disposition": f'inline; filename="{name_of(found)}{suffix}.{ext}"', **NO_STORE}
    media_type = PNG_MEDIA_TYPE if ext == "png" else SVG_MEDIA_TYPE
    return Response(chart(found, venue, ext, by), media_type=media_type, headers=headers)
