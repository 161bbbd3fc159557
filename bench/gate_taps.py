"""Gate tap benchmark: 64 gates of one paid zone tapping against the real API server.

Why this benchmark exists
-------------------------
A gate asks the server for every visitor who taps a wristband: welcome, goodbye or a refusal, within a few
milliseconds, or the turnstile stalls and a queue forms. The issue's target is p99 ≤ 5 ms and no errors at a
steady 1,000 taps/s from 64 gates. For PostgreSQL and for SQLite this script measures:

1. Closed loop (`--closed` s, after a short warm-up): every gate sends its next tap as soon as the last one
   answered, on its own keep-alive connection → the maximum taps/s (2xx per second).
2. Open loop: a fixed total of `--rate` taps/s (1,000) spread over the 64 gates for `--duration` s (30).
   Taps fall due on a fixed schedule; latency is measured from the due time, so queueing is not hidden.
   A gate has one connection, so one tap per gate is in flight and at most 3 more wait behind it; a tap
   falling due at a gate that already holds 4 is not sent. Unsent taps, taps not answered within
   `--timeout` s (2) of being sent and taps whose visitor (medium) was not ready within that time of the
   due time are failures and count as infinitely slow in p50/p99.
3. After every run the new `access_events` rows are counted; they must equal the 2xx responses.

The venue: one paid zone, 32 entrance turnstiles (direction in) and 32 exit turnstiles (direction out),
each gate with its own device token, and an entry product without credit (nothing can be owed, so every
exit is a goodbye). Entrance gate k and exit gate k form lane k; the client keeps each lane's media in two
queues (outside, inside): an entrance tap takes a medium from outside and, once welcomed, puts it inside;
an exit tap takes the oldest medium inside and, once it said goodbye, puts it back outside. Every decision
is checked: a 2xx refusal is counted as an error too.

Media are sold in-process through the real use case (`sell_entry`) with relaxed commit durability. A sale
costs 7–15 ms of set-up, so single-use media for a whole run (tens of thousands) would take minutes; the
venue's `auto_unbind` is therefore switched off by default and each medium enters and leaves again and
again under one visit (`--auto-unbind` keeps the default and sells `--media` single-use media instead;
an exit that unbinds retires its medium, and a lane that runs dry reports "no medium" failures).

The result object is written to var/bench/gate.json: {"pg": {...}, "sqlite": {...}}; the last line printed
is the same object.

Usage:
    .venv/bin/python bench/gate_taps.py [--engines pg,sqlite] [--rate 1000] [--duration 30] [--closed 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

import http_booking
import loadgen
import scratch
from tapzone.access.entry import sell_entry
from tapzone.access.model import Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.context import RequestContext
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.store.db import make_engine
from tapzone.store.migrate import upgrade
from tapzone.store.tables import access_events
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind, FiscalProfile
from tapzone.venues.settings import update_venue_settings
from tapzone.venues.setup import add_device, add_staff, create_venue

OUT_PATH = Path(__file__).resolve().parent.parent / "var" / "bench" / "gate.json"
ENTRY_PRICE = 1500
UID_BASE = 500_000

out = Console(width=132, highlight=False)
log = Console(stderr=True, width=132, highlight=False)


# --------------------------------------------------------------------------- set-up


@dataclass(frozen=True, slots=True)
class GateVenue:
    """The gates (device id, token) of each lane and the media sold, per lane."""

    entrances: list[tuple[int, str]]
    exits: list[tuple[int, str]]
    media: list[list[str]]  # media[lane]: the UIDs that start outside in that lane


def _sell_range(url: str, venue_id: int, till: int, staff_id: int, product: int, uids: Sequence[str]) -> int:
    """Sell the entry product onto `uids` through the use case (runs in a worker process on PostgreSQL)."""
    engine = scratch.setup_engine(url)
    uow = UnitOfWork(engine)
    try:
        for uid in uids:
            sell_entry(
                uow,
                RequestContext(venue_id, till, staff_id, f"setup-{uuid.uuid4()}"),
                entry_product_id=product,
                medium_uid=uid,
                tenders=[Tender(TenderKind.CASH, Money(ENTRY_PRICE, scratch.CURRENCY))],
            )
    finally:
        engine.dispose()
    return len(uids)


def build_gate_venue(url: str, *, lanes: int, media: int, auto_unbind: bool, processes: int) -> GateVenue:
    """Migrate, create the venue, its zone, gates and entry product, and sell the media."""
    engine = scratch.setup_engine(url)
    try:
        upgrade(engine)
        uow = UnitOfWork(engine)
        venue_id = create_venue(
            uow,
            name="Bench Aquapark",
            currency=scratch.CURRENCY,
            timezone="Europe/Berlin",
            fiscal_profile=FiscalProfile.DE,
        )
        till = add_device(uow, venue_id, name="Ticket till")
        cashier = add_staff(uow, venue_id, name="Bench Cashier", login="cashier", role="cashier")
        admin = add_staff(uow, venue_id, name="Bench Admin", login="admin", role="admin")
        if not auto_unbind:
            update_venue_settings(uow, RequestContext(venue_id, till, admin, "setup-settings"), auto_unbind=False)
        zone = create_zone(uow, venue_id, name="Pools")

        def gate(name: str, direction: Direction) -> tuple[int, str]:
            device = add_gate(uow, venue_id, name=name, kind=DeviceKind.TURNSTILE, zone_id=zone, direction=direction)
            return device, issue_device_token(uow, device)

        entrances = [gate(f"Entrance {k + 1:02d}", Direction.IN) for k in range(lanes)]
        exits = [gate(f"Exit {k + 1:02d}", Direction.OUT) for k in range(lanes)]
        product = create_entry_product(
            uow,
            venue_id,
            name="Day ticket",
            price_minor=ENTRY_PRICE,
            vat_rate_bp=700,
            zone_id=zone,
            credit_type=CreditType.NONE,
        )
    finally:
        engine.dispose()

    uids = [str(UID_BASE + n) for n in range(media)]
    if processes <= 1:
        sold = _sell_range(url, venue_id, till, cashier, product, uids)
    else:
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(_sell_range, url, venue_id, till, cashier, product, uids[i::processes])
                for i in range(processes)
            ]
            sold = sum(future.result() for future in futures)
    if sold != media:
        raise RuntimeError(f"sold {sold} entries, expected {media}")
    scratch.settle_database(url)
    return GateVenue(entrances, exits, [uids[k::lanes] for k in range(lanes)])


def last_event_id(engine: sa.engine.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(access_events.c.id), 0))).scalar_one())


def events_since(engine: sa.engine.Engine, mark: int) -> list[tuple[str, bool]]:
    """(tap id, allowed) of every access event written after `mark`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(access_events.c.tap_id, access_events.c.allowed).where(access_events.c.id > mark))
        return [(row.tap_id, bool(row.allowed)) for row in rows]


# --------------------------------------------------------------------------- the load


@dataclass(slots=True)
class Lane:
    """One entrance and one exit gate and the media between them."""

    outside: asyncio.Queue[str]
    inside: asyncio.Queue[str]


@dataclass(slots=True)
class GatePhase:
    """One run: samples (kind 'in'/'out'; status 0 = timeout, no medium or unsent), decisions, DB count."""

    name: str
    samples: list[loadgen.Sample] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    target_rate: float | None = None
    decisions: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    answered_2xx: int = 0  # every 2xx, refusals included: each one wrote an access event
    answered_ids: set[str] = field(default_factory=set)
    limbo: list[tuple[int, bool, str, str]] = field(default_factory=list)  # timed out: lane, in?, uid, tap id
    unexplained: int = 0  # events neither answered 2xx nor from a timed-out tap, answers without event, doubles
    events: int | None = None
    retired: int = 0  # media unbound at an exit (auto_unbind on)

    @property
    def result(self) -> loadgen.PhaseResult:
        return loadgen.PhaseResult(self.name, self.samples, self.started, self.finished, 0.0, self.target_rate)

    @property
    def ok_count(self) -> int:
        return sum(1 for sample in self.samples if sample.ok)

    @property
    def errors(self) -> int:
        return len(self.samples) - self.ok_count

    @property
    def count_matches(self) -> bool:
        return self.events is None or self.events == self.answered_2xx


class GateClient:
    """The 64 gates: one connection each, and the lanes' media queues (kept across the runs)."""

    def __init__(self, port: int, venue: GateVenue, timeout_s: float, *, auto_unbind: bool) -> None:
        self.timeout_s = timeout_s
        self.max_outstanding = 4
        self.auto_unbind = auto_unbind
        self.entrances = [loadgen.Connection("127.0.0.1", port, loadgen.Till(d, t)) for d, t in venue.entrances]
        self.exits = [loadgen.Connection("127.0.0.1", port, loadgen.Till(d, t)) for d, t in venue.exits]
        self.lanes: list[Lane] = []
        for uids in venue.media:
            lane = Lane(asyncio.Queue(), asyncio.Queue())
            for uid in uids:
                lane.outside.put_nowait(uid)
            self.lanes.append(lane)

    @property
    def conns(self) -> list[loadgen.Connection]:
        # interleaved, so connecting them one by one spreads entrances and exits over the server's workers
        return [conn for pair in zip(self.entrances, self.exits, strict=True) for conn in pair]

    def close(self) -> None:
        for conn in self.conns:
            conn.close()

    async def tap(self, phase: GatePhase, lane_no: int, entering: bool, due: float | None, wait_until: float) -> None:
        """One tap at lane `lane_no`'s entrance or exit, a failure if not answered within the timeout of
        its send; waiting for a medium of the lane (the visitor) ends at `wait_until`.

        Open loop (`due` given): latency from the due time, and no medium ready in time is a failure. Closed
        loop (`due` None): latency from the send, and a gate still waiting for a medium when the run ends
        just stops (the other gate of its lane stopped too)."""
        lane = self.lanes[lane_no]
        kind = "in" if entering else "out"
        source, target = (lane.outside, lane.inside) if entering else (lane.inside, lane.outside)
        conn = (self.entrances if entering else self.exits)[lane_no]
        try:
            async with asyncio.timeout(max(0.0, wait_until - time.perf_counter())):
                uid = await source.get()
        except TimeoutError:
            if due is not None:
                phase.failures["no medium ready"] += 1
                phase.samples.append(loadgen.Sample(kind, 0, time.perf_counter() - due))
            return
        if due is None:
            due = time.perf_counter()
        tap_id = uuid.uuid4().hex
        body = json.dumps({"tap_id": tap_id, "medium_uid": uid}, separators=(",", ":")).encode()
        path = f"/api/v1/gates/{conn.till.device_id}/taps"
        try:
            async with asyncio.timeout(self.timeout_s):
                status, payload = await conn.request("POST", path, body, idempotent_write=False)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            conn.close()  # the stream state is unknown; the medium's too, until the count after the run
            phase.limbo.append((lane_no, entering, uid, tap_id))
            phase.failures["timeout/connection"] += 1
            phase.samples.append(loadgen.Sample(kind, 0, time.perf_counter() - due))
            return
        latency = time.perf_counter() - due
        if not 200 <= status < 300:
            phase.failures[f"HTTP {status}"] += 1
            phase.samples.append(loadgen.Sample(kind, status, latency))
            return
        phase.answered_2xx += 1
        phase.answered_ids.add(tap_id)
        answer = json.loads(payload)
        phase.decisions[f"{kind}: {answer['reason']}"] += 1
        if not answer["allowed"]:
            # a refusal is not the workload: an error, counted as infinitely slow (status 0 in the sample)
            phase.failures[f"refused: {answer['reason']}"] += 1
            phase.samples.append(loadgen.Sample(kind, 0, latency))
            return
        phase.samples.append(loadgen.Sample(kind, status, latency))
        if answer["unbound"]:
            phase.retired += 1
        else:
            target.put_nowait(uid)

    def reconcile(self, phase: GatePhase, events: list[tuple[str, bool]]) -> None:
        """Check the run's access events against the answers, and put timed-out taps' media where they are.

        Every 2xx must have exactly one event; an event beyond those must come from a tap that timed out
        (the server finished it after the gate gave up). A timed-out tap's medium moved if its event exists
        and allowed it (an exit that may have unbound it is retired when auto_unbind is on)."""
        phase.events = len(events)
        allowed = dict(events)
        limbo_ids = {tap_id for _, _, _, tap_id in phase.limbo}
        phase.unexplained = (
            len(events)
            - len(allowed)
            + len(phase.answered_ids - allowed.keys())
            + len(allowed.keys() - phase.answered_ids - limbo_ids)
        )
        for lane_no, entering, uid, tap_id in phase.limbo:
            lane = self.lanes[lane_no]
            source, target = (lane.outside, lane.inside) if entering else (lane.inside, lane.outside)
            if not allowed.get(tap_id, False):
                source.put_nowait(uid)
            elif entering or not self.auto_unbind:
                target.put_nowait(uid)
        phase.limbo.clear()

    async def closed_loop(self, name: str, duration_s: float) -> GatePhase:
        """Every gate taps again as soon as its last tap answered, for `duration_s`."""
        phase = GatePhase(name)
        phase.started = time.perf_counter()
        deadline = phase.started + duration_s

        async def gate_loop(lane_no: int, entering: bool) -> None:
            while time.perf_counter() < deadline:
                await self.tap(phase, lane_no, entering, None, deadline)

        await asyncio.gather(*(gate_loop(k, entering) for k in range(len(self.lanes)) for entering in (True, False)))
        phase.finished = time.perf_counter()
        return phase

    async def open_loop(self, name: str, rate_per_s: float, duration_s: float) -> GatePhase:
        """`rate_per_s` taps/s in total, slot i due at start + i/rate at gate i mod 64 (entrance and exit of a
        lane one slot apart). Each gate works through its own due taps in order, one at a time on its one
        connection; a tap falling due while the gate already holds `max_outstanding` (in flight + waiting)
        is not sent and counts as a failure, so an overloaded server does not make the client pile up."""
        phase = GatePhase(name, target_rate=rate_per_s)
        gates = 2 * len(self.lanes)
        count = max(1, round(rate_per_s * duration_s))
        interval = 1.0 / rate_per_s
        phase.started = start = time.perf_counter() + 0.05

        async def gate_loop(gate_no: int) -> None:
            lane_no, entering = gate_no // 2, gate_no % 2 == 0
            backlog: asyncio.Queue[float | None] = asyncio.Queue()
            busy = [0]

            async def schedule() -> None:
                for slot in range(gate_no, count, gates):
                    due = start + slot * interval
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if backlog.qsize() + busy[0] >= self.max_outstanding:
                        phase.failures["not sent: gate backlog full"] += 1
                        phase.samples.append(loadgen.Sample("in" if entering else "out", 0, math.inf))
                        continue
                    backlog.put_nowait(due)
                backlog.put_nowait(None)

            async def send() -> None:
                while (due := await backlog.get()) is not None:
                    busy[0] = 1
                    await self.tap(phase, lane_no, entering, due, due + self.timeout_s)
                    busy[0] = 0

            await asyncio.gather(schedule(), send())

        await asyncio.gather(*(gate_loop(g) for g in range(gates)))
        phase.finished = time.perf_counter()
        return phase


# --------------------------------------------------------------------------- one engine


@dataclass
class EngineReport:
    engine: str
    setup_s: float = 0.0
    workers: int = 1
    media: int = 0
    phases: list[GatePhase] = field(default_factory=list)

    def phase(self, name: str) -> GatePhase:
        return next(phase for phase in self.phases if phase.name == name)

    def summary(self) -> dict[str, Any]:
        closed, opened = self.phase("closed loop"), self.phase("open loop")
        p50, p99 = opened.result.percentile_ms(50), opened.result.percentile_ms(99)
        return {
            "closed_loop_taps_per_s": round(closed.ok_count / max(closed.finished - closed.started, 1e-9), 1),
            "open_loop_rate_per_s": round(opened.target_rate or 0.0, 1),
            "p50_ms": round(p50, 2) if math.isfinite(p50) else None,
            "p99_ms": round(p99, 2) if math.isfinite(p99) else None,
            "errors": sum(phase.errors for phase in self.phases),
            "db_count_matches": all(phase.count_matches for phase in self.phases),
        }


def run_engine(kind: str, args: argparse.Namespace, log_dir: Path) -> EngineReport:
    report = EngineReport(kind, workers=args.pg_workers if kind == "pg" else 1, media=args.media)
    scratch_db = scratch.pg_scratch(args.pg_url, "gate") if kind == "pg" else scratch.sqlite_scratch()
    with scratch_db as url:
        log.print(f"[bold]{kind}[/bold]: selling {args.media} entries, {2 * args.lanes} gates …")
        started = time.perf_counter()
        venue = build_gate_venue(
            url,
            lanes=args.lanes,
            media=args.media,
            auto_unbind=args.auto_unbind,
            processes=args.setup_processes if kind == "pg" else 1,
        )
        report.setup_s = time.perf_counter() - started
        log.print(f"  {kind}: set-up took {report.setup_s:.0f} s")
        with http_booking.api_server(url, report.workers, log_dir) as server:
            gate_phases(report, server, url, venue, args)
    return report


def gate_phases(
    report: EngineReport,
    server: http_booking.Server,
    url: str,
    venue: GateVenue,
    args: argparse.Namespace,
    *,
    rate_per_s: float | None = None,
) -> None:
    """Warm-up, closed loop and open loop against a running server, events counted after each; also used by
    bench/scale.py on a generated chain (lanes of several venues side by side). `rate_per_s` overrides
    `args.rate` for the open loop; with neither, it runs at `args.open_fraction` of the closed loop's rate."""
    engine = make_engine(url)
    try:
        with loadgen.new_runner() as runner:
            client = runner.run(_make_client(server.port, venue, args.timeout, args.auto_unbind))
            runner.run(http_booking.open_all(client.conns))

            def measured(make: Any) -> GatePhase:
                mark = last_event_id(engine)
                phase: GatePhase = runner.run(make())
                if phase.failures.get("timeout/connection"):
                    time.sleep(1.0)  # a timed-out tap may still commit; let it before counting
                client.reconcile(phase, events_since(engine, mark))
                report.phases.append(phase)
                result = phase.result
                log.print(
                    f"  {report.engine}: {phase.name}: {phase.ok_count} ok, {phase.errors} errors,"
                    f" {result.ok_per_s:.0f}/s, p50 {result.percentile_ms(50):.1f} ms,"
                    f" p99 {result.percentile_ms(99):.1f} ms, events {'=' if phase.count_matches else '≠'} 2xx"
                )
                if phase.failures:
                    log.print(f"    failures: {dict(phase.failures)} — server log tail:\n{server.log_tail(5)}")
                return phase

            measured(lambda: client.closed_loop("warm-up", args.warmup))
            closed = measured(lambda: client.closed_loop("closed loop", args.closed))
            # No rate given (args.rate None): a share of what this server managed in the closed loop.
            rate = rate_per_s or args.rate or max(1.0, closed.result.ok_per_s * args.open_fraction)
            measured(lambda: client.open_loop("open loop", rate, args.duration))
            client.close()
    finally:
        engine.dispose()


async def _make_client(port: int, venue: GateVenue, timeout_s: float, auto_unbind: bool) -> GateClient:
    return GateClient(
        port, venue, timeout_s, auto_unbind=auto_unbind
    )  # inside the runner's loop, so the queues belong to it


# --------------------------------------------------------------------------- printing and main


def _ms(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "∞"


def print_reports(reports: Sequence[EngineReport], args: argparse.Namespace) -> None:
    table = Table(
        title=f"Gate taps: {2 * args.lanes} gates, open loop {args.rate:g} taps/s for {args.duration:g} s,"
        f" closed loop {args.closed:g} s; failures count as ∞; set-up "
        + ", ".join(f"{report.engine} {report.setup_s:.0f} s" for report in reports),
        title_justify="left",
    )
    for column in ("engine", "phase", "taps", "2xx", "err", "2xx/s", "p50", "p90", "p99", "max ms", "DB events"):
        table.add_column(column, justify="left" if column in ("engine", "phase") else "right")
    for report in reports:
        for phase in report.phases:
            result = phase.result
            name = phase.name + (f" @ {phase.target_rate:g}/s" if phase.target_rate else "")
            table.add_row(
                f"{report.engine} ({report.workers}w)",
                name,
                str(len(phase.samples)),
                str(phase.ok_count),
                str(phase.errors),
                f"{result.ok_per_s:.0f}",
                _ms(result.percentile_ms(50)),
                _ms(result.percentile_ms(90)),
                _ms(result.percentile_ms(99)),
                _ms(result.percentile_ms(100)),
                "= 2xx"
                if phase.count_matches
                else f"{phase.events} = 2xx + {phase.events - phase.answered_2xx - phase.unexplained} timed out"
                + (f" + {phase.unexplained} ?" if phase.unexplained else ""),
            )
    out.print(table)

    summary = Table(title="Summary (target: p99 ≤ 5 ms, 0 errors at 1,000 taps/s)", title_justify="left")
    for column in ("engine", "max taps/s", "open @/s", "p50 ms", "p99 ms", "errors", "counts", "target"):
        summary.add_column(column, justify="left" if column == "engine" else "right")
    for report in reports:
        s = report.summary()
        met = s["p99_ms"] is not None and s["p99_ms"] <= 5 and s["errors"] == 0
        summary.add_row(
            report.engine,
            f"{s['closed_loop_taps_per_s']:.0f}",
            f"{s['open_loop_rate_per_s']:.0f}",
            "∞" if s["p50_ms"] is None else f"{s['p50_ms']:.2f}",
            "∞" if s["p99_ms"] is None else f"{s['p99_ms']:.2f}",
            str(s["errors"]),
            "match" if s["db_count_matches"] else "MISMATCH",
            "[green]met[/green]" if met else "[red]missed[/red]",
        )
    out.print(summary)
    for report in reports:
        decisions = Counter[str]()
        for phase in report.phases:
            decisions.update(phase.decisions)
        out.print(f"{report.engine} decisions: {dict(sorted(decisions.items()))}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults keep both engines together around 3–4 minutes."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("TAPZONE_TEST_PG_URL", http_booking.DEFAULT_PG_URL))
    parser.add_argument("--engines", default="pg,sqlite", help="comma-separated: pg, sqlite (default %(default)s)")
    parser.add_argument("--lanes", type=int, default=32, help="entrance + exit gate pairs (default %(default)s)")
    parser.add_argument("--media", type=int, default=2048, help="entries sold (default %(default)s)")
    parser.add_argument("--auto-unbind", action="store_true", help="keep auto_unbind on: single-use media")
    parser.add_argument("--rate", type=float, default=1000, help="open-loop taps/s in total (default %(default)s)")
    parser.add_argument("--duration", type=float, default=30, help="open-loop seconds (default %(default)s)")
    parser.add_argument("--closed", type=float, default=15, help="closed-loop seconds (default %(default)s)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds from due time to failure")
    parser.add_argument("--pg-workers", type=int, default=2, help="uvicorn workers for PostgreSQL (SQLite: 1)")
    parser.add_argument("--setup-processes", type=int, default=2, help="processes selling entries on PostgreSQL")
    parser.add_argument("--out", type=Path, default=OUT_PATH, help="where the JSON object goes (default %(default)s)")
    args = parser.parse_args(argv)
    args.engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    unknown = set(args.engines) - {"pg", "sqlite"}
    if unknown:
        parser.error(f"unknown engines: {sorted(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tapzone_gate_bench_") as tmp:
        reports = [run_engine(kind, args, Path(tmp)) for kind in args.engines]
    out.print(
        f"\n[bold]tapzone gate tap benchmark[/bold] — {args.media} media"
        f" ({'single use, auto_unbind on' if args.auto_unbind else 're-entering, auto_unbind off'}),"
        f" Python {sys.version.split()[0]}, {http_booking.CORES} CPUs, total {time.perf_counter() - started:.0f} s"
    )
    print_reports(reports, args)
    result = {report.engine: report.summary() for report in reports}
    line = json.dumps(result, separators=(", ", ": "))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(line + "\n")
    sys.stdout.flush()
    print(line)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
