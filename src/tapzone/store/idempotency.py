"""Use-case level idempotency (DESIGN §4).

The key is stored per device with the request fingerprint and the response, in the same transaction as the
work. A replay returns the stored response; the same key with another request is refused.

A duplicate that arrives while the first is still running either waits for it and then replays its response
(`InFlightPolicy.WAIT`, for callers inside the process) or is refused with `request-in-flight`
(`InFlightPolicy.REFUSE`, the HTTP API: the till retries). Within one process a registry of running keys
detects twins; across processes PostgreSQL's transaction-scoped advisory lock does.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.errors import Conflict, IdempotencyKeyReused, InvalidRequest, RequestInFlight
from tapzone.store.retry import run_with_retries
from tapzone.store.tables import idempotency_keys
from tapzone.store.uow import InFlightPolicy, Tx, UnitOfWork

ResultT = TypeVar("ResultT", bound=BaseModel)
MAX_KEY_LENGTH = 128


_running: dict[tuple[str, int, int, str], threading.Event] = {}
_running_guard = threading.Lock()


@contextmanager
def _claim(slot: tuple[str, int, int, str], policy: InFlightPolicy) -> Iterator[None]:
    """Mark a key as running in this process; a twin waits for it or is refused."""
    while True:
        with _running_guard:
            twin = _running.get(slot)
            if twin is None:
                mine = threading.Event()
                _running[slot] = mine
                break
        if policy is InFlightPolicy.REFUSE:
            raise RequestInFlight("a request with this idempotency key is still being processed")
        twin.wait()
    try:
        yield
    finally:
        with _running_guard:
            del _running[slot]
        mine.set()


def _advisory_key(ctx: RequestContext) -> int:
    digest = hashlib.sha256(f"{ctx.venue_id}:{ctx.device_id}:{ctx.idempotency_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def fingerprint_of(operation: str, payload: Mapping[str, Any]) -> str:
    canonical = json.dumps({"operation": operation, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    uow: UnitOfWork,
    ctx: RequestContext,
    operation: str,
    payload: Mapping[str, Any],
    handler: Callable[[Tx], ResultT],
    result_type: type[ResultT],
) -> ResultT:
    """Run `handler` in one transaction at most once per (venue, device, key); twins follow the unit of
    work's in-flight policy."""
    in_flight = uow.in_flight_policy
    key = ctx.idempotency_key
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"idempotency key must be 1..{MAX_KEY_LENGTH} characters")
    fingerprint = fingerprint_of(operation, payload)
    slot = (uow.engine_key, ctx.venue_id, ctx.device_id, key)
    with _claim(slot, in_flight):
        # A deadlock or serialization failure rolled the whole attempt back, the key claim included: run again.
        return run_with_retries(
            lambda: _run_once(uow, ctx, operation, fingerprint, handler, result_type, in_flight), operation
        )


def _run_once(
    uow: UnitOfWork,
    ctx: RequestContext,
    operation: str,
    fingerprint: str,
    handler: Callable[[Tx], ResultT],
    result_type: type[ResultT],
    in_flight: InFlightPolicy,
) -> ResultT:
    with uow.transaction() as tx:
        if in_flight is InFlightPolicy.REFUSE and tx.is_postgres:
            # Another API process may be running the same key: refuse rather than queue behind it.
            got_it = tx.conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(_advisory_key(ctx)))).scalar_one()
            if not got_it:
                raise RequestInFlight("a request with this idempotency key is still being processed")
        # Claim the key first. A twin that committed it already makes this a no-op (and on PostgreSQL a twin
        # still running makes it wait for that twin's commit), after which its stored response is replayed.
        claim = (
            tx.insert_for(idempotency_keys)
            .values(
                venue_id=ctx.venue_id,
                device_id=ctx.device_id,
                key=ctx.idempotency_key,
                operation=operation,
                fingerprint=fingerprint,
                created_at=tx.now,
            )
            .on_conflict_do_nothing(index_elements=["venue_id", "device_id", "key"])
            .returning(idempotency_keys.c.id)
        )
        row_id = tx.conn.execute(claim).scalar_one_or_none()
        if row_id is None:
            stored = _stored(tx, ctx)
            if stored is None:  # the twin rolled back between our claim and this read
                raise RequestInFlight("a request with this idempotency key did not finish; retry")
            return _replay(stored, fingerprint, result_type)
        result = handler(tx)
        tx.conn.execute(
            idempotency_keys.update().where(idempotency_keys.c.id == row_id).values(response=result.model_dump_json())
        )
        return result


def _stored(tx: Tx, ctx: RequestContext) -> tuple[str, str | None] | None:
    row = tx.conn.execute(
        sa.select(idempotency_keys.c.fingerprint, idempotency_keys.c.response).where(
            idempotency_keys.c.venue_id == ctx.venue_id,
            idempotency_keys.c.device_id == ctx.device_id,
            idempotency_keys.c.key == ctx.idempotency_key,
        )
    ).first()
    return None if row is None else (row.fingerprint, row.response)


def _replay(stored: tuple[str, str | None], fingerprint: str, result_type: type[ResultT]) -> ResultT:
    stored_fingerprint, response = stored
    if stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused("this idempotency key was already used for a different request")
    if response is None:  # only possible if a crashed writer left a row behind, which a rollback prevents
        raise Conflict("the first request with this key did not finish")
    return result_type.model_validate_json(response)
