"""What every customer-portal page shares: the venue, the language, the session cookie and the page response.

The portal is public: no paired device and no staff. Its session is the portal token of portal/access.py,
kept in its own HttpOnly, SameSite=Strict cookie scoped to /portal and checked again on every request, so a
blocked or returned medium, a new PIN or a regenerated QR code end it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from tapzone.api.routers.portal import portal_keys
from tapzone.errors import Unauthenticated
from tapzone.i18n import LANGUAGES, choose_language
from tapzone.portal.access import PortalMedium, PortalSession, portal_medium
from tapzone.store.tables import venues
from tapzone.web.render import render
from tapzone.web.session import uow_of

PORTAL_COOKIE = "tz_portal"
LANGUAGE_COOKIE = "tz_portal_lang"
COOKIE_PATH = "/portal"
# Count units as the balance and history name them; money is shown in the venue's currency.
UNIT_LABELS = {"minutes": "Minutes", "visits": "Visits", "bonus": "Bonus points"}
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "sv": "Svenska", "ru": "Русский"}  # each in itself


@dataclass(frozen=True, slots=True)
class PortalVenue:
    id: int
    name: str
    language: str
    currency: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Customer:
    """The medium this browser's portal session grants, its venue and the language the pages speak."""

    medium: PortalMedium
    venue: PortalVenue
    language: str


def venues_of(request: Request, venue_id: int | None = None) -> list[PortalVenue]:
    query = sa.select(venues.c.id, venues.c.name, venues.c.language, venues.c.currency, venues.c.timezone)
    if venue_id is not None:
        query = query.where(venues.c.id == venue_id)
    with uow_of(request).engine.connect() as conn:
        return [PortalVenue(*row) for row in conn.execute(query.order_by(venues.c.id))]


def chosen_venue(request: Request) -> PortalVenue | None:
    """The venue named by `?venue=`, else the only one; None when the portal cannot tell which is meant."""
    wanted = request.query_params.get("venue", "").strip()
    if wanted:
        found = venues_of(request, int(wanted)) if wanted.isdigit() and len(wanted) < 10 else []
        return found[0] if found else None
    every = venues_of(request)
    return every[0] if len(every) == 1 else None


def language_of(request: Request, venue_language: str) -> str:
    """`?lang=` (remembered in a cookie for the following pages), else the browser's Accept-Language, else
    the venue's language."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    return choose_language(request.headers.get("accept-language"), venue_language)


def page(
    request: Request, template: str, *, language: str, venue: PortalVenue | None, status_code: int = 200, **context: Any
) -> Response:
    """A portal page. Never cached: it shows a person's money, and after Back a form must carry a fresh
    idempotency key. Never sent as a referrer: a QR sign-in address carries the credential."""
    if venue is not None:
        context.setdefault("currency", venue.currency)
        context.setdefault("timezone", venue.timezone)
    response = render(
        request,
        template,
        language=language,
        status_code=status_code,
        venue=venue,
        language_names=LANGUAGE_NAMES,
        **context,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, str(asked), path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


def customer_of(request: Request) -> Customer | None:
    """The signed-in customer, or None when there is no session or it has ended."""
    token = request.cookies.get(PORTAL_COOKIE)
    if not token:
        return None
    try:
        medium = portal_medium(uow_of(request), portal_keys(request).session_key, token)
    except Unauthenticated:
        return None
    (venue,) = venues_of(request, medium.venue_id)
    return Customer(medium, venue, language_of(request, venue.language))


def signed_out(request: Request) -> Response:
    """Back to the sign-in form; a session that was there and has ended says so."""
    ended = bool(request.cookies.get(PORTAL_COOKIE))
    response = RedirectResponse("/portal" + ("?ended=1" if ended else ""), status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path=COOKIE_PATH)
    return response


def keep_session(request: Request, response: Response, session: PortalSession) -> Response:
    """Hand the session to the browser, for as long as the token is valid and no longer."""
    seconds = max(1, int((session.expires_at - uow_of(request).clock.now()).total_seconds()))
    response.set_cookie(
        PORTAL_COOKIE,
        session.token,
        max_age=seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
