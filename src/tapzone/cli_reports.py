"""`tapzone report …`: the reports on the command line, as tables on screen or as JSON, CSV, XLSX or a chart.

Whoever runs these on the server already holds the database URL, so no staff sign-in is asked for (as with
`tapzone fiscal export-dsfinvk`). Heavy imports wait inside the commands to keep `tapzone --help` fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from tapzone.errors import TapzoneError
from tapzone.store.db import make_engine

if TYPE_CHECKING:
    from pydantic import BaseModel

    from tapzone.store.uow import Tx
    from tapzone.venues.model import Venue

T = TypeVar("T")

report_app = typer.Typer(
    help="Reports: card float, open tabs, daily revenue — on screen, or as JSON, CSV, XLSX, PNG or SVG.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="TAPZONE_DATABASE_URL", help="SQLAlchemy URL; default ./var/tapzone.db"),
]
VenueId = Annotated[int, typer.Option("--venue", help="id of the venue")]
Out = Annotated[Path | None, typer.Option("--out", help="file to write; default: print to the terminal")]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="a business day (2026-07-04: its end) or an ISO moment; default now"),
]
Day = Annotated[datetime | None, typer.Option("--day", formats=["%Y-%m-%d"], help="business day; default today")]
Till = Annotated[int | None, typer.Option("--till", help="only this till (device id); default every till")]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


Format = Annotated[OutputFormat, typer.Option("--format", help="table (on screen), json, csv or xlsx")]


def _read(database_url: str | None, venue_id: int, read: Callable[[Tx, Venue], T]) -> tuple[T, Venue]:
    from tapzone.reports.service import read_for_venue
    from tapzone.store.uow import UnitOfWork

    engine = make_engine(database_url)
    try:
        return read_for_venue(UnitOfWork(engine), venue_id, read)
    except TapzoneError as error:
        err_console.print(f"[red]{error.type}[/red]: {escape(error.detail)}")
        raise typer.Exit(code=2) from error
    finally:
        engine.dispose()


def _show(report: BaseModel, venue: Venue, fmt: OutputFormat, out: Path | None) -> None:
    from rich.table import Table as RichTable

    from tapzone.reports.service import tables_of, to_csv, to_xlsx

    if fmt is OutputFormat.XLSX and out is None:
        err_console.print("[red]XLSX is a binary file: give --out report.xlsx[/red]")
        raise typer.Exit(code=2)
    content: bytes | None = None
    if fmt is OutputFormat.JSON:
        content = (report.model_dump_json(indent=2) + "\n").encode()
    elif fmt is OutputFormat.CSV:
        content = to_csv(report)
    elif fmt is OutputFormat.XLSX:
        content = to_xlsx(report, venue)
    if content is not None and out is not None:
        out.write_bytes(content)
        err_console.print(f"[green]written to {escape(str(out))}[/green] ({len(content)} bytes)")
        return
    if content is not None:
        sys.stdout.write(content.decode())
        return
    console.print(f"[bold]{escape(venue.name)}[/bold] — amounts in minor units of {venue.currency}")
    for table in tables_of(report):
        shown = RichTable(title=table.name, title_justify="left")
        for name in table.columns:
            shown.add_column(name, justify="right" if name.endswith(("_minor", "quantity", "accounts")) else "left")
        for row in table.rows:
            shown.add_row(*("" if cell is None else escape(str(cell)) for cell in row))
        console.print(shown)


@report_app.command("card-float")
def report_card_float(
    venue: VenueId,
    as_of: AsOf = None,
    fmt: Format = OutputFormat.TABLE,
    out: Out = None,
    cross_check: Annotated[
        bool, typer.Option("--cross-check", help="also sum what the cards themselves hold (reads every card)")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """What the venue owes card holders, by account type and medium kind (seed 004 card float)."""
    from tapzone.reports.card_float import parse_as_of, read_card_float

    moment = _checked(lambda: parse_as_of(as_of))
    report, found = _read(database_url, venue, lambda tx, v: read_card_float(tx, v, moment, cross_check=cross_check))
    _show(report, found, fmt, out)


@report_app.command("open-tabs")
def report_open_tabs(
    venue: VenueId,
    medium: Annotated[str | None, typer.Option("--medium", help="the tab of this medium (also lost/blocked)")] = None,
    min_age: Annotated[int | None, typer.Option("--min-age", min=0, help="only tabs open this many minutes")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="rows per page")] = 1000,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip")] = 0,
    fmt: Format = OutputFormat.TABLE,
    out: Out = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Unpaid tabs, oldest first: age, visitor, zone, amount (seed 001 open card orders)."""
    from tapzone.reports.open_tabs import OpenTabsQuery, read_open_tabs

    query = OpenTabsQuery(medium_uid=medium, min_age_minutes=min_age, limit=limit, offset=offset)
    report, found = _read(database_url, venue, lambda tx, v: read_open_tabs(tx, v, query))
    _show(report, found, fmt, out)
    if fmt is OutputFormat.TABLE and report.total_count > len(report.rows):
        console.print(f"rows {offset + 1}–{offset + len(report.rows)} of {report.total_count}; use --offset")


@report_app.command("daily-revenue")
def report_daily_revenue(
    venue: VenueId,
    day: Day = None,
    till: Till = None,
    fmt: Format = OutputFormat.TABLE,
    out: Out = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A business day by VAT rate, product group and tender; top-ups against unloads; deposits held."""
    from tapzone.reports.daily_revenue import read_daily_revenue

    wanted = day.date() if day else None
    report, found = _read(database_url, venue, lambda tx, v: read_daily_revenue(tx, v, wanted, till))
    _show(report, found, fmt, out)


class ChartReport(StrEnum):
    CARD_FLOAT = "card-float"
    DAILY_REVENUE = "daily-revenue"


class ChartBy(StrEnum):
    RATE = "rate"
    PRODUCT_GROUP = "product-group"


@report_app.command("chart")
def report_chart(
    report: Annotated[ChartReport, typer.Argument(help="card-float or daily-revenue")],
    venue: VenueId,
    out: Annotated[Path, typer.Option("--out", help="PNG or SVG file to write, by its extension")],
    as_of: AsOf = None,
    day: Day = None,
    till: Till = None,
    by: Annotated[ChartBy, typer.Option("--by", help="daily revenue by VAT rate or product group")] = ChartBy.RATE,
    database_url: DatabaseUrl = None,
) -> None:
    """Draw a report's bar chart: the card float by account type, or a day's revenue."""
    from tapzone.reports.card_float import parse_as_of, read_card_float
    from tapzone.reports.daily_revenue import read_daily_revenue
    from tapzone.reports.service import chart

    ext = out.suffix.lower().lstrip(".")
    if ext not in {"png", "svg"}:
        err_console.print("[red]--out must end in .png or .svg[/red]")
        raise typer.Exit(code=2)
    if report is ChartReport.CARD_FLOAT:
        moment = _checked(lambda: parse_as_of(as_of))
        float_report, venue_row = _read(database_url, venue, lambda tx, v: read_card_float(tx, v, moment))
        content = chart(float_report, venue_row, ext)
    else:
        wanted = day.date() if day else None
        revenue, venue_row = _read(database_url, venue, lambda tx, v: read_daily_revenue(tx, v, wanted, till))
        content = chart(revenue, venue_row, ext, "rate" if by is ChartBy.RATE else "product-group")
    out.write_bytes(content)
    err_console.print(f"[green]written to {escape(str(out))}[/green] ({len(content)} bytes)")


def _checked(action: Callable[[], T]) -> T:
    try:
        return action()
    except TapzoneError as error:
        err_console.print(f"[red]{error.type}[/red]: {escape(error.detail)}")
        raise typer.Exit(code=2) from error
