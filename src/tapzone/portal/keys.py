"""The server secret behind portal sessions and the simulated provider's webhook signatures.

Every API process must hold the same secret (a session opened on one process is read by another), so it comes
from `TAPZONE_PORTAL_SECRET`, or else from a file under var/ that the first process creates and the others
read. Changing it ends every open portal session, which is harmless: they live minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tapzone.payments.online import OnlineProvider, available_providers

SECRET_ENV = "TAPZONE_PORTAL_SECRET"  # noqa: S105 - the variable's name, not a secret
DEFAULT_SECRET_PATH = Path("var/portal-secret")
MIN_SECRET_LENGTH = 32


def server_secret(path: Path = DEFAULT_SECRET_PATH) -> bytes:
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise ValueError(f"{SECRET_ENV} needs at least {MIN_SECRET_LENGTH} characters")
        return configured.encode()
    return _file_secret(path)


@dataclass(frozen=True, slots=True)
class PortalKeys:
    """What the portal's HTTP side needs from the secret: the session-token key and the payment providers."""

    session_key: bytes
    providers: dict[str, OnlineProvider]


def load_portal_keys(path: Path = DEFAULT_SECRET_PATH) -> PortalKeys:
    secret = server_secret(path)
    return PortalKeys(session_key=purpose_key(secret, "portal-session"), providers=available_providers(secret))


def purpose_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose only: a portal token can never pass as a webhook signature, or the reverse."""
    return hmac.new(secret, f"tapzone:{purpose}".encode(), hashlib.sha256).digest()


def _file_secret(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes the secret and the other reads that one.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if len(value) < MIN_SECRET_LENGTH:  # the writer has not finished yet, or the file was damaged
            raise ValueError(f"{path} holds no usable secret; delete it or set {SECRET_ENV}") from None
        return value.encode()
    value = secrets.token_urlsafe(48)
    with os.fdopen(handle, "w", encoding="ascii") as file:
        file.write(value + "\n")
    return value.encode()
