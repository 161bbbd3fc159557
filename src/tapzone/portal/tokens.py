"""Portal session tokens: stateless, HMAC-signed, short-lived.

There is no table for portal sessions, and none is needed: the token carries what it grants (one medium
during one visit) and until when, signed with a server key. What a table would add — revocation — comes
from re-checking the medium on every request: the token also carries a fingerprint of the credential it
was opened with (the PIN hash or the QR token), so blocking the medium, returning it, changing its PIN or
regenerating its QR code ends every session at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tapzone.errors import Unauthenticated

PREFIX = "tzp1"


class Credential(StrEnum):
    PIN = "pin"
    QR = "qr"


@dataclass(frozen=True, slots=True)
class PortalClaims:
    venue_id: int
    medium_id: int
    visit_id: int
    credential: Credential
    fingerprint: str  # of the PIN hash or QR token the session was opened with
    expires_at: datetime


def credential_fingerprint(secret_material: str) -> str:
    return hashlib.sha256(secret_material.encode()).hexdigest()[:32]


def issue_token(key: bytes, claims: PortalClaims) -> str:
    body = json.dumps(
        [
            claims.venue_id,
            claims.medium_id,
            claims.visit_id,
            claims.credential.value,
            claims.fingerprint,
            int(claims.expires_at.timestamp()),
        ],
        separators=(",", ":"),
    ).encode()
    signed = f"{PREFIX}.{_b64(body)}"
    return f"{signed}.{_b64(_mac(key, signed))}"


def read_token(key: bytes, token: str, now: datetime) -> PortalClaims:
    """The claims of a token this server signed and that has not expired; anything else is refused alike."""
    refused = Unauthenticated("portal session unknown or expired; sign in again")
    prefix, _, rest = token.strip().partition(".")
    body_part, _, mac_part = rest.partition(".")
    if prefix != PREFIX or not body_part or not mac_part:
        raise refused
    try:
        mac = _unb64(mac_part)
        if not hmac.compare_digest(mac, _mac(key, f"{prefix}.{body_part}")):
            raise refused
        venue_id, medium_id, visit_id, credential, fingerprint, expires = json.loads(_unb64(body_part))
        claims = PortalClaims(
            venue_id=int(venue_id),
            medium_id=int(medium_id),
            visit_id=int(visit_id),
            credential=Credential(credential),
            fingerprint=str(fingerprint),
            expires_at=datetime.fromtimestamp(int(expires), UTC),
        )
    except (ValueError, TypeError, binascii.Error) as error:
        raise refused from error
    if claims.expires_at <= now:
        raise refused
    return claims


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
