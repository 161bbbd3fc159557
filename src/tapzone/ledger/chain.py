"""Tamper evidence for the journal (DESIGN §4): each device's entries form a hash chain.

An entry's hash covers the previous entry's hash of the same device and everything the entry says: venue,
device, sequence number, code, operator, times, what it corrects, memo and its postings. Changing, removing
or reordering any entry or posting afterwards breaks the chain from there on, and `tapzone check` names the
first entry that no longer fits. What no link can show — entries cut off the newest end — the device row
tells: it records the head each booking left (`store_heads`), and the check compares it with the last entry.
Chains run per device, never one global chain, so tills do not queue for it.
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

from tapzone.store.tables import devices, journal_entries, postings
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

    The head is kept on the device row itself (`store_heads`), read in its own statement after the lock: the
    lock may have been taken earlier in the transaction (a receipt number, an earlier entry), and each
    statement of a READ COMMITTED transaction sees what the previous holder of the lock committed. The device
    lock comes after the card accounts in the lock order (`store.uow`).
    """
    tx.lock_device(device_id)
    row = tx.conn.execute(
        sa.select(devices.c.journal_head_seq, devices.c.journal_head_hash).where(devices.c.id == device_id)
    ).one()
    return int(row.journal_head_seq), str(row.journal_head_hash)


def store_heads(tx: Tx, heads: dict[int, tuple[int, str]]) -> None:
    """Record where each device's chain now ends, once per device however many entries were appended.

    The device rows are the ones `chain_head` locked, so this adds no lock and no waiting; the head on the
    device is what lets `tapzone check` see entries removed from the newest end of a chain (`head_mismatch`).
    """
    if not heads:
        return
    tx.conn.execute(
        devices.update()
        .where(devices.c.id == sa.bindparam("device"))
        .values(journal_head_seq=sa.bindparam("head_seq"), journal_head_hash=sa.bindparam("head_hash")),
        [{"device": device, "head_seq": seq, "head_hash": hash_} for device, (seq, hash_) in sorted(heads.items())],
    )


def set_heads_from_chains(conn: sa.Connection) -> None:
    """Set every device's recorded journal head from its chain as it stands: for rows written in bulk, not
    booked (bench/scale_load.py). It records whatever the chain holds, so it is no repair for a finding."""
    chained = sa.and_(journal_entries.c.device_id == devices.c.id, journal_entries.c.device_seq.is_not(None))

    def newest(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
        return sa.select(column).where(chained).order_by(journal_entries.c.device_seq.desc()).limit(1).scalar_subquery()

    conn.execute(
        devices.update().values(
            journal_head_seq=sa.func.coalesce(newest(journal_entries.c.device_seq), 0),
            journal_head_hash=sa.func.coalesce(newest(journal_entries.c.hash), GENESIS_HASH),
        )
    )


def head_mismatch(device_id: int, name: str, rows: str, last: tuple[int, str], recorded: tuple[int, str]) -> str | None:
    """What it means when the last row of a device's chain (`name`, made of `rows`) is not the head the device
    recorded when it last appended to it, or None when they agree."""
    (seq, hash_), (recorded_seq, recorded_hash) = last, recorded
    if seq == recorded_seq and hash_ == recorded_hash:
        return None
    ends = (
        f"device {device_id}'s {name} chain ends at seq {seq}" if seq else f"device {device_id}'s {name} chain is empty"
    )
    if seq < recorded_seq:
        return f"{ends} but the device records seq {recorded_seq} ({rows} after {seq} deleted)"
    if seq > recorded_seq:
        return f"{ends} but the device records seq {recorded_seq} ({rows} after {recorded_seq} not appended by tapzone)"
    return f"{ends} but with another hash than the device records (the last of its {rows} was replaced)"


def recorded_heads(conn: sa.Connection, seq: sa.Column[Any], hash_: sa.Column[Any]) -> dict[int, tuple[int, str]]:
    """Each device's recorded head of one chain (the journal's or the audit log's columns on `devices`)."""
    rows = conn.execute(sa.select(devices.c.id, seq, hash_).order_by(devices.c.id))
    return {int(row[0]): (int(row[1]), str(row[2])) for row in rows}


def broken_links(conn: sa.Connection) -> Iterator[str]:
    """Describe every journal entry whose hash or link to its device's previous entry does not verify.

    Entries booked before the chain existed carry no sequence number; once a device's chain has begun, an
    unchained entry of that device is itself a finding (someone inserted it by hand). Last, each chain's final
    entry is compared with the head its device recorded, which names entries deleted from the newest end.
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
    for device_id, recorded in recorded_heads(conn, devices.c.journal_head_seq, devices.c.journal_head_hash).items():
        found = head_mismatch(device_id, "journal", "entries", previous.get(device_id, (0, GENESIS_HASH)), recorded)
        if found:
            yield found


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
