"""A limit on failed medium lookups per device, so a till (or a stolen till token) cannot enumerate media.

Only failures count — a lookup answered "unknown medium" (reader) or "unknown or inactive medium" (typed) —
so a till at work is never slowed down and a success costs no write. The limit lives where media are looked up
by number (`media/lookup.py`), so a request that looks up no medium never meets it. A device that used up its
failures gets 429 for every lookup until the window ends, known media included; otherwise the 429 itself would
tell a known number from an unknown one. The failure is counted, under the counter's lock, *before* the unknown
answer leaves: parallel guesses serialise on the counter, and once it is used up the answer is 429 instead, so
no more than `LOOKUP_LIMIT.attempts` unknown answers per window ever reach a device. The request's transaction
rolls back with the unknown answer, so the count is written after that rollback, in a transaction of its own
(`Tx.after_rollback`).

Reader and typed failures share one limit: the entry kind is what the till says it is, so a separate, wider
limit for readers would be the one an enumerator picks. The number is sized for a till that reads brand-new
wristbands before issuing them (each is unknown until issued) — registering stock in advance avoids that.
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import timedelta

from sqlalchemy.engine import Engine

from tapzone.errors import RateLimited, UnknownMedium, UnknownOrInactiveMedium
from tapzone.store.rate_limits import Limit, claim_attempt, window_state
from tapzone.store.uow import Tx

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


_clear_by_engine: weakref.WeakKeyDictionary[Engine, _ClearDevices] = weakref.WeakKeyDictionary()
_clear_lock = threading.Lock()


def _clear_devices(engine: Engine) -> _ClearDevices:
    with _clear_lock:
        found = _clear_by_engine.get(engine)
        if found is None:
            found = _clear_by_engine[engine] = _ClearDevices()
        return found


def refuse_if_used_up(tx: Tx, device_id: int) -> None:
    """Before a device's lookup of a medium by number: 429 while the device's failures are used up. One read
    of its counter, without locks, in the lookup's transaction — none while the device was seen far below its
    limit a moment ago."""
    clear = _clear_devices(tx.conn.engine)
    if clear.holds(device_id):
        return
    state = window_state(tx.conn, tx.now, LOOKUP_LIMIT, str(device_id))
    if state.retry_after is not None:
        raise RateLimited("too many lookups of unknown media from this device; try again later", state.retry_after)
    if state.used <= LOOKUP_LIMIT.attempts // 2:
        clear.note(device_id)


def count_failed_lookup(tx: Tx, device_id: int) -> None:
    """The lookup is about to answer unknown: count it once the transaction has rolled back with that answer
    (or turn the answer into 429 when it would pass the limit)."""
    engine, now = tx.conn.engine, tx.now
    _clear_devices(engine).forget(device_id)

    def claim(error: BaseException) -> None:
        if not isinstance(error, (UnknownMedium, UnknownOrInactiveMedium)):
            return  # the request failed for another reason first: no unknown answer leaves
        with engine.begin() as conn:
            # Raises RateLimited, counting nothing, when this one is over the limit.
            claim_attempt(Tx(conn=conn, now=now), [(LOOKUP_LIMIT, str(device_id))])

    tx.after_rollback(claim)
