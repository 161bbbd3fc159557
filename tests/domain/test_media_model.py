from __future__ import annotations

import pytest

from tapzone.context import MediumEntry
from tapzone.errors import InvalidRequest, MediumBlocked, MediumLost, UnknownMedium, UnknownOrInactiveMedium
from tapzone.media.model import MediumState, normalise_uid, refusal_for_state, unknown_medium


def test_uids_are_normalised() -> None:
    assert normalise_uid(" 04a1-b2 ") == "04A1-B2"
    with pytest.raises(InvalidRequest):
        normalise_uid("04 a1")


def test_reader_learns_the_reason_typed_entry_does_not() -> None:
    assert isinstance(refusal_for_state(MediumState.BLOCKED, MediumEntry.READER), MediumBlocked)
    assert isinstance(refusal_for_state(MediumState.LOST, MediumEntry.READER), MediumLost)
    assert isinstance(unknown_medium(MediumEntry.READER), UnknownMedium)
    for state in (MediumState.BLOCKED, MediumState.LOST):
        assert isinstance(refusal_for_state(state, MediumEntry.TYPED), UnknownOrInactiveMedium)
    assert isinstance(unknown_medium(MediumEntry.TYPED), UnknownOrInactiveMedium)
    assert refusal_for_state(MediumState.ACTIVE, MediumEntry.TYPED) is None
