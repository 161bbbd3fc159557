"""Audit log of privileged actions, hash-chained per device (DESIGN §4–5: never one global chain)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.ledger.chain import link_gap
from tapzone.store.tables import audit_log
from tapzone.store.uow import Tx

GENESIS_HASH = "0" * 64


def row_hash(
    *,
    prev_hash: str,
    venue_id: int,
    device_id: int,
    seq: int,
    operator_id: int | None,
    action: str,
    subject: str,
    details: str,
    recorded_at: datetime,
) -> str:
    body = json.dumps(
        [venue_id, device_id, seq, operator_id, action, subject, details, recorded_at.isoformat()],
        separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(tx: Tx, ctx: RequestContext, action: str, subject: str, details: dict[str, Any]) -> None:
    """Append an audit row to the device's chain when the use case's work is done (`Tx.at_end`).

    Written last because appending locks the device row, which comes after media, visits and card accounts
    in the lock order (`store.uow`): a typed medium number audited before its card account was locked used to
    deadlock with a booking of the same till that held the card and waited for the device's journal chain.
    """
    details_text = json.dumps(details, sort_keys=True, separators=(",", ":"))
    tx.at_end(lambda: _append(tx, ctx, action, subject, details_text))


def _append(tx: Tx, ctx: RequestContext, action: str, subject: str, details_text: str) -> None:
    tx.lock_device(ctx.device_id)  # serialises this device's chain without touching any other device's
    last = tx.conn.execute(
        sa.select(audit_log.c.seq, audit_log.c.hash)
        .where(audit_log.c.device_id == ctx.device_id)
        .order_by(audit_log.c.seq.desc())
        .limit(1)
    ).first()
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    # Stored times lose sub-microsecond precision nowhere, but SQLite keeps no offset: hash the UTC value.
    recorded_at = tx.now
    tx.conn.execute(
        audit_log.insert().values(
            venue_id=ctx.venue_id,
            device_id=ctx.device_id,
            seq=seq,
            operator_id=ctx.operator_id,
            action=action,
            subject=subject,
            details=details_text,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
            hash=row_hash(
                prev_hash=prev_hash,
                venue_id=ctx.venue_id,
                device_id=ctx.device_id,
                seq=seq,
                operator_id=ctx.operator_id,
                action=action,
                subject=subject,
                details=details_text,
                recorded_at=recorded_at,
            ),
        )
    )


def broken_links(conn: sa.Connection) -> Iterator[str]:
    """Describe every audit row whose hash or link to its predecessor does not verify."""
    rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.device_id, audit_log.c.seq))
    previous: dict[int, tuple[int, str]] = {}
    for row in rows:
        prev_seq, prev_hash = previous.get(row.device_id, (0, GENESIS_HASH))
        expected = row_hash(
            prev_hash=row.prev_hash,
            venue_id=row.venue_id,
            device_id=row.device_id,
            seq=row.seq,
            operator_id=row.operator_id,
            action=row.action,
            subject=row.subject,
            details=row.details,
            recorded_at=row.recorded_at,
        )
        if row.seq != prev_seq + 1 or row.prev_hash != prev_hash:
            where = f"audit row {row.id} (device {row.device_id}, seq {row.seq})"
            yield f"{where} does not link to its predecessor{link_gap(prev_seq, row.seq)}"
        elif row.hash != expected:
            yield f"audit row {row.id} (device {row.device_id}, seq {row.seq}) hash does not match its content"
        previous[row.device_id] = (row.seq, row.hash)
