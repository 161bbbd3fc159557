"""Tamper evidence for the journal (DESIGN §4): each device's entries form a hash chain.

An entry's hash covers the previous entry's hash of the same device and everything the entry says: venue,
device, sequence number, code, operator, times, what it corrects, memo and its postings. Changing, removing
or reordering any entry or posting afterwards breaks the chain from there on, and `tapzone check` names the
first entry that no longer fits. Chains run per device, never one global chain, so tills do not queue for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa

from tapzone.store.tables import journal_entries, postings
from tapzone.store.uow import Tx

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """What the hash covers; the same fields whether computed when booking or re-read by the check."""

    venue_id: int
    device_id: int
    device_seq: int
    code: str
    operator_id: int | None
    effective_at: datetime
    business_day: date
    corrects_entry_id: int | None
    memo: str
    postings: tuple[tuple[int, str, int], ...]  # (account id, unit, amount), sorted

    def digest(self, prev_hash: str) -> str:
        body = json.dumps(
            [
                self.venue_id,
                self.device_id,
                self.device_seq,
                self.code,
                self.operator_id,
                self.effective_at.astimezone(UTC).isoformat(),
                self.business_day.isoformat(),
                self.corrects_entry_id,
                self.memo,
                [list(posting) for posting in self.postings],
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def link_gap(prev_seq: int, seq: int) -> str:
    """What a broken link means for the rows before it: removed rows leave a gap in the sequence, a row put
    in by hand a repeated number; otherwise the predecessor's hash was changed."""
    if seq > prev_seq + 1:
        missing = str(prev_seq + 1) if seq == prev_seq + 2 else f"{prev_seq + 1}..{seq - 1}"
        return f" (seq {missing} missing: deleted)"
    if seq <= prev_seq:
        return f" (seq {seq} repeated: a row was inserted)"
    return " (the previous row was changed)"


def sorted_postings(postings: Iterable[tuple[int, str, int]]) -> tuple[tuple[int, str, int], ...]:
    return tuple(sorted(postings))


def chain_head(tx: Tx, device_id: int) -> tuple[int, str]:
    """The device's last sequence number and hash, with the device's chain locked until commit.

    Two statements on purpose: PostgreSQL re-checks only the locked row after waiting for a lock, so a head
    read in the locking statement would be the one from before the other transaction committed. The device
    lock comes after the card accounts in the lock order (`store.uow`).
    """
    tx.lock_device(device_id)
    row = tx.conn.execute(
        sa.select(journal_entries.c.device_seq, journal_entries.c.hash)
        .where(journal_entries.c.device_id == device_id, journal_entries.c.device_seq.is_not(None))
        .order_by(journal_entries.c.device_seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, GENESIS_HASH
    return int(row.device_seq), str(row.hash)


def broken_links(conn: sa.Connection) -> Iterator[str]:
    """Describe every journal entry whose hash or link to its device's previous entry does not verify.

    Entries booked before the chain existed carry no sequence number; once a device's chain has begun, an
    unchained entry of that device is itself a finding (someone inserted it by hand).
    """
    previous: dict[int, tuple[int, str]] = {}
    first_chained: dict[int, int] = {}
    for row, lines in _entries_with_postings(conn):
        if row.device_seq is None:
            if row.device_id in first_chained and row.id > first_chained[row.device_id]:
                yield f"journal entry {row.id} (device {row.device_id}) is outside its device's hash chain"
            continue
        first_chained.setdefault(row.device_id, row.id)
        prev_seq, prev_hash = previous.get(row.device_id, (0, GENESIS_HASH))
        expected = ChainedEntry(
            venue_id=row.venue_id,
            device_id=row.device_id,
            device_seq=row.device_seq,
            code=row.code,
            operator_id=row.operator_id,
            effective_at=row.effective_at,
            business_day=row.business_day,
            corrects_entry_id=row.corrects_entry_id,
            memo=row.memo,
            postings=sorted_postings(lines),
        ).digest(row.prev_hash or "")
        where = f"journal entry {row.id} (device {row.device_id}, seq {row.device_seq})"
        if row.device_seq != prev_seq + 1 or row.prev_hash != prev_hash:
            yield f"{where} does not link to its predecessor{link_gap(prev_seq, row.device_seq)}"
        elif row.hash != expected:
            yield f"{where} hash does not match its content"
        previous[row.device_id] = (row.device_seq, row.hash)


def _entries_with_postings(conn: sa.Connection) -> Iterator[tuple[sa.Row[Any], list[tuple[int, str, int]]]]:
    """Every journal entry in chain order with its postings, streamed: one ordered join read in batches, so
    memory stays flat however many postings the ledger holds (20 million in bench/scale.py)."""
    query = (
        sa.select(
            journal_entries,
            postings.c.account_id.label("posting_account_id"),
            postings.c.unit.label("posting_unit"),
            postings.c.amount.label("posting_amount"),
        )
        .select_from(journal_entries.outerjoin(postings, postings.c.entry_id == journal_entries.c.id))
        .order_by(
            journal_entries.c.device_id,
            journal_entries.c.device_seq.is_(None),
            journal_entries.c.device_seq,
            journal_entries.c.id,
        )
    )
    result = conn.execution_options(yield_per=20_000).execute(query)
    for _, group in groupby(result, key=lambda row: row.id):
        rows = list(group)
        lines = [
            (row.posting_account_id, row.posting_unit, int(row.posting_amount))
            for row in rows
            if row.posting_account_id is not None
        ]
        yield rows[0], lines
