"""Scale (`make scale`): a generated chain of 1,000,000 media, the sale and gate benchmarks on it and on a
small database in the same run, the card-float report, the daily job, `tapzone check` and server memory.

Why this benchmark exists
-------------------------
Whether tapzone stays fast when a chain has run for a while is a question of what grows: postings, journal
entries, card accounts, media. Per engine this script, in one run:

1. generates a small chain (`--small-media`, same shape per medium) and the big one (`--media` media and
   `--postings` postings on PostgreSQL, `--sqlite-postings` on SQLite) with scale_rows.py / scale_load.py:
   the application's set-up functions for the venues, then bulk rows (COPY on PostgreSQL) with hashes from
   the application's own chain functions;
2. on each: the sale benchmark of bench/http_booking.py (tills of every venue, each selling to its venue's
   funded media, chosen uniformly) and the gate benchmark of bench/gate_taps.py (lanes of every venue, its
   spent media in random order), against one API server per database, the open loops at the same rate on
   both databases (half the small database's closed-loop rate); then the API server's memory (RSS of the
   server and its workers). Both databases are generated first and benchmarked in alternating rounds
   (`--rounds`, order small, big, big, small, …) so a machine growing busier or quieter during the run
   weighs on both alike; p99 is the mean over the rounds, and each round's figure is printed too;
3. on the big one: the card-float report of every venue (median of 5, in-process), the daily job of
   every venue (10 % due: funded accounts renew with a fee from the card, spent ones are deleted; each
   venue's job in a process of its own, `--daily-jobs` at once on PostgreSQL, in turn on SQLite), and
   `tapzone check` (the CLI, timed per check) over the whole database;
4. prints a table with the ratios big ÷ small and writes var/scale/summary.json.

Targets (issue 9): sale and gate p99 within 1.2× of the small database, card float ≤ 100 ms, daily job
≤ 60 s, check clean. PostgreSQL scratch databases are dropped WITH (FORCE) at the end, also on error,
unless `--keep` (the big one is then left for inspection, its URL printed).

Usage:
    .venv/bin/python bench/scale.py [--media 1000000] [--postings 20000000] [--engines pg,sqlite] [--keep]
    .venv/bin/python bench/scale.py --engines pg --load-only --keep   # only generate; the big one's URL is printed
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import psycopg
from psycopg import sql
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

import gate_taps
import http_booking
import loadgen
import scale_load
import scratch
from scale_rows import Shape, expected_totals
from scale_setup import Chain, build_chain
from tapzone.clock import FixedClock
from tapzone.plans.daily_job import run_daily
from tapzone.reports.card_float import read_card_float
from tapzone.store.db import make_engine
from tapzone.store.migrate import upgrade
from tapzone.store.uow import UnitOfWork
from tapzone.venues.repo import load_venue

ROOT = Path(__file__).resolve().parent.parent
OUT_PATH = ROOT / "var" / "scale" / "summary.json"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TIMEZONE = "Europe/Berlin"

out = Console(width=140, highlight=False)
log = Console(stderr=True, width=140, highlight=False)


# --------------------------------------------------------------------------- databases


@contextlib.contextmanager
def database(kind: str, admin_url: str, label: str, keep: bool) -> Iterator[str]:
    """A new database; dropped (PostgreSQL: WITH (FORCE)) or removed afterwards, also on error, unless kept."""
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix=f"tapzone_scale_{label}_", dir=ROOT / "var" if keep else None)
        try:
            yield f"sqlite:///{directory}/scale.db"
        finally:
            if not keep:
                shutil.rmtree(directory, ignore_errors=True)
        return
    name = f"tapzone_scale_{label}_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield scratch.with_database(admin_url, name)
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(drop)


def database_bytes(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]


def generate(kind: str, url: str, shape: Shape, workers: int) -> tuple[Chain, dict[str, Any]]:
    """Migrate, set up the chain, load the rows; returns the chain and what the load took."""
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    engine = scratch.setup_engine(url)
    try:
        upgrade(engine)
        chain = build_chain(engine, shape)
        figures["setup_s"] = round(time.perf_counter() - started, 1)
        expected = expected_totals(shape, chain.setups)
        steps = (
            scale_load.pg_schema_steps(url)
            if kind == "pg"
            else scale_load.sqlite_schema_steps(url.removeprefix("sqlite:///"))
        )
        report = scale_load.LoadReport()
        with Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=log,
        ) as bar:
            tasks = {
                "media": bar.add_task(f"{kind}: media and card accounts", total=expected.media),
                "postings": bar.add_task(f"{kind}: postings (journal)", total=expected.postings),
                "schema": bar.add_task(f"{kind}: indexes and constraints", total=steps),
            }

            def advance(task: str, done: int) -> None:
                bar.advance(tasks[task], done)

            started = time.perf_counter()
            if kind == "pg":
                scale_load.load_pg(url, engine, shape, chain.setups, advance, report, workers=workers)
            else:
                scale_load.load_sqlite(url.removeprefix("sqlite:///"), engine, shape, chain.setups, advance, report)
        figures["load_s"] = round(time.perf_counter() - started, 1)
    finally:
        engine.dispose()
    figures["load_steps_s"] = report.steps
    figures["rows"] = report.rows
    figures["expected_postings"] = expected.postings
    figures["db_bytes"] = database_bytes(url)
    if report.rows.get("postings") != expected.postings or report.rows.get("media") != expected.media:
        raise RuntimeError(f"wrote {report.rows}, expected {expected}")
    return chain, figures


# --------------------------------------------------------------------------- benchmarks on one database


@dataclass
class DbResult:
    """Everything measured on one database; the benchmarks run in rounds, alternating with the other database."""

    label: str
    media: int
    postings: int
    figures: dict[str, Any] = field(default_factory=dict)
    rounds: list[tuple[http_booking.EngineReport, gate_taps.EngineReport]] = field(default_factory=list)

    @property
    def sale(self) -> http_booking.EngineReport | None:
        return self.rounds[-1][0] if self.rounds else None

    @property
    def gate(self) -> gate_taps.EngineReport | None:
        return self.rounds[-1][1] if self.rounds else None

    def p_rounds(self, which: str, q: float) -> list[float]:
        """The open loop's percentile in each round."""
        reports = [sale if which == "sale" else gate for sale, gate in self.rounds]
        return [report.phase("open loop").result.percentile_ms(q) for report in reports]

    def p(self, which: str, q: float) -> float:
        """The mean over the rounds: small and big ran in the order small, big, big, small, …, so a machine
        that grows busier or quieter during the run weighs on both alike."""
        return statistics.fmean(self.p_rounds(which, q))

    def errors(self) -> int:
        return sum(sale.errors + sum(phase.errors for phase in gate.phases) for sale, gate in self.rounds)


def sale_target(shape: Shape, chain: Chain) -> tuple[list[tuple[int, str]], list[loadgen.Mix]]:
    """Every till of the chain, each selling to its own venue's funded media (uniformly)."""
    tills, mixes = [], []
    for v, setup in enumerate(chain.setups):
        funded = [shape.uid(v, m) for m in range(shape.media_of_venue(v)) if shape.funded(m)]
        mix = loadgen.Mix(funded, [product for product, _, _ in setup.products], currency=shape.currency)
        for till in setup.tills:
            tills.append((till, chain.till_tokens[till]))
            mixes.append(mix)
    return tills, mixes


def gate_target(shape: Shape, chain: Chain, seed: int, part: int = 0, parts: int = 1) -> gate_taps.GateVenue:
    """Every lane of the chain; each venue's spent media, shuffled, dealt to its lanes. Round `part` of
    `parts` gets its own share of them: a round ends with visitors inside, whose next entry would be refused."""
    rng = random.Random(seed)
    entrances, exits, media = [], [], []
    for v in range(len(chain.setups)):
        spent = [shape.uid(v, m) for m in range(shape.media_of_venue(v)) if not shape.funded(m)]
        rng.shuffle(spent)
        share = spent[part::parts]
        lanes = len(chain.entrances[v])
        entrances.extend(chain.entrances[v])
        exits.extend(chain.exits[v])
        media.extend(share[k::lanes] for k in range(lanes))
    return gate_taps.GateVenue(entrances, exits, media)


def server_memory(pid: int) -> dict[str, Any]:
    """RSS of the API server process and its workers (uvicorn --workers forks them)."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    rss = [process.memory_info().rss for process in processes]
    return {"rss_total_mb": round(sum(rss) / 2**20, 1), "rss_per_process_mb": [round(r / 2**20, 1) for r in rss]}


def run_benchmarks(
    kind: str, url: str, shape: Shape, chain: Chain, args: argparse.Namespace, result: DbResult, rates: dict[str, float]
) -> None:
    """Sale and gate phases against one API server, then its memory."""
    workers = args.pg_workers if kind == "pg" else 1
    sale_args = argparse.Namespace(
        timeout=args.sale_timeout, seed=args.seed, warmup=args.warmup, duration=args.sale_duration, open_fraction=0.5
    )
    gate_args = argparse.Namespace(
        timeout=args.gate_timeout,
        auto_unbind=False,
        warmup=args.warmup,
        closed=args.gate_closed,
        rate=None,
        open_fraction=0.5,
        duration=args.gate_duration,
    )
    tills, mixes = sale_target(shape, chain)
    round_no = len(result.rounds) + 1
    with (
        tempfile.TemporaryDirectory(prefix="tapzone_scale_logs_") as logs,
        http_booking.api_server(url, workers, Path(logs)) as server,
    ):
        sale = http_booking.EngineReport(kind, server_workers=workers)
        log.print(f"[bold]{kind} {result.label}[/bold] round {round_no}: sale benchmark, {len(tills)} tills")
        http_booking.sale_phases(sale, server, url, tills, mixes, sale_args, open_rate_per_s=rates.get("sale"))
        gate = gate_taps.EngineReport(kind, workers=workers, media=shape.media // 2)
        log.print(
            f"[bold]{kind} {result.label}[/bold] round {round_no}: gate benchmark, "
            f"{2 * shape.lanes_per_venue * shape.venues} gates"
        )
        venue = gate_target(shape, chain, args.seed, part=round_no - 1, parts=args.rounds)
        gate_taps.gate_phases(gate, server, url, venue, gate_args, rate_per_s=rates.get("gate"))
        result.figures["server_memory"] = server_memory(server.proc.pid)
    result.rounds.append((sale, gate))
    # Every later open loop, on either database, runs at the rates of the first small round, so the p99s
    # are comparable.
    rates.setdefault("sale", sale.phase("open loop").result.target_rate or 1.0)
    rates.setdefault("gate", gate.phase("open loop").target_rate or 1.0)


def card_float_ms(url: str, chain: Chain) -> dict[str, Any]:
    """The card-float report of every venue as of now: median of 5 runs each, in-process (the report's own
    query, without HTTP), and the total it found."""
    engine = make_engine(url)
    uow = UnitOfWork(engine)
    per_venue, totals = [], {}
    try:
        for setup in chain.setups:
            times = []
            for _ in range(5):
                with uow.transaction() as tx:
                    venue = load_venue(tx, setup.venue.id)
                    started = time.perf_counter()
                    report = read_card_float(tx, venue)
                    times.append((time.perf_counter() - started) * 1000)
            per_venue.append(statistics.median(times))
            with uow.transaction() as tx:  # untimed: the cross-check reads every card account of the venue
                checked = read_card_float(tx, load_venue(tx, setup.venue.id), cross_check=True)
            totals[setup.venue.id] = (report.total_minor, checked.total_minor, checked.card_side_total_minor)
    finally:
        engine.dispose()
    return {
        "card_float_ms_max": round(max(per_venue), 1),
        "card_float_ms_per_venue": [round(t, 1) for t in per_venue],
        "card_float_matches_card_side": all(a == b == c for a, b, c in totals.values()),
    }


def _daily_of_venue(url: str, venue_id: int, moment: datetime) -> tuple[int, int, int, float]:
    """One venue's daily job in a process of its own, as its own `tapzone daily --venue` would run."""
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        run = run_daily(UnitOfWork(engine, clock=FixedClock(moment)), venue_id)
    finally:
        engine.dispose()
    return run.renewed, run.deleted, run.skipped, time.perf_counter() - started


def daily_job(kind: str, url: str, shape: Shape, chain: Chain, jobs: int) -> dict[str, Any]:
    """The daily job of every venue on the run day (03:00 venue time); counts against the shape.

    A chain runs one job per venue, and they touch disjoint rows, so on PostgreSQL `jobs` of them run at
    once, as the venues' schedulers would start them; SQLite has one writer, so its venues go in turn."""
    expected = expected_totals(shape, chain.setups)
    moment = datetime.combine(shape.run_day, clock_time(3), tzinfo=ZoneInfo(shape.timezone)).astimezone(UTC)
    jobs = jobs if kind == "pg" else 1
    renewed = deleted = skipped = 0
    per_venue: list[float] = []
    started = time.perf_counter()
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        runs = [pool.submit(_daily_of_venue, url, setup.venue.id, moment) for setup in chain.setups]
        for run in runs:
            venue_renewed, venue_deleted, venue_skipped, seconds = run.result()
            renewed, deleted, skipped = renewed + venue_renewed, deleted + venue_deleted, skipped + venue_skipped
            per_venue.append(round(seconds, 1))
    return {
        "daily_job_s": round(time.perf_counter() - started, 2),
        "daily_jobs_at_once": jobs,
        "daily_job_s_per_venue": per_venue,
        "daily_accounts": shape.media,
        "daily_due": expected.due_renew + expected.due_delete,
        "daily_renewed": renewed,
        "daily_deleted": deleted,
        "daily_skipped": skipped,
        "daily_counts_match": (renewed, deleted, skipped) == (expected.due_renew, expected.due_delete, 0),
    }


def tapzone_check(url: str) -> dict[str, Any]:
    """`tapzone check` as an operator runs it, timed per check from its streamed output."""
    command = [str(Path(sys.executable).parent / "tapzone"), "check", "--database-url", url]
    started = last = time.perf_counter()
    per_check: dict[str, float] = {}
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter()
            lines.append(line.rstrip())
            if line[:1] in "✓✗":
                per_check[line[2:].strip()] = round(now - last, 2)
                log.print(f"  check: {line.rstrip()} ({now - last:.1f} s)")
                last = now
    return {
        "check_s": round(time.perf_counter() - started, 1),
        "check_clean": proc.returncode == 0,
        "check_per_check_s": per_check,
        "check_output_tail": lines[-5:] if proc.returncode else [],
    }


@dataclass
class Prepared:
    """A generated database, ready for the benchmarks."""

    result: DbResult
    shape: Shape
    chain: Chain
    url: str


def prepare(kind: str, label: str, shape: Shape, args: argparse.Namespace, stack: contextlib.ExitStack) -> Prepared:
    """Create and generate one database; it lives (and is dropped) with `stack`."""
    big = label == "big"
    result = DbResult(label, shape.media, 0)
    url = stack.enter_context(database(kind, args.pg_url, label, keep=args.keep and big))
    log.print(f"[bold]{kind} {label}[/bold]: generating {shape.media:,} media, {shape.postings:,} postings …")
    chain, figures = generate(kind, url, shape, args.load_workers)
    result.figures.update(figures)
    result.postings = figures["rows"]["postings"]
    log.print(f"  {kind} {label}: loaded in {figures['load_s']} s, {figures['db_bytes'] / 2**30:.2f} GiB")
    if args.load_only:
        expected = expected_totals(shape, chain.setups)
        out.print(
            f"{kind} {label}: daily job on {shape.run_day} (03:00 {shape.timezone}) should renew "
            f"{expected.due_renew:,} and delete {expected.due_delete:,}"
        )
    if args.keep and big:
        out.print(f"kept: {url}")
    return Prepared(result, shape, chain, url)


def measure(kind: str, args: argparse.Namespace) -> tuple[DbResult, DbResult] | None:
    """Generate both databases, benchmark them in alternating rounds (small, big, big, small, …), then the
    big one's report, daily job and check. None when only generating."""
    postings = args.postings if kind == "pg" else args.sqlite_postings
    per_medium = postings / args.media
    rates: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        small_shape = shape_for(args, args.small_media, round(per_medium * args.small_media))
        small = prepare(kind, "small", small_shape, args, stack)
        big = prepare(kind, "big", shape_for(args, args.media, postings), args, stack)
        if args.load_only:
            return None
        if not args.skip_benchmarks:
            for n in range(args.rounds):
                for db in (small, big) if n % 2 == 0 else (big, small):
                    run_benchmarks(kind, db.url, db.shape, db.chain, args, db.result, rates)
        big.result.figures.update(card_float_ms(big.url, big.chain))
        big.result.figures.update(daily_job(kind, big.url, big.shape, big.chain, args.daily_jobs))
        if not args.skip_check:
            big.result.figures.update(tapzone_check(big.url))
        return small.result, big.result


# --------------------------------------------------------------------------- printing


def _ms(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "∞"


def engine_summary(small: DbResult, big: DbResult) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for db in (small, big):
        entry: dict[str, Any] = {"media": db.media, "postings": db.postings, **db.figures}
        for which in ("sale", "gate"):
            reports = [sale if which == "sale" else gate for sale, gate in db.rounds]
            if reports:
                entry[which] = [report.summary() for report in reports]
                entry[f"{which}_p99_ms_per_round"] = [round(p, 1) for p in db.p_rounds(which, 99)]
        summary[db.label] = entry
    if small.rounds and big.rounds:
        for which in ("sale", "gate"):
            small_p99, big_p99 = small.p(which, 99), big.p(which, 99)
            finite = math.isfinite(big_p99) and math.isfinite(small_p99) and small_p99 > 0
            ratio = big_p99 / small_p99 if finite else None
            summary[f"{which}_p99_ratio"] = round(ratio, 3) if ratio is not None else None
    return summary


def print_table(kind: str, small: DbResult, big: DbResult, summary: dict[str, Any]) -> None:
    table = Table(title=f"{kind}: small ({small.media:,} media) vs big ({big.media:,} media)", title_justify="left")
    for column in ("figure", "small", "big", "ratio / target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    table.add_row("postings", f"{small.postings:,}", f"{big.postings:,}", "")
    table.add_row("load s", str(small.figures["load_s"]), str(big.figures["load_s"]), "")
    table.add_row(
        "database GiB", f"{small.figures['db_bytes'] / 2**30:.2f}", f"{big.figures['db_bytes'] / 2**30:.2f}", ""
    )
    if small.sale is not None and big.sale is not None and small.gate is not None and big.gate is not None:
        for which in ("sale", "gate"):
            ratio = summary.get(f"{which}_p99_ratio")
            verdict = (
                "—"
                if ratio is None
                else f"{ratio:.2f}× " + ("[green]≤ 1.2[/green]" if ratio <= 1.2 else "[red]> 1.2[/red]")
            )
            rate = (
                small.sale.phase("open loop").result.target_rate
                if which == "sale"
                else small.gate.phase("open loop").target_rate
            )
            table.add_row(
                f"{which} open loop @ {rate:.0f}/s p50 ms", _ms(small.p(which, 50)), _ms(big.p(which, 50)), ""
            )
            table.add_row(
                f"{which} open loop p99 ms (mean of rounds)", _ms(small.p(which, 99)), _ms(big.p(which, 99)), verdict
            )
        for which in ("sale", "gate"):
            table.add_row(
                f"{which} p99 ms per round",
                ", ".join(_ms(p) for p in small.p_rounds(which, 99)),
                ", ".join(_ms(p) for p in big.p_rounds(which, 99)),
                "",
            )
        table.add_row("errors (sale + gate)", str(small.errors()), str(big.errors()), "0")
        table.add_row(
            "server RSS MB (total)",
            str(small.figures["server_memory"]["rss_total_mb"]),
            str(big.figures["server_memory"]["rss_total_mb"]),
            "reported",
        )
    f = big.figures
    if "card_float_ms_max" in f:
        ok = f["card_float_ms_max"] <= 100
        table.add_row("card float ms (slowest venue)", "", f"{f['card_float_ms_max']}", _met(ok, "≤ 100 ms"))
        ok = f["daily_job_s"] <= 60 and f["daily_counts_match"]
        table.add_row(
            f"daily job s ({f['daily_due']:,} of {f['daily_accounts']:,} due, {f['daily_jobs_at_once']} at once)",
            "",
            str(f["daily_job_s"]),
            _met(ok, "≤ 60 s"),
        )
        if "check_s" in f:
            table.add_row("tapzone check s", "", str(f["check_s"]), _met(f["check_clean"], "clean"))
    out.print(table)


def _met(ok: bool, target: str) -> str:
    return ("[green]met[/green] " if ok else "[red]missed[/red] ") + target


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("TAPZONE_TEST_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--engines", default="pg,sqlite", help="comma-separated: pg, sqlite (default %(default)s)")
    parser.add_argument("--media", type=int, default=1_000_000, help="media and card accounts (default %(default)s)")
    parser.add_argument("--postings", type=int, default=20_000_000, help="postings on PostgreSQL (default %(default)s)")
    parser.add_argument(
        "--sqlite-postings", type=int, default=5_000_000, help="postings on SQLite (default %(default)s)"
    )
    parser.add_argument("--small-media", type=int, default=10_000, help="media of the small database, same shape")
    parser.add_argument("--venues", type=int, default=4)
    parser.add_argument("--tills", type=int, default=8, help="tills per venue (default %(default)s)")
    parser.add_argument("--lanes", type=int, default=8, help="gate lanes (entrance + exit) per venue")
    parser.add_argument("--days", type=int, default=60, help="days of history (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the big database (its URL is printed)")
    parser.add_argument("--skip-benchmarks", action="store_true", help="generate, report, daily job and check only")
    parser.add_argument(
        "--load-only", action="store_true", help="generate the databases and stop (with --keep: the big one is left)"
    )
    parser.add_argument(
        "--daily-jobs", type=int, default=2, help="venues' daily jobs at once on PostgreSQL (default %(default)s)"
    )
    parser.add_argument("--skip-check", action="store_true", help="leave out `tapzone check` on the big database")
    parser.add_argument(
        "--rounds", type=int, default=2, help="benchmark rounds per database, alternating (default %(default)s)"
    )
    parser.add_argument("--sale-duration", type=float, default=15, help="seconds per sale closed/open loop")
    parser.add_argument("--sale-timeout", type=float, default=10.0)
    parser.add_argument("--gate-duration", type=float, default=20, help="gate open-loop seconds")
    parser.add_argument("--gate-closed", type=float, default=10, help="gate closed-loop seconds")
    parser.add_argument("--gate-timeout", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--pg-workers", type=int, default=2, help="uvicorn workers on PostgreSQL (SQLite: 1)")
    parser.add_argument("--load-workers", type=int, default=2, help="processes writing the journal on PostgreSQL")
    parser.add_argument("--seed", type=int, default=20260901)
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    args = parser.parse_args(argv)
    args.engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    if set(args.engines) - {"pg", "sqlite"}:
        parser.error(f"unknown engines: {args.engines}")
    return args


def shape_for(args: argparse.Namespace, media: int, postings: int) -> Shape:
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    return Shape(
        media=media,
        postings=postings,
        venues=args.venues,
        tills_per_venue=args.tills,
        lanes_per_venue=args.lanes,
        days=args.days,
        end_day=today - timedelta(days=1),
        run_day=today + timedelta(days=1),
        timezone=TIMEZONE,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    summary: dict[str, Any] = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    ok = True
    for kind in args.engines:
        measured = measure(kind, args)
        if measured is None:
            continue
        small, big = measured
        engine = engine_summary(small, big)
        summary[kind] = engine
        print_table(kind, small, big, engine)
        f = big.figures
        ok = ok and f.get("check_clean", True) and f["daily_counts_match"] and f["card_float_matches_card_side"]
    if args.load_only:
        return 0
    summary["total_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    out.print(f"written to {args.out}; total {summary['total_s']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
