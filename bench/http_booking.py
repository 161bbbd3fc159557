"""HTTP booking benchmark: 32 tills against the real API server, next to the bare SQL of one booking.

Why this benchmark exists
-------------------------
A till's tap is an HTTP request that authenticates, runs one use case in one transaction and answers with
JSON. Whether tapzone is fast enough is a question of how much of the database's capacity survives the
trip through uvicorn, FastAPI, pydantic and SQLAlchemy. So, for PostgreSQL and for SQLite, in one run on
the same database server and at the same concurrency, this script measures:

1. HTTP, closed loop: 32 tills, each on its own keep-alive connection, send back-to-back requests for
   `--duration` seconds against 10,000 active prepaid media chosen uniformly: 70 % tab sale
   (`POST /media/{uid}/tab/lines`), 20 % card-balance sale (`POST /media/{uid}/sales`), 10 % top-up
   (`POST /media/{uid}/top-ups`), each with a fresh Idempotency-Key. Bookings per second = 2xx per second.
2. HTTP, open loop at 50 % of that maximum: requests fall due at a fixed rate and latency is measured from
   the due time, so queueing is not hidden; p50 and p99 come from this run. Timeouts and errors count as
   failures (infinitely slow) in every percentile.
3. After each HTTP run the bookings in the database (journal entries and open tab lines created during the
   run) are counted; they must equal the 2xx responses, per kind.
4. SQL baseline: the exact statements of one real tab sale, captured from the application, replayed with
   `pgbench -f` (PostgreSQL) and in an in-process `sqlite3` loop with the application's settings (SQLite):
   see replay.py. `ratio` = HTTP bookings/s ÷ baseline bookings/s.
5. PostgreSQL only, for reference: plain pgbench TPC-B-like at the same concurrency (scale = clients).

The API server runs as a subprocess (`tapzone serve`); every database is new and migrated with
`tapzone.store.migrate.upgrade` (PostgreSQL scratch databases are dropped WITH (FORCE) at the end, also on
error). CPU used by the client, the server and PostgreSQL is sampled around every HTTP phase (cpuwatch.py).

The last line printed is one JSON object: {"pg": {...}, "sqlite": {...}}; it is also written to
var/bench/http.json (summary.py merges it with the gate run's).

Usage:
    .venv/bin/python bench/http_booking.py [--duration 20] [--engines pg,sqlite] [--pg-workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import cpuwatch
import loadgen
import replay
import scratch
from tapzone.store.db import make_engine

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
OUT_PATH = Path(__file__).resolve().parent.parent / "var" / "bench" / "http.json"  # the last line, for summary.py
CORES = os.cpu_count() or 1

out = Console(width=132, highlight=False)
log = Console(stderr=True, width=132, highlight=False)


# --------------------------------------------------------------------------- the API server


@dataclass
class Server:
    """A `tapzone serve` subprocess in its own process group (so it and its workers stop together)."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def api_server(url: str, workers: int, log_dir: Path) -> Iterator[Server]:
    """Start `tapzone serve`, wait until /health answers (bounded), and stop it afterwards, whatever happened."""
    server = launch_server(url, workers, log_dir, free_port())
    try:
        yield server
    finally:
        stop_server(server.proc)


def launch_server(url: str, workers: int, log_dir: Path, port: int) -> Server:
    """Start `tapzone serve` on `port` and return once /health answers (bounded); the caller stops it.

    The log is appended to, so a server restarted on the same port (the soak's crash test) keeps one log."""
    log_path = log_dir / f"server-{port}.log"
    command = [
        str(Path(sys.executable).parent / "tapzone"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--database-url",
        url,
    ]
    with log_path.open("ab") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, port, log_path)
    try:
        wait_ready(server)
    except BaseException:
        stop_server(proc)
        raise
    return server


def wait_ready(server: Server, timeout_s: float = 60) -> None:
    """Return once the server's /health answers; raise if it exits or stays silent for `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(f"tapzone serve exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"tapzone serve did not answer within {timeout_s:.0f} s:\n{server.log_tail()}")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to the server's own process group (uvicorn shuts down gracefully), SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def tills_per_worker(port: int) -> list[int]:
    """How the kernel spread the tills' keep-alive connections over the uvicorn worker processes (via `ss`).

    A till stays on the worker that accepted its connection, so an uneven spread leaves one worker
    overloaded while another idles; printed because it moves the multi-worker figures from run to run.
    """
    ss = shutil.which("ss")
    if ss is None:
        return []
    listing = subprocess.run(
        [ss, "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=False
    ).stdout
    counts = Counter(re.findall(r"pid=(\d+)", listing))
    return sorted(counts.values(), reverse=True)


# --------------------------------------------------------------------------- one engine


@dataclass
class Phase:
    """One HTTP phase with its CPU split and (measured runs) the database count."""

    result: loadgen.PhaseResult
    cpu: cpuwatch.CpuSplit
    booked: scratch.Booked | None = None
    new_db_sessions: int | None = None  # PostgreSQL: sessions opened during the phase (pool churn)

    @property
    def count_matches(self) -> bool:
        if self.booked is None:
            return True
        return self.booked.by_kind() == {kind: self.result.ok_by_kind().get(kind, 0) for kind in loadgen.KINDS} and (
            self.booked.other_entries == 0
        )


@dataclass
class EngineReport:
    """Everything measured for one database engine."""

    engine: str
    setup_s: float = 0.0
    server_workers: int = 1
    tills_per_worker: list[int] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)
    baseline_per_s: float = 0.0
    tpcb_tps: float | None = None
    statements: int = 0
    notes: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase:
        return next(phase for phase in self.phases if phase.result.name == name)

    @property
    def errors(self) -> int:
        return sum(phase.result.errors for phase in self.phases)

    def summary(self) -> dict[str, Any]:
        closed, opened = self.phase("closed loop"), self.phase("open loop")
        http = closed.result.ok_per_s
        p50, p99 = opened.result.percentile_ms(50), opened.result.percentile_ms(99)
        figures: dict[str, Any] = {
            "http_bookings_per_s": round(http, 1),
            "sql_baseline_per_s": round(self.baseline_per_s, 1),
            "ratio": round(http / self.baseline_per_s, 3) if self.baseline_per_s else None,
            "p50_ms": round(p50, 2) if math.isfinite(p50) else None,
            "p99_ms": round(p99, 2) if math.isfinite(p99) else None,
            "open_loop_rate_per_s": round(opened.result.target_rate or 0.0, 1),
            "errors": self.errors,
            "db_count_matches": closed.count_matches and opened.count_matches,
        }
        if self.engine == "pg":
            figures["tpcb_tps"] = round(self.tpcb_tps, 1) if self.tpcb_tps is not None else None
        return figures


def sign_in(runner: Any, conns: Sequence[loadgen.Connection]) -> list[loadgen.Connection]:
    """Open a staff session on every till over HTTP, as a till does at the start of a shift."""

    async def one(conn: loadgen.Connection) -> loadgen.Connection:
        body = json.dumps({"login": scratch.STAFF_LOGIN, "password": scratch.STAFF_PASSWORD}).encode()
        status, payload = await conn.request("POST", "/api/v1/sessions", body, idempotent_write=False)
        if status != 201:
            raise RuntimeError(f"sign-in failed with {status}: {payload[:300]!r}")
        till = loadgen.Till(conn.till.device_id, conn.till.token, json.loads(payload)["session_token"])
        signed = loadgen.Connection(conn.host, conn.port, till)
        conn.close()
        return signed

    async def all_tills() -> list[loadgen.Connection]:
        async with asyncio.timeout(120):
            return list(await asyncio.gather(*(one(conn) for conn in conns)))

    signed: list[loadgen.Connection] = runner.run(all_tills())
    return signed


async def open_all(conns: Sequence[loadgen.Connection]) -> None:
    """Connect the tills one after the other (one health check each), as tills coming online do.

    Not all at once: an asyncio server accepts every pending connection in one go, so 32 simultaneous
    connects all land on whichever uvicorn worker wakes first, and a till stays on its worker for the run.
    """
    async with asyncio.timeout(60):
        for conn in conns:
            await conn.request("GET", "/api/v1/health", b"", idempotent_write=False)
            await asyncio.sleep(0.01)


def http_phases(
    report: EngineReport, url: str, venue: scratch.BenchVenue, args: argparse.Namespace, log_dir: Path
) -> None:
    """Warm-up, closed loop, open loop at half the closed-loop rate; counts checked after each run."""
    mix = loadgen.Mix(venue.uids, [product for product, _ in venue.products])
    with api_server(url, report.server_workers, log_dir) as server:
        sale_phases(report, server, url, venue.tills, mix, args)


def sale_phases(
    report: EngineReport,
    server: Server,
    url: str,
    tills: Sequence[tuple[int, str]],
    mix: loadgen.Mix | Sequence[loadgen.Mix],
    args: argparse.Namespace,
    *,
    open_rate_per_s: float | None = None,
) -> None:
    """The phases of `http_phases` against a running server and a database built elsewhere (bench/scale.py
    runs them on a generated chain): `tills` are (device id, token), `mix` one for all or one per till.
    `open_rate_per_s` fixes the open-loop rate (to compare two databases at the same load) instead of
    taking `args.open_fraction` of this run's closed-loop rate."""
    engine = make_engine(url)
    try:
        with loadgen.new_runner() as runner:
            conns = [loadgen.Connection("127.0.0.1", server.port, loadgen.Till(d, t)) for d, t in tills]
            conns = sign_in(runner, conns)
            runner.run(open_all(conns))
            report.tills_per_worker = tills_per_worker(server.port)
            pid = server.proc.pid

            def measured(name: str, make: Any, count: bool) -> Phase:
                mark = scratch.watermark(engine)
                sessions = scratch.sessions_opened(url)
                before = cpuwatch.snapshot(pid)
                result = runner.run(make())
                split = cpuwatch.between(before, cpuwatch.snapshot(pid))
                if any(sample.status == 0 for sample in result.samples):
                    time.sleep(1.0)  # a timed-out request may still commit; let it before counting
                phase = Phase(result, split, scratch.booked_since(engine, mark) if count else None)
                if sessions is not None:
                    time.sleep(1.1)  # backends publish their statistics at most once a second
                    phase.new_db_sessions = (scratch.sessions_opened(url) or 0) - sessions
                report.phases.append(phase)
                log.print(
                    f"  {report.engine}: {name}: {result.ok_count} ok, {result.errors} errors,"
                    f" {result.ok_per_s:.0f}/s, p99 {result.percentile_ms(99):.1f} ms"
                )
                if result.errors:
                    log.print(f"    e.g. {result.error_examples} — server log tail:\n{server.log_tail(8)}")
                return phase

            common = {"timeout_s": args.timeout, "seed": args.seed}
            measured(
                "warm-up",
                lambda: loadgen.closed_loop(conns, mix, name="warm-up", duration_s=args.warmup, **common),
                count=False,
            )
            closed = measured(
                "closed loop",
                lambda: loadgen.closed_loop(conns, mix, name="closed loop", duration_s=args.duration, **common),
                count=True,
            )
            rate = open_rate_per_s or max(1.0, closed.result.ok_per_s * args.open_fraction)
            measured(
                "open loop",
                lambda: loadgen.open_loop(
                    conns, mix, name="open loop", rate_per_s=rate, duration_s=args.duration, **common
                ),
                count=True,
            )
            for conn in conns:
                conn.close()
    finally:
        engine.dispose()


def run_engine(kind: str, args: argparse.Namespace, log_dir: Path) -> EngineReport:
    """Set up a fresh database, run the HTTP phases, then the SQL baselines, and clean up."""
    report = EngineReport(kind, server_workers=args.pg_workers if kind == "pg" else 1)
    rng = random.Random(args.seed)
    scratch_db = scratch.pg_scratch(args.pg_url, "http") if kind == "pg" else scratch.sqlite_scratch()
    with scratch_db as url:
        log.print(f"[bold]{kind}[/bold]: setting up {args.media} media and {args.tills} tills …")
        started = time.perf_counter()
        venue = scratch.build_venue(
            url,
            tills=args.tills,
            media=args.media,
            initial_load_minor=args.initial_load,
            processes=args.setup_processes if kind == "pg" else 1,
        )
        report.setup_s = time.perf_counter() - started
        log.print(f"  {kind}: set-up took {report.setup_s:.0f} s")
        http_phases(report, url, venue, args, log_dir)

        capture = replay.capture_tab_sale(url, venue, rng)
        report.statements = capture.statement_count
        scratch.settle_database(url)
        engine = make_engine(url)
        try:
            mark = scratch.watermark(engine)
            if kind == "pg":
                baseline = pg_baseline(report, url, venue, capture, args, log_dir)
            else:
                baseline = sqlite_baseline(report, url, venue, capture, args)
            booked = scratch.booked_since(engine, mark)
        finally:
            engine.dispose()
        report.baseline_per_s = baseline["tps"]
        baseline["booked_ok"] = (
            booked.tab_lines_open == baseline["transactions"] and booked.total == booked.tab_lines_open
        )
        if not baseline["booked_ok"]:
            report.notes.append(f"replay booked {booked} for {baseline['transactions']} transactions")
    if kind == "pg":
        with scratch.pg_scratch(args.pg_url, "tpcb") as tpcb_url:
            replay.init_tpcb(args.pgbench, tpcb_url, args.tills)
            tpcb = replay.run_pgbench(
                args.pgbench,
                tpcb_url,
                name="pgbench TPC-B-like (builtin, simple protocol)",
                clients=args.tills,
                threads=min(args.tills, CORES),
                seconds=args.baseline_seconds,
                protocol="simple",
            )
        report.tpcb_tps = tpcb.tps
        report.baselines.append(_pgbench_row(tpcb, tpcb.processed))
    return report


def _pgbench_row(run: replay.PgbenchRun, booked: int | None) -> dict[str, Any]:
    return {
        "case": run.name,
        "conns": run.clients,
        "transactions": run.processed,
        "tps": run.tps,
        "latency": f"avg {run.latency_avg_ms:.2f}",
        "errors": run.failed + (1 if run.aborted else 0),
        "note": run.stderr_tail if run.aborted else "",
        "booked": booked,
    }


def pg_baseline(
    report: EngineReport,
    url: str,
    venue: scratch.BenchVenue,
    capture: replay.Capture,
    args: argparse.Namespace,
    log_dir: Path,
) -> dict[str, Any]:
    """pgbench -f with the captured tab sale, -M prepared, same clients as tills."""
    script, defines = replay.pgbench_script(capture, venue)
    path = log_dir / "tab_sale.pgbench.sql"
    path.write_text(script)
    if args.keep_script:
        shutil.copy(path, args.keep_script)
    run = replay.run_pgbench(
        args.pgbench,
        url,
        name=f"pgbench -f captured tab sale ({capture.statement_count} stmts + BEGIN/COMMIT, prepared)",
        clients=args.tills,
        threads=min(args.tills, CORES),
        seconds=args.baseline_seconds,
        script=path,
        defines=defines,
    )
    if run.aborted or run.failed:
        report.notes.append(f"pgbench replay: {run.failed} failed, aborted={run.aborted}: {run.stderr_tail}")
    row = _pgbench_row(run, run.processed)
    report.baselines.append(row)
    return row


def sqlite_baseline(
    report: EngineReport, url: str, venue: scratch.BenchVenue, capture: replay.Capture, args: argparse.Namespace
) -> dict[str, Any]:
    """The captured statements in-process: same concurrency as the tills, plus one connection for reference."""
    rows = []
    for clients, seconds in ((args.tills, args.baseline_seconds), (1, max(3, args.baseline_seconds // 2))):
        run = replay.sqlite_replay(url, capture, venue, clients=clients, seconds=seconds, seed=args.seed)
        rows.append(
            {
                "case": f"sqlite3 loop, captured tab sale ({capture.statement_count} stmts + BEGIN IMMEDIATE/COMMIT)",
                "conns": clients,
                "transactions": run.committed,
                "tps": run.tps,
                "latency": f"p50 {run.percentile_ms(50):.2f} p99 {run.percentile_ms(99):.2f}",
                "errors": run.errors,
                "note": "",
                "booked": None,
            }
        )
    report.baselines.extend(rows)
    # The figure compared with HTTP is the one at the same concurrency; the single-connection run is shown
    # because SQLite serialises writers, so it tells how much the 32-way lock contention itself costs.
    main = dict(rows[0])
    main["transactions"] = rows[0]["transactions"] + rows[1]["transactions"]
    return main


# --------------------------------------------------------------------------- printing


def _ms(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "∞"


def print_engine(report: EngineReport) -> None:
    """The HTTP phases, the CPU split, and the baselines of one engine."""
    workers = f", {report.server_workers} uvicorn worker(s)"
    if report.server_workers > 1 and report.tills_per_worker:
        spread = (report.tills_per_worker + [0] * report.server_workers)[: report.server_workers]
        workers += f" holding {' + '.join(map(str, spread))} of the till connections"
    table = Table(
        title=f"{report.engine}: HTTP{workers}; set-up {report.setup_s:.0f} s",
        title_justify="left",
    )
    for column in ("phase", "sent", "2xx", "err", "2xx/s", "p50", "p90", "p99", "max ms", "DB count", "≈new DB conns"):
        table.add_column(column, justify="right" if column != "phase" else "left")
    for phase in report.phases:
        result = phase.result
        name = result.name + (f" @ {result.target_rate:.0f}/s" if result.target_rate else "")
        count = "—" if phase.booked is None else ("= 2xx" if phase.count_matches else f"≠ ({phase.booked.total})")
        table.add_row(
            name,
            str(len(result.samples)),
            str(result.ok_count),
            str(result.errors),
            f"{result.ok_per_s:.0f}",
            _ms(result.percentile_ms(50)),
            _ms(result.percentile_ms(90)),
            _ms(result.percentile_ms(99)),
            _ms(result.percentile_ms(100)),
            count,
            "—" if phase.new_db_sessions is None else str(phase.new_db_sessions),
        )
    out.print(table)

    cpu = Table(
        title=f"{report.engine}: CPU per request in ms, and how busy the {CORES} cores were",
        title_justify="left",
    )
    for column in ("phase", "machine busy", "client", "API server", "postgres", "other (kernel, rest of machine)"):
        cpu.add_column(column, justify="right" if column != "phase" else "left")
    for phase in report.phases:
        split = phase.cpu.per_request_ms(len(phase.result.samples))
        cpu.add_row(
            phase.result.name,
            f"{phase.cpu.busy_share(CORES) * 100:.0f} %",
            f"{split['client']:.3f}",
            f"{split['server']:.2f}",
            f"{split['postgres']:.2f}",
            f"{split['other']:.2f}",
        )
    out.print(cpu)

    base = Table(title=f"{report.engine}: SQL baselines, same database server", title_justify="left")
    for column in ("case", "conns", "tx", "tx/s", "latency ms", "err", "DB count"):
        base.add_column(column, justify="left" if column == "case" else "right")
    for row in report.baselines:
        booked = row.get("booked_ok")
        base.add_row(
            row["case"],
            str(row["conns"]),
            str(row["transactions"]),
            f"{row['tps']:.0f}",
            row["latency"],
            str(row["errors"]),
            "—" if booked is None else ("= tx" if booked else "≠ tx"),
        )
    out.print(base)
    for note in report.notes:
        out.print(f"[yellow]note[/yellow]: {note}")


def print_summary(reports: Sequence[EngineReport]) -> None:
    table = Table(title="Summary (ratio = HTTP closed-loop bookings/s ÷ SQL baseline tx/s)", title_justify="left")
    for column in ("engine", "HTTP/s", "SQL/s", "ratio", "open @/s", "p50 ms", "p99 ms", "errors", "counts", "target"):
        table.add_column(column, justify="right" if column != "engine" else "left")
    for report in reports:
        s = report.summary()
        if report.engine == "pg":
            target = "ratio ≥ 0.8, p99 ≤ 25 ms, 0 errors"
            met = (s["ratio"] or 0) >= 0.8 and s["p99_ms"] is not None and s["p99_ms"] <= 25 and s["errors"] == 0
        else:
            target = "ratio ≥ 0.5, 0 errors"
            met = (s["ratio"] or 0) >= 0.5 and s["errors"] == 0
        table.add_row(
            report.engine,
            f"{s['http_bookings_per_s']:.0f}",
            f"{s['sql_baseline_per_s']:.0f}",
            f"{s['ratio']:.3f}" if s["ratio"] is not None else "—",
            f"{s['open_loop_rate_per_s']:.0f}",
            "∞" if s["p50_ms"] is None else f"{s['p50_ms']:.1f}",
            "∞" if s["p99_ms"] is None else f"{s['p99_ms']:.1f}",
            str(s["errors"]),
            "match" if s["db_count_matches"] else "MISMATCH",
            ("[green]met[/green] " if met else "[red]missed[/red] ") + target,
        )
    out.print(table)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults keep one full run (both engines) around 5 minutes."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("TAPZONE_TEST_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--pgbench", default=os.environ.get("PGBENCH", DEFAULT_PGBENCH))
    parser.add_argument("--engines", default="pg,sqlite", help="comma-separated: pg, sqlite (default %(default)s)")
    parser.add_argument("--tills", type=int, default=32, help="simulated tills = connections (default %(default)s)")
    parser.add_argument("--media", type=int, default=10_000, help="active media (default %(default)s)")
    parser.add_argument("--initial-load", type=int, default=10_000_000, help="prepaid load per medium, minor units")
    parser.add_argument("--duration", type=float, default=20, help="seconds per closed/open run (default %(default)s)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds (default %(default)s)")
    parser.add_argument("--baseline-seconds", type=int, default=20, help="seconds per SQL baseline run")
    parser.add_argument("--open-fraction", type=float, default=0.5, help="open-loop rate ÷ closed-loop maximum")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--pg-workers", type=int, default=2, help="uvicorn workers for PostgreSQL (SQLite: 1)")
    parser.add_argument("--setup-processes", type=int, default=3, help="processes issuing media on PostgreSQL")
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--keep-script", type=Path, help="also write the generated pgbench script here")
    args = parser.parse_args(argv)
    args.engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    unknown = set(args.engines) - {"pg", "sqlite"}
    if unknown:
        parser.error(f"unknown engines: {sorted(unknown)}")
    if "pg" in args.engines and shutil.which(args.pgbench) is None:
        parser.error(f"pgbench not found at {args.pgbench}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    reports = []
    with tempfile.TemporaryDirectory(prefix="tapzone_http_bench_") as tmp:
        for kind in args.engines:
            report = run_engine(kind, args, Path(tmp))
            reports.append(report)
    out.print(
        f"\n[bold]tapzone HTTP booking benchmark[/bold] — {args.tills} tills, {args.media} prepaid media, mix 70 % tab"
        f" / 20 % card-balance sale / 10 % top-up, {args.duration:g} s per run, Python {sys.version.split()[0]},"
        f" {CORES} CPUs, total {time.perf_counter() - started:.0f} s"
    )
    for report in reports:
        out.print()
        print_engine(report)
    out.print()
    print_summary(reports)
    line = json.dumps({report.engine: report.summary() for report in reports}, separators=(", ", ": "))
    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUT_PATH.write_text(line + "\n")
    sys.stdout.flush()
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
