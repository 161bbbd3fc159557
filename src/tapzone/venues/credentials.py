"""Device tokens and staff sign-in (argon2 password hashes, DESIGN §5).

Tokens are random, shown once, and stored as SHA-256 digests: a stolen database does not reveal them.
Staff act through a till: a staff session is bound to the device it was opened on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tapzone.errors import InvalidRequest, NotFound, Unauthenticated
from tapzone.store.rate_limits import Limit, claim_attempt, give_back, reset
from tapzone.store.tables import device_tokens, devices, roles, staff, staff_sessions, venues
from tapzone.store.uow import Tx, UnitOfWork

SESSION_LIFETIME = timedelta(hours=12)  # one long shift; the till signs in again after that
# Failed sign-ins per login on one device (a guesser cannot work through one person's passwords) and per device
# (nor through many logins). Only failures count; the right password gives its attempt back.
SIGN_IN_LOGIN_LIMIT = Limit("sign-in-login", attempts=5, window=timedelta(minutes=15))
SIGN_IN_DEVICE_LIMIT = Limit("sign-in-device", attempts=20, window=timedelta(minutes=15))
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
# Verifying against this keeps a wrong login as slow as a wrong password, so logins cannot be probed.
_DUMMY_HASH = _hasher.hash("not a real password")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    venue_id: int
    device_id: int
    device_kind: str
    venue_language: str


@dataclass(frozen=True, slots=True)
class StaffSession:
    staff_id: int
    device_id: int
    name: str
    role: str
    token: str


def issue_device_token(uow: UnitOfWork, device_id: int) -> str:
    with uow.transaction() as tx:
        venue_id = tx.conn.execute(sa.select(devices.c.venue_id).where(devices.c.id == device_id)).scalar_one_or_none()
        if venue_id is None:
            raise NotFound(f"device {device_id} does not exist")
        return store_device_token(tx, venue_id, device_id)


def store_device_token(tx: Tx, venue_id: int, device_id: int) -> str:
    """A new token for the device inside the caller's transaction; only its digest is stored."""
    token = new_token()
    tx.conn.execute(
        device_tokens.insert().values(
            venue_id=venue_id, device_id=device_id, token_hash=token_digest(token), created_at=tx.now
        )
    )
    return token


def hash_password(password: str) -> str:
    """The argon2 hash of a password that meets the length rule (refused otherwise)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def set_password(uow: UnitOfWork, staff_id: int, password: str) -> None:
    password_hash = hash_password(password)
    with uow.transaction() as tx:
        updated = tx.conn.execute(
            staff.update().where(staff.c.id == staff_id).values(password_hash=password_hash)
        ).rowcount
        if not updated:
            raise NotFound(f"staff member {staff_id} does not exist")


def identify_device(uow: UnitOfWork, token: str) -> DeviceIdentity:
    with uow.engine.connect() as conn:
        row = conn.execute(
            sa.select(devices.c.id, devices.c.venue_id, devices.c.kind, venues.c.language)
            .select_from(
                device_tokens.join(devices, devices.c.id == device_tokens.c.device_id).join(
                    venues, venues.c.id == devices.c.venue_id
                )
            )
            .where(device_tokens.c.token_hash == token_digest(token), device_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None:
        raise Unauthenticated("unknown or revoked device token")
    return DeviceIdentity(venue_id=row.venue_id, device_id=row.id, device_kind=row.kind, venue_language=row.language)


def sign_in(uow: UnitOfWork, device: DeviceIdentity, login: str, password: str) -> StaffSession:
    """Check login and password on this till and open a staff session bound to it.

    The attempt is counted in a transaction of its own before the password is checked, so a wrong password
    (whose transaction rolls back) stays counted and parallel guesses cannot pass the limit; a success gives
    it back in the transaction that opens the session."""
    token = new_token()
    login_key, device_key = f"{device.device_id}:{login.strip().casefold()}", str(device.device_id)
    with uow.transaction() as tx:
        claim_attempt(tx, [(SIGN_IN_LOGIN_LIMIT, login_key), (SIGN_IN_DEVICE_LIMIT, device_key)])
    with uow.transaction() as tx:
        row = tx.conn.execute(
            sa.select(staff.c.id, staff.c.name, staff.c.password_hash, staff.c.role_id).where(
                staff.c.venue_id == device.venue_id, staff.c.login == login, staff.c.active.is_(True)
            )
        ).first()
        stored_hash = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        try:
            _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError) as error:
            raise Unauthenticated("wrong login or password") from error
        if row is None or not row.password_hash:
            raise Unauthenticated("wrong login or password")
        role = tx.conn.execute(sa.select(roles.c.name).where(roles.c.id == row.role_id)).scalar_one()
        tx.conn.execute(
            staff_sessions.insert().values(
                venue_id=device.venue_id,
                staff_id=row.id,
                device_id=device.device_id,
                token_hash=token_digest(token),
                created_at=tx.now,
                expires_at=tx.now + SESSION_LIFETIME,
            )
        )
        reset(tx, SIGN_IN_LOGIN_LIMIT, login_key)
        give_back(tx, SIGN_IN_DEVICE_LIMIT, device_key)
        if _hasher.check_needs_rehash(stored_hash):
            tx.conn.execute(staff.update().where(staff.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return StaffSession(staff_id=row.id, device_id=device.device_id, name=row.name, role=role, token=token)


def identify_staff(uow: UnitOfWork, device: DeviceIdentity, session_token: str) -> int:
    now = uow.clock.now()
    with uow.engine.connect() as conn:
        staff_id = conn.execute(
            sa.select(staff_sessions.c.staff_id)
            .join(staff, staff.c.id == staff_sessions.c.staff_id)
            .where(
                staff_sessions.c.token_hash == token_digest(session_token),
                staff_sessions.c.device_id == device.device_id,
                staff_sessions.c.ended_at.is_(None),
                staff_sessions.c.expires_at > now,
                staff.c.active.is_(True),
            )
        ).scalar_one_or_none()
    if staff_id is None:
        raise Unauthenticated("staff session unknown, expired or opened on another till")
    return int(staff_id)


def sign_out(uow: UnitOfWork, device: DeviceIdentity, session_token: str) -> None:
    with uow.transaction() as tx:
        tx.conn.execute(
            staff_sessions.update()
            .where(
                staff_sessions.c.token_hash == token_digest(session_token),
                staff_sessions.c.device_id == device.device_id,
                staff_sessions.c.ended_at.is_(None),
            )
            .values(ended_at=tx.now)
        )
