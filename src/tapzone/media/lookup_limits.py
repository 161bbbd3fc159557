"""A limit on failed medium lookups per device, so a till (or a stolen till token) cannot enumerate media.

Only failures count — a lookup answered "unknown medium" (reader) or "unknown or inactive medium" (typed) —
so a till at work is never slowed down and a success costs no write. A device that used up its failures gets
429 for every medium request until the window ends, known media included; otherwise the 429 itself would tell
a known number from an unknown one. The failure is counted, under the counter's lock, *before* the unknown
answer leaves: parallel guesses serialise on the counter, and once it is used up the answer is 429 instead, so
no more than `LOOKUP_LIMIT.attempts` unknown answers per window ever reach a device.

Reader and typed failures share one limit: the entry kind is what the till says it is, so a separate, wider
limit for readers would be the one an enumerator picks. The number is sized for a till that reads brand-new
wristbands before issuing them (each is unknown until issued) — registering stock in advance avoids that.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from tapzone.errors import RateLimited, UnknownMedium, UnknownOrInactiveMedium
from tapzone.store.rate_limits import Limit, attempts_used, claim_attempt, retry_after_if_used_up
from tapzone.store.uow import UnitOfWork

LOOKUP_LIMIT = Limit("medium-lookup", attempts=60, window=timedelta(minutes=10))
CLEAR_FOR_S = 2.0


class _ClearDevices:
    """Devices seen far below their limit a moment ago, so a tap or a sale does not pay one more database
    read each time. Any failure in this process forgets the device at once, which keeps a single server
    process exact; other processes' failures can go unseen for at most `CLEAR_FOR_S`, and only while the
    device had used no more than half of its limit, so the limit can never be overrun by more than that."""

    def __init__(self) -> None:
        self._until: dict[int, float] = {}
        self._lock = threading.Lock()

    def holds(self, device_id: int) -> bool:
        with self._lock:
            return self._until.get(device_id, 0.0) > time.monotonic()

    def note(self, device_id: int) -> None:
        with self._lock:
            self._until[device_id] = time.monotonic() + CLEAR_FOR_S

    def forget(self, device_id: int) -> None:
        with self._lock:
            self._until.pop(device_id, None)


_clear_by_uow: weakref.WeakKeyDictionary[UnitOfWork, _ClearDevices] = weakref.WeakKeyDictionary()
_clear_lock = threading.Lock()


def _clear_devices(uow: UnitOfWork) -> _ClearDevices:
    with _clear_lock:
        found = _clear_by_uow.get(uow)
        if found is None:
            found = _clear_by_uow[uow] = _ClearDevices()
        return found


@contextmanager
def limited_lookups(uow: UnitOfWork, device_id: int) -> Iterator[None]:
    """Run the block as one device request: refused while the device's failures are used up, and a failed
    lookup inside it counted (or turned into 429 when it would pass the limit)."""
    claims = [(LOOKUP_LIMIT, str(device_id))]
    clear = _clear_devices(uow)
    if not clear.holds(device_id):
        with uow.engine.connect() as conn:
            retry_after = retry_after_if_used_up(conn, uow.clock.now(), claims)
            used = attempts_used(conn, uow.clock.now(), LOOKUP_LIMIT, str(device_id))
        if retry_after is not None:
            raise RateLimited("too many lookups of unknown media from this device; try again later", retry_after)
        if used <= LOOKUP_LIMIT.attempts // 2:
            clear.note(device_id)
    try:
        yield
    except (UnknownMedium, UnknownOrInactiveMedium):
        clear.forget(device_id)
        with uow.transaction() as tx:
            claim_attempt(tx, claims)  # raises RateLimited, counting nothing, when this one is over the limit
        raise
