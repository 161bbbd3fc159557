"""An outage drill: gates keep deciding through a server outage, then replay their journals.

`run_outage_drill` builds a venue with an entrance and an exit turnstile on a migrated scratch database,
sells entries, lets the gates run online, takes the server away for `outage_minutes` of clock time (the
injectable clock moves; nothing sleeps), keeps tapping, brings the server back and replays — twice — and
reports what it found. The test suite runs it small (`tests/access/test_outage.py`), `make soak` large.

Visitors come in kinds, so every offline rule is exercised:
- settled: enters before the outage, leaves during it (allowed offline, unbound on replay);
- owes: bought on credit before the list refresh (refused offline, still bound after);
- value-left: prepaid value left (refused offline);
- blocked-known: blocked before the last refresh (refused offline, stays blocked and bound);
- blocked-late: blocked after the last refresh (the list did not know: allowed offline, flagged on replay as
  passed-offline-while-blocked, not unbound);
- bought-late: bought after the last refresh (allowed offline, flagged passed-offline-while-owing, the debt
  stays on its still bound medium);
- arrives: entry sold before the outage, enters and leaves during it (both offline).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tapzone.access.entry import sell_entry
from tapzone.access.gate_controller import ControllerSettings, GateController, ServerUnavailable
from tapzone.access.gate_journal import GateJournal
from tapzone.access.gates import TapView, tap
from tapzone.access.model import Direction
from tapzone.access.offline_apply import (
    OfflineEvent,
    OfflineStatusView,
    OfflineUploadView,
    apply_offline_events,
    offline_status,
)
from tapzone.access.offline_list import offline_list
from tapzone.access.offline_model import OfflineListView
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.clock import FixedClock
from tapzone.context import RequestContext
from tapzone.ledger.check import all_findings
from tapzone.media.lifecycle import block_medium
from tapzone.money import Money
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.pos.tenders import Tender, TenderKind
from tapzone.store.db import make_engine
from tapzone.store.migrate import upgrade
from tapzone.store.tables import access_events, journal_entries, media, visits
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import DeviceKind
from tapzone.venues.setup import add_device, add_staff, create_product, create_venue

KINDS = ("settled", "owes", "value-left", "blocked-known", "blocked-late", "bought-late", "arrives")


def run_outage_soak(
    database_url: str, journal_dir: Path, *, visitors: int = 700, outage_minutes: int = 60, step_s: int = 5
) -> DrillReport:
    """The long drill for `make soak`: migrates `database_url` (a scratch database), runs on a fixed clock
    that only the drill moves, and returns the report (`report.lines()` prints it). About a minute on SQLite
    and two and a half on PostgreSQL with the defaults."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
        uow = UnitOfWork(engine, clock=clock)
        return run_outage_drill(
            uow, clock, journal_dir, visitors=visitors, outage_minutes=outage_minutes, step_s=step_s
        )
    finally:
        engine.dispose()


class InProcessGateServer:
    """A `GateServer` that calls the use cases directly, with a switch that takes the server away.

    `lose_next_answer` makes the next tap reach the server and be decided there, then fail on the way back —
    the case where the server booked a tap the gate then decided offline under the same tap id.
    """

    def __init__(self, uow: UnitOfWork, venue_id: int, gate_id: int) -> None:
        self.uow = uow
        self.ctx = RequestContext(venue_id, gate_id, None, "read")
        self.down = False
        self.lose_next_answer = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise ServerUnavailable("connection refused (drill)")

    def tap(self, tap_id: str, medium_uid: str, timeout_s: float) -> TapView:
        self._check()
        view = tap(self.uow, self.ctx, tap_id=tap_id, medium_uid=medium_uid)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise ServerUnavailable("answer lost (drill)")
        return view

    def offline_list(self, since: int, after: int, timeout_s: float) -> OfflineListView:
        self._check()
        return offline_list(self.uow, self.ctx, since=since, after=after)

    def upload(self, events: list[OfflineEvent], timeout_s: float) -> OfflineUploadView:
        self._check()
        return apply_offline_events(self.uow, self.ctx, events)

    def offline_status(self, timeout_s: float) -> OfflineStatusView:
        self._check()
        return offline_status(self.uow, self.ctx)


@dataclass
class DrillReport:
    visitors: int
    outage_minutes: int
    online_taps: int = 0
    offline_taps: int = 0
    offline_allowed: int = 0
    replayed: int = 0  # events the server applied from the journals (including the one it had decided online)
    second_replay_changed: int = 0  # events a second upload of every journal applied again (must be 0)
    journaled: int = 0
    access_events_offline: int = 0
    times_match: bool = False  # every offline access event carries the gate's time of the tap
    in_order: bool = False  # per gate, the offline access events were applied in journal order
    flags: Counter[str] = field(default_factory=Counter)
    refused_offline: Counter[str] = field(default_factory=Counter)
    still_bound: dict[str, int] = field(default_factory=dict)  # per visitor kind, media bound after replay
    ledger_findings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"outage drill: {self.visitors} visitors, {self.outage_minutes} min outage",
            f"taps online {self.online_taps}, offline {self.offline_taps} (allowed {self.offline_allowed})",
            f"journaled {self.journaled}, replayed {self.replayed}, second replay changed {self.second_replay_changed}",
            (
                f"offline access events {self.access_events_offline}, original times {self.times_match}, "
                f"in order {self.in_order}"
            ),
            f"flags {dict(self.flags)}; refused offline {dict(self.refused_offline)}",
            f"still bound after replay {self.still_bound}; ledger findings {len(self.ledger_findings)}",
        ]


@dataclass
class _Venue:
    venue_id: int
    till: int
    cashier: int
    manager: int
    beer: int
    entrance: int
    exit: int
    credit_entry: int
    prepaid_entry: int


def _build_venue(uow: UnitOfWork) -> _Venue:
    venue_id = create_venue(uow, name=f"Drill {uuid.uuid4().hex[:6]}", currency="EUR", timezone="Europe/Berlin")
    zone_id = create_zone(uow, venue_id, name="Pools")
    return _Venue(
        venue_id=venue_id,
        till=add_device(uow, venue_id, name="Till"),
        cashier=add_staff(uow, venue_id, name="Cash", login=f"c{venue_id}", role="cashier"),
        manager=add_staff(uow, venue_id, name="Boss", login=f"m{venue_id}", role="manager"),
        beer=create_product(uow, venue_id, name="Beer", price_minor=450, vat_rate_bp=1900, product_group="drinks"),
        entrance=add_gate(uow, venue_id, name="In", kind=DeviceKind.TURNSTILE, zone_id=zone_id, direction=Direction.IN),
        exit=add_gate(uow, venue_id, name="Out", kind=DeviceKind.TURNSTILE, zone_id=zone_id, direction=Direction.OUT),
        credit_entry=create_entry_product(
            uow,
            venue_id,
            name="Day",
            price_minor=1500,
            vat_rate_bp=700,
            zone_id=zone_id,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=5000,
        ),
        prepaid_entry=create_entry_product(
            uow,
            venue_id,
            name="Day prepaid",
            price_minor=1500,
            vat_rate_bp=700,
            zone_id=zone_id,
            credit_type=CreditType.PREPAID,
        ),
    )


def _ctx(venue: _Venue, operator: int) -> RequestContext:
    return RequestContext(venue.venue_id, venue.till, operator, uuid.uuid4().hex)


def run_outage_drill(
    uow: UnitOfWork,
    clock: FixedClock,
    journal_dir: Path,
    *,
    visitors: int = 21,
    outage_minutes: int = 15,
    step_s: int = 10,
) -> DrillReport:
    """Run the drill on `uow` (a migrated database whose clock is `clock`); see the module docstring.

    The controllers' journals are SQLite files in `journal_dir`. Nothing here sleeps: `clock` is moved.
    """
    drill = _Drill(uow, clock, journal_dir, visitors=visitors, outage_minutes=outage_minutes, step_s=step_s)
    try:
        drill.before_outage()
        drill.outage()
        drill.recover()
        drill.replay_again()
        drill.inspect()
    finally:
        for controller in drill.controllers.values():
            controller.journal.close()
    return drill.report


class _Drill:
    def __init__(
        self, uow: UnitOfWork, clock: FixedClock, journal_dir: Path, *, visitors: int, outage_minutes: int, step_s: int
    ) -> None:
        self.uow, self.clock, self.step_s = uow, clock, step_s
        self.venue = _build_venue(uow)
        self.report = DrillReport(visitors=visitors, outage_minutes=outage_minutes)
        self.settings = ControllerSettings(refresh_s=60, probe_s=30)
        gates = (self.venue.entrance, self.venue.exit)
        self.servers = {gate: InProcessGateServer(uow, self.venue.venue_id, gate) for gate in gates}
        self.controllers = {
            gate: GateController(server, GateJournal(journal_dir / f"gate-{gate}.sqlite"), clock, self.settings)
            for gate, server in self.servers.items()
        }
        self.kinds = {f"D{self.venue.venue_id}-{index:05d}": KINDS[index % len(KINDS)] for index in range(visitors)}

    def _ctx(self, operator: int) -> RequestContext:
        return _ctx(self.venue, operator)

    def before_outage(self) -> None:
        """Online: entries sold, everybody but the late arrivals in, things bought, one kind blocked; then the
        gates' last list refresh, and after it the changes the gates will not hear about in time."""
        venue, entrance = self.venue, self.controllers[self.venue.entrance]
        for uid, kind in self.kinds.items():
            load = Money(1000, "EUR") if kind == "value-left" else None
            sell_entry(
                self.uow,
                self._ctx(venue.cashier),
                entry_product_id=venue.prepaid_entry if load else venue.credit_entry,
                medium_uid=uid,
                companion_uids=[],
                tenders=[Tender(TenderKind.CASH, Money(1500 + (load.minor if load else 0), "EUR"))],
                initial_load=load,
            )
            if kind != "arrives" and not entrance.tap(uid).allowed:
                raise RuntimeError(f"{uid} was refused at the entrance while online")
            if kind == "owes":
                save_items(self.uow, self._ctx(venue.cashier), medium_uid=uid, items=[Item(venue.beer)])
            if kind == "blocked-known":
                block_medium(self.uow, self._ctx(venue.manager), medium_uid=uid, reason="drill")
        self.clock.advance(timedelta(minutes=1))
        for controller in self.controllers.values():
            controller.tick()  # the last list refresh before the outage (the whole list on first contact)
        for uid, kind in self.kinds.items():
            if kind == "blocked-late":
                block_medium(self.uow, self._ctx(venue.manager), medium_uid=uid, reason="drill, too late")
            if kind == "bought-late":
                save_items(self.uow, self._ctx(venue.cashier), medium_uid=uid, items=[Item(venue.beer)])

    def outage(self) -> None:
        """The server is gone for `outage_minutes` of clock time. The very first exit tap still reaches it and
        is decided there, but its answer is lost: the gate decides it offline under the same tap id."""
        exit_server = self.servers[self.venue.exit]
        self.servers[self.venue.entrance].down = True
        exit_server.lose_next_answer = True
        steps = self.report.outage_minutes * 60 // self.step_s
        plan = _outage_plan(self.kinds, self.venue.entrance, self.venue.exit, steps)
        for step in range(steps):
            self.clock.advance(timedelta(seconds=self.step_s))
            for gate, uid in plan.get(step, []):
                answer = self.controllers[gate].tap(uid)
                exit_server.down = True  # after the one lost answer the exit's server is gone as well
                self.report.journaled += int(answer.offline)
                if answer.offline and answer.allowed:
                    self.report.offline_allowed += 1
                elif answer.offline:
                    self.report.refused_offline[answer.reason] += 1
            for controller in self.controllers.values():
                controller.tick()  # probes fail: the server is down

    def recover(self) -> None:
        """The server is back: the next tick probes, replays each journal in order and goes online."""
        for server in self.servers.values():
            server.down = False
        self.clock.advance(timedelta(seconds=self.settings.probe_s))
        for controller in self.controllers.values():
            controller.tick()
            if not controller.online or controller.journal.pending_count():
                raise RuntimeError("a gate did not get its journal uploaded after the outage")
            self.report.replayed += controller.stats.uploaded
            self.report.online_taps += controller.stats.online_taps
            self.report.offline_taps += controller.stats.offline_taps
            self.report.flags.update(controller.stats.flags)

    def replay_again(self) -> None:
        """A second upload of every journal, from its first event: nothing may change."""
        before = _snapshot(self.uow, self.venue.venue_id)
        for gate, controller in self.controllers.items():
            events = controller.journal.all_events()
            for start in range(0, len(events), 200):
                answer = self.servers[gate].upload(events[start : start + 200], 30.0)
                self.report.second_replay_changed += sum(
                    1 for result in answer.results if result.status != "already-applied"
                )
        self.report.second_replay_changed += int(_snapshot(self.uow, self.venue.venue_id) != before)

    def inspect(self) -> None:
        _check_feed(self.uow, self.controllers, self.report)
        with self.uow.engine.connect() as conn:
            self.report.ledger_findings = [str(finding) for finding in all_findings(conn)]
            for kind in KINDS:
                uids = [uid for uid, k in self.kinds.items() if k == kind]
                self.report.still_bound[kind] = int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(visits.join(media, media.c.id == visits.c.medium_id))
                        .where(media.c.uid.in_(uids), visits.c.closed_at.is_(None))
                    ).scalar_one()
                )


def _outage_plan(kinds: dict[str, str], entrance: int, exit_gate: int, steps: int) -> dict[int, list[tuple[int, str]]]:
    """Which gate each visitor taps at which step of the outage: exits spread over the first third, late
    arrivals in during the first third and out in the second, refused visitors trying once more later."""
    third = max(steps // 3, 1)
    plan: dict[int, list[tuple[int, str]]] = {}
    for index, (uid, kind) in enumerate(kinds.items()):
        start = index % third
        if kind == "arrives":
            plan.setdefault(start, []).append((entrance, uid))
            plan.setdefault(min(start + third, steps - 1), []).append((exit_gate, uid))
            continue
        plan.setdefault(start, []).append((exit_gate, uid))
        if kind in ("owes", "value-left", "blocked-known"):
            plan.setdefault(min(start + 2 * third, steps - 1), []).append((exit_gate, uid))
    return plan


def _snapshot(uow: UnitOfWork, venue_id: int) -> tuple[int, ...]:
    """What a second replay must leave exactly as it is."""
    counted = [
        (access_events, access_events.c.venue_id == venue_id),
        (journal_entries, journal_entries.c.venue_id == venue_id),
        (visits, sa.and_(visits.c.venue_id == venue_id, visits.c.closed_at.is_(None))),
        (visits, sa.and_(visits.c.venue_id == venue_id, visits.c.inside)),
        (access_events, sa.and_(access_events.c.venue_id == venue_id, access_events.c.flag.is_not(None))),
    ]
    with uow.engine.connect() as conn:
        return tuple(
            int(conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one())
            for table, where in counted
        )


def _check_feed(uow: UnitOfWork, controllers: dict[int, GateController], report: DrillReport) -> None:
    """The access events of the offline taps: one per journaled event, at the gate's time, in journal order."""
    times_match = in_order = True
    with uow.engine.connect() as conn:
        for gate, controller in controllers.items():
            journal = {event.tap_id: event for event in controller.journal.all_events()}
            rows = conn.execute(
                sa.select(access_events.c.tap_id, access_events.c.gate_seq, access_events.c.recorded_at)
                .where(access_events.c.gate_id == gate, access_events.c.offline)
                .order_by(access_events.c.id)
            ).all()
            report.access_events_offline += len(rows)
            seqs = [row.gate_seq for row in rows]
            in_order = in_order and seqs == sorted(seqs)
            for row in rows:
                event = journal.get(row.tap_id)
                times_match = times_match and event is not None and event.occurred_at == row.recorded_at
    report.times_match, report.in_order = times_match, in_order
