"""The customer portal over HTTP: public, no device token. A visitor opens a short-lived session with the medium's
number and PIN or its QR code and sends it as `Authorization: Bearer <token>` (portal/tokens.py says why it is
stateless); every failed sign-in is the same 404 `unknown-or-inactive-medium`, and too many give 429."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr

from tapzone.api.auth import idempotency_key
from tapzone.api.deps import Uow, require_json
from tapzone.api.problems import request_language
from tapzone.api.schemas import AmountIn, Body
from tapzone.errors import InvalidRequest, Unauthenticated
from tapzone.payments.online import SIMULATOR, provider_named
from tapzone.portal.access import PortalMedium, open_session_with_pin, open_session_with_qr, portal_medium
from tapzone.portal.keys import PortalKeys, load_portal_keys
from tapzone.portal.topups import OnlineTopupView, portal_online_topups, start_online_topup
from tapzone.portal.views import (
    HISTORY_LIMIT_MAX,
    PortalBalanceView,
    PortalHistoryView,
    PortalReceiptsView,
    portal_balance,
    portal_history,
    portal_receipt,
    portal_receipts,
)
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.receipts.render import MEDIA_TYPES, render

router = APIRouter(prefix="/portal", tags=["customer portal"])

_keys_guard = threading.Lock()


def portal_keys(request: Request) -> PortalKeys:
    """Read once per app (env or var/ file), on first use: an app that never serves the portal needs no secret."""
    keys: PortalKeys | None = getattr(request.app.state, "portal_keys", None)
    if keys is None:
        with _keys_guard:
            keys = getattr(request.app.state, "portal_keys", None)
            if keys is None:
                keys = load_portal_keys()
                request.app.state.portal_keys = keys
    return keys


Keys = Annotated[PortalKeys, Depends(portal_keys)]


def client_address(request: Request) -> str:
    # The peer as the server sees it. Behind a reverse proxy uvicorn puts the proxy's X-Forwarded-For here,
    # trusting it only from FORWARDED_ALLOW_IPS (127.0.0.1 by default): a client cannot pick its own address.
    return request.client.host if request.client else "unknown"


def portal_caller(request: Request, uow: Uow, keys: Keys) -> PortalMedium:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the portal session token as 'Authorization: Bearer <token>'")
    medium = portal_medium(uow, keys.session_key, token.strip())
    request.state.venue_language = medium.language
    return medium


Customer = Annotated[PortalMedium, Depends(portal_caller)]


class PortalSignIn(Body):
    """Either `medium_uid` and `pin`, or `qr_token` (the code printed on a QR medium)."""

    venue_id: StrictInt
    medium_uid: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    pin: Annotated[StrictStr, Field(min_length=1, max_length=32)] | None = None
    qr_token: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None


class PortalSessionOut(BaseModel):
    session_token: str
    expires_at: datetime
    medium_uid: str
    header: str = "Authorization: Bearer <session_token>"


class PortalTopUpIn(Body):
    amount: AmountIn
    provider: Annotated[StrictStr, Field(min_length=1, max_length=32)] = SIMULATOR
    return_url: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = None


@router.post("/sessions", status_code=201)
def open_portal_session(body: PortalSignIn, request: Request, uow: Uow, keys: Keys) -> PortalSessionOut:
    """Sign in to the portal. Not idempotent by key on purpose: a replayed answer would hand out a stored token."""
    client = client_address(request)
    if body.qr_token is not None and body.medium_uid is None and body.pin is None:
        session = open_session_with_qr(
            uow, keys.session_key, venue_id=body.venue_id, qr_token=body.qr_token, client=client
        )
    elif body.qr_token is None and body.medium_uid is not None and body.pin is not None:
        session = open_session_with_pin(
            uow, keys.session_key, venue_id=body.venue_id, medium_uid=body.medium_uid, pin=body.pin, client=client
        )
    else:
        raise InvalidRequest("send either medium_uid and pin, or qr_token")
    return PortalSessionOut(session_token=session.token, expires_at=session.expires_at, medium_uid=session.medium_uid)


@router.get("/balance")
def get_balance(medium: Customer, uow: Uow) -> PortalBalanceView:
    return portal_balance(uow, medium)


@router.get("/history")
def get_history(
    medium: Customer,
    request: Request,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=HISTORY_LIMIT_MAX)] = 100,
    before_entry_id: int | None = None,
) -> PortalHistoryView:
    """Bookings on the medium's card accounts during this visit, newest first."""
    return portal_history(uow, medium, request_language(request), limit=limit, before_entry_id=before_entry_id)


@router.get("/receipts")
def get_receipts(medium: Customer, uow: Uow) -> PortalReceiptsView:
    return portal_receipts(uow, medium)


@router.get("/receipts/{receipt_id}", response_model=Receipt)
def get_receipt(
    receipt_id: int,
    medium: Customer,
    uow: Uow,
    fmt: Annotated[Literal["json", "html", "pdf"], Query(alias="format")] = "json",
) -> Response:
    """One receipt of this medium as JSON, HTML or PDF; receipts of other media are not found."""
    receipt, timezone = portal_receipt(uow, medium, receipt_id)
    if fmt == "json":
        return Response(receipt.model_dump_json(), media_type="application/json")
    return Response(render(receipt, fmt, timezone), media_type=MEDIA_TYPES[fmt])


@router.get("/top-ups")
def get_top_ups(medium: Customer, uow: Uow) -> list[OnlineTopupView]:
    return portal_online_topups(uow, medium)


@router.post("/top-ups", status_code=201)
def post_top_up(body: PortalTopUpIn, medium: Customer, request: Request, uow: Uow, keys: Keys) -> OnlineTopupView:
    """Start an online top-up: answers with the provider's `redirect_url` to pay on. The card is credited when
    the provider confirms, once; until then the top-up is pending. Needs an `Idempotency-Key`."""
    require_json(request)
    key = idempotency_key(request)
    return start_online_topup(
        uow,
        medium,
        key,
        amount=body.amount.money(),
        provider=provider_named(keys.providers, body.provider),
        return_url=body.return_url or f"{str(request.base_url).rstrip('/')}/portal",
    )
