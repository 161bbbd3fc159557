"""A turnstile simulator for demos and benchmarks: it taps media at gates over MQTT and times the decisions.

It speaks only the public gate protocol of `mqtt_bridge` (topics, JSON payloads, QoS 1), exactly as a gate
controller would, so what it measures is what a real turnstile would see: broker, bridge and database.
Runs are bounded by a tap count and a deadline, and it talks to a loopback broker unless told otherwise,
so a demo can never flood a venue's production broker by accident.
"""

from __future__ import annotations

import ipaddress
import json
import math
import queue
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tapzone.access.mqtt_bridge import CONNECT_TIMEOUT_S, KEEPALIVE_S, QOS, TOPIC_ROOT, decision_topic, tap_topic
from tapzone.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class SimPlan:
    """What to simulate. Tap i uses UID i mod len(uids) at gate (i div len(uids)) mod len(gates): every UID
    passes the gates in the order given, e.g. entrance then exit. Like a visitor, a UID taps its next gate
    only after the previous one answered, so the rate is an upper bound when there are few UIDs."""

    venue_id: int
    gate_ids: tuple[int, ...]
    uids: tuple[str, ...]
    rate_per_s: float = 5.0
    count: int = 20
    timeout_s: float = 30.0
    host: str = "127.0.0.1"
    port: int = 1883
    topic_root: str = TOPIC_ROOT
    allow_remote: bool = False

    def tap_at(self, index: int) -> tuple[int, str]:
        uid = self.uids[index % len(self.uids)]
        return self.gate_ids[(index // len(self.uids)) % len(self.gate_ids)], uid


@dataclass(frozen=True, slots=True)
class Outcome:
    tap_id: str
    gate_id: int
    medium_uid: str
    allowed: bool
    reason: str
    display_text: str
    latency_ms: float


@dataclass
class SimSummary:
    sent: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def unanswered(self) -> int:
        return self.sent - len(self.outcomes)

    @property
    def allowed(self) -> int:
        return sum(outcome.allowed for outcome in self.outcomes)

    @property
    def denied_by_reason(self) -> Counter[str]:
        return Counter(outcome.reason for outcome in self.outcomes if not outcome.allowed)

    def latency_ms(self, percent: float) -> float | None:
        return percentile([outcome.latency_ms for outcome in self.outcomes], percent)


def percentile(values: list[float], percent: float) -> float | None:
    """Nearest-rank percentile: always a latency that was measured, never an interpolated one."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


def check_plan(plan: SimPlan) -> None:
    if not plan.gate_ids or not plan.uids:
        raise InvalidRequest("give at least one gate and one medium UID")
    if not 0 < plan.rate_per_s <= 10_000 or not 0 < plan.count <= 1_000_000 or plan.timeout_s <= 0:
        raise InvalidRequest("rate must be 0..10000 taps/s, count 1..1000000 and the timeout positive")
    if not plan.allow_remote and not is_loopback(plan.host):
        raise InvalidRequest(f"{plan.host} is not a loopback address; pass --allow-remote to simulate there")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


class _Listener:
    """Collects decisions from paho's network thread and matches them to the taps sent, by tap id."""

    def __init__(self, plan: SimPlan) -> None:
        self.plan = plan
        self.ready = threading.Event()
        self.decided: queue.Queue[Outcome] = queue.Queue()
        self._sent_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def expect(self, tap_id: str) -> None:
        with self._lock:
            self._sent_at[tap_id] = time.perf_counter()

    def on_connect(
        self, client: mqtt.Client, _: Any, __: mqtt.ConnectFlags, reason: ReasonCode, ___: Properties | None
    ) -> None:
        if not reason.is_failure:
            client.subscribe(decision_topic(self.plan.topic_root, self.plan.venue_id, "+"), qos=QOS)

    def on_subscribe(
        self, _: mqtt.Client, __: Any, ___: int, reasons: list[ReasonCode], ____: Properties | None
    ) -> None:
        if not any(reason.is_failure for reason in reasons):
            self.ready.set()

    def on_message(self, _: mqtt.Client, __: Any, message: mqtt.MQTTMessage) -> None:
        received = time.perf_counter()
        try:
            body = json.loads(message.payload)
            tap_id = str(body["tap_id"])
        except (ValueError, KeyError, TypeError):
            return  # not a decision this simulator can read
        with self._lock:
            sent = self._sent_at.pop(tap_id, None)
        if sent is None:
            return  # another gate's decision, or a repeat of one already counted
        self.decided.put(
            Outcome(
                tap_id=tap_id,
                gate_id=int(body.get("gate_id", 0)),
                medium_uid=str(body.get("medium_uid", "")),
                allowed=bool(body.get("allowed")),
                reason=str(body.get("reason", "")),
                display_text=str(body.get("display_text", "")),
                latency_ms=(received - sent) * 1000,
            )
        )


def run_sim(plan: SimPlan, on_outcome: Callable[[Outcome], None] = lambda _: None) -> SimSummary:
    """Tap `plan.count` times at `plan.rate_per_s` and wait for the decisions until `plan.timeout_s` is up.

    `on_outcome` runs on the calling thread for each decision as it arrives (printing stays single-threaded).
    """
    check_plan(plan)
    listener = _Listener(plan)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tapzone-gate-sim-{uuid.uuid4().hex[:12]}")
    client.on_connect = listener.on_connect
    client.on_subscribe = listener.on_subscribe
    client.on_message = listener.on_message
    client.connect_async(plan.host, plan.port, KEEPALIVE_S)
    client.loop_start()
    try:
        if not listener.ready.wait(CONNECT_TIMEOUT_S):
            raise ConnectionError(f"MQTT broker {plan.host}:{plan.port} did not answer in {CONNECT_TIMEOUT_S} s")
        return _tap_and_collect(plan, client, listener, on_outcome)
    finally:
        client.disconnect()
        client.loop_stop()


def _tap_and_collect(
    plan: SimPlan, client: mqtt.Client, listener: _Listener, on_outcome: Callable[[Outcome], None]
) -> SimSummary:
    run = uuid.uuid4().hex[:8]
    summary = SimSummary(sent=0)
    started = time.monotonic()
    deadline = started + plan.timeout_s
    walking: dict[str, str] = {}  # tap id → UID: a visitor reaches the next gate only once this one answered

    def collect_until(moment: float) -> None:
        while (left := moment - time.monotonic()) > 0:
            try:
                outcome = listener.decided.get(timeout=left)
            except queue.Empty:
                return
            walking.pop(outcome.tap_id, None)
            summary.outcomes.append(outcome)
            on_outcome(outcome)

    for index in range(plan.count):
        collect_until(min(started + index / plan.rate_per_s, deadline))
        gate_id, uid = plan.tap_at(index)
        while uid in walking.values() and time.monotonic() < deadline:
            collect_until(min(time.monotonic() + 0.05, deadline))
        if time.monotonic() >= deadline:
            break
        tap_id = f"sim-{run}-{index}"
        listener.expect(tap_id)
        walking[tap_id] = uid
        payload = json.dumps({"tap_id": tap_id, "medium_uid": uid})
        client.publish(tap_topic(plan.topic_root, plan.venue_id, gate_id), payload, qos=QOS)
        summary.sent += 1
    while len(summary.outcomes) < summary.sent and time.monotonic() < deadline:
        collect_until(min(time.monotonic() + 0.1, deadline))
    return summary


def print_outcome(console: Console, outcome: Outcome) -> None:
    mark = "[green]✓ open[/green]" if outcome.allowed else "[red]✗ shut[/red]"
    console.print(
        f"{mark} gate {outcome.gate_id} {escape(outcome.medium_uid):<12} {escape(outcome.reason):<20} "
        f"{outcome.latency_ms:7.1f} ms  {escape(outcome.display_text)}",
        soft_wrap=True,
    )


def print_summary(console: Console, summary: SimSummary) -> None:
    table = Table("taps", "answered", "allowed", "denied", "p50 ms", "p99 ms", title="Gate simulation")
    p50, p99 = summary.latency_ms(50), summary.latency_ms(99)
    table.add_row(
        str(summary.sent),
        str(len(summary.outcomes)),
        str(summary.allowed),
        str(len(summary.outcomes) - summary.allowed),
        f"{p50:.1f}" if p50 is not None else "-",
        f"{p99:.1f}" if p99 is not None else "-",
    )
    console.print(table)
    for reason, count in summary.denied_by_reason.most_common():
        console.print(f"  denied {escape(reason)}: {count}")
    if summary.unanswered:
        console.print(f"[red]{summary.unanswered} tap(s) got no decision before the deadline[/red]")
