"""Use-case level idempotency (DESIGN §4).

The key is stored per device with the request fingerprint and the response, in the same transaction as the
work. A replay returns the stored response; the same key with another request is refused. A concurrent
duplicate blocks on the unique key until the first commits, then reads its response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.errors import Conflict, IdempotencyKeyReused, InvalidRequest
from tapzone.store.tables import idempotency_keys
from tapzone.store.uow import Tx, UnitOfWork

ResultT = TypeVar("ResultT", bound=BaseModel)
MAX_KEY_LENGTH = 128


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
    """Run `handler` in one transaction at most once per (venue, device, key)."""
    key = ctx.idempotency_key
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"idempotency key must be 1..{MAX_KEY_LENGTH} characters")
    fingerprint = fingerprint_of(operation, payload)
    # Two rounds: the second one only runs when a concurrent twin inserted the key first and committed.
    for attempt in range(2):
        try:
            with uow.transaction() as tx:
                stored = _stored(tx, ctx)
                if stored is not None:
                    return _replay(stored, fingerprint, result_type)
                row_id = tx.conn.execute(
                    idempotency_keys.insert()
                    .values(
                        venue_id=ctx.venue_id,
                        device_id=ctx.device_id,
                        key=key,
                        operation=operation,
                        fingerprint=fingerprint,
                        created_at=tx.now,
                    )
                    .returning(idempotency_keys.c.id)
                ).scalar_one()
                result = handler(tx)
                tx.conn.execute(
                    idempotency_keys.update()
                    .where(idempotency_keys.c.id == row_id)
                    .values(response=result.model_dump_json())
                )
                return result
        except sa.exc.IntegrityError as error:
            if attempt == 0 and _is_key_collision(error):
                continue
            raise
    raise AssertionError("unreachable: the second round either replays or raises")


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


def _is_key_collision(error: sa.exc.IntegrityError) -> bool:
    text = str(error.orig)
    return "idempotency_keys" in text
