"""Audit log of privileged actions, hash-chained per device (DESIGN §4–5: never one global chain).

The device row records where its audit chain ends (`devices.audit_head_*`), set with every row appended, so
the check also sees rows cut off the newest end, which no link can show."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.ledger.chain import head_mismatch, link_gap, recorded_heads
from tapzone.store.tables import audit_log, devices
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
    # The head is read after the lock in a statement of its own, so it is the one the last holder committed.
    last = tx.conn.execute(
        sa.select(devices.c.audit_head_seq, devices.c.audit_head_hash).where(devices.c.id == ctx.device_id)
    ).one()
    seq = last.audit_head_seq + 1
    prev_hash = last.audit_head_hash
    # Stored times lose sub-microsecond precision nowhere, but SQLite keeps no offset: hash the UTC value.
    recorded_at = tx.now
    row_digest = row_hash(
        prev_hash=prev_hash,
        venue_id=ctx.venue_id,
        device_id=ctx.device_id,
        seq=seq,
        operator_id=ctx.operator_id,
        action=action,
        subject=subject,
        details=details_text,
        recorded_at=recorded_at,
    )
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
            hash=row_digest,
        )
    )
    tx.conn.execute(
        devices.update().where(devices.c.id == ctx.device_id).values(audit_head_seq=seq, audit_head_hash=row_digest)
    )


def broken_links(conn: sa.Connection) -> Iterator[str]:
    """Describe every audit row whose hash or link to its predecessor does not verify, and every device whose
    recorded head is not its chain's last row."""
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
    for device_id, recorded in recorded_heads(conn, devices.c.audit_head_seq, devices.c.audit_head_hash).items():
        found = head_mismatch(device_id, "audit", "rows", previous.get(device_id, (0, GENESIS_HASH)), recorded)
        if found:
            yield found


def set_heads_from_chains(conn: sa.Connection) -> None:
    """Set every device's recorded audit head from its chain as it stands: for rows written in bulk, not
    appended here (bench/scale_load.py). It records whatever the chain holds, so it is no repair for a finding."""

    def newest(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
        last = sa.select(column).where(audit_log.c.device_id == devices.c.id).order_by(audit_log.c.seq.desc())
        return last.limit(1).scalar_subquery()

    conn.execute(
        devices.update().values(
            audit_head_seq=sa.func.coalesce(newest(audit_log.c.seq), 0),
            audit_head_hash=sa.func.coalesce(newest(audit_log.c.hash), GENESIS_HASH),
        )
    )
