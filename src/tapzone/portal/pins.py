"""The portal PIN of a medium: set by staff for the visitor, argon2-hashed, valid for the current visit only.

The hash covers the visit id with the PIN, so a PIN dies with its visit: when the medium is returned and
issued to the next visitor, the previous holder's PIN no longer opens anything — no clean-up step can be
forgotten.
"""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import Conflict, InvalidRequest, MediumNotBound
from tapzone.media.lookup import find_medium, usable_medium
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import media, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

# Six digits at least: with five failures per number per window, a four-digit PIN falls to a patient guesser
# within days, six digits take years.
PIN_DIGITS_MIN = 6
PIN_DIGITS_MAX = 12

_hasher = PasswordHasher()
# Checked when there is no hash to check against, so an unknown number costs as long as a wrong PIN.
_DUMMY_HASH = _hasher.hash("visit:0:pin:000000")


class PinView(BaseModel):
    medium_uid: str
    visit_id: int
    pin_set: bool = True


def check_pin_format(pin: object) -> str:
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise InvalidRequest(f"a PIN is {PIN_DIGITS_MIN} to {PIN_DIGITS_MAX} digits")
    if not PIN_DIGITS_MIN <= len(pin) <= PIN_DIGITS_MAX:
        raise InvalidRequest(f"a PIN is {PIN_DIGITS_MIN} to {PIN_DIGITS_MAX} digits")
    return pin


def _material(visit_id: int, pin: str) -> str:
    return f"visit:{visit_id}:pin:{pin}"


def hash_pin(visit_id: int, pin: str) -> str:
    return _hasher.hash(_material(visit_id, pin))


def pin_matches(pin_hash: str | None, visit_id: int | None, pin: str) -> bool:
    """Whether `pin` opens the medium for this visit; always one argon2 verification, whatever is missing."""
    stored = pin_hash if pin_hash and visit_id is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, _material(visit_id or 0, pin))
    except (VerificationError, InvalidHashError):
        return False
    return stored is not _DUMMY_HASH


def set_pin(
    uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, pin: str, entry: MediumEntry = MediumEntry.READER
) -> PinView:
    """Set (or replace) the portal PIN of a bound medium; audited. Replacing it ends open portal sessions."""
    check_pin_format(pin)
    # Argon2 is slow on purpose: hash outside the transaction, for the visit read here; inside, the use case
    # checks everything again and that the medium still carries that visit.
    with uow.transaction() as tx:
        found = find_medium(tx, ctx.venue_id, medium_uid)
        visit_id = None if found is None else _open_visit_of(tx, found.id)
    pin_hash = None if visit_id is None else hash_pin(visit_id, pin)
    # The PIN itself stays out of the request fingerprint: a stored hash of a few digits is no secret.
    payload = {"medium_uid": medium_uid, "entry": entry.value}

    def handler(tx: Tx) -> PinView:
        authorise(tx, ctx, Permission.MEDIUM_ISSUE)
        medium = usable_medium(tx, ctx, medium_uid, entry)
        (medium,) = tx.lock_rows(media, [medium.id])
        current_visit = _open_visit_of(tx, medium.id)
        if current_visit is None:
            raise MediumNotBound("a PIN belongs to a visit: issue the medium first")
        if current_visit != visit_id or pin_hash is None:
            raise Conflict("the medium's visit changed meanwhile; set the PIN again")
        tx.conn.execute(media.update().where(media.c.id == medium.id).values(pin_hash=pin_hash))
        audit.record(tx, ctx, "medium.pin_set", f"medium:{medium.uid}", {"visit_id": current_visit})
        return PinView(medium_uid=medium.uid, visit_id=current_visit)

    return run_idempotent(uow, ctx, "set_portal_pin", payload, handler, PinView)


def _open_visit_of(tx: Tx, medium_id: int) -> int | None:
    value = tx.conn.execute(
        sa.select(visits.c.id).where(visits.c.medium_id == medium_id, visits.c.closed_at.is_(None))
    ).scalar_one_or_none()
    return None if value is None else int(value)
