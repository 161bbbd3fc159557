"""Report use cases: each reads in one transaction, after checking `report.view` (managers, support).

`read_for_venue` is the command line's way in: whoever runs `tapzone report` on the server already holds the
database URL, so there is no staff member to check (as with the DSFinV-K export).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.reports import card_float, daily_revenue, open_tabs
from tapzone.reports.card_float import CardFloat
from tapzone.reports.charts import render_png, render_svg
from tapzone.reports.daily_revenue import ChartBy, DailyRevenue
from tapzone.reports.export import csv_bytes, xlsx_bytes
from tapzone.reports.open_tabs import OpenTabs, OpenTabsQuery
from tapzone.reports.shapes import Bars, Table
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, load_venue

T = TypeVar("T")


def _authorised(uow: UnitOfWork, ctx: RequestContext, read: Callable[[Tx, Venue], T]) -> tuple[T, Venue]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.REPORT_VIEW)
        return read(tx, venue), venue


def read_for_venue(uow: UnitOfWork, venue_id: int, read: Callable[[Tx, Venue], T]) -> tuple[T, Venue]:
    with uow.transaction() as tx:
        venue = load_venue(tx, venue_id)
        return read(tx, venue), venue


def card_float_report(
    uow: UnitOfWork, ctx: RequestContext, *, as_of: datetime | date | None = None, cross_check: bool = False
) -> tuple[CardFloat, Venue]:
    """The card float as of a moment or the end of a business day (default: now)."""
    return _authorised(
        uow, ctx, lambda tx, venue: card_float.read_card_float(tx, venue, as_of, cross_check=cross_check)
    )


def open_tabs_report(uow: UnitOfWork, ctx: RequestContext, *, query: OpenTabsQuery) -> tuple[OpenTabs, Venue]:
    """Unpaid tabs oldest first; by a medium's number also when it is lost or blocked (seed 001, seed 004)."""
    return _authorised(uow, ctx, lambda tx, venue: open_tabs.read_open_tabs(tx, venue, query))


def daily_revenue_report(
    uow: UnitOfWork, ctx: RequestContext, *, day: date | None = None, till_id: int | None = None
) -> tuple[DailyRevenue, Venue]:
    """One business day's revenue, tenders, value loaded and paid back, and deposits (default: today)."""
    return _authorised(uow, ctx, lambda tx, venue: daily_revenue.read_daily_revenue(tx, venue, day, till_id))


# --- files --------------------------------------------------------------------------------------------------


def tables_of(report: BaseModel) -> list[Table]:
    if isinstance(report, CardFloat):
        return card_float.tables(report)
    if isinstance(report, OpenTabs):
        return open_tabs.tables(report)
    if isinstance(report, DailyRevenue):
        return daily_revenue.tables(report)
    raise TypeError(f"no tables for {type(report).__name__}")


def kind_of(report: BaseModel) -> str:
    kinds = {CardFloat: "card-float", OpenTabs: "open-tabs", DailyRevenue: "daily-revenue"}
    return kinds[type(report)]


def name_of(report: BaseModel) -> str:
    """The report's file name without extension, e.g. `card-float-1-2026-07-04T1000`."""
    if isinstance(report, CardFloat):
        stamp = report.day.isoformat() if report.day else report.as_of.strftime("%Y-%m-%dT%H%M")
        return f"card-float-{report.venue_id}-{stamp}"
    if isinstance(report, OpenTabs):
        return f"open-tabs-{report.venue_id}-{report.as_of.strftime('%Y-%m-%dT%H%M')}"
    if isinstance(report, DailyRevenue):
        till = f"-till{report.till_id}" if report.till_id is not None else ""
        return f"daily-revenue-{report.venue_id}-{report.business_day.isoformat()}{till}"
    raise TypeError(f"no name for {type(report).__name__}")


def info_of(report: BaseModel, venue: Venue) -> list[tuple[str, str]]:
    """What the XLSX's first sheet says about the report."""
    info = [
        ("report", kind_of(report)),
        ("venue", venue.name),
        ("currency", venue.currency),
        ("amounts", "integers of minor units (cents)"),
    ]
    if isinstance(report, CardFloat):
        info.append(("as of", report.as_of.isoformat()))
    elif isinstance(report, OpenTabs):
        info.append(("as of", report.as_of.isoformat()))
        info.append(("rows", f"{report.offset + 1}–{report.offset + len(report.rows)} of {report.total_count}"))
    elif isinstance(report, DailyRevenue):
        info.append(("business day", report.business_day.isoformat()))
        info.append(("till", "all" if report.till_id is None else str(report.till_id)))
    return info


def to_csv(report: BaseModel) -> bytes:
    return csv_bytes(tables_of(report))


def to_xlsx(report: BaseModel, venue: Venue) -> bytes:
    return xlsx_bytes(tables_of(report), info_of(report, venue))


def bars_of(report: CardFloat | DailyRevenue, venue: Venue, by: ChartBy = "rate") -> Bars:
    if isinstance(report, CardFloat):
        return card_float.bars(report, venue.language)
    return daily_revenue.bars(report, venue.language, by)


def chart(report: CardFloat | DailyRevenue, venue: Venue, fmt: str, by: ChartBy = "rate") -> bytes:
    bars = bars_of(report, venue, by)
    return render_png(bars) if fmt == "png" else render_svg(bars)
