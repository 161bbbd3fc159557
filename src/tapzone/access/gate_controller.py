"""The gate controller: decides every tap online when the server answers in time, offline from its cached list
when it does not, and uploads what it decided offline once the server is back.

It runs on the gate side (a turnstile's computer, the simulator, a bridge for dumb readers) and is driven from
outside: `tap` per medium read, `tick` every second or so. Time comes from the injectable clock, so an outage
of any length is a test, not a wait. States:

- online: each tap goes to the server with a deadline (`deadline_s`); the list is refreshed every `refresh_s`
  (changes since the last version) and rebuilt every `full_refresh_s`.
- offline: the first tap the server does not answer in time — a timeout, a refused connection, a 5xx —
  switches to offline; that tap and every one after it is decided from the list (`offline_model.decide_offline`)
  and appended to the journal (fsynced) before the answer is given. The tap keeps its tap id, so if the server
  did decide it after all, the upload does not book it twice.
- back online: `tick` probes every `probe_s`; when the server answers, the journal is uploaded in order, in
  batches, and only when nothing is left does the controller decide online again. A tap that arrives while
  events are still waiting is decided offline and journaled after them, so the server sees this gate's taps
  in the order they happened.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tapzone.access.gate_journal import GateJournal
from tapzone.access.gates import TapView
from tapzone.access.model import DISPLAY_TEXTS, Decision, Direction, Passage, Reason
from tapzone.access.offline_apply import OfflineEvent, OfflineStatusView, OfflineUploadView
from tapzone.access.offline_model import GateProfile, ListEntry, OfflineListView, after_passage, decide_offline
from tapzone.clock import Clock
from tapzone.i18n import gettext
from tapzone.media.model import normalise_uid

log = logging.getLogger(__name__)


class ServerUnavailable(Exception):
    """No answer in time, no connection, or a server-side failure: decide offline."""


class SequenceGap(Exception):
    """The server refused an upload because it does not continue where the last one ended."""


class ServerRefused(Exception):
    """The server answered with a refusal (4xx) that is not about the journal's order."""

    def __init__(self, problem_type: str, detail: str) -> None:
        super().__init__(f"{problem_type}: {detail}")
        self.problem_type = problem_type


class GateServer(Protocol):
    """What a controller asks the server; `HttpGateServer` speaks the HTTP API."""

    def tap(self, tap_id: str, medium_uid: str, timeout_s: float) -> TapView: ...

    def offline_list(self, since: int, after: int, timeout_s: float) -> OfflineListView: ...

    def upload(self, events: list[OfflineEvent], timeout_s: float) -> OfflineUploadView: ...

    def offline_status(self, timeout_s: float) -> OfflineStatusView: ...


# (method, path under /api/v1, JSON body or None, timeout) -> (HTTP status, parsed JSON body)
Transport = Callable[[str, str, dict[str, Any] | None, float], tuple[int, Any]]


def urllib_transport(base_url: str, device_token: str) -> Transport:
    """Plain HTTP with the gate's device token, standard library only (a gate computer needs nothing else)."""

    def send(method: str, path: str, body: dict[str, Any] | None, timeout_s: float) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        url = f"{base_url.rstrip('/')}/api/v1{path}"
        if not url.startswith(("http://", "https://")):
            raise ValueError("the server URL must be http:// or https://")
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (scheme checked above)
        request.add_header("Authorization", f"Bearer {device_token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (URL from settings)
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw or b"null")
            except ValueError:
                return error.code, None
        except (OSError, TimeoutError) as error:  # refused, unreachable, timed out
            raise ServerUnavailable(str(error)) from error

    return send


class HttpGateServer:
    """The HTTP API as a `GateServer`. Any transport failure or 5xx is `ServerUnavailable`."""

    def __init__(self, gate_id: int, send: Transport) -> None:
        self.gate_id = gate_id
        self.send = send

    def _call(self, method: str, path: str, body: dict[str, Any] | None, timeout_s: float) -> Any:
        try:
            status, answer = self.send(method, path, body, timeout_s)
        except ServerUnavailable:
            raise
        except Exception as error:  # whatever the transport raises when the network is gone
            raise ServerUnavailable(str(error)) from error
        if status >= 500:
            raise ServerUnavailable(f"server answered {status}")
        if status >= 400:
            problem = str((answer or {}).get("type", "")).rsplit("/", 1)[-1] if isinstance(answer, dict) else ""
            detail = str(answer.get("detail", "")) if isinstance(answer, dict) else ""
            if problem == "offline-sequence-gap":
                raise SequenceGap(detail)
            raise ServerRefused(problem or str(status), detail)
        return answer

    def tap(self, tap_id: str, medium_uid: str, timeout_s: float) -> TapView:
        body = {"tap_id": tap_id, "medium_uid": medium_uid}
        return TapView.model_validate(self._call("POST", f"/gates/{self.gate_id}/taps", body, timeout_s))

    def offline_list(self, since: int, after: int, timeout_s: float) -> OfflineListView:
        path = f"/gates/{self.gate_id}/offline-list?since={since}&after={after}"
        return OfflineListView.model_validate(self._call("GET", path, None, timeout_s))

    def upload(self, events: list[OfflineEvent], timeout_s: float) -> OfflineUploadView:
        body = {"events": [event.model_dump(mode="json") for event in events]}
        return OfflineUploadView.model_validate(
            self._call("POST", f"/gates/{self.gate_id}/offline-events", body, timeout_s)
        )

    def offline_status(self, timeout_s: float) -> OfflineStatusView:
        return OfflineStatusView.model_validate(
            self._call("GET", f"/gates/{self.gate_id}/offline-events", None, timeout_s)
        )


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    deadline_s: float = 1.5  # an online answer later than this is no answer: the visitor is waiting
    refresh_s: int = 60  # changes since the last version, while online
    full_refresh_s: int = 6 * 3600  # the whole list again (heals anything a change mark could not say)
    probe_s: int = 10  # how often an offline controller asks whether the server is back
    upload_batch: int = 200
    upload_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class GateAnswer:
    tap_id: str
    allowed: bool
    reason: str
    display_text: str
    passage: str | None
    offline: bool  # decided from the list; journaled under `seq`
    seq: int | None = None


@dataclass
class ControllerStats:
    online_taps: int = 0
    offline_taps: int = 0
    uploaded: int = 0
    outages: int = 0
    flags: dict[str, int] = field(default_factory=dict)


class GateController:
    """See the module docstring. One controller per gate; not shared between gates."""

    def __init__(
        self,
        server: GateServer,
        journal: GateJournal,
        clock: Clock,
        settings: ControllerSettings | None = None,
    ) -> None:
        self.server = server
        self.journal = journal
        self.clock = clock
        self.settings = settings or ControllerSettings()
        self.online = True
        self.stats = ControllerStats()
        self._next_refresh: datetime | None = None  # None: at the next tick
        self._next_full: datetime | None = None
        self._next_probe: datetime | None = None

    # --- taps ---------------------------------------------------------------------------------------------
    def tap(self, medium_uid: str, tap_id: str | None = None) -> GateAnswer:
        """Decide one read. A UID that is not a valid medium number is refused by `normalise_uid` before
        anything is asked or journaled: a misread is not a visitor."""
        uid = normalise_uid(medium_uid)
        tap_id = tap_id or uuid.uuid4().hex
        if self.online and self.journal.pending_count() == 0:
            try:
                view = self.server.tap(tap_id, uid, self.settings.deadline_s)
            except ServerUnavailable as error:
                self._go_offline(f"tap {tap_id}: {error}")
            else:
                self.stats.online_taps += 1
                self._learn_from(view)
                return GateAnswer(
                    view.tap_id, view.allowed, view.reason, view.display_text, view.passage, offline=False
                )
        return self._decide_offline(uid, tap_id)

    def _decide_offline(self, uid: str, tap_id: str) -> GateAnswer:
        now = self.clock.now()
        profile = self.journal.profile
        entry = self.journal.lookup(uid)
        if profile is None:  # never reached the server: nothing is known, nobody passes
            decision = Decision(allowed=False, reason=Reason.UNKNOWN_MEDIUM, passage=None)
        else:
            decision = decide_offline(entry, profile, now)
        seq = self.journal.append(
            tap_id=tap_id,
            medium_uid=uid,
            allowed=decision.allowed,
            reason=decision.reason,
            passage=decision.passage,
            occurred_at=now,
        )
        if entry is not None:
            self.journal.update_entry(after_passage(entry, decision, now))
        self.stats.offline_taps += 1
        text = gettext(DISPLAY_TEXTS[decision.reason], self.journal.language)
        passage = decision.passage.value if decision.passage else None
        return GateAnswer(tap_id, decision.allowed, decision.reason.value, text, passage, offline=True, seq=seq)

    def _learn_from(self, view: TapView) -> None:
        """Keep the list in step with what this gate just saw online, until the next refresh says more."""
        if not view.allowed or view.passage is None:
            return
        entry = self.journal.lookup(view.medium_uid)
        if entry is None:
            return
        if view.unbound:
            self.journal.drop_entry(entry.medium_id)
            return
        inside = Passage(view.passage) is Passage.ENTRY
        now = self.clock.now()
        self.journal.update_entry(entry.model_copy(update={"inside": inside, "entered_at": entry.entered_at or now}))

    def _go_offline(self, why: str) -> None:
        if self.online:
            log.warning("gate going offline: %s", why)
            self.stats.outages += 1
        self.online = False
        self._next_probe = self.clock.now() + timedelta(seconds=self.settings.probe_s)

    # --- background work ----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Refresh the list when due; when offline, probe and upload the journal when due."""
        now = self.clock.now()
        if not self.online or self.journal.pending_count():
            if self._next_probe is None or now >= self._next_probe:
                self.replay()
            if not self.online:
                return
        if self._next_refresh is None or now >= self._next_refresh:
            self.refresh()

    def refresh(self, *, full: bool | None = None) -> bool:
        """Fetch the list (changes since the last version, or whole when due). False when the server did not
        answer (the controller is then offline)."""
        now = self.clock.now()
        whole = full if full is not None else (self._next_full is None or now >= self._next_full)
        since = 0 if whole else self.journal.version
        entries: list[ListEntry] = []
        version: int | None = None
        after = 0
        try:
            while True:
                page = self.server.offline_list(since, after, self.settings.deadline_s * 4)
                version = page.version if version is None else min(version, page.version)
                entries.extend(page.entries)
                if page.next_after is None:
                    break
                after = page.next_after
            if self.journal.pending_count() == 0:
                self.journal.ensure_seq_base(self.server.offline_status(self.settings.deadline_s).applied_through)
        except ServerUnavailable as error:
            self._go_offline(f"list refresh: {error}")
            return False
        profile = GateProfile(page.zone_id, Direction(page.direction), page.paid_zone)
        self.journal.store_list(entries, version=version or 0, full=whole, profile=profile, language=page.language)
        self._next_refresh = now + timedelta(seconds=self.settings.refresh_s)
        if whole:
            self._next_full = now + timedelta(seconds=self.settings.full_refresh_s)
        return True

    def replay(self) -> int:
        """Upload the journal in order until it is empty (then the controller is online again) or the server
        stops answering (it stays offline and probes again later). Returns the events the server took."""
        taken = 0
        try:
            while events := self.journal.pending(self.settings.upload_batch):
                never_sent = self.journal.first_pending_never_sent()
                self.journal.mark_sent(events[-1].seq)
                try:
                    answer = self.server.upload(events, self.settings.upload_timeout_s)
                except SequenceGap:
                    self._resume_after_gap(events, never_sent=never_sent)
                    continue
                self.journal.mark_uploaded(answer.applied_through)
                taken += sum(1 for result in answer.results if result.status != "already-applied")
                for result in answer.results:
                    if result.flag:
                        self.stats.flags[result.flag] = self.stats.flags.get(result.flag, 0) + 1
                if answer.applied_through < events[-1].seq:  # the server took less than sent: ask again later
                    self._go_offline(f"server applied through {answer.applied_through} of {events[-1].seq}")
                    self.stats.uploaded += taken
                    return taken
        except ServerUnavailable as error:
            self._go_offline(f"upload: {error}")
            self.stats.uploaded += taken
            return taken
        except JournalMismatch as error:
            # Nothing is dropped: the journal stays as it is, the gate keeps deciding offline and says why.
            log.error("offline journal cannot be uploaded: %s", error)  # noqa: TRY400 (expected, no traceback)
            self._go_offline(str(error))
            self.stats.uploaded += taken
            return taken
        self.stats.uploaded += taken
        if not self.online:
            log.info("gate back online, %s offline events uploaded", taken)
        self.online = True
        self._next_probe = None
        return taken

    def _resume_after_gap(self, events: list[OfflineEvent], *, never_sent: bool) -> None:
        """The server's mark and this journal's numbers disagree. Events already applied are never refused
        (their tap ids are known), so this is a journal that counts from elsewhere: a new controller, or a
        journal replaced on the gate."""
        applied = self.server.offline_status(self.settings.deadline_s).applied_through
        if never_sent:
            # Nothing of it was ever offered, so it can take the next numbers without an event applied twice.
            self.journal.renumber_pending_after(applied)
            return
        raise JournalMismatch(
            f"the server applied offline events through {applied}, this journal continues at {events[0].seq}"
        )


class JournalMismatch(Exception):
    """The journal cannot continue where the server stands; an operator must look at the gate."""
