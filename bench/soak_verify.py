"""After a soak run: compare the clients' records of their writes with what the database holds.

Every logical write has one key. The server stores it in `idempotency_keys` (a tap as `tap:<tap id>`) in the
same transaction as the booking itself, and the booking carries it too:

* sales, top-ups, settlements and entry sales: journal entries whose `idempotency_key` is the write's key;
* tab sales: the tab line, which is the newest line of the tab view stored as the key's response (the line is
  inserted under the card account's lock, so no later line of that tab can have a smaller id);
* card-balance sales also write their line (one item per request), in a tab closed by the sale's own entry;
* gate taps: the access event of (gate, tap id).

Only rows created after the run's watermarks are looked at. A write is *present* when its key row and its
booking exist; both or neither, or it is *partial*. Findings, all of which must be 0:

* duplicates: a journal entry code booked twice under one key, or one tab line claimed by two keys;
* lost acknowledged: a write some attempt got a 2xx for that is not (fully) present;
* partial: a key row without its booking or a booking without its key row, or a write whose entries differ
  from those of the other writes of its kind (e.g. a settlement that booked only half of what the others did);
* booked though refused: a write answered with a 4xx that is present anyway;
* unexplained: entries, tab lines, access events or key rows of the run that no client write accounts for
  ("nothing else is booked").

Writes that never got a definitive answer may be present or absent (counted separately), just never partial.
Finally `tapzone check` (the CLI, as an operator runs it) must pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from soak_client import Write
from tapzone.store.tables import access_events, idempotency_keys, journal_entries, tab_lines, tabs

ENTRY_KINDS = ("sale", "topup", "settle", "entry")


@dataclass(frozen=True, slots=True)
class Marks:
    """The highest ids before the run: rows above them were written by it."""

    entry: int
    line: int
    event: int
    key: int


def take_marks(engine: Engine) -> Marks:
    def top(table: sa.Table) -> int:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())

    with engine.connect() as conn:
        return Marks(top(journal_entries), top(tab_lines), top(access_events), top(idempotency_keys))


@dataclass(slots=True)
class Verdict:
    writes: int = 0
    present: int = 0
    absent: int = 0
    duplicates: int = 0
    lost_acknowledged: int = 0
    partial: int = 0
    booked_though_refused: int = 0
    unexplained: int = 0
    unresolved_present: int = 0
    unresolved_absent: int = 0
    entry_codes: dict[str, str] = field(default_factory=dict)  # kind → the entries one write of it books
    check_clean: bool = False
    check_output: str = ""
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.check_clean and not (
            self.duplicates or self.lost_acknowledged or self.partial or self.booked_though_refused or self.unexplained
        )

    def note(self, text: str) -> None:
        if len(self.examples) < 12:
            self.examples.append(text)

    def figures(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "absent": self.absent,
            "duplicates": self.duplicates,
            "lost_acknowledged": self.lost_acknowledged,
            "partial": self.partial,
            "booked_though_refused": self.booked_though_refused,
            "unexplained": self.unexplained,
            "unresolved_present": self.unresolved_present,
            "unresolved_absent": self.unresolved_absent,
            "entry_codes": self.entry_codes,
            "check_clean": self.check_clean,
            "ok": self.ok,
            "examples": self.examples,
        }


@dataclass(slots=True)
class _Found:
    """The run's rows, read once."""

    keys: dict[tuple[int, str], str | None]  # (device, key) → stored response
    entries: dict[str, Counter[str]]  # idempotency key → code → count
    lines: dict[int, str | None]  # tab line → key of the entry that closed its tab, if any
    events: set[tuple[int, str]]


def _read(engine: Engine, marks: Marks) -> _Found:
    with engine.connect() as conn:
        keys = {
            (int(row.device_id), str(row.key)): row.response
            for row in conn.execute(
                sa.select(idempotency_keys.c.device_id, idempotency_keys.c.key, idempotency_keys.c.response).where(
                    idempotency_keys.c.id > marks.key
                )
            )
        }
        entries: dict[str, Counter[str]] = defaultdict(Counter)
        for key, code, count in conn.execute(
            sa.select(journal_entries.c.idempotency_key, journal_entries.c.code, sa.func.count())
            .where(journal_entries.c.id > marks.entry)
            .group_by(journal_entries.c.idempotency_key, journal_entries.c.code)
        ):
            entries[str(key)][str(code)] += int(count)
        closing = journal_entries.c.idempotency_key
        lines = {
            int(line): key
            for line, key in conn.execute(
                sa.select(tab_lines.c.id, closing)
                .select_from(
                    tab_lines.join(tabs, tabs.c.id == tab_lines.c.tab_id).outerjoin(
                        journal_entries, journal_entries.c.id == tabs.c.settlement_entry_id
                    )
                )
                .where(tab_lines.c.id > marks.line)
            )
        }
        events = {
            (int(row.gate_id), str(row.tap_id))
            for row in conn.execute(
                sa.select(access_events.c.gate_id, access_events.c.tap_id).where(access_events.c.id > marks.event)
            )
        }
    return _Found(keys, dict(entries), lines, events)


def _signature(codes: Counter[str]) -> str:
    return ", ".join(f"{code}×{count}" for code, count in sorted(codes.items()))


def verify(engine: Engine, url: str, marks: Marks, writes: list[Write]) -> Verdict:
    """Every finding of the module docstring, plus `tapzone check`."""
    found = _read(engine, marks)
    verdict = Verdict(writes=len(writes))
    signatures: dict[str, Counter[str]] = defaultdict(Counter)
    booked_signature: dict[int, str] = {}
    tab_lines_claimed = [_tab_line(found.keys.get((w.device_id, w.key))) for w in writes if w.kind == "tab"]
    claimed_lines = Counter(line for line in tab_lines_claimed if line is not None)
    # A card-balance sale's line is in the tab its entry closed; tab sales' lines settled later are claimed above.
    unclaimed = [key for line, key in found.lines.items() if line not in claimed_lines]
    sale_lines = Counter(key for key in unclaimed if key is not None)
    unkeyed_lines = unclaimed.count(None)
    for index, write in enumerate(writes):
        slot = (write.device_id, write.stored_key)
        stored = found.keys.get(slot)
        key_there = slot in found.keys and stored is not None
        if write.kind == "tab":
            line = _tab_line(stored)
            booking = line is not None and line in found.lines
        elif write.kind == "tap":
            booking = (write.device_id, write.key) in found.events
        else:
            codes = found.entries.get(write.key, Counter())
            if write.kind == "sale":  # its line counts like an entry of its own
                codes = codes + Counter({"line": sale_lines.pop(write.key, 0)})
            booking = bool(codes)
            verdict.duplicates += sum(count - 1 for count in codes.values())
            if booking:
                booked_signature[index] = _signature(codes)
                signatures[write.kind][booked_signature[index]] += 1
        present = key_there and booking
        verdict.present += present
        verdict.absent += not present
        if key_there != booking or (slot in found.keys and stored is None):
            verdict.partial += 1
            verdict.note(f"partial {write.kind} {write.key}: key row {key_there}, booking {booking}")
        if write.acked and not present:
            verdict.lost_acknowledged += 1
            verdict.note(f"lost {write.kind} {write.key} on {write.uid}: acknowledged, not in the database")
        if write.refused is not None and (key_there or booking):
            verdict.booked_though_refused += 1
            verdict.note(f"{write.kind} {write.key} refused with {write.refused} but booked")
        if not write.resolved:
            verdict.unresolved_present += present
            verdict.unresolved_absent += not present

    # One booking shape per kind: a write that booked other entries than its kind's usual ones is partial.
    for kind, seen in signatures.items():
        usual, _ = seen.most_common(1)[0]
        verdict.entry_codes[kind] = usual
        odd = [i for i, signature in booked_signature.items() if writes[i].kind == kind and signature != usual]
        verdict.partial += len(odd)
        for i in odd[:3]:
            verdict.note(f"{kind} {writes[i].key} booked {booked_signature[i]}, the others {usual}")

    verdict.duplicates += sum(count - 1 for count in claimed_lines.values() if count > 1)
    sent_keys = {w.key for w in writes}
    sent_slots = {(w.device_id, w.stored_key) for w in writes}
    sent_taps = {(w.device_id, w.key) for w in writes if w.kind == "tap"}
    stray = {
        "entries": sum(sum(codes.values()) for key, codes in found.entries.items() if key not in sent_keys),
        "tab lines": unkeyed_lines + sum(sale_lines.values()),  # sale_lines: what no sale write took
        "access events": len(found.events - sent_taps),
        "key rows": len(found.keys.keys() - sent_slots),
    }
    verdict.unexplained = sum(stray.values())
    for what, count in stray.items():
        if count:
            verdict.note(f"{count} {what} of the run belong to no client write")
    verdict.check_clean, verdict.check_output = run_check(url)
    return verdict


def _tab_line(stored: str | None) -> int | None:
    """The line a tab sale added: the newest line of the tab view stored with its key."""
    if stored is None:
        return None
    lines = json.loads(stored).get("lines") or []
    return max((int(line["id"]) for line in lines), default=None)


def run_check(url: str) -> tuple[bool, str]:
    """`tapzone check` as an operator runs it: exit 0 and 'ledger check passed', or the findings it printed."""
    command = [str(Path(sys.executable).parent / "tapzone"), "check", "--database-url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    output = (done.stdout + done.stderr).strip()
    return done.returncode == 0, "\n".join(output.splitlines()[-6:])
