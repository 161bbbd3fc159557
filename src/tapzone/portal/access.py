"""Opening a portal session by number and PIN or by QR token, and reading it back on every request.

Every failure — unknown number, wrong PIN, no PIN set, blocked, lost or returned medium, malformed input,
unknown venue — is the same `unknown-or-inactive-medium` (DESIGN §5), costs the same argon2 verification,
and counts against the limits: nobody can probe which numbers exist. Attempts are limited per number (a
guesser cannot work through one medium's PINs) and per client address (nor through many numbers); only
failures use them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from tapzone.errors import InvalidRequest, Unauthenticated, UnknownOrInactiveMedium
from tapzone.media.lookup import QR_PREFIX
from tapzone.media.model import MediumState, normalise_uid
from tapzone.portal.pins import pin_matches
from tapzone.portal.tokens import Credential, PortalClaims, credential_fingerprint, issue_token, read_token
from tapzone.store.rate_limits import Limit, claim_attempt, give_back, reset
from tapzone.store.tables import media, venues, visits
from tapzone.store.uow import UnitOfWork

SESSION_LIFETIME = timedelta(minutes=15)
NUMBER_LIMIT = Limit("portal-number", attempts=5, window=timedelta(minutes=15))
# Wider than the number limit: the visitors of one venue often share one address (the venue's Wi-Fi).
ADDRESS_LIMIT = Limit("portal-address", attempts=20, window=timedelta(minutes=15))
QR_TOKEN_MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class PortalSession:
    token: str
    expires_at: datetime
    medium_uid: str


@dataclass(frozen=True, slots=True)
class PortalMedium:
    """The medium a portal session grants, as checked on this request."""

    venue_id: int
    medium_id: int
    medium_uid: str
    visit_id: int
    visit_opened_at: datetime
    language: str


def _refused() -> UnknownOrInactiveMedium:
    return UnknownOrInactiveMedium("unknown or inactive medium")


def open_session_with_pin(
    uow: UnitOfWork, key: bytes, *, venue_id: int, medium_uid: str, pin: str, client: str
) -> PortalSession:
    """A session for the medium with this number, if `pin` is its PIN for the current visit."""
    try:
        uid = normalise_uid(medium_uid)
    except InvalidRequest:
        uid = None
    number_key = f"{venue_id}:{uid or str(medium_uid).strip().upper()}"
    with uow.transaction() as tx:
        claim_attempt(tx, [(NUMBER_LIMIT, number_key), (ADDRESS_LIMIT, client)])
    row = None if uid is None else _medium_in_use(uow, media.c.venue_id == venue_id, media.c.uid == uid)
    # One argon2 verification whatever is missing, so a wrong number takes as long as a wrong PIN.
    matches = pin_matches(row.pin_hash if row else None, row.visit_id if row else None, pin)
    if row is None or not matches or row.pin_hash is None:
        raise _refused()
    with uow.transaction() as tx:
        give_back(tx, ADDRESS_LIMIT, client)
        reset(tx, NUMBER_LIMIT, number_key)
    return _session(uow, key, row, Credential.PIN, row.pin_hash)


def open_session_with_qr(uow: UnitOfWork, key: bytes, *, venue_id: int, qr_token: str, client: str) -> PortalSession:
    """A session for the QR medium whose printed code carries `qr_token` (with or without its `TZQ-` prefix).
    The token is random and long, so the limit per address is enough; there is no number to count against."""
    with uow.transaction() as tx:
        claim_attempt(tx, [(ADDRESS_LIMIT, client)])
    token = qr_token.strip()
    if token.upper().startswith(QR_PREFIX):  # the scanned code as printed, `TZQ-<token>` (media/qr.py)
        token = token[len(QR_PREFIX) :]
    row = None
    if token and len(token) <= QR_TOKEN_MAX_LENGTH:
        row = _medium_in_use(uow, media.c.venue_id == venue_id, media.c.qr_token == token)
    if row is None or row.qr_token is None:
        raise _refused()
    with uow.transaction() as tx:
        give_back(tx, ADDRESS_LIMIT, client)
    return _session(uow, key, row, Credential.QR, row.qr_token)


def portal_medium(uow: UnitOfWork, key: bytes, token: str) -> PortalMedium:
    """The medium behind a session token, checked again now: still active, still the same visit, still the
    credential the session was opened with."""
    claims = read_token(key, token, uow.clock.now())
    row = _medium_in_use(uow, media.c.venue_id == claims.venue_id, media.c.id == claims.medium_id)
    if row is None or row.visit_id != claims.visit_id:
        raise Unauthenticated("portal session no longer valid; sign in again")
    current = row.pin_hash if claims.credential is Credential.PIN else row.qr_token
    if not current or credential_fingerprint(current) != claims.fingerprint:
        raise Unauthenticated("portal session no longer valid; sign in again")
    return PortalMedium(
        venue_id=claims.venue_id,
        medium_id=row.id,
        medium_uid=row.uid,
        visit_id=row.visit_id,
        visit_opened_at=row.opened_at,
        language=row.language,
    )


@dataclass(frozen=True, slots=True)
class _InUse:
    id: int
    venue_id: int
    uid: str
    pin_hash: str | None
    qr_token: str | None
    visit_id: int
    opened_at: datetime
    language: str


def _medium_in_use(uow: UnitOfWork, *where: sa.ColumnElement[bool]) -> _InUse | None:
    """The medium matching `where` if it is in use: active and bound to an open visit. Blocked and lost media
    are refused, and a returned one belongs to nobody now."""
    with uow.transaction() as tx:
        row = tx.conn.execute(
            sa.select(
                media.c.id,
                media.c.venue_id,
                media.c.uid,
                media.c.pin_hash,
                media.c.qr_token,
                visits.c.id.label("visit_id"),
                visits.c.opened_at,
                venues.c.language,
            )
            .select_from(
                media.join(venues, venues.c.id == media.c.venue_id).join(
                    visits, sa.and_(visits.c.medium_id == media.c.id, visits.c.closed_at.is_(None))
                )
            )
            .where(*where, media.c.state == MediumState.ACTIVE.value)
        ).first()
    return None if row is None else _InUse(*row)


def _session(uow: UnitOfWork, key: bytes, row: _InUse, credential: Credential, secret: str) -> PortalSession:
    expires_at = uow.clock.now() + SESSION_LIFETIME
    claims = PortalClaims(
        venue_id=row.venue_id,
        medium_id=row.id,
        visit_id=row.visit_id,
        credential=credential,
        fingerprint=credential_fingerprint(secret),
        expires_at=expires_at,
    )
    return PortalSession(token=issue_token(key, claims), expires_at=expires_at, medium_uid=row.uid)
