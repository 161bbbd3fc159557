"""A gate controller's local store: its offline list and the journal of what it decided offline.

One SQLite file on the controller (stdlib sqlite3, WAL, synchronous=FULL), so an event is on disk — fsynced
— before the turnstile opens, and a controller that reboots during an outage keeps both its list and its
unsent events. Sequence numbers are the journal's own and never reused: the server applies a gate's events
strictly in this order (`offline_apply`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from tapzone.access.model import Direction, Passage, Reason
from tapzone.access.offline_apply import OfflineEvent
from tapzone.access.offline_model import GateProfile, ListEntry
from tapzone.media.lookup import QR_PREFIX

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    tap_id TEXT NOT NULL UNIQUE,
    medium_uid TEXT NOT NULL,
    allowed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    passage TEXT,
    occurred_at TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,      -- offered to the server at least once
    uploaded INTEGER NOT NULL DEFAULT 0   -- applied by the server (kept for the gate's own record)
);
CREATE TABLE IF NOT EXISTS entries (
    medium_id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL,
    qr_token TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_uid ON entries (uid);
CREATE INDEX IF NOT EXISTS entries_qr ON entries (qr_token);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class GateJournal:
    """Thread-safe: the tap path and the replayer may run on different threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # every commit is fsynced: an acknowledged event survives a crash
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- meta -------------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def version(self) -> int:
        with self._lock:
            return int(self._meta("version") or 0)

    @property
    def profile(self) -> GateProfile | None:
        with self._lock:
            raw = self._meta("profile")
        if raw is None:
            return None
        data = json.loads(raw)
        return GateProfile(int(data["zone_id"]), Direction(data["direction"]), bool(data["paid_zone"]))

    @property
    def language(self) -> str:
        with self._lock:
            return self._meta("language") or "en"

    # --- the offline list ----------------------------------------------------------------------------------
    def store_list(
        self, entries: list[ListEntry], *, version: int, full: bool, profile: GateProfile, language: str
    ) -> None:
        """Replace (full) or update the list, then move the version — in one local transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if full:
                    self._db.execute("DELETE FROM entries")
                for entry in entries:
                    if entry.present:
                        self._db.execute(
                            "INSERT INTO entries (medium_id, uid, qr_token, body) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (medium_id) DO UPDATE SET uid = excluded.uid, qr_token = excluded.qr_token, "
                            "body = excluded.body",
                            (entry.medium_id, entry.uid, entry.qr_token, entry.model_dump_json()),
                        )
                    else:
                        self._db.execute("DELETE FROM entries WHERE medium_id = ?", (entry.medium_id,))
                self._set_meta("version", str(version))
                self._set_meta(
                    "profile",
                    json.dumps(
                        {
                            "zone_id": profile.zone_id,
                            "direction": profile.direction.value,
                            "paid_zone": profile.paid_zone,
                        }
                    ),
                )
                self._set_meta("language", language)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def lookup(self, uid: str) -> ListEntry | None:
        """The entry for a normalised UID or a scanned `TZQ-<token>`."""
        with self._lock:
            if uid.startswith(QR_PREFIX):
                row = self._db.execute(
                    "SELECT body FROM entries WHERE qr_token = ?", (uid[len(QR_PREFIX) :],)
                ).fetchone()
            else:
                row = self._db.execute("SELECT body FROM entries WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else ListEntry.model_validate_json(row[0])

    def update_entry(self, entry: ListEntry) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE entries SET body = ? WHERE medium_id = ?", (entry.model_dump_json(), entry.medium_id)
            )

    def drop_entry(self, medium_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE medium_id = ?", (medium_id,))

    def entry_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    # --- the journal ---------------------------------------------------------------------------------------
    def append(
        self,
        *,
        tap_id: str,
        medium_uid: str,
        allowed: bool,
        reason: Reason,
        passage: Passage | None,
        occurred_at: datetime,
    ) -> int:
        """Write one decided tap to disk (committed and fsynced on return) and give its sequence number."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                top = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                seq = max(int(top), int(self._meta("seq_base") or 0)) + 1
                self._db.execute(
                    "INSERT INTO events (seq, tap_id, medium_uid, allowed, reason, passage, occurred_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        tap_id,
                        medium_uid,
                        int(allowed),
                        reason.value,
                        passage.value if passage else None,
                        occurred_at.isoformat(),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seq

    def pending(self, limit: int) -> list[OfflineEvent]:
        return self._events("SELECT {columns} FROM events WHERE uploaded = 0 ORDER BY seq LIMIT ?", (limit,))

    def _events(self, query: str, parameters: tuple[int, ...]) -> list[OfflineEvent]:
        columns = "seq, tap_id, medium_uid, allowed, reason, passage, occurred_at"
        with self._lock:
            rows = self._db.execute(query.format(columns=columns), parameters).fetchall()
        return [
            OfflineEvent(
                seq=row[0],
                tap_id=row[1],
                medium_uid=row[2],
                allowed=bool(row[3]),
                reason=Reason(row[4]),
                passage=Passage(row[5]) if row[5] else None,
                occurred_at=datetime.fromisoformat(row[6]),
            )
            for row in rows
        ]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events WHERE uploaded = 0").fetchone()[0])

    def mark_sent(self, through_seq: int) -> None:
        with self._lock:
            self._db.execute("UPDATE events SET sent = 1 WHERE seq <= ? AND uploaded = 0", (through_seq,))

    def mark_uploaded(self, through_seq: int) -> None:
        with self._lock:
            self._db.execute("UPDATE events SET uploaded = 1, sent = 1 WHERE seq <= ?", (through_seq,))

    def first_pending_never_sent(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT sent FROM events WHERE uploaded = 0 ORDER BY seq LIMIT 1").fetchone()
        return row is not None and not row[0]

    def renumber_pending_after(self, applied_through: int) -> None:
        """Number events never offered to the server from `applied_through + 1` on (a new controller or a
        replaced journal that started counting below the server's mark). Order is kept."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute("SELECT seq FROM events WHERE uploaded = 0 ORDER BY seq").fetchall()
                # Two passes through negative numbers so no intermediate number collides with an existing one.
                for index, (seq,) in enumerate(rows):
                    self._db.execute("UPDATE events SET seq = ? WHERE seq = ?", (-(index + 1), seq))
                for index in range(len(rows)):
                    self._db.execute(
                        "UPDATE events SET seq = ? WHERE seq = ?", (applied_through + index + 1, -(index + 1))
                    )
                self._set_meta("seq_base", str(applied_through))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def ensure_seq_base(self, applied_through: int) -> None:
        """Never number an event at or below what the server already applied for this gate."""
        with self._lock:
            current = int(self._meta("seq_base") or 0)
            if applied_through > current:
                self._set_meta("seq_base", str(applied_through))

    def all_events(self) -> list[OfflineEvent]:
        """Every event kept, uploaded or not, in order: the gate's own record."""
        return self._events("SELECT {columns} FROM events ORDER BY seq", ())
