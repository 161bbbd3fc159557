"""Gates over MQTT (DESIGN §5): taps arrive on `<root>/<venue>/gates/<gate>/tap`, decisions leave on
`<root>/<venue>/gates/<gate>/decision`, both QoS 1 and both carrying the gate's tap id.

The bridge is a thin adapter like the HTTP router: it runs the same `tap` use case, so a gate gets the same
reason code whichever way it talks, and a tap id already decided (over MQTT or HTTP) returns the stored
decision. That is what makes QoS 1 safe here: the broker may deliver a tap twice, and the second delivery
reads as the first decision, never as a passback violation.

A tap is acknowledged to the broker only after its decision was published and acknowledged in turn
(paho `manual_ack`). If the bridge dies or the broker goes away in between, the persistent session
(clean_session=False, a stable client id) makes the broker deliver the tap again, and the stored decision
is published again. Mosquitto hands a client at most `max_inflight_messages` (default 20) unacknowledged
taps, so a slow database slows the flow instead of piling up work in memory.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from tapzone.access.gates import MAX_TAP_ID_LENGTH, TapView, tap
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound, PermissionDenied, TapzoneError
from tapzone.i18n import gettext
from tapzone.store.tables import devices, gates, venues
from tapzone.store.uow import UnitOfWork

log = logging.getLogger(__name__)

TOPIC_ROOT = "tapzone"
QOS = 1
DEFAULT_WORKERS = 8
KEEPALIVE_S = 30
CONNECT_TIMEOUT_S = 10.0
PUBLISH_TIMEOUT_S = 10.0
UNAVAILABLE = "service-unavailable"  # the database failed: nothing was recorded, the visitor taps again


class TapMessage(BaseModel):
    """The tap payload; the same limits as the HTTP body, so both ways refuse the same input."""

    model_config = ConfigDict(extra="forbid")
    tap_id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TAP_ID_LENGTH)]
    medium_uid: Annotated[StrictStr, Field(min_length=1, max_length=64)]


def tap_topic(root: str, venue_id: int, gate: int | str) -> str:
    return f"{root}/{venue_id}/gates/{gate}/tap"


def decision_topic(root: str, venue_id: int, gate: int | str) -> str:
    return f"{root}/{venue_id}/gates/{gate}/decision"


def gate_of(topic: str, root: str, venue_id: int) -> int | None:
    """The gate's device id from a tap topic, or None when the topic is not one of this venue's taps."""
    prefix, suffix = f"{root}/{venue_id}/gates/", "/tap"
    if not (topic.startswith(prefix) and topic.endswith(suffix)):
        return None
    gate = topic[len(prefix) : -len(suffix)]
    return int(gate) if gate.isascii() and gate.isdigit() else None


def read_tap_id(payload: bytes | bytearray) -> tuple[str | None, Any]:
    """(tap id, parsed body) as far as the payload can be read: a decision needs at least the tap id."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None, None
    tap_id = body.get("tap_id") if isinstance(body, dict) else None
    return (tap_id if isinstance(tap_id, str) and tap_id else None), body


def denial(gate_id: int, tap_id: str, medium_uid: str, reason: str, display_text: str) -> TapView:
    """A refusal in the shape of every other decision, so a gate parses one schema only."""
    return TapView(
        tap_id=tap_id,
        gate_id=gate_id,
        medium_uid=medium_uid,
        allowed=False,
        reason=reason,
        display_text=display_text,
        open_ms=0,
        passage=None,
        visit_id=None,
        tab_ids=[],
        unbound=False,
    )


def venue_language(uow: UnitOfWork, venue_id: int) -> str:
    """The venue's display language; also proves the venue exists before the bridge subscribes."""
    with uow.engine.connect() as conn:
        language = conn.execute(sa.select(venues.c.language).where(venues.c.id == venue_id)).scalar_one_or_none()
    if language is None:
        raise NotFound(f"venue {venue_id} does not exist")
    return str(language)


def is_gate_of(uow: UnitOfWork, venue_id: int, device_id: int) -> bool:
    with uow.engine.connect() as conn:
        found = conn.execute(
            sa.select(gates.c.device_id)
            .join(devices, devices.c.id == gates.c.device_id)
            .where(gates.c.device_id == device_id, devices.c.venue_id == venue_id)
        ).first()
    return found is not None


class GateBridge:
    """Subscribes to one venue's gate taps and answers each with a decision; see the module docstring."""

    def __init__(
        self,
        uow: UnitOfWork,
        venue_id: int,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str | None = None,
        topic_root: str = TOPIC_ROOT,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.uow = uow
        self.venue_id = venue_id
        self.host, self.port = host, port
        self.topic_root = topic_root
        # A stable id is what keeps the broker's session (and its unacknowledged taps) across restarts.
        self.client_id = client_id or f"tapzone-gate-bridge-{venue_id}"
        self.workers = workers
        self.language = "en"
        self._known_gates: set[int] = set()
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False, manual_ack=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect

    @property
    def subscription(self) -> str:
        return tap_topic(self.topic_root, self.venue_id, "+")

    def start(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Connect and subscribe; returns once taps flow. paho's network thread reconnects on its own later."""
        self.language = venue_language(self.uow, self.venue_id)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gate-bridge")
        self._client.connect_async(self.host, self.port, KEEPALIVE_S)
        self._client.loop_start()
        if not self._ready.wait(timeout_s):
            self.stop()
            raise ConnectionError(f"MQTT broker {self.host}:{self.port} did not accept the bridge in {timeout_s} s")
        log.info("gate bridge for venue %s listening on %s", self.venue_id, self.subscription)

    def stop(self) -> None:
        """Finish the taps under way (publish and acknowledge them), then disconnect.

        Taps that arrive after this point are left unacknowledged: the persistent session hands them to the
        next bridge that connects with the same client id.
        """
        self._stopping.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._client.disconnect()
        self._client.loop_stop()
        log.info("gate bridge for venue %s stopped", self.venue_id)

    def run_until_signalled(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop cleanly (for `tapzone gate-bridge`; main thread only)."""
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._pool is not None and not self._stopping.is_set():
                self.stop()

    def _on_connect(self, client: mqtt.Client, _: Any, flags: mqtt.ConnectFlags, reason: Any, __: Any = None) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the bridge: %s", reason)
            return
        log.info("connected to %s:%s (session present: %s)", self.host, self.port, flags.session_present)
        client.subscribe(self.subscription, qos=QOS)  # again on every reconnect, in case the session was lost

    def _on_subscribe(
        self, _: mqtt.Client, __: Any, ___: int, reasons: list[ReasonCode], ____: Properties | None
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            log.error("MQTT broker refused the subscription to %s: %s", self.subscription, reasons)
            return
        self._ready.set()

    def _on_disconnect(
        self, _: mqtt.Client, __: Any, ___: mqtt.DisconnectFlags, reason: ReasonCode, ____: Properties | None
    ) -> None:
        if not self._stopping.is_set():
            log.warning("disconnected from the MQTT broker (%s); reconnecting", reason)

    def _on_message(self, _: mqtt.Client, __: Any, message: mqtt.MQTTMessage) -> None:
        # The network loop must never wait for the database: hand the tap to a worker and return.
        if self._stopping.is_set() or self._pool is None:
            return  # left unacknowledged on purpose: redelivered to the next bridge
        self._pool.submit(self._handle, message)

    def _handle(self, message: mqtt.MQTTMessage) -> None:
        try:
            decision = None if message.retain else self.decide(message.topic, message.payload)
            if decision is not None:
                self._publish(decision)
            self._client.ack(message.mid, message.qos)
        except Exception:  # the worker must survive; the tap stays unacknowledged and is delivered again
            log.exception("tap on %s not answered", message.topic)

    def decide(self, topic: str, payload: bytes | bytearray) -> TapView | None:
        """The decision for one tap message, or None for a message that cannot be answered (logged)."""
        gate_id = gate_of(topic, self.topic_root, self.venue_id)
        tap_id, body = read_tap_id(payload)
        if gate_id is None or tap_id is None:
            log.warning("dropped a tap on %s without a readable gate or tap id: %.200r", topic, payload)
            return None
        uid = body.get("medium_uid")
        uid = uid if isinstance(uid, str) else ""
        try:
            request = TapMessage.model_validate(body)
        except ValidationError:
            return self._refusal(gate_id, tap_id, uid, InvalidRequest("a tap is {tap_id, medium_uid} strings"))
        try:
            self._require_gate(gate_id)
            ctx = RequestContext(self.venue_id, gate_id, None, f"tap:{request.tap_id}")
            return tap(self.uow, ctx, tap_id=request.tap_id, medium_uid=request.medium_uid)
        except TapzoneError as error:
            return self._refusal(gate_id, tap_id, uid, error)
        except Exception:
            # Nothing was committed. Answer at once so the turnstile does not hang; the visitor taps again.
            log.exception("tap %s at gate %s failed", tap_id, gate_id)
            return denial(gate_id, tap_id, uid, UNAVAILABLE, gettext("Please try again", self.language))

    def _refusal(self, gate_id: int, tap_id: str, uid: str, error: TapzoneError) -> TapView:
        return denial(gate_id, tap_id, uid, error.type, gettext(error.title, self.language))

    def _require_gate(self, gate_id: int) -> None:
        """Refuse topics of devices that are no gate of this venue before the use case stores anything.

        Gates are never removed, so a positive answer is cached; the use case checks again in its transaction.
        """
        if gate_id in self._known_gates:
            return
        if not is_gate_of(self.uow, self.venue_id, gate_id):
            raise PermissionDenied("this device is not a gate of the venue")
        self._known_gates.add(gate_id)

    def _publish(self, decision: TapView) -> None:
        topic = decision_topic(self.topic_root, self.venue_id, decision.gate_id)
        info = self._client.publish(topic, decision.model_dump_json(), qos=QOS)
        info.wait_for_publish(PUBLISH_TIMEOUT_S)
        if not info.is_published():
            raise TimeoutError(f"broker did not acknowledge the decision for tap {decision.tap_id}")
