"""Offline gates, the pure part: what a gate's cached list says about a medium, and the decision a gate takes
from it while the server does not answer.

The list carries the facts the online rule (`model.decide`) needs, reduced to what a gate may keep: whether
anything is owed (the reason, not the amount — `decide` only compares with zero), the medium's state, its zone,
whether it is inside, and how long the visit may stay before overstay is owed. The offline decision is the
online rule on those facts, with one deliberate difference: an exit gate does not refuse a settled medium for
"not inside", because the entrance that let it in may be another gate whose news did not reach this one before
the outage. Letting a visitor who owes nothing out is the cheap mistake; the money rules stay strict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from tapzone.access.model import Decision, Direction, Passage, Reason, TapFacts, decide
from tapzone.media.model import MediumState

OWING_REASONS = frozenset({Reason.UNPAID_GOODS, Reason.PREPAID_VALUE_LEFT, Reason.OVERSTAY_UNPAID})
BLOCKED_REASONS = frozenset({Reason.MEDIUM_BLOCKED, Reason.MEDIUM_LOST})
NOT_BOUND_REASONS = frozenset({Reason.UNKNOWN_MEDIUM, Reason.MEDIUM_RETURNED, Reason.WRONG_ZONE})


class OfflineFlag(StrEnum):
    """What the server found wrong with a passage that a gate allowed offline (listed in the entry view)."""

    OWING = "passed-offline-while-owing"  # the visitor left with goods unpaid, value left or overstay owed
    BLOCKED = "passed-offline-while-blocked"  # blocked or lost before the gate's list knew it
    NOT_BOUND = "passed-offline-not-bound"  # the medium had no open visit in this zone any more
    PASSBACK = "passed-offline-passback"  # a second entry without an exit
    DECIDED_ONLINE_OTHERWISE = "offline-decision-differs"  # the server had decided this tap, differently


class ListEntry(BaseModel):
    """One medium in a gate's offline list. `present=False` removes it (unbound, moved to another zone)."""

    medium_id: int
    uid: str
    qr_token: str | None = None
    present: bool = True
    state: str | None = None
    zone_id: int | None = None
    inside: bool = False
    owed: str | None = None  # a Reason value: unpaid-goods or prepaid-value-left; None when settled
    entered_at: datetime | None = None
    stay_minutes: int | None = None  # included time plus grace or the overstay already charged; None: no limit
    may_enter: bool = False
    may_exit: bool = False  # settled and not blocked; compare `exit_by` with the clock as well

    @property
    def exit_by(self) -> datetime | None:
        if self.stay_minutes is None or self.entered_at is None:
            return None
        return self.entered_at + timedelta(minutes=self.stay_minutes)


class OfflineListView(BaseModel):
    """A page of a gate's offline list: whole (`full`) or the changes since a version."""

    gate_id: int
    zone_id: int
    direction: str
    paid_zone: bool
    language: str  # of the display texts the gate shows
    version: int  # ask for "since" this next time
    as_of: datetime
    full: bool
    entries: list[ListEntry]
    next_after: int | None  # the next page starts after this medium id; None on the last page


@dataclass(frozen=True, slots=True)
class GateProfile:
    zone_id: int
    direction: Direction
    paid_zone: bool


def stay_minutes(
    included_minutes: int | None, grace_minutes: int, block_minutes: int | None, blocks_charged: int
) -> int | None:
    """Minutes after entry before overstay is owed, as `overstay_blocks` counts it: nothing within the included
    time plus grace, and blocks already charged cover their own time."""
    if included_minutes is None or not block_minutes:
        return None
    return included_minutes + max(grace_minutes, blocks_charged * block_minutes)


def facts_for(entry: ListEntry, gate: GateProfile, now: datetime, *, inside: bool) -> TapFacts:
    exit_by = entry.exit_by
    owed = Reason(entry.owed) if entry.owed else None
    return TapFacts(
        gate_zone_id=gate.zone_id,
        gate_direction=gate.direction,
        medium_state=MediumState(entry.state) if entry.state else None,
        visit_zone_id=entry.zone_id,
        inside=inside,
        unpaid_credit_minor=1 if owed is Reason.UNPAID_GOODS else 0,
        prepaid_owed_minor=1 if owed is Reason.PREPAID_VALUE_LEFT else 0,
        overstay_unpaid_minor=1 if exit_by is not None and now > exit_by else 0,
        paid_zone=gate.paid_zone,
    )


def decide_offline(entry: ListEntry | None, gate: GateProfile, now: datetime) -> Decision:
    """The gate's decision from its cached list (see the module docstring for the one relaxation)."""
    if entry is None or not entry.present:
        return Decision(allowed=False, reason=Reason.UNKNOWN_MEDIUM, passage=None)
    inside = entry.inside or (gate.direction is Direction.OUT)
    return decide(facts_for(entry, gate, now, inside=inside))


def after_passage(entry: ListEntry, decision: Decision, now: datetime) -> ListEntry:
    """The gate's own view of the medium after it let it through, so a second tap meets anti-passback."""
    if not decision.allowed or decision.passage is None:
        return entry
    if decision.passage is Passage.ENTRY:
        return entry.model_copy(update={"inside": True, "entered_at": entry.entered_at or now})
    return entry.model_copy(update={"inside": False})
