"""Reports on screen: card float and a business day's revenue with their charts, open tabs page by page,
and every report as CSV or XLSX. The charts are SVG from the reports package, drawn by a small route here
that calls the same report use cases (`report.view`) with the reader's language, so a browser session
needs no API token and the chart speaks the screen's language."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from tapzone.errors import InvalidRequest, TapzoneError
from tapzone.i18n import format_moment
from tapzone.reports.card_float import CardFloat
from tapzone.reports.charts import SVG_MEDIA_TYPE, render_svg
from tapzone.reports.daily_revenue import DailyRevenue, rate_label
from tapzone.reports.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from tapzone.reports.open_tabs import OpenTabsQuery
from tapzone.reports.service import card_float_report, daily_revenue_report, name_of, open_tabs_report, to_csv, to_xlsx
from tapzone.reports.shapes import Bars
from tapzone.store.paging import Page
from tapzone.venues.model import Venue
from tapzone.web.office.common import NO_STORE, Office, guarded, office_of, office_page, pager_links, paging
from tapzone.web.render import translate
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
ChartBy = Literal["rate", "group"]


def _day(request: Request) -> date | None:
    text = request.query_params.get("day", "")
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as error:
        raise InvalidRequest("day is a date like 2026-07-04") from error


def _till(request: Request) -> int | None:
    text = request.query_params.get("till", "")
    return int(text) if text.isdigit() else None


def _open_tabs_query(request: Request) -> OpenTabsQuery:
    limit, offset = paging(request)
    age = request.query_params.get("min_age_minutes", "")
    return OpenTabsQuery(
        medium_uid=request.query_params.get("medium_uid") or None,
        min_age_minutes=int(age) if age.isdigit() else None,
        limit=limit,
        offset=offset,
    )


@router.get("/office/reports")
def reports_page(request: Request) -> Response:
    def show(office: Office) -> Response:
        uow, ctx = uow_of(request), office.who.context()
        float_report, _ = card_float_report(uow, ctx)
        revenue, _ = daily_revenue_report(uow, ctx, day=_day(request), till_id=_till(request))
        return office_page(
            request,
            office,
            "office/reports.html",
            title="Card float and revenue",
            card_float=float_report,
            revenue=revenue,
            rate_label=rate_label,
            till=_till(request),
        )

    return guarded(request, show)


@router.get("/office/reports/open-tabs")
def open_tabs_page(request: Request) -> Response:
    def show(office: Office) -> Response:
        report, _ = open_tabs_report(uow_of(request), office.who.context(), query=_open_tabs_query(request))
        page = Page(report.rows, report.total_count, report.limit, report.offset)
        return office_page(
            request,
            office,
            "office/open_tabs.html",
            title="Open tabs",
            report=report,
            page=page,
            links=pager_links(request, page, "/office/reports/open-tabs"),
            medium_uid=request.query_params.get("medium_uid", ""),
            min_age=request.query_params.get("min_age_minutes", ""),
        )

    return guarded(request, show)


def _bars(report: CardFloat | DailyRevenue, language: str, timezone: str, by: ChartBy) -> Bars:
    """The report's bars with the title and the labels of tapzone's own making in the reader's language."""

    def _(message: str, **values: object) -> str:
        return translate(message, language).format(**values)

    if isinstance(report, CardFloat):
        moment = report.day.isoformat() if report.day else format_moment(report.as_of, timezone, language)
        title = _("Card float by account type, as of {moment}", moment=moment)
        items = [(subtotal.key, subtotal.balance_minor) for subtotal in report.by_account_type]
    elif by == "rate":
        title = _("Revenue by VAT rate (gross), {day}", day=report.business_day.isoformat())
        items = [(rate_label(rate.rate_bp), rate.gross_minor) for rate in report.by_rate]
    else:
        title = _("Revenue by product group (gross), {day}", day=report.business_day.isoformat())
        items = [(group.product_group, group.gross_minor) for group in report.by_product_group] + [
            (_("{code} without product lines", code=other.code), other.gross_minor) for other in report.unitemized
        ]
    return Bars(title=title, currency=report.currency, language=language, items=items)


@router.get("/office/reports/{kind}/chart.svg")
def chart(request: Request, kind: str) -> Response:
    office = office_of(request)
    uow, ctx = uow_of(request), office.who.context()
    found: CardFloat | DailyRevenue
    try:
        if kind == "card-float":
            found, _ = card_float_report(uow, ctx)
        elif kind == "daily-revenue":
            found, _ = daily_revenue_report(uow, ctx, day=_day(request), till_id=_till(request))
        else:
            return Response(status_code=404)
    except TapzoneError as error:
        # An <img> cannot show a refusal page: a refused chart answers with its status and no body.
        return Response(status_code=error.status, headers=NO_STORE)
    by: ChartBy = "group" if request.query_params.get("by") == "group" else "rate"
    return Response(
        render_svg(_bars(found, office.who.language, office.timezone, by)), media_type=SVG_MEDIA_TYPE, headers=NO_STORE
    )


@router.get("/office/reports/{kind}.{fmt}")
def download(request: Request, kind: str, fmt: str) -> Response:
    """The report as a file, exactly as the API's `?format=csv|xlsx` writes it (amounts in minor units)."""

    def show(office: Office) -> Response:
        if fmt not in ("csv", "xlsx"):
            return Response(status_code=404)
        uow, ctx = uow_of(request), office.who.context()
        report: BaseModel
        venue: Venue
        if kind == "card-float":
            report, venue = card_float_report(uow, ctx)
        elif kind == "daily-revenue":
            report, venue = daily_revenue_report(uow, ctx, day=_day(request), till_id=_till(request))
        elif kind == "open-tabs":
            report, venue = open_tabs_report(uow, ctx, query=_open_tabs_query(request))
        else:
            return Response(status_code=404)
        body, media_type = (
            (to_csv(report), CSV_MEDIA_TYPE) if fmt == "csv" else (to_xlsx(report, venue), XLSX_MEDIA_TYPE)
        )
        disposition = f'attachment; filename="{name_of(report)}.{fmt}"'
        return Response(body, media_type=media_type, headers={"Content-Disposition": disposition, **NO_STORE})

    return guarded(request, show)
