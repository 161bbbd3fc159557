"""Media kinds and states, and which state refuses which use."""

from __future__ import annotations

import re
from enum import StrEnum

from tapzone.context import MediumEntry
from tapzone.errors import (
    InvalidRequest,
    MediumBlocked,
    MediumLost,
    TapzoneError,
    UnknownMedium,
    UnknownOrInactiveMedium,
)


class MediumKind(StrEnum):
    CARD = "card"
    WRISTBAND = "wristband"
    QR = "qr"


class MediumState(StrEnum):
    ACTIVE = "active"  # in circulation, may be bound to a visit
    BLOCKED = "blocked"  # stopped by staff; never accepted until unblocked
    LOST = "lost"  # reported lost; its value moved away, never accepted again (seed 004)
    RETURNED = "returned"  # back in the venue's stock, ready to be issued again
    TRANSFERRED = "transferred"  # lost, and its value moved to a new medium: blocked for good (seed 004)


# Reader UIDs and printed card numbers: hex or decimal digits, letters and dashes. Anything else is a typo
# or an attack, never a medium.
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,63}$")


# A keyboard-wedge reader may end the UID with Enter; only such ASCII whitespace is dropped, never Unicode
# spaces (a no-break space is not part of any UID, and stripping it would accept a look-alike).
_READER_WHITESPACE = " \t\r\n"


def normalise_uid(uid: str) -> str:
    """The UID in its stored form: ASCII letters, digits and dashes only (letters upper case), 1..64 long."""
    if not isinstance(uid, str) or not _UID.fullmatch(uid.strip(_READER_WHITESPACE)):
        raise InvalidRequest("a medium UID is 1..64 letters, digits or dashes")
    return uid.strip(_READER_WHITESPACE).upper()


def refusal_for_state(state: MediumState, entry: MediumEntry) -> TapzoneError | None:
    """The error for a medium in `state`, or None when it may be used.

    A reader learns the specific reason; a typed number only ever learns "unknown or inactive" (DESIGN §5).
    """
    if state in (MediumState.ACTIVE, MediumState.RETURNED):
        return None
    if entry is MediumEntry.TYPED:
        return UnknownOrInactiveMedium("unknown or inactive medium")
    if state is MediumState.BLOCKED:
        return MediumBlocked("this medium is blocked")
    if state is MediumState.TRANSFERRED:
        return MediumLost("this medium was lost and its value moved to another medium; it is blocked for good")
    return MediumLost("this medium was reported lost")


def unknown_medium(entry: MediumEntry) -> TapzoneError:
    if entry is MediumEntry.TYPED:
        return UnknownOrInactiveMedium("unknown or inactive medium")
    return UnknownMedium("this medium is not registered in the venue")
