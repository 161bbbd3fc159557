"""A small HTTP/1.1 load generator for the tapzone API: simulated tills on keep-alive connections.

Why not httpx: on this 2-core machine the client shares the CPU with the API server and the database, so
every microsecond the client spends per request is taken from the system under test. httpx costs a few
hundred microseconds of Python per request; this client writes pre-built request bytes on one asyncio
stream per till (uvloop when installed) and parses only the status line and Content-Length, a few tens of
microseconds. `http_booking.py` measures the client's CPU per request in every run and prints it, so the
claim is checked each time rather than assumed.

Two modes (both bounded in count and in time):

* closed loop: each till sends its next request as soon as the previous one answered (maximum throughput);
* open loop: requests are due at a fixed rate whatever the server does; a due request waits for a free till
  and its latency is measured from the time it was due, so queueing is never hidden (no coordinated
  omission).

A request that times out, breaks its connection or answers with a non-2xx status is a failure; failures
count as infinitely slow in every percentile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

try:  # uvloop comes with uvicorn[standard]; the plain loop works too, just with more client CPU
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

KINDS = ("tab", "sale", "topup")


@dataclass(frozen=True, slots=True)
class Till:
    """One simulated till: its device token and the staff session signed in on it."""

    device_id: int
    token: str
    session: str = ""


@dataclass(frozen=True, slots=True)
class Mix:
    """What the tills send: 70 % tab sale, 20 % card-balance sale, 10 % top-up on uniformly chosen media."""

    uids: Sequence[str]
    product_ids: Sequence[int]
    tab_share: float = 0.7
    sale_share: float = 0.2
    topup_minor: int = 1000
    currency: str = "EUR"

    def pick(self, rng: random.Random) -> tuple[str, str, bytes]:
        """One request: (kind, path, JSON body)."""
        uid = self.uids[rng.randrange(len(self.uids))]
        draw = rng.random()
        if draw < self.tab_share + self.sale_share:
            kind, suffix = ("tab", "tab/lines") if draw < self.tab_share else ("sale", "sales")
            body: dict[str, object] = {"items": [{"product_id": rng.choice(self.product_ids), "quantity": 1}]}
        else:
            kind, suffix = "topup", "top-ups"
            body = {"amount": {"amount_minor": self.topup_minor, "currency": self.currency}}
        return kind, f"/api/v1/media/{uid}/{suffix}", json.dumps(body, separators=(",", ":")).encode()


@dataclass(slots=True)
class Sample:
    """One finished request. `status` 0 means timeout or broken connection."""

    kind: str
    status: int
    latency_s: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(slots=True)
class PhaseResult:
    """What one load phase produced, plus the client's own CPU time for it."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    client_cpu_s: float = 0.0
    target_rate: float | None = None
    error_examples: list[str] = field(default_factory=list)

    @property
    def elapsed_s(self) -> float:
        return max(self.finished - self.started, 1e-9)

    @property
    def ok_count(self) -> int:
        return sum(1 for sample in self.samples if sample.ok)

    @property
    def errors(self) -> int:
        return len(self.samples) - self.ok_count

    @property
    def ok_per_s(self) -> float:
        return self.ok_count / self.elapsed_s

    def ok_by_kind(self) -> Counter[str]:
        return Counter(sample.kind for sample in self.samples if sample.ok)

    def statuses(self) -> Counter[int]:
        return Counter(sample.status for sample in self.samples)

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile over every request, failures counted as +inf."""
        if not self.samples:
            return math.inf
        ordered = sorted(sample.latency_s if sample.ok else math.inf for sample in self.samples)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


class Connection:
    """One keep-alive HTTP/1.1 connection of one till, with its authentication headers pre-encoded."""

    def __init__(self, host: str, port: int, till: Till) -> None:
        self.host = host
        self.port = port
        self.till = till
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        auth = f"Authorization: Bearer {till.token}\r\n"
        if till.session:
            auth += f"X-Staff-Session: {till.session}\r\n"
        self._fixed = f"Host: {host}:{port}\r\n{auth}Content-Type: application/json\r\n".encode()

    async def _ensure_open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def close(self) -> None:
        """Drop the socket; the next request reconnects (after a timeout the stream state is unknown)."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self, method: str, path: str, body: bytes, *, idempotent_write: bool = True, key: str | None = None
    ) -> tuple[int, bytes]:
        """Send one request and read its whole response; returns (status, body). A write carries `key` as its
        Idempotency-Key (a retry sends the same one), or a fresh one."""
        reader, writer = await self._ensure_open()
        key_header = f"Idempotency-Key: {key or uuid.uuid4()}\r\n".encode() if idempotent_write else b""
        writer.write(
            b"%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n%s"
            % (method.encode(), path.encode(), self._fixed, key_header, len(body), body)
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.find(b"\r\ncontent-length:")
        if start >= 0:
            end = lower.index(b"\r\n", start + 2)
            payload = await reader.readexactly(int(lower[start + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            payload = await self._read_chunked(reader)
        else:
            payload = b""
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, payload

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        for _ in range(100_000):  # bounded: a response of more chunks than that is broken anyway
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])
        raise RuntimeError("chunked response did not end")


async def _send(conn: Connection, kind: str, path: str, body: bytes, due: float, timeout_s: float) -> Sample:
    """One booking request; latency runs from `due` (closed loop: the send time) to the last byte."""
    try:
        async with asyncio.timeout(timeout_s):
            status, _ = await conn.request("POST", path, body)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        conn.close()
        return Sample(kind, 0, time.perf_counter() - due)
    return Sample(kind, status, time.perf_counter() - due)


def _note_errors(result: PhaseResult) -> None:
    """Keep a few failures to print, so a failed run says what failed."""
    for sample in result.samples:
        if not sample.ok and len(result.error_examples) < 5:
            result.error_examples.append(f"{sample.kind}: status {sample.status or 'timeout/connection'}")


def mixes_for(conns: Sequence[Connection], mix: Mix | Sequence[Mix]) -> list[Mix]:
    """One mix per till: the same for all, or each till its own (tills of a chain sell only to their venue's
    media, so each venue's tills draw from that venue's media)."""
    if isinstance(mix, Mix):
        return [mix] * len(conns)
    if len(mix) != len(conns):
        raise ValueError(f"{len(mix)} mixes for {len(conns)} tills")
    return list(mix)


async def closed_loop(
    conns: Sequence[Connection],
    mix: Mix | Sequence[Mix],
    *,
    name: str,
    duration_s: float,
    timeout_s: float,
    seed: int,
    max_requests: int = 1_000_000,
) -> PhaseResult:
    """Every till sends back-to-back for `duration_s`; requests already sent are waited for (bounded by the
    timeout), so the 2xx count matches what the database booked."""
    result = PhaseResult(name)
    budget = [max_requests]
    mixes = mixes_for(conns, mix)
    cpu0 = time.process_time()
    result.started = time.perf_counter()
    deadline = result.started + duration_s

    async def till_loop(index: int, conn: Connection) -> None:
        rng = random.Random(seed * 1000 + index)
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            kind, path, body = mixes[index].pick(rng)
            result.samples.append(await _send(conn, kind, path, body, time.perf_counter(), timeout_s))

    await asyncio.gather(*(till_loop(i, conn) for i, conn in enumerate(conns)))
    result.finished = time.perf_counter()
    result.client_cpu_s = time.process_time() - cpu0
    _note_errors(result)
    return result


async def open_loop(
    conns: Sequence[Connection],
    mix: Mix | Sequence[Mix],
    *,
    name: str,
    rate_per_s: float,
    duration_s: float,
    timeout_s: float,
    seed: int,
    drain_s: float = 30.0,
) -> PhaseResult:
    """Requests fall due every 1/rate seconds for `duration_s`; free tills take them in due order.

    A request's latency is measured from its due time, so time spent waiting for a free till (the server
    being too slow to keep up) is part of it. After the schedule ends the backlog is drained for at most
    `drain_s`; whatever is still unsent then counts as failed.

    With one mix per till (a chain), tills sharing a mix form a group with its own queue; each request is
    drawn for a group in proportion to the group's media, so media are touched uniformly over all groups.
    """
    result = PhaseResult(name, target_rate=rate_per_s)
    count = max(1, round(rate_per_s * duration_s))
    rng = random.Random(seed)
    per_conn = mixes_for(conns, mix)
    groups = list({id(m): m for m in per_conn}.values())
    group_of_conn = [next(g for g, m in enumerate(groups) if m is mine) for mine in per_conn]
    weights = [len(m.uids) for m in groups]
    group_of = [0] * count if len(groups) == 1 else rng.choices(range(len(groups)), weights, k=count)
    planned = [groups[g].pick(rng) for g in group_of]
    queues: list[asyncio.Queue[int | None]] = [asyncio.Queue() for _ in groups]
    cpu0 = time.process_time()
    result.started = start = time.perf_counter()
    interval = 1.0 / rate_per_s

    async def dispatcher() -> None:
        for index in range(count):
            delay = start + index * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queues[group_of[index]].put_nowait(index)
        for group in group_of_conn:
            queues[group].put_nowait(None)  # one stop mark per till, after the whole schedule

    async def till_loop(conn: Connection, queue: asyncio.Queue[int | None]) -> None:
        for _ in range(count + 1):
            index = await queue.get()
            if index is None:
                return
            kind, path, body = planned[index]
            result.samples.append(await _send(conn, kind, path, body, start + index * interval, timeout_s))

    tills = [asyncio.create_task(till_loop(conn, queues[group_of_conn[i]])) for i, conn in enumerate(conns)]
    await dispatcher()
    _, pending = await asyncio.wait(tills, timeout=max(0.0, start + duration_s + drain_s - time.perf_counter()))
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    unsent = count - len(result.samples)
    now = time.perf_counter()
    result.samples.extend(Sample("unsent", 0, now - start) for _ in range(unsent))
    result.finished = time.perf_counter()
    result.client_cpu_s = time.process_time() - cpu0
    _note_errors(result)
    return result


T = TypeVar("T")


def run_apart(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on a new event loop in a thread of its own, so it also works where the calling thread
    already runs a loop (a test session whose Playwright browser keeps one going in the main thread)."""
    results: list[T] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with new_runner() as runner:
                results.append(runner.run(main))
        except BaseException as error:  # handed to the caller below
            failures.append(error)

    thread = threading.Thread(target=run, name="loadgen")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return results[0]


def new_runner() -> asyncio.Runner:
    """An event-loop runner on uvloop when available (cheaper client), else the default loop."""
    if uvloop is not None:
        return asyncio.Runner(loop_factory=uvloop.new_event_loop)
    return asyncio.Runner()
