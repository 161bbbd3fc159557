"""Paid-zone rules as pure functions: what a gate decides for a tap (seed 000, seed 001, DESIGN §7).

Nothing here reads a database: the use case gathers a `TapFacts` under lock and asks `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tapzone.media.model import MediumState


class ServiceType(StrEnum):
    PAID = "paid"  # a paid zone: entry needs an entry product, exit needs a settled tab (seed 000)
    FREE = "free"  # a free area: gates only count passages


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    BOTH = "both"


class Passage(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class AntiPassback(StrEnum):
    """seed 000: separate anti-passback tracks every card on its own; shared treats a party as one group
    (the main card stays bound until all companions are out, and the till offers to pay all debts)."""

    SHARED = "shared"
    SEPARATE = "separate"


class Reason(StrEnum):
    """Stable reason codes of a gate decision; the display text comes from the catalogs."""

    WELCOME = "welcome"
    GOODBYE = "goodbye"
    UNKNOWN_MEDIUM = "unknown-medium"
    MEDIUM_BLOCKED = "medium-blocked"
    MEDIUM_LOST = "medium-lost"
    MEDIUM_RETURNED = "medium-returned"  # in stock: not bound to any visitor
    WRONG_ZONE = "wrong-zone"
    ALREADY_INSIDE = "already-inside"  # anti-passback: no second entry without an exit
    NOT_INSIDE = "not-inside"  # anti-passback: no exit without an entry
    UNPAID_GOODS = "unpaid-goods"  # seed 001 "Obetalda varor"
    PREPAID_VALUE_LEFT = "prepaid-value-left"  # seed 001 "Förbetalt värde kvar"
    OVERSTAY_UNPAID = "overstay-unpaid"


DISPLAY_TEXTS: dict[Reason, str] = {
    Reason.WELCOME: "Welcome",
    Reason.GOODBYE: "Goodbye, see you soon",
    Reason.UNKNOWN_MEDIUM: "Card not recognised",
    Reason.MEDIUM_BLOCKED: "Card blocked, please see the cashier",
    Reason.MEDIUM_LOST: "Card reported lost, please see the cashier",
    Reason.MEDIUM_RETURNED: "Card not issued, please see the cashier",
    Reason.WRONG_ZONE: "This card is not valid here",
    Reason.ALREADY_INSIDE: "Already inside",
    Reason.NOT_INSIDE: "No entry recorded, please see the cashier",
    Reason.UNPAID_GOODS: "Unpaid goods, please pay at the cashier",
    Reason.PREPAID_VALUE_LEFT: "Prepaid value left, please collect it at the cashier",
    Reason.OVERSTAY_UNPAID: "Time exceeded, please pay at the cashier",
}


@dataclass(frozen=True, slots=True)
class TapFacts:
    """Everything a decision depends on, read under the visit's lock."""

    gate_zone_id: int
    gate_direction: Direction
    medium_state: MediumState | None  # None: UID unknown in the venue
    visit_zone_id: int | None  # None: the medium has no open visit
    inside: bool
    unpaid_credit_minor: int  # open lines on credit (and none-type) card accounts of the visit
    prepaid_owed_minor: int  # prepaid value left plus open lines on prepaid card accounts
    overstay_unpaid_minor: int = 0  # open overstay lines (also counted in the two sums above)
    paid_zone: bool = True  # seed 000: the exit and unbinding rules apply only to zones of type paid


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    passage: Passage | None

    @property
    def display_text(self) -> str:
        return DISPLAY_TEXTS[self.reason]


def _deny(reason: Reason, passage: Passage | None = None) -> Decision:
    return Decision(allowed=False, reason=reason, passage=passage)


def passage_for(direction: Direction, inside: bool) -> Passage:
    """A two-way reader decides by where the visitor is: inside means they want out."""
    if direction is Direction.IN:
        return Passage.ENTRY
    if direction is Direction.OUT:
        return Passage.EXIT
    return Passage.EXIT if inside else Passage.ENTRY


def decide(facts: TapFacts) -> Decision:
    """Allow or deny one tap. Exit is refused while anything is owed (seed 001): a credit tab with lines,
    or prepaid value not yet paid out."""
    if facts.medium_state is None:
        return _deny(Reason.UNKNOWN_MEDIUM)
    if facts.medium_state is MediumState.BLOCKED:
        return _deny(Reason.MEDIUM_BLOCKED)
    if facts.medium_state in (MediumState.LOST, MediumState.TRANSFERRED):
        return _deny(Reason.MEDIUM_LOST)
    if not facts.paid_zone:
        # A free area only counts passages: no ticket, no anti-passback, nothing owed at its exit.
        passage = passage_for(facts.gate_direction, facts.inside)
        reason = Reason.WELCOME if passage is Passage.ENTRY else Reason.GOODBYE
        return Decision(allowed=True, reason=reason, passage=passage)
    if facts.visit_zone_id is None:
        return _deny(Reason.MEDIUM_RETURNED)
    if facts.visit_zone_id != facts.gate_zone_id:
        return _deny(Reason.WRONG_ZONE)
    passage = passage_for(facts.gate_direction, facts.inside)
    if passage is Passage.ENTRY:
        if facts.inside:
            return _deny(Reason.ALREADY_INSIDE, passage)
        return Decision(allowed=True, reason=Reason.WELCOME, passage=passage)
    if not facts.inside:
        return _deny(Reason.NOT_INSIDE, passage)
    if facts.overstay_unpaid_minor > 0:
        return _deny(Reason.OVERSTAY_UNPAID, passage)
    # seed 001 names the failed exit by the entry's credit type: "Obetalda varor" for credit entries,
    # "Förbetalt värde kvar" for prepaid ones (whose goods are paid from that value at the till).
    if facts.unpaid_credit_minor > 0:
        return _deny(Reason.UNPAID_GOODS, passage)
    if facts.prepaid_owed_minor > 0:
        return _deny(Reason.PREPAID_VALUE_LEFT, passage)
    return Decision(allowed=True, reason=Reason.GOODBYE, passage=passage)


def overstay_blocks(
    seconds_inside: int, included_minutes: int | None, block_minutes: int | None, grace_minutes: int
) -> int:
    """Blocks of overstay owed: nothing within the included time plus grace; past it, every started block
    counts from the end of the included time."""
    if included_minutes is None or not block_minutes:
        return 0
    over_seconds = seconds_inside - included_minutes * 60
    if over_seconds <= grace_minutes * 60:
        return 0
    block_seconds = block_minutes * 60
    return -(-over_seconds // block_seconds)
