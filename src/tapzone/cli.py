"""Command line: `tapzone db upgrade`, `tapzone check`, and venue set-up commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from tapzone import __version__
from tapzone.cli_portal import portal_app
from tapzone.cli_reports import report_app
from tapzone.errors import TapzoneError
from tapzone.store.db import make_engine

app = typer.Typer(
    help="tapzone: cards and wristbands for leisure venues — gates, tabs, prepaid value, exact ledger.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
venue_app = typer.Typer(help="Set up a venue: tills, staff, products, price groups.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(venue_app, name="venue")
fiscal_app = typer.Typer(help="Fiscal signing (TSE) and the DSFinV-K export.", no_args_is_help=True)
app.add_typer(fiscal_app, name="fiscal")
app.add_typer(report_app, name="report")
app.add_typer(portal_app, name="portal")
payouts_app = typer.Typer(help="Bank payouts of leftover card value: SEPA credit transfer files.", no_args_is_help=True)
app.add_typer(payouts_app, name="payouts")

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="TAPZONE_DATABASE_URL", help="SQLAlchemy URL; default ./var/tapzone.db"),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"tapzone {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """tapzone command line."""


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None, revision: str = "head") -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    from tapzone.store.migrate import current_revision, upgrade

    engine = make_engine(database_url)
    with console.status(f"migrating {engine.url.render_as_string(hide_password=True)} …"):
        upgrade(engine, revision)
    console.print(f"[green]database at revision {current_revision(engine)}[/green]")


@db_app.command("current")
def db_current(database_url: DatabaseUrl = None) -> None:
    """Print the schema revision the database is at."""
    from tapzone.store.migrate import current_revision

    console.print(current_revision(make_engine(database_url)) or "empty database (no revision)")


@app.command("check")
def check(database_url: DatabaseUrl = None) -> None:
    """Re-derive every balance from the postings and verify the ledger; exit 1 naming the first difference."""
    from tapzone.ledger.check import CHECKS, Finding, run_checks

    engine = make_engine(database_url)
    # Every check reads one snapshot, so what tills commit meanwhile cannot look like a difference (postings
    # without their balances, a chain longer than the head its device records). SQLite's transaction is one
    # already (BEGIN IMMEDIATE); PostgreSQL's default gives each statement its own.
    snapshot = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    findings: list[Finding] = []
    with (
        engine.connect().execution_options(**snapshot) as conn,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True) as bar,
    ):
        task = bar.add_task("checking", total=len(CHECKS))
        for name, found in run_checks(conn):
            bar.update(task, advance=1, description=name)
            findings.extend(found)
            mark = "[red]✗[/red]" if found else "[green]✓[/green]"
            console.print(f"{mark} {name}" + (f" ({len(found)} finding(s))" if found else ""))
    if findings:
        # Findings are plain text with brackets: escape them from rich markup and never wrap them.
        err_console.print(
            f"[bold red]ledger check failed[/bold red]: first difference: {escape(str(findings[0]))}", soft_wrap=True
        )
        for finding in findings[1:20]:
            err_console.print(f"  {escape(str(finding))}", soft_wrap=True)
        if len(findings) > 20:
            err_console.print(f"  … and {len(findings) - 20} more")
        raise typer.Exit(code=1)
    console.print("[bold green]ledger check passed[/bold green]")


@app.command("daily")
def daily(
    venue: Annotated[int, typer.Option("--venue", help="id of the venue whose card accounts are checked")],
    day: Annotated[
        datetime | None,
        typer.Option(
            "--day", formats=["%Y-%m-%d"], help="business day to run, e.g. to rerun a past one; default: today"
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=2_000, help="accounts per transaction")] = 500,
    database_url: DatabaseUrl = None,
) -> None:
    """Renew auto-renew card accounts due today by 12 months and delete expired delete-on-expiry accounts.

    Once per venue and business day. Safe to rerun: a finished day changes nothing, a broken-off one carries on.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn

    from tapzone.plans.daily_job import Progress as DailyProgress
    from tapzone.plans.daily_job import run_daily
    from tapzone.store.rate_limits import purge_expired_counters
    from tapzone.store.uow import UnitOfWork

    engine = make_engine(database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("renewing and deleting", total=None)

            def advance(progress: DailyProgress) -> None:
                bar.update(task, completed=progress.done, total=progress.total)

            run = _run(
                lambda: run_daily(
                    UnitOfWork(engine), venue, day=day.date() if day else None, batch_size=batch_size, on_batch=advance
                )
            )
        # Attempt counters of all venues; cheap, and the daily job is what runs once a day anyway.
        purged = purge_expired_counters(UnitOfWork(engine))
    finally:
        engine.dispose()
    totals = f"renewed {run.renewed}, deleted {run.deleted}, skipped {run.skipped}"
    if run.already_finished:
        console.print(
            f"daily job of venue {venue} for {run.business_day} was already done ({totals}); nothing changed",
            soft_wrap=True,
        )
    else:
        console.print(
            f"[green]daily job of venue {venue} for {run.business_day} done[/green]: {totals}", soft_wrap=True
        )
    console.print(f"expired rate-limit counters purged: {purged}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (PostgreSQL only; SQLite uses 1)")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="log every request: route, status, duration, device, idempotency key")
    ] = True,
    log_format: Annotated[str, typer.Option(help="json: one object per line; text: for a terminal")] = "json",
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (/api/v1) and its docs (/docs); Prometheus metrics at /metrics."""
    import os

    import uvicorn

    from tapzone.logs import LOG_FORMATS, logging_config

    if log_format not in LOG_FORMATS:
        raise typer.BadParameter(f"one of {', '.join(LOG_FORMATS)}", param_hint="--log-format")
    if database_url:
        os.environ["TAPZONE_DATABASE_URL"] = database_url
    log_config = logging_config(log_format)
    if not access_log:
        log_config["loggers"]["tapzone.request"] = {"level": "WARNING"}
    if workers > 1:
        _share_metrics_between_workers()
    console.print(f"tapzone API on http://{host}:{port}/api/v1 — docs at http://{host}:{port}/docs")
    uvicorn.run(
        "tapzone.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # An open entry view keeps its event stream until the browser goes; do not wait for it forever.
        timeout_graceful_shutdown=5,
        access_log=False,  # tapzone's request log replaces uvicorn's (it knows the route, device and key)
        log_config=log_config,
    )


def _share_metrics_between_workers() -> None:
    """Each worker process counts on its own; prometheus-client's multiprocess mode keeps their values in
    files of one fresh directory that every worker's /metrics adds up. Set before the workers start."""
    import atexit
    import os
    import shutil
    import tempfile

    from tapzone.api.metrics import MULTIPROCESS_ENV

    directory = tempfile.mkdtemp(prefix="tapzone-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


@app.command("demo")
def demo(
    database_url: DatabaseUrl = None,
    env_file: Annotated[str, typer.Option(help="where to write shell variables for the curl walk-through")] = (
        "var/demo.env"
    ),
    base_url: Annotated[str, typer.Option(help="URL the API will be served at")] = "http://127.0.0.1:8000",
) -> None:
    """Load a demo venue into an empty, migrated database and print logins, tokens and URLs."""
    from pathlib import Path

    from rich.table import Table

    from tapzone.demo import load_demo
    from tapzone.store.uow import UnitOfWork

    with console.status("loading the demo venue …"):
        venue = _run(lambda: load_demo(UnitOfWork(make_engine(database_url))))
    # Tokens must stay copyable in a narrow terminal: fold them, never cut them with an ellipsis.
    tills = Table("till id", "name", title="Tills")
    tills.add_column("bearer token", overflow="fold")
    for till_id, name, token in venue.tills:
        tills.add_row(str(till_id), name, token)
    gates = Table("gate id", "gate", title="Gates of the paid zone")
    gates.add_column("bearer token", overflow="fold")
    for gate_id, name, token in venue.gates:
        gates.add_row(str(gate_id), name, token)
    tickets = Table("id", "entry ticket", title="Entry products")
    for product_id, name in venue.entry_products:
        tickets.add_row(str(product_id), name)
    staff = Table("login", "role", "password", title="Staff")
    for login, role, password in venue.staff:
        staff.add_row(login, role, password)
    products = Table("id", "product", "price", "VAT", title="Products")
    for product_id, name, price, vat in venue.products:
        products.add_row(str(product_id), name, f"{price / 100:.2f} EUR", f"{vat / 100:g} %")
    devices = Table("device id", "device", title="Solarium devices")
    devices.add_column("bearer token", overflow="fold")
    for device_id, name, token in venue.devices:
        devices.add_row(str(device_id), name, token)
    types = Table("id", "number", "account type", title="Account types (cards for sale)")
    for type_id, number, name in venue.account_types:
        types.add_row(str(type_id), str(number), name)
    for table in (tills, gates, devices, staff, products, tickets, types):
        console.print(table)
    console.print(f"{len(venue.media)} wristbands in stock: {venue.media[0]} … {venue.media[-1]}")
    console.print(f"API: {base_url}/api/v1   docs: {base_url}/docs   screens: {base_url}/pair (paste a till token)")
    path = Path(env_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"export TAPZONE_URL={base_url}/api/v1"]
    lines += [f"export TILL{index}_TOKEN={token}" for index, (_, _, token) in enumerate(venue.tills, start=1)]
    lines += [f"export GATE{gate_id}_TOKEN={token}" for gate_id, _, token in venue.gates]
    lines += [f"export DEVICE{device_id}_TOKEN={token}" for device_id, _, token in venue.devices]
    path.write_text("\n".join(lines) + "\n")
    console.print(f"shell variables for the README walk-through: . {path}")


MqttHost = Annotated[str, typer.Option("--mqtt-host", help="MQTT broker address")]
MqttPort = Annotated[int, typer.Option("--mqtt-port", help="MQTT broker TCP port")]
TopicRoot = Annotated[str, typer.Option("--topic-root", help="first topic level: <root>/<venue>/gates/<gate>/…")]


@app.command("gate-bridge")
def gate_bridge(
    venue_id: Annotated[int, typer.Option("--venue-id", help="the venue whose gates this bridge answers")],
    mqtt_host: MqttHost = "127.0.0.1",
    mqtt_port: MqttPort = 1883,
    client_id: Annotated[
        str | None,
        typer.Option(help="MQTT client id; keep it stable so taps queued while the bridge is down are kept"),
    ] = None,
    topic_root: TopicRoot = "tapzone",
    workers: Annotated[int, typer.Option(min=1, max=64, help="taps decided in parallel")] = 8,
    metrics_port: Annotated[
        int | None, typer.Option(help="serve this bridge's Prometheus metrics on 127.0.0.1:PORT")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Answer gate taps over MQTT: <root>/<venue>/gates/<gate>/tap in, …/decision out (QoS 1).

    Runs until SIGINT or SIGTERM; taps under way are finished first.
    """
    import logging

    from rich.logging import RichHandler

    from tapzone.access.mqtt_bridge import GateBridge
    from tapzone.store.uow import UnitOfWork

    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=err_console)])
    engine = make_engine(database_url)
    uow = UnitOfWork(engine)
    if metrics_port is not None:
        # The bridge decides taps in its own process: its denials are counted here, on loopback only.
        from prometheus_client import start_http_server

        from tapzone.api.metrics import Metrics, watch_unit_of_work

        metrics = Metrics()
        watch_unit_of_work(uow, metrics)
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry)
    bridge = GateBridge(
        uow,
        venue_id,
        host=mqtt_host,
        port=mqtt_port,
        client_id=client_id,
        topic_root=topic_root,
        workers=workers,
    )
    try:
        _run(bridge.run_until_signalled)
    except ConnectionError as error:
        err_console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(code=1) from error
    finally:
        engine.dispose()


@app.command("gate-sim")
def gate_sim(
    venue_id: Annotated[int, typer.Option("--venue-id", help="the venue of the gates")],
    gate: Annotated[list[int], typer.Option("--gate", help="gate device id; repeat for more gates, in order")],
    uid: Annotated[list[str], typer.Option("--uid", help="medium UID to tap; repeat for more media")],
    rate: Annotated[float, typer.Option(help="taps per second")] = 5.0,
    count: Annotated[int, typer.Option(help="taps to send in total")] = 20,
    timeout: Annotated[float, typer.Option(help="seconds until the run stops, answered or not")] = 30.0,
    mqtt_host: MqttHost = "127.0.0.1",
    mqtt_port: MqttPort = 1883,
    topic_root: TopicRoot = "tapzone",
    allow_remote: Annotated[bool, typer.Option(help="allow a broker that is not on this machine")] = False,
    quiet: Annotated[bool, typer.Option(help="print only the summary")] = False,
) -> None:
    """Simulate a turnstile: tap media at gates over MQTT, print each decision and the latencies.

    Each UID passes the gates in the order given (--gate <entrance> --gate <exit>); exit 1: a tap went unanswered.
    """
    from tapzone.access.gate_sim import SimPlan, print_outcome, print_summary, run_sim

    plan = SimPlan(
        venue_id=venue_id,
        gate_ids=tuple(gate),
        uids=tuple(uid),
        rate_per_s=rate,
        count=count,
        timeout_s=timeout,
        host=mqtt_host,
        port=mqtt_port,
        topic_root=topic_root,
        allow_remote=allow_remote,
    )
    try:
        summary = _run(lambda: run_sim(plan, (lambda _: None) if quiet else (lambda o: print_outcome(console, o))))
    except ConnectionError as error:
        err_console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(code=1) from error
    print_summary(console, summary)
    if summary.unanswered:
        raise typer.Exit(code=1)


@app.command("zvt-sim")
def zvt_sim(
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port on 127.0.0.1 (ZVT's usual one)")] = 20007,
    # the terminals' factory default; it guards admin commands, it is not a secret
    password: Annotated[str, typer.Option(help="six-digit terminal password the till must send")] = "000000",  # noqa: S107
    terminal_id: Annotated[str, typer.Option("--terminal-id", help="eight-digit terminal id it reports")] = "52500001",
) -> None:
    """Run a ZVT card-terminal simulator on 127.0.0.1 until Ctrl-C, for the demo and for testing a till.

    By amount in minor units: ending in 13 declined, 14 cancelled by the customer, 15 line lost after approval
    (a pending payment that a status inquiry resolves); anything else approved.
    """
    from tapzone.payments.zvt.simulator import ZvtSimulator

    try:
        simulator = ZvtSimulator("127.0.0.1", port, password=password, terminal_id=terminal_id)
    except (OSError, ValueError) as error:
        err_console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(code=1) from error
    host, bound = simulator.address
    console.print(f"ZVT terminal simulator on {host}:{bound} (terminal id {terminal_id}); Ctrl-C stops it")
    simulator.serve_until_interrupted()


@venue_app.command("create")
def venue_create(
    name: str,
    currency: Annotated[str, typer.Option(help="ISO 4217 code, e.g. EUR")] = "EUR",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Berlin")] = "Europe/Berlin",
    language: Annotated[str, typer.Option(help="en, de, sv or ru")] = "en",
    fiscal_profile: Annotated[str, typer.Option(help="de, ru or generic")] = "generic",
    database_url: DatabaseUrl = None,
) -> None:
    """Create a venue with its default roles; prints its id."""
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.model import FiscalProfile
    from tapzone.venues.setup import create_venue

    uow = UnitOfWork(make_engine(database_url))
    venue_id = _run(
        lambda: create_venue(
            uow,
            name=name,
            currency=currency,
            timezone=timezone,
            language=language,
            fiscal_profile=FiscalProfile(fiscal_profile),
        )
    )
    console.print(f"venue {venue_id} created")


@venue_app.command("add-till")
def venue_add_till(venue_id: int, name: str, database_url: DatabaseUrl = None) -> None:
    """Register a till of the venue; prints its device id."""
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.credentials import issue_device_token
    from tapzone.venues.setup import add_device

    uow = UnitOfWork(make_engine(database_url))
    till_id = _run(lambda: add_device(uow, venue_id, name=name))
    console.print(f"till {till_id} created; its bearer token (shown once): {issue_device_token(uow, till_id)}")


@venue_app.command("add-terminal")
def venue_add_terminal(
    venue_id: int,
    till_id: int,
    name: str,
    kind: Annotated[str, typer.Option(help="standalone, integrated-zvt, none (bank transfer) or simulator")],
    host: Annotated[str | None, typer.Option(help="ZVT terminal address")] = None,
    port: Annotated[int | None, typer.Option(help="ZVT terminal TCP port (default 20007)")] = None,
    password: Annotated[str | None, typer.Option(help="ZVT terminal password, six digits")] = None,
    default: Annotated[bool, typer.Option("--default", help="use it for card tenders that name no terminal")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Configure a card terminal on a till (seed 003); the till's first terminal is its default."""
    from tapzone.payments.model import TerminalKind
    from tapzone.payments.terminals import add_terminal
    from tapzone.store.uow import UnitOfWork

    uow = UnitOfWork(make_engine(database_url))
    terminal_id = _run(
        lambda: add_terminal(
            uow,
            venue_id,
            till_id,
            name=name,
            kind=TerminalKind(kind),
            host=host,
            port=port,
            password=password,
            is_default=default,
        )
    )
    console.print(f"terminal {terminal_id} ({kind}) configured on till {till_id}")


@venue_app.command("add-resource")
def venue_add_resource(
    venue_id: int,
    name: str,
    product_id: Annotated[int, typer.Option(help="the product its usage is booked to (VAT rate, product group)")],
    max_minutes: Annotated[int, typer.Option(help="the longest session the device allows")] = 20,
    database_url: DatabaseUrl = None,
) -> None:
    """Register a service device (sunbed, sauna, fitness area); prints its id and bearer token."""
    from tapzone.plans.setup import add_resource
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.credentials import issue_device_token

    uow = UnitOfWork(make_engine(database_url))
    resource_id = _run(lambda: add_resource(uow, venue_id, name=name, product_id=product_id, max_minutes=max_minutes))
    console.print(
        f"resource {resource_id} created; its bearer token (shown once): {issue_device_token(uow, resource_id)}"
    )


@venue_app.command("add-device")
def venue_add_device(
    venue_id: int,
    name: str,
    kind: Annotated[str, typer.Option(help="kiosk (self-service, no staff) or fingerprint-reader")],
    database_url: DatabaseUrl = None,
) -> None:
    """Register a kiosk or a fingerprint reader; prints its id and bearer token."""
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.credentials import issue_device_token
    from tapzone.venues.model import DeviceKind
    from tapzone.venues.setup import add_device

    allowed = {DeviceKind.KIOSK.value, DeviceKind.FINGERPRINT_READER.value}
    if kind not in allowed:
        err_console.print(
            f"[red]kind must be one of {sorted(allowed)}[/red]; tills, gates and resources have their own commands"
        )
        raise typer.Exit(2)
    uow = UnitOfWork(make_engine(database_url))
    device_id = _run(lambda: add_device(uow, venue_id, name=name, kind=DeviceKind(kind)))
    console.print(f"{kind} {device_id} created; its bearer token (shown once): {issue_device_token(uow, device_id)}")


@venue_app.command("add-staff")
def venue_add_staff(
    venue_id: int,
    name: str,
    login: str,
    role: Annotated[str, typer.Option(help="cashier, gate, manager, support or admin")] = "cashier",
    password: Annotated[
        str | None,
        typer.Option(
            help="sign-in password (min. 8 characters); asked for when omitted",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a staff member with a role and a password; prints the staff id."""
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.credentials import set_password
    from tapzone.venues.setup import add_staff

    uow = UnitOfWork(make_engine(database_url))
    staff_id = _run(lambda: add_staff(uow, venue_id, name=name, login=login, role=role))
    if password:
        _run(lambda: set_password(uow, staff_id, password))
    console.print(f"staff {staff_id} created")


@venue_app.command("add-product")
def venue_add_product(
    venue_id: int,
    name: str,
    price_minor: Annotated[int, typer.Option(help="gross price in minor units, e.g. 450 for 4.50")],
    vat_rate_bp: Annotated[int, typer.Option(help="VAT rate in basis points, e.g. 1900 for 19 %")],
    group: Annotated[str, typer.Option(help="product group, e.g. drinks")] = "general",
    database_url: DatabaseUrl = None,
) -> None:
    """Add a product with a gross price and VAT rate; prints the product id."""
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.setup import create_product

    uow = UnitOfWork(make_engine(database_url))
    product_id = _run(
        lambda: create_product(
            uow, venue_id, name=name, price_minor=price_minor, vat_rate_bp=vat_rate_bp, product_group=group
        )
    )
    console.print(f"product {product_id} created")


@venue_app.command("add-price-group")
def venue_add_price_group(venue_id: int, name: str, database_url: DatabaseUrl = None) -> None:
    """Add a price group (e.g. staff, members): its customers pay the group's prices; prints its id."""
    from tapzone.pos.price_groups import add_price_group
    from tapzone.store.uow import UnitOfWork

    uow = UnitOfWork(make_engine(database_url))
    group_id = _run(lambda: add_price_group(uow, venue_id, name=name))
    console.print(f"price group {group_id} created")


@venue_app.command("set-group-price")
def venue_set_group_price(
    venue_id: int,
    group: Annotated[int, typer.Option(help="id of the price group")],
    product: Annotated[int, typer.Option(help="id of the product (or entry product)")],
    price_minor: Annotated[
        int | None, typer.Option(help="the group's gross price in minor units, e.g. 300 for 3.00")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="remove the group's price: it pays the product's own")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set what a price group pays for a product, or --clear it. Only later sales change."""
    from tapzone.pos.price_groups import configure_group_price
    from tapzone.store.uow import UnitOfWork

    if clear == (price_minor is not None):
        err_console.print("[red]give either --price-minor or --clear[/red]")
        raise typer.Exit(code=2)
    uow = UnitOfWork(make_engine(database_url))
    _run(
        lambda: configure_group_price(
            uow, venue_id, price_group_id=group, product_id=product, price_minor=None if clear else price_minor
        )
    )
    console.print(f"price group {group}: product {product} " + ("cleared" if clear else f"at {price_minor}"))


@venue_app.command("add-zone")
def venue_add_zone(
    venue_id: int,
    name: str,
    service_type: Annotated[str, typer.Option(help="paid (entry ticket, exit tied to the tab) or free")] = "paid",
    database_url: DatabaseUrl = None,
) -> None:
    """Add a zone; a paid zone is entered with an entry product and left only when the tab is settled."""
    from tapzone.access.model import ServiceType
    from tapzone.access.setup import create_zone
    from tapzone.store.uow import UnitOfWork

    uow = UnitOfWork(make_engine(database_url))
    zone_id = _run(lambda: create_zone(uow, venue_id, name=name, service_type=ServiceType(service_type)))
    console.print(f"zone {zone_id} created")


@venue_app.command("add-gate")
def venue_add_gate(
    venue_id: int,
    name: str,
    zone: Annotated[int, typer.Option(help="id of the zone the gate guards")],
    kind: Annotated[str, typer.Option(help="turnstile, validator, collector or mobile")] = "turnstile",
    direction: Annotated[str, typer.Option(help="in, out or both")] = "in",
    open_ms: Annotated[int, typer.Option(help="how long the gate opens for an allowed tap")] = 3000,
    database_url: DatabaseUrl = None,
) -> None:
    """Register a gate guarding a zone; prints its id and its bearer token (shown once)."""
    from tapzone.access.model import Direction
    from tapzone.access.setup import add_gate
    from tapzone.store.uow import UnitOfWork
    from tapzone.venues.credentials import issue_device_token
    from tapzone.venues.model import DeviceKind

    uow = UnitOfWork(make_engine(database_url))
    gate_id = _run(
        lambda: add_gate(
            uow,
            venue_id,
            name=name,
            kind=DeviceKind(kind),
            zone_id=zone,
            direction=Direction(direction),
            open_ms=open_ms,
        )
    )
    console.print(f"gate {gate_id} created; its bearer token (shown once): {issue_device_token(uow, gate_id)}")


@venue_app.command("add-entry-product")
def venue_add_entry_product(
    venue_id: int,
    name: str,
    price_minor: Annotated[int, typer.Option(help="gross ticket price in minor units")],
    zone: Annotated[int, typer.Option(help="id of the paid zone the ticket admits to")],
    credit_type: Annotated[str, typer.Option(help="none, prepaid or credit")] = "none",
    vat_rate_bp: Annotated[int, typer.Option(help="VAT rate in basis points")] = 700,
    credit_limit_minor: Annotated[int, typer.Option(help="credit limit for credit tickets")] = 0,
    included_minutes: Annotated[int | None, typer.Option(help="time included; overstay is charged after")] = None,
    deposit_minor: Annotated[int, typer.Option(help="wristband deposit per medium")] = 0,
    anti_passback: Annotated[str, typer.Option(help="separate or shared (a party as one group)")] = "separate",
    companions: Annotated[int, typer.Option(help="companion media of a family or group ticket")] = 0,
    overstay_product: Annotated[int | None, typer.Option(help="product charged per overstay block")] = None,
    overstay_block_minutes: Annotated[int | None, typer.Option(help="length of one overstay block")] = None,
    overstay_grace_minutes: Annotated[int, typer.Option(help="minutes tolerated before overstay")] = 0,
    database_url: DatabaseUrl = None,
) -> None:
    """Add an entry ticket: price, credit type and limit, time, deposit, anti-passback and party size."""
    from tapzone.access.model import AntiPassback
    from tapzone.access.setup import create_entry_product
    from tapzone.plans.card_accounts import CreditType
    from tapzone.store.uow import UnitOfWork

    uow = UnitOfWork(make_engine(database_url))
    product_id = _run(
        lambda: create_entry_product(
            uow,
            venue_id,
            name=name,
            price_minor=price_minor,
            vat_rate_bp=vat_rate_bp,
            zone_id=zone,
            credit_type=CreditType(credit_type),
            credit_limit_minor=credit_limit_minor,
            included_minutes=included_minutes,
            deposit_minor=deposit_minor,
            anti_passback=AntiPassback(anti_passback),
            companions=companions,
            overstay_product_id=overstay_product,
            overstay_block_minutes=overstay_block_minutes,
            overstay_grace_minutes=overstay_grace_minutes,
        )
    )
    console.print(f"entry product {product_id} created")


@venue_app.command("set-chain")
def venue_set_chain(
    venue_id: int,
    chain: Annotated[str | None, typer.Argument(help="chain name shared by the networked venues")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="take the venue out of its chain")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Put a venue into a chain: venues with the same chain name take over each other's card accounts."""
    from tapzone.plans.chain import set_venue_chain
    from tapzone.store.uow import UnitOfWork

    if clear == (chain is not None):
        err_console.print("[red]give either a chain name or --clear[/red]")
        raise typer.Exit(code=2)
    uow = UnitOfWork(make_engine(database_url))
    name = _run(lambda: set_venue_chain(uow, venue_id, chain))
    console.print(f"venue {venue_id} " + (f"is in chain {escape(name)}" if name else "is in no chain"))


@fiscal_app.command("tse-info")
def fiscal_tse_info(
    venue: Annotated[int, typer.Option("--venue", help="id of the venue")],
    database_url: DatabaseUrl = None,
) -> None:
    """Print the venue's TSE: serial number, signature algorithm, time format, counters and public key."""
    from tapzone.fiscal.tse_sim import signer_info

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            signers = signer_info(conn, venue)
    finally:
        engine.dispose()
    if not signers:
        console.print(f"venue {venue} has no TSE yet; the first signed receipt creates it")
        return
    for signer in signers:
        fields = {
            "serial": signer.serial,
            "signature algorithm": signer.signature_algorithm,
            "time format": signer.time_format,
            "signature counter": signer.signature_counter,
            "transaction counter": signer.transaction_counter,
            "open transactions": signer.open_transactions,
            "public key (base64)": signer.public_key,
            "in use since": signer.created_at.isoformat(timespec="seconds"),
        }
        console.print(f"[bold]TSE {signer.id}[/bold] ({signer.kind})")
        for name, value in fields.items():
            # One unwrapped line per field: serial and key must stay copyable in a narrow terminal.
            console.print(f"  {name + ':':<21}{value}", soft_wrap=True, highlight=False)


@fiscal_app.command("export-dsfinvk")
def fiscal_export_dsfinvk(
    venue: Annotated[int, typer.Option("--venue", help="id of the venue")],
    day: Annotated[datetime, typer.Option("--day", formats=["%Y-%m-%d"], help="business day, e.g. 2026-11-22")],
    out: Annotated[str, typer.Option("--out", help="ZIP file to write, e.g. dsfinvk-2026-11-22.zip")],
    till: Annotated[int | None, typer.Option("--till", help="only this till (device id); default: every till")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the DSFinV-K export of one business day (per till closing) as a ZIP of CSV files and index.xml."""
    from pathlib import Path

    from tapzone.fiscal.dsfinvk import export_day
    from tapzone.store.uow import UnitOfWork

    engine = make_engine(database_url)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True) as bar:
            task = bar.add_task("reading receipts", total=None)
            content = _run(
                lambda: export_day(
                    UnitOfWork(engine),
                    venue,
                    day.date(),
                    till,
                    on_closing=lambda name: bar.update(task, description=f"closing of {name}"),
                )
            )
    finally:
        engine.dispose()
    Path(out).write_bytes(content)
    console.print(f"[green]DSFinV-K export of {day.date()} written to {escape(out)}[/green] ({len(content)} bytes)")


@payouts_app.command("export")
def payouts_export(
    venue: Annotated[int, typer.Option("--venue", help="id of the venue")],
    debtor_name: Annotated[str, typer.Option("--debtor-name", help="the venue's name as its bank knows the account")],
    debtor_iban: Annotated[str, typer.Option("--debtor-iban", help="the venue's account the transfers are paid from")],
    out: Annotated[str, typer.Option("--out", help="XML file to write, e.g. payouts.xml")],
    debtor_bic: Annotated[
        str | None, typer.Option("--debtor-bic", help="the venue bank's BIC; default: looked up from the IBAN")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export every requested bank payout as one SEPA credit transfer file (pain.001.001.09) to upload to the
    bank. The payouts are then exported and can no longer be revoked. Exits 2 when none is waiting."""
    from pathlib import Path

    from tapzone.payouts.batches import batch_document_unattended, export_payouts_unattended
    from tapzone.payouts.model import decimal_amount
    from tapzone.store.uow import UnitOfWork

    engine = make_engine(database_url)
    try:
        batch = _run(
            lambda: export_payouts_unattended(
                UnitOfWork(engine), venue, debtor_name=debtor_name, debtor_iban=debtor_iban, debtor_bic=debtor_bic
            )
        )
        _, document = _run(lambda: batch_document_unattended(UnitOfWork(engine), venue, batch_id=batch.batch_id))
    finally:
        engine.dispose()
    Path(out).write_text(document, encoding="utf-8")
    console.print(
        f"[green]batch {batch.batch_id} ({batch.message_id}) written to {escape(out)}[/green]: "
        f"{batch.count} transfer(s), {decimal_amount(batch.total_minor)} {batch.currency}",
        soft_wrap=True,
    )


@payouts_app.command("batch-xml")
def payouts_batch_xml(
    venue: Annotated[int, typer.Option("--venue", help="id of the venue")],
    batch: Annotated[int, typer.Option("--batch", help="id of the exported batch")],
    out: Annotated[str, typer.Option("--out", help="XML file to write")],
    database_url: DatabaseUrl = None,
) -> None:
    """Write an exported batch's SEPA file again, exactly as it was exported (e.g. when the first copy was lost)."""
    from pathlib import Path

    from tapzone.payouts.batches import batch_document_unattended
    from tapzone.store.uow import UnitOfWork

    engine = make_engine(database_url)
    try:
        message_id, document = _run(lambda: batch_document_unattended(UnitOfWork(engine), venue, batch_id=batch))
    finally:
        engine.dispose()
    Path(out).write_text(document, encoding="utf-8")
    console.print(f"[green]batch {batch} ({message_id}) written to {escape(out)}[/green]", soft_wrap=True)


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except TapzoneError as error:
        err_console.print(f"[red]{error.type}[/red]: {error.detail}")
        raise typer.Exit(code=2) from error


if __name__ == "__main__":  # pragma: no cover
    app()
