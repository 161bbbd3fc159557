"""The two HTTP soak scenarios against a real `tapzone serve` subprocess on a fresh scratch database.

* retries: a fixed number of logical writes from tills and gates with short client timeouts, twins and blind
  retries (soak_client.RetryPolicy); the server runs undisturbed.
* crash: the tills and gates book continuously while the server's whole process group is killed with SIGKILL
  at random intervals and restarted on the same database and port; clients retry what got no answer with the
  same key after the restart, until answered.

Both end with soak_verify.verify: every write exactly once, every acknowledged one there, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

import http_booking
import loadgen
import scratch
from soak_client import DeviceClient, RetryPolicy, Tally, sign_in_all
from soak_venue import SoakVenue, build_soak_venue
from soak_verify import Verdict, take_marks, verify
from tapzone.store.db import make_engine

log = Console(stderr=True, width=132, highlight=False)
TAP_SHARE = 0.2  # of the retries run's writes, when there are gates


@dataclass(frozen=True, slots=True)
class Shape:
    """How big a run is."""

    tills: int = 12
    gates: int = 4
    media_per_device: int = 40
    setup_processes: int = 2  # PostgreSQL only
    # uvicorn workers; None: two on PostgreSQL, so twins can land in different processes (the advisory lock's
    # case), one on SQLite. Each restart imports the app once per worker, so fewer restart faster.
    server_workers: int | None = None

    def workers(self, engine_kind: str) -> int:
        if self.server_workers is not None:
            return self.server_workers
        return 2 if engine_kind == "pg" else 1


@dataclass(slots=True)
class Outcome:
    scenario: str
    engine: str
    seconds: float = 0.0
    setup_s: float = 0.0
    tally: Tally = field(default_factory=Tally)
    verdict: Verdict = field(default_factory=Verdict)
    kills: list[dict[str, float]] = field(default_factory=list)  # per kill: when, how long until serving again

    def figures(self) -> dict[str, Any]:
        result: dict[str, Any] = {"engine": self.engine, "seconds": round(self.seconds, 1)}
        result.update(self.tally.figures())
        result["by_kind"] = self.tally.by_kind()
        result.update(self.verdict.figures())
        if self.scenario == "crash":
            result["kills"] = len(self.kills)
            downtimes = [kill["down_s"] for kill in self.kills]
            result["restart_s_max"] = round(max(downtimes), 2) if downtimes else None
        result["client_notes"] = self.tally.notes
        return result

    @property
    def ok(self) -> bool:
        figures = self.tally.figures()
        return self.verdict.ok and figures["replay_mismatches"] == 0 and figures["gate_refusals"] == 0


@contextlib.contextmanager
def scratch_database(engine_kind: str, pg_url: str, label: str) -> Iterator[str]:
    """A new PostgreSQL database (dropped WITH (FORCE) afterwards) or SQLite file (removed afterwards)."""
    with scratch.pg_scratch(pg_url, label) if engine_kind == "pg" else scratch.sqlite_scratch() as url:
        yield url


def _prepare(outcome: Outcome, url: str, shape: Shape) -> SoakVenue:
    started = time.perf_counter()
    venue = build_soak_venue(
        url,
        tills=shape.tills,
        gates=shape.gates,
        media_per_device=shape.media_per_device,
        processes=shape.setup_processes if outcome.engine == "pg" else 1,
    )
    outcome.setup_s = time.perf_counter() - started
    return venue


# --------------------------------------------------------------------------- retries


def run_retries(
    engine_kind: str, pg_url: str, log_dir: Path, *, writes: int, shape: Shape, policy: RetryPolicy, seed: int
) -> Outcome:
    outcome = Outcome("retries", engine_kind)
    with scratch_database(engine_kind, pg_url, "soak_retries") as url:
        log.print(f"[bold]retries/{engine_kind}[/bold]: setting up {shape.tills} tills, {shape.gates} gates …")
        venue = _prepare(outcome, url, shape)
        engine = make_engine(url)
        try:
            marks = take_marks(engine)
            started = time.perf_counter()
            with http_booking.api_server(url, shape.workers(engine_kind), log_dir) as server:
                outcome.tally = loadgen.run_apart(_send_quota(server.port, venue, policy, writes, seed))
            outcome.seconds = time.perf_counter() - started
            outcome.verdict = verify(engine, url, marks, outcome.tally.writes)
        finally:
            engine.dispose()
    return outcome


async def _send_quota(port: int, venue: SoakVenue, policy: RetryPolicy, writes: int, seed: int) -> Tally:
    """`writes` logical writes: TAP_SHARE of them from the gates, the rest from the tills, split evenly."""
    sessions = await sign_in_all(port, venue)
    taps = round(writes * TAP_SHARE) if venue.gates else 0
    quotas = _split(taps, len(venue.gates)) + _split(writes - taps, len(venue.tills))
    devices = [*venue.gates, *venue.tills]
    tally = Tally()
    clients = [
        DeviceClient(port, device, sessions[device.device_id], venue, policy, seed * 1000 + i)
        for i, device in enumerate(devices)
    ]

    async def work(client: DeviceClient, quota: int) -> None:
        for _ in range(quota):
            await client.deliver(await client.next_write(), tally)
            if len(tally.writes) % 1000 == 0:
                log.print(f"  {len(tally.writes)} of {writes} writes sent")
        client.close()

    await asyncio.gather(*(work(client, quota) for client, quota in zip(clients, quotas, strict=True)))
    return tally


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)] if parts else []


# --------------------------------------------------------------------------- crash


def run_crash(
    engine_kind: str,
    pg_url: str,
    log_dir: Path,
    *,
    kills: int,
    interval_s: tuple[float, float],
    shape: Shape,
    policy: RetryPolicy,
    seed: int,
) -> Outcome:
    outcome = Outcome("crash", engine_kind)
    with scratch_database(engine_kind, pg_url, "soak_crash") as url:
        log.print(f"[bold]crash/{engine_kind}[/bold]: setting up {shape.tills} tills, {shape.gates} gates …")
        venue = _prepare(outcome, url, shape)
        engine = make_engine(url)
        try:
            marks = take_marks(engine)
            port = http_booking.free_port()
            started = time.perf_counter()
            server = http_booking.launch_server(url, shape.workers(engine_kind), log_dir, port)
            holder = [server]
            try:
                booking = _book_through_kills(
                    outcome,
                    holder,
                    url,
                    log_dir,
                    venue,
                    policy,
                    kills=kills,
                    interval_s=interval_s,
                    seed=seed,
                    workers=shape.workers(engine_kind),
                )
                outcome.tally = loadgen.run_apart(booking)
            finally:
                http_booking.stop_server(holder[0].proc)
            outcome.seconds = time.perf_counter() - started
            outcome.verdict = verify(engine, url, marks, outcome.tally.writes)
        finally:
            engine.dispose()
    return outcome


async def _book_through_kills(
    outcome: Outcome,
    holder: list[http_booking.Server],
    url: str,
    log_dir: Path,
    venue: SoakVenue,
    policy: RetryPolicy,
    *,
    kills: int,
    interval_s: tuple[float, float],
    seed: int,
    workers: int,
) -> Tally:
    """Every device books until told to stop; meanwhile the server is killed `kills` times and restarted."""
    port, engine_kind = holder[0].port, outcome.engine
    sessions = await sign_in_all(port, venue)
    tally = Tally()
    stop = asyncio.Event()
    clients = [
        DeviceClient(port, device, sessions[device.device_id], venue, policy, seed * 1000 + i)
        for i, device in enumerate(venue.devices)
    ]

    async def work(client: DeviceClient) -> None:
        while not stop.is_set():
            await client.deliver(await client.next_write(), tally)
        client.close()

    async def killer() -> None:
        rng = random.Random(seed)
        try:
            for number in range(kills):
                await asyncio.sleep(rng.uniform(*interval_s))
                killed_at = time.perf_counter()
                proc = holder[0].proc
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the uvicorn parent and its workers, mid-request
                await asyncio.to_thread(proc.wait, 30)
                await asyncio.sleep(rng.uniform(0.0, 0.3))  # clients hit a closed port for a moment
                holder[0] = await asyncio.to_thread(http_booking.launch_server, url, workers, log_dir, port)
                down = time.perf_counter() - killed_at
                outcome.kills.append({"at_s": round(killed_at, 3), "down_s": down})
                log.print(f"  crash/{engine_kind}: kill {number + 1}/{kills}, serving again after {down:.1f} s")
            await asyncio.sleep(rng.uniform(*interval_s))  # some undisturbed booking after the last restart
        finally:
            stop.set()

    await asyncio.gather(killer(), *(work(client) for client in clients))
    return tally
