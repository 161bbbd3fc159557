"""Who is calling: the device (bearer token) and the staff member signed in on it (X-Staff-Session).

Token lookups are cached for a few seconds per process so a busy till costs no extra database round trip
per tap; signing out drops the cached session at once, a revoked device token stops working within
`CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import Request

from tapzone.context import RequestContext
from tapzone.errors import IdempotencyKeyMissing, Unauthenticated
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import DeviceIdentity, identify_device, identify_staff, token_digest

CACHE_SECONDS = 10.0
STAFF_HEADER = "x-staff-session"
IDEMPOTENCY_HEADER = "idempotency-key"


K = TypeVar("K")
V = TypeVar("V")


class _TtlCache(Generic[K, V]):
    def __init__(self) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            return hit[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + CACHE_SECONDS, value)

    def drop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)


@dataclass(frozen=True, slots=True)
class Caller:
    device: DeviceIdentity
    operator_id: int | None

    def context(self, idempotency_key: str) -> RequestContext:
        return RequestContext(self.device.venue_id, self.device.device_id, self.operator_id, idempotency_key)


class Authenticator:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._devices: _TtlCache[str, DeviceIdentity] = _TtlCache()
        self._staff: _TtlCache[tuple[int, str], int] = _TtlCache()

    def device(self, request: Request) -> DeviceIdentity:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send the till's token as 'Authorization: Bearer <token>'")
        digest = token_digest(token.strip())
        device = self._devices.get(digest)
        if device is None:
            device = identify_device(self.uow, token.strip())
            self._devices.put(digest, device)
        request.state.venue_language = device.venue_language
        request.state.device_id, request.state.venue_id = device.device_id, device.venue_id  # for the request log
        return device

    def caller(self, request: Request) -> Caller:
        device = self.device(request)
        session = request.headers.get(STAFF_HEADER, "").strip()
        if not session:
            return Caller(device, None)
        key = (device.device_id, token_digest(session))
        staff_id = self._staff.get(key)
        if staff_id is None:
            staff_id = identify_staff(self.uow, device, session)
            self._staff.put(key, staff_id)
        request.state.staff_id = staff_id
        return Caller(device, staff_id)

    def forget_session(self, device: DeviceIdentity, session: str) -> None:
        self._staff.drop((device.device_id, token_digest(session)))


def idempotency_key(request: Request) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise IdempotencyKeyMissing("every write needs an Idempotency-Key header (a client-generated UUID)")
    return key
