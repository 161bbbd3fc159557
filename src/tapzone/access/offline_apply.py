"""Applying what a gate decided offline: each event once, in the gate's own order, as what happened.

A gate uploads its journal after an outage. Rules:

- Order: events carry the gate's sequence number; `gates.offline_seq` is the last one applied. An event is
  applied only as `offline_seq + 1`, under the gate row's lock, and the number moves in the same transaction,
  so a crash between two events resumes exactly at the next one. A batch that starts above the next number is
  refused whole with `offline-sequence-gap` (never held: the gate's journal is the durable copy, and the gate
  learns where to resume from `offline_status`). Numbers already applied are answered again, not re-applied.
- Once: the tap id is the idempotency key of the online tap (`tap:<id>`), so an event is booked once however
  often it is uploaded, and a tap the server had decided online before the gate gave up waiting is not booked
  a second time — if the gate acted otherwise than the server decided, that access event is flagged.
- What happened: the gate already opened or stayed shut. An allowed passage moves the visit at the event's
  time (gate clock; a time ahead of the server's is taken as the server's). When the server's own rules would
  have refused it — something owed, blocked, not bound, a second entry — the event is flagged, the movement is
  kept where it is physical (the visitor is outside), and a medium that owes anything is never unbound, so the
  debt stays on its visit for the till. A refused event is recorded and moves nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from tapzone.access.deposits import refund_deposit
from tapzone.access.gates import MAX_TAP_ID_LENGTH, Gate, TapView, _gate, _owed, _unbind_after_exit, lock_open_visit
from tapzone.access.model import DISPLAY_TEXTS, Decision, Direction, Passage, Reason, TapFacts, decide
from tapzone.access.offline_model import BLOCKED_REASONS, NOT_BOUND_REASONS, OWING_REASONS, OfflineFlag
from tapzone.access.overstay import charge_overstay, overstay_unpaid
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, OfflineSequenceGap
from tapzone.i18n import gettext
from tapzone.media.lookup import medium_match
from tapzone.media.model import MediumState, normalise_uid
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import access_events, gates, media, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import DeviceKind
from tapzone.venues.repo import load_venue

MAX_BATCH = 500
MAX_SEQ = 2**53  # far beyond any gate's life, and inside BIGINT and a JSON number
CLOCK_AHEAD_TOLERANCE = timedelta(minutes=5)


class OfflineEvent(BaseModel):
    """One tap a gate decided by itself, as its journal holds it."""

    model_config = ConfigDict(extra="forbid")
    seq: Annotated[StrictInt, Field(ge=1, le=MAX_SEQ)]
    tap_id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TAP_ID_LENGTH)]
    medium_uid: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    allowed: StrictBool
    reason: Reason
    passage: Passage | None = None
    occurred_at: AwareDatetime


class OfflineResult(BaseModel):
    seq: int
    tap_id: str
    status: Literal["applied", "already-applied", "decided-online"]
    flag: str | None


class OfflineUploadView(BaseModel):
    gate_id: int
    applied_through: int
    results: list[OfflineResult]


class OfflineStatusView(BaseModel):
    gate_id: int
    applied_through: int  # the gate's next upload starts at this + 1


def offline_status(uow: UnitOfWork, ctx: RequestContext) -> OfflineStatusView:
    """Where the calling gate's next upload must start (after a lost answer or a gap refusal)."""
    with uow.transaction() as tx:
        gate = _gate(tx, ctx)
        return OfflineStatusView(gate_id=gate.device_id, applied_through=_applied_through(tx, gate.device_id))


def apply_offline_events(uow: UnitOfWork, ctx: RequestContext, events: list[OfflineEvent]) -> OfflineUploadView:
    """Apply a batch of the calling gate's offline events in order (see the module docstring).

    Each event is its own transaction, so a long journal never holds locks for long and a failure keeps what
    was applied before it; the batch must be consecutive numbers.
    """
    if not 1 <= len(events) <= MAX_BATCH:
        raise InvalidRequest(f"upload 1..{MAX_BATCH} events at a time")
    for before, after in itertools.pairwise(events):
        if after.seq != before.seq + 1:
            raise InvalidRequest("the events of one upload carry consecutive sequence numbers, in order")
    if len({event.tap_id for event in events}) != len(events):
        raise InvalidRequest("a tap id appears twice in the upload")
    results = [_apply_one(uow, ctx, event) for event in events]
    status = offline_status(uow, ctx)
    return OfflineUploadView(gate_id=status.gate_id, applied_through=status.applied_through, results=results)


def _applied_through(tx: Tx, gate_id: int) -> int:
    return int(tx.conn.execute(sa.select(gates.c.offline_seq).where(gates.c.device_id == gate_id)).scalar_one())


def _lock_sequence(tx: Tx, gate_id: int) -> int:
    """The gate's last applied number, its row locked: one gate's uploads apply one event at a time."""
    query = sa.select(gates.c.offline_seq).where(gates.c.device_id == gate_id)
    if tx.is_postgres:
        query = query.with_for_update()
    return int(tx.conn.execute(query).scalar_one())


def _gap(last: int, seq: int) -> OfflineSequenceGap:
    if seq <= last:
        detail = f"sequence number {seq} was already applied with another tap id; continue at {last + 1}"
    else:
        detail = f"expected sequence number {last + 1}, got {seq}"
    return OfflineSequenceGap(detail, expected_seq=last + 1)


def _apply_one(uow: UnitOfWork, ctx: RequestContext, event: OfflineEvent) -> OfflineResult:
    uid = normalise_uid(event.medium_uid)
    keyed = RequestContext(ctx.venue_id, ctx.device_id, None, f"tap:{event.tap_id}")
    flags: list[OfflineFlag | None] = []

    def handler(tx: Tx) -> TapView:
        gate = _gate(tx, keyed)
        last = _lock_sequence(tx, gate.device_id)
        if event.seq != last + 1:
            raise _gap(last, event.seq)
        view, flag = _apply_event(tx, keyed, gate, uid, event)
        tx.conn.execute(gates.update().where(gates.c.device_id == gate.device_id).values(offline_seq=event.seq))
        flags.append(flag)
        return view

    # Same operation and payload as the online tap: one tap id is one physical tap, whichever way it came.
    run_idempotent(uow, keyed, "tap", {"medium_uid": uid}, handler, TapView)
    if flags:
        flag = flags[0]
        return OfflineResult(seq=event.seq, tap_id=event.tap_id, status="applied", flag=flag.value if flag else None)
    return _already_known(uow, keyed, event)


def _already_known(uow: UnitOfWork, ctx: RequestContext, event: OfflineEvent) -> OfflineResult:
    """The tap id had been seen: by an earlier upload of this event, or online before the gate gave up."""
    with uow.transaction() as tx:
        gate = _gate(tx, ctx)
        last = _lock_sequence(tx, gate.device_id)
        row = tx.conn.execute(
            sa.select(access_events.c.id, access_events.c.offline, access_events.c.allowed, access_events.c.flag).where(
                access_events.c.gate_id == gate.device_id, access_events.c.tap_id == event.tap_id
            )
        ).first()
        if row is None:  # the key exists without its event only if another use case used it: refuse
            raise InvalidRequest(f"tap id {event.tap_id} was used for something else")
        if row.offline or event.seq <= last:
            return OfflineResult(seq=event.seq, tap_id=event.tap_id, status="already-applied", flag=row.flag)
        if event.seq != last + 1:
            raise _gap(last, event.seq)
        flag = row.flag
        if row.allowed != event.allowed:
            # The server booked its decision, the turnstile did the other thing: staff must look at it.
            flag = OfflineFlag.DECIDED_ONLINE_OTHERWISE.value
            tx.conn.execute(access_events.update().where(access_events.c.id == row.id).values(flag=flag))
        tx.conn.execute(gates.update().where(gates.c.device_id == gate.device_id).values(offline_seq=event.seq))
        return OfflineResult(seq=event.seq, tap_id=event.tap_id, status="decided-online", flag=flag)


def _occurred(event: OfflineEvent, server_now: datetime) -> datetime:
    """The gate's time of the tap; a gate clock running ahead of the server is not believed."""
    return min(event.occurred_at, server_now + CLOCK_AHEAD_TOLERANCE)


def _apply_event(
    tx: Tx, ctx: RequestContext, gate: Gate, uid: str, event: OfflineEvent
) -> tuple[TapView, OfflineFlag | None]:
    applied_at = tx.now
    at = dataclasses.replace(tx, now=_occurred(event, tx.now))  # business time of this event: when it happened
    medium = at.conn.execute(sa.select(media.c.id, media.c.state).where(medium_match(gate.venue_id, uid))).first()
    visit, party = lock_open_visit(at, medium.id) if medium is not None else (None, [])
    flag: OfflineFlag | None = None
    tab_ids: list[int] = []
    unbound = False
    if event.allowed and event.passage is not None:
        server, tab_ids = _server_decision(at, gate, medium, visit, event.passage)
        if server.allowed or server.reason in OWING_REASONS or server.reason in BLOCKED_REASONS:
            flag = _flag_for(server)
            if visit is not None and _newer_than_last_exit(visit, at.now):
                unbound = _move(at, ctx, gate, visit, party, event.passage, unbind=server.allowed)
        elif server.reason is Reason.ALREADY_INSIDE:
            flag = OfflineFlag.PASSBACK
        elif server.reason in NOT_BOUND_REASONS and not _left_later(at, medium, at.now):
            flag = OfflineFlag.NOT_BOUND
    view = _record(at, gate, event, uid, medium, visit, tab_ids, unbound, flag, applied_at)
    return view, flag


def _flag_for(server: Decision) -> OfflineFlag | None:
    if server.allowed:
        return None
    return OfflineFlag.OWING if server.reason in OWING_REASONS else OfflineFlag.BLOCKED


def _server_decision(
    tx: Tx, gate: Gate, medium: Any, visit: sa.Row[Any] | None, passage: Passage
) -> tuple[Decision, list[int]]:
    """What the online rule says about this passage at the event's time. An exit is judged as if inside,
    like the gate judged it (offline_model): the entry may sit in another gate's journal not uploaded yet."""
    unpaid_credit = prepaid_owed = overstay_minor = 0
    tab_ids: list[int] = []
    if passage is Passage.EXIT and visit is not None and gate.paid_zone:
        charge_overstay(tx, visit, gate.device_id)  # time beyond the included minutes, up to the exit's time
        overstay_minor = overstay_unpaid(tx, visit.id)
        unpaid_credit, prepaid_owed, tab_ids = _owed(tx, visit.id)
    facts = TapFacts(
        gate_zone_id=gate.zone_id,
        gate_direction=Direction.IN if passage is Passage.ENTRY else Direction.OUT,
        medium_state=MediumState(medium.state) if medium is not None else None,
        visit_zone_id=visit.zone_id if visit is not None else None,
        inside=bool(visit is not None and visit.inside) if passage is Passage.ENTRY else True,
        unpaid_credit_minor=unpaid_credit,
        prepaid_owed_minor=prepaid_owed,
        overstay_unpaid_minor=overstay_minor,
        paid_zone=gate.paid_zone,
    )
    return decide(facts), tab_ids


def _newer_than_last_exit(visit: sa.Row[Any], occurred_at: datetime) -> bool:
    """Across gates the journals arrive in any order: a passage older than an exit already recorded on the
    visit does not move it back."""
    return visit.exited_at is None or visit.exited_at <= occurred_at


def _left_later(tx: Tx, medium: Any, occurred_at: datetime) -> bool:
    """The medium has no open visit because a later exit (uploaded first, by another gate) closed it."""
    if medium is None:
        return False
    last_exit = tx.conn.execute(
        sa.select(sa.func.max(visits.c.exited_at)).where(visits.c.medium_id == medium.id)
    ).scalar_one_or_none()
    return last_exit is not None and last_exit >= occurred_at


def _move(
    tx: Tx,
    ctx: RequestContext,
    gate: Gate,
    visit: sa.Row[Any],
    party: list[sa.Row[Any]],
    passage: Passage,
    *,
    unbind: bool,
) -> bool:
    """Record the passage on the visit at the event's time; unbind only a medium that owes nothing."""
    if not gate.paid_zone:
        return False
    if passage is Passage.ENTRY:
        tx.conn.execute(
            visits.update()
            .where(visits.c.id == visit.id)
            .values(inside=True, entered_at=sa.func.coalesce(visits.c.entered_at, tx.now))
        )
        return False
    tx.conn.execute(visits.update().where(visits.c.id == visit.id).values(inside=False, exited_at=tx.now))
    if not unbind:
        return False
    unbound = _unbind_after_exit(tx, gate, visit, party)
    if gate.kind is DeviceKind.COLLECTOR:
        refund_deposit(tx, ctx, load_venue(tx, gate.venue_id), visit.medium_id)
    return unbound


def _record(
    tx: Tx,
    gate: Gate,
    event: OfflineEvent,
    uid: str,
    medium: Any,  # the media row read (id, state), or None for an unknown UID
    visit: sa.Row[Any] | None,
    tab_ids: list[int],
    unbound: bool,
    flag: OfflineFlag | None,
    applied_at: datetime,
) -> TapView:
    open_ms = gate.open_ms if event.allowed else 0
    passage = event.passage.value if event.passage else None
    if flag is not None:
        tx.observe("gate_offline_flag", flag.value)
    tx.conn.execute(
        access_events.insert().values(
            venue_id=gate.venue_id,
            gate_id=gate.device_id,
            tap_id=event.tap_id,
            medium_uid=uid,
            medium_id=medium.id if medium is not None else None,
            visit_id=visit.id if visit is not None else None,
            passage=passage,
            allowed=event.allowed,
            reason=event.reason.value,
            tab_ids=",".join(map(str, tab_ids)),
            open_ms=open_ms,
            unbound=unbound,
            recorded_at=tx.now,
            offline=True,
            gate_seq=event.seq,
            applied_at=applied_at,
            flag=flag.value if flag else None,
        )
    )
    return TapView(
        tap_id=event.tap_id,
        gate_id=gate.device_id,
        medium_uid=uid,
        allowed=event.allowed,
        reason=event.reason.value,
        display_text=gettext(DISPLAY_TEXTS[event.reason], gate.language),
        open_ms=open_ms,
        passage=passage,
        visit_id=visit.id if visit is not None else None,
        tab_ids=tab_ids,
        unbound=unbound,
    )
