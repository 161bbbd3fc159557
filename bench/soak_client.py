"""Soak clients: tills and gates that send keyed writes and retry them blindly, keeping a record of each.

A logical write has one key for its whole life (the Idempotency-Key; for a gate tap the gate's tap id), and
the client keeps what became of it: every attempt sent, every client timeout, and whether any attempt got a
2xx. The verifier (soak_verify.py) compares these records with the database afterwards.

How a write is delivered (`DeviceClient.deliver`):

* each attempt gets a client timeout; a share of them are short (a few milliseconds, below the server's answer
  time), so the client gives up while the server is still booking and its stream is dropped;
* a share of writes get a twin: the same request with the same key on a second connection of the same device,
  sent while the original is still in flight (the server answers 409 request-in-flight or replays);
* a timeout, a broken connection (the crash test kills the server), a 5xx or a 409 request-in-flight is
  retried with the same key after a short pause, until a 2xx or another 4xx answers or the write's deadline
  passes; another 4xx is a refusal and ends the write;
* a share of writes that got their 2xx are sent once to three times more anyway (a blind retry of a client
  that lost the answer); every later 2xx must carry the same response as the first.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import loadgen
import scratch
from soak_venue import Device, SoakVenue

RETRYABLE_PROBLEMS = ("request-in-flight",)
CONNECTION_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client makes the server's life. Shares are probabilities per attempt or per write."""

    short_timeout_share: float = 0.3  # attempts with a timeout below the server's answer time
    short_timeout_s: tuple[float, float] = (0.001, 0.015)
    long_timeout_s: float = 10.0
    twin_share: float = 0.1  # writes sent a second time concurrently with the original
    blind_share: float = 0.1  # acknowledged writes sent again (1..3 times)
    pause_s: tuple[float, float] = (0.005, 0.05)  # between retries
    write_deadline_s: float = 120.0  # a write not answered by then stays unresolved


@dataclass(slots=True)
class Write:
    """One logical write and what became of it."""

    kind: str  # tab, sale, topup, settle, entry, tap
    key: str  # Idempotency-Key, or the tap id for a tap
    device_id: int
    uid: str
    path: str
    body: bytes
    attempts: int = 0
    timeouts: int = 0  # attempts the client gave up on (its timeout)
    broken: int = 0  # attempts whose connection failed (refused, reset: the server was killed)
    answers: Counter[int] = field(default_factory=Counter)  # status → count
    acked: bool = False  # some attempt got a 2xx
    refused: int | None = None  # the 4xx that ended it
    first_answer: Any = None  # the parsed body of the first 2xx
    replay_mismatches: int = 0  # later 2xx whose body differed from the first
    twinned: bool = False  # a second copy was sent concurrently with the original

    @property
    def resolved(self) -> bool:
        return self.acked or self.refused is not None

    @property
    def stored_key(self) -> str:
        """The key the server stores it under (a tap is stored as `tap:<tap id>`)."""
        return f"tap:{self.key}" if self.kind == "tap" else self.key


@dataclass(slots=True)
class Tally:
    """Figures over all writes of a run."""

    writes: list[Write] = field(default_factory=list)
    gate_refusals: int = 0  # a 2xx tap that said no: with nothing ever owed, a repeated tap read as a passback
    notes: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, int]:
        answers: Counter[int] = Counter()
        for write in self.writes:
            answers.update(write.answers)
        attempts = sum(w.attempts for w in self.writes)
        return {
            "writes_tried": len(self.writes),
            "attempts_sent": attempts,
            "retries": attempts - len(self.writes),
            "client_timeouts": sum(w.timeouts for w in self.writes),
            "broken_connections": sum(w.broken for w in self.writes),
            # writes whose answer was lost at least once (client timeout, killed server) and then retried
            "writes_in_doubt": sum(1 for w in self.writes if w.timeouts or w.broken),
            "writes_with_twin": sum(w.twinned for w in self.writes),
            "answers_2xx": sum(count for status, count in answers.items() if 200 <= status < 300),
            "answers_409": answers.get(409, 0),
            "answers_5xx": sum(count for status, count in answers.items() if status >= 500),
            "writes_acknowledged": sum(w.acked for w in self.writes),
            "writes_refused": sum(w.refused is not None for w in self.writes),
            "writes_unresolved": sum(not w.resolved for w in self.writes),
            "replay_mismatches": sum(w.replay_mismatches for w in self.writes),
            "gate_refusals": self.gate_refusals,
        }

    def by_kind(self) -> dict[str, int]:
        return dict(Counter(w.kind for w in self.writes))


class DeviceClient:
    """One till or gate: a small pool of keep-alive connections (a twin needs a second one) and its media."""

    def __init__(self, port: int, device: Device, session: str, venue: SoakVenue, policy: RetryPolicy, seed: int):
        self.port = port
        self.device = device
        self.till = loadgen.Till(device.device_id, device.token, session)
        self.venue = venue
        self.policy = policy
        self.rng = random.Random(seed)
        self.idle: list[loadgen.Connection] = []
        self.entries_sold = 0

    def _connection(self) -> loadgen.Connection:
        return self.idle.pop() if self.idle else loadgen.Connection("127.0.0.1", self.port, self.till)

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()

    async def _attempt(self, write: Write, timeout_s: float, tally: Tally) -> bool:
        """Send the write once; True when the answer ends it (a 2xx or a refusal)."""
        conn = self._connection()
        write.attempts += 1
        try:
            async with asyncio.timeout(timeout_s):
                status, payload = await conn.request(
                    "POST", write.path, write.body, idempotent_write=write.kind != "tap", key=write.key
                )
        except TimeoutError:
            conn.close()  # the stream state is unknown: the answer may still arrive on it
            write.timeouts += 1
            return False
        except CONNECTION_ERRORS:
            conn.close()
            write.broken += 1
            return False
        self.idle.append(conn)
        write.answers[status] += 1
        if 200 <= status < 300:
            answer = json.loads(payload)
            if not write.acked:
                write.acked, write.first_answer = True, answer
                if write.kind == "tap" and not answer.get("allowed", False):
                    tally.gate_refusals += 1
            elif answer != write.first_answer:
                write.replay_mismatches += 1
            return True
        if status >= 500 or (status == 409 and _problem(payload) in RETRYABLE_PROBLEMS):
            return False
        if write.refused is None and not write.acked:
            write.refused = status
            if len(tally.notes) < 10:
                tally.notes.append(f"{write.kind} {write.uid}: HTTP {status} {payload[:200]!r}")
        return True

    def _timeout(self) -> float:
        if self.rng.random() < self.policy.short_timeout_share:
            return self.rng.uniform(*self.policy.short_timeout_s)
        return self.policy.long_timeout_s

    async def deliver(self, write: Write, tally: Tally) -> None:
        """Send `write` until it is answered (see the module docstring); bounded by the write's deadline."""
        tally.writes.append(write)
        deadline = time.monotonic() + self.policy.write_deadline_s
        twin = None
        if self.rng.random() < self.policy.twin_share:
            write.twinned = True
            twin = asyncio.create_task(self._twin(write, tally))
        while not await self._attempt(write, self._timeout(), tally):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(self.rng.uniform(*self.policy.pause_s))
        if twin is not None:
            await twin
        if write.acked and self.rng.random() < self.policy.blind_share:
            for _ in range(self.rng.randint(1, 3)):
                await self._attempt(write, self.policy.long_timeout_s, tally)

    async def _twin(self, write: Write, tally: Tally) -> None:
        await asyncio.sleep(self.rng.uniform(0.0, 0.005))
        await self._attempt(write, self.policy.long_timeout_s, tally)

    async def read_json(self, path: str, deadline_s: float = 120.0) -> Any:
        """A read the till needs before a write (the tab's total before settling it), retried like a write."""
        deadline = time.monotonic() + deadline_s
        while True:
            conn = self._connection()
            try:
                async with asyncio.timeout(self.policy.long_timeout_s):
                    status, payload = await conn.request("GET", path, b"", idempotent_write=False)
            except (TimeoutError, *CONNECTION_ERRORS):
                conn.close()
                status, payload = 0, b""
            else:
                self.idle.append(conn)
            if 200 <= status < 300:
                return json.loads(payload)
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET {path} did not answer: {status} {payload[:200]!r}")
            await asyncio.sleep(self.rng.uniform(*self.policy.pause_s))

    # ------------------------------------------------------------------ the writes

    async def next_write(self) -> Write:
        """The device's next logical write: a tap at a gate; a tab sale, card-balance sale, top-up, settlement or
        entry sale at a till, on one of its own media."""
        uid = self.rng.choice(self.device.uids)
        key = str(uuid.uuid4())
        if self.device.is_gate:
            body = {"tap_id": key.replace("-", ""), "medium_uid": uid}
            path = f"/api/v1/gates/{self.device.device_id}/taps"
            return Write("tap", key.replace("-", ""), self.device.device_id, uid, path, _json(body))
        draw = self.rng.random()
        media = f"/api/v1/media/{uid}"
        item = {"items": [{"product_id": self.rng.choice(self.venue.product_ids), "quantity": 1}]}
        if draw < 0.15:
            tab = await self.read_json(f"{media}/tab")
            total = int(tab["open_total_minor"])
            if total > 0:
                tender = {"kind": "prepaid", "amount_minor": total, "currency": scratch.CURRENCY}
                return self._write("settle", key, uid, f"{media}/tab/settlements", {"tenders": [tender]})
        if draw < 0.55:
            return self._write("tab", key, uid, f"{media}/tab/lines", item)
        if draw < 0.75:
            return self._write("sale", key, uid, f"{media}/sales", item)
        if draw < 0.92:
            amount = {"amount_minor": 1_000, "currency": scratch.CURRENCY}
            return self._write("topup", key, uid, f"{media}/top-ups", {"amount": amount})
        self.entries_sold += 1
        new_uid = f"N{self.device.device_id}x{self.entries_sold}"
        tender = {"kind": "cash", "amount_minor": 1_500, "currency": scratch.CURRENCY}
        body = {"entry_product_id": self.venue.entry_product_id, "medium_uid": new_uid, "tenders": [tender]}
        return self._write("entry", key, new_uid, "/api/v1/entries", body)

    def _write(self, kind: str, key: str, uid: str, path: str, body: dict[str, Any]) -> Write:
        return Write(kind, key, self.device.device_id, uid, path, _json(body))


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _problem(payload: bytes) -> str:
    """The slug of a problem+json answer's type (`/problems/<slug>`), or ''."""
    try:
        kind = json.loads(payload).get("type", "")
    except (ValueError, AttributeError):
        return ""
    return str(kind).rsplit("/", 1)[-1]


async def sign_in_all(port: int, venue: SoakVenue) -> dict[int, str]:
    """A staff session per till (gates act on their token alone), as a till does at the start of a shift."""

    async def one(device: Device) -> tuple[int, str]:
        conn = loadgen.Connection("127.0.0.1", port, loadgen.Till(device.device_id, device.token))
        try:
            body = _json({"login": scratch.STAFF_LOGIN, "password": scratch.STAFF_PASSWORD})
            async with asyncio.timeout(60):
                status, payload = await conn.request("POST", "/api/v1/sessions", body, idempotent_write=False)
        finally:
            conn.close()
        if status != 201:
            raise RuntimeError(f"sign-in failed with {status}: {payload[:300]!r}")
        return device.device_id, str(json.loads(payload)["session_token"])

    sessions = dict(await asyncio.gather(*(one(device) for device in venue.tills)))
    sessions.update({gate.device_id: "" for gate in venue.gates})
    return sessions
