"""Who is at the screen: the device paired with this browser, and the staff member signed in on it.

A till's browser is paired once with the device's token (kept in an HttpOnly, SameSite=Strict cookie); staff
then sign in with login and password (argon2), and the staff session lives in a second cookie. SameSite=Strict
keeps other sites from submitting forms with these cookies; every write form also carries a fresh idempotency
key, so a double tap or a resubmitted form books once.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tapzone.context import RequestContext
from tapzone.errors import RateLimited, TapzoneError, Unauthenticated
from tapzone.i18n import LANGUAGES
from tapzone.store.tables import staff
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import DeviceIdentity, identify_device, identify_staff, sign_in, sign_out
from tapzone.web.render import render

DEVICE_COOKIE = "tz_device"
STAFF_COOKIE = "tz_staff"
COOKIE_OPTIONS = {"httponly": True, "samesite": "strict", "path": "/"}
RATE_LIMITED = "Too many attempts. Please try again in {minutes} min."  # the portal's text, in every catalog


class NeedsPairing(Exception):
    pass


class NeedsSignIn(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Screen:
    """The browser's device, its signed-in staff member and the language their screens speak."""

    device: DeviceIdentity
    operator_id: int | None
    staff_name: str | None
    language: str

    def context(self, idempotency_key: str | None = None) -> RequestContext:
        return RequestContext(
            self.device.venue_id, self.device.device_id, self.operator_id, idempotency_key or uuid.uuid4().hex
        )


def uow_of(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.services.uow
    return uow


def device_of(request: Request) -> DeviceIdentity:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        raise NeedsPairing()
    try:
        device = identify_device(uow_of(request), token)
    except Unauthenticated as error:
        raise NeedsPairing() from error
    request.state.device_id, request.state.venue_id = device.device_id, device.venue_id  # for the request log
    return device


def screen(request: Request, *, staff_required: bool = True) -> Screen:
    device = device_of(request)
    session = request.cookies.get(STAFF_COOKIE)
    operator_id = None
    if session:
        try:
            operator_id = identify_staff(uow_of(request), device, session)
        except Unauthenticated:
            operator_id = None
    if operator_id is None and staff_required:
        raise NeedsSignIn()
    request.state.staff_id = operator_id
    name, language = None, device.venue_language
    if operator_id is not None:
        with uow_of(request).engine.connect() as conn:
            row = conn.execute(sa.select(staff.c.name, staff.c.language).where(staff.c.id == operator_id)).one()
        name, language = row.name, row.language or device.venue_language
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        language = chosen
    return Screen(device, operator_id, name, language if language in LANGUAGES else "en")


router = APIRouter(include_in_schema=False)


@router.get("/pair")
def pair_page(request: Request) -> Response:
    return render(request, "pair.html", language=request.query_params.get("lang", "en"), error=None)


@router.post("/pair")
def pair(request: Request, token: str = Form(...)) -> Response:
    try:
        device = identify_device(uow_of(request), token.strip())
    except TapzoneError:
        return render(request, "pair.html", language="en", error="Unknown device token", status_code=401)
    response = RedirectResponse("/sign-in", status_code=303)
    response.set_cookie(DEVICE_COOKIE, token.strip(), max_age=3600 * 24 * 365, **COOKIE_OPTIONS)  # type: ignore[arg-type]
    del device
    return response


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    device = device_of(request)
    return render(request, "sign_in.html", language=device.venue_language, error=None)


@router.post("/sign-in")
def sign_in_post(request: Request, login: str = Form(...), password: str = Form(...)) -> Response:
    device = device_of(request)
    try:
        session = sign_in(uow_of(request), device, login.strip(), password)
    except Unauthenticated:
        return render(
            request, "sign_in.html", language=device.venue_language, error="Wrong login or password", status_code=401
        )
    except RateLimited as limited:
        minutes = max(1, math.ceil(limited.retry_after_s / 60))
        refused = render(
            request,
            "sign_in.html",
            language=device.venue_language,
            error=RATE_LIMITED,
            error_values={"minutes": minutes},
            status_code=429,
        )
        refused.headers["Retry-After"] = str(limited.retry_after_s)
        return refused
    start = "/gates" if device.device_kind in ("turnstile", "validator", "collector", "mobile") else "/till"
    response = RedirectResponse(start, status_code=303)
    response.set_cookie(STAFF_COOKIE, session.token, **COOKIE_OPTIONS)  # type: ignore[arg-type]
    return response


@router.post("/sign-out")
def sign_out_post(request: Request) -> Response:
    device = device_of(request)
    session = request.cookies.get(STAFF_COOKIE)
    if session:
        sign_out(uow_of(request), device, session)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(STAFF_COOKIE, path="/")
    return response
