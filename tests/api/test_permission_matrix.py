"""Role × route: every route of the app (API and screens) is in MATRIX with what it requires, and every caller
without it is refused with nothing changed in the database.

A new route fails `test_every_route_is_in_the_matrix` until it is given a row here: nobody can add a route
and forget to say who may call it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tapzone.api.app import create_app
from tapzone.store.db import make_engine
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import DeviceKind
from tapzone.venues.permissions import DEFAULT_ROLES, Permission, usable_from
from tests.api.permission_callers import (
    ROLES,
    UNATTENDED,
    Callers,
    Example,
    RouteKey,
    every_route,
    example_request,
    fingerprint,
)
from tests.databases import SqliteTemplate
from tests.world import World, build_world

P = Permission


@dataclass(frozen=True, slots=True)
class Public:
    """Anyone: docs, sign-in pages, health; `why` says what protects it instead."""

    why: str


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff member holding `permission`, signed in on a device where it may be used (a till; some at a
    gate). API: 401 without a token, 403 otherwise. Screens: to /pair, then to /sign-in, then refused."""

    permission: Permission
    unattended: frozenset[DeviceKind] = frozenset()  # device kinds that may call it without staff


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Any signed-in staff member (their own session, a screen that shows only what the role may do)."""


@dataclass(frozen=True, slots=True)
class Device:
    """Only devices of these kinds, on their own token (a gate's taps, a reader's matches)."""

    kinds: frozenset[DeviceKind]


@dataclass(frozen=True, slots=True)
class TakenHere:
    """A cashless payment: only the device that took it, and the booking re-checks the operation's
    permission (payments/flow.py)."""


@dataclass(frozen=True, slots=True)
class Portal:
    """A customer's portal session (medium + PIN or QR), never a device or staff token."""


Guard = Public | Staff | SignedIn | Device | TakenHere | Portal
GATES = frozenset({DeviceKind.TURNSTILE})
KIOSK = frozenset({DeviceKind.KIOSK})

MATRIX: dict[str, Guard] = {
    # meta
    "GET /api/v1/openapi.json": Public("the published API description"),
    "GET /docs": Public("the published API description"),
    "GET /docs/oauth2-redirect": Public("part of the docs page"),
    "GET /api/v1/health": Public("load balancers probe it; says only ok and the version"),
    "GET /problems": Public("the catalogue of problem types"),
    "GET /problems/{slug}": Public("the catalogue of problem types"),
    "GET /metrics": Public("loopback or TAPZONE_METRICS_TOKEN; tests/api/test_metrics_http.py"),
    "GET /static/{path}": Public("stylesheets and scripts"),
    # staff sessions
    "POST /api/v1/sessions": Public("needs the device token and a password; tests/api/test_auth.py"),
    "DELETE /api/v1/sessions/current": SignedIn(),
    # visits and media at the till
    "POST /api/v1/visits": Staff(P.MEDIUM_ISSUE),
    "POST /api/v1/media/{uid}/card-accounts": Staff(P.MEDIUM_ISSUE),
    "PUT /api/v1/media/{uid}/active-card-account": Staff(P.MEDIUM_ISSUE),
    "POST /api/v1/media/{uid}/return": Staff(P.MEDIUM_RETURN),
    "GET /api/v1/media/{uid}/tab": Staff(P.TAB_SAVE),
    "POST /api/v1/media/{uid}/tab/lines": Staff(P.TAB_SAVE),
    "POST /api/v1/media/{uid}/tab/bills": Staff(P.TAB_BILL),
    "POST /api/v1/media/{uid}/tab/cancellations": Staff(P.TAB_CANCEL),
    "POST /api/v1/media/{uid}/tab/settlements": Staff(P.TAB_SETTLE),
    "POST /api/v1/media/{uid}/top-ups": Staff(P.TOPUP),
    "POST /api/v1/media/{uid}/sales": Staff(P.SALE),
    "POST /api/v1/media/{uid}/refunds": Staff(P.PREPAID_REFUND),
    "POST /api/v1/media/{uid}/block": Staff(P.MEDIUM_BLOCK),
    "POST /api/v1/media/{uid}/unblock": Staff(P.MEDIUM_BLOCK),
    "POST /api/v1/media/{uid}/lost": Staff(P.MEDIUM_BLOCK),
    "POST /api/v1/media/{uid}/transfers": Staff(P.MEDIUM_TRANSFER),
    "POST /api/v1/media/{uid}/swap": Staff(P.MEDIUM_ISSUE),
    "DELETE /api/v1/media/{uid}": Public("always 409 media-never-deleted: a medium is never deleted"),
    "POST /api/v1/media/{uid}/qr-code/regeneration": Staff(P.MEDIUM_TRANSFER),
    "GET /api/v1/media/{uid}/qr-code.{kind}": Staff(P.MEDIUM_ISSUE),
    "POST /api/v1/media/{uid}/prepaid-emptying": Staff(P.PAYOUT_MANAGE),
    "POST /api/v1/media/{uid}/pin": Staff(P.MEDIUM_ISSUE),
    "POST /api/v1/qr-media": Staff(P.MEDIUM_ISSUE),
    "GET /api/v1/qr-sheets.pdf": Staff(P.MEDIUM_ISSUE),
    "GET /api/v1/products": Device(frozenset(DeviceKind) - {DeviceKind.SYSTEM, DeviceKind.PORTAL}),
    "POST /api/v1/entries": Staff(P.MEDIUM_ISSUE),
    # gates
    "POST /api/v1/gates/{gate_id}/taps": Device(GATES),
    "GET /api/v1/gates/{gate_id}/offline-list": Device(GATES),
    "POST /api/v1/gates/{gate_id}/offline-events": Device(GATES),
    "GET /api/v1/gates/{gate_id}/offline-events": Device(GATES),
    "GET /api/v1/access-events": Staff(P.ACCESS_VIEW),
    # venue settings, customers, price groups, account types
    "PATCH /api/v1/settings": Staff(P.VENUE_CONFIGURE),
    "PUT /api/v1/tills/{till_id}/pay-with-medium": Staff(P.VENUE_CONFIGURE),
    "GET /api/v1/customers/{customer_id}": Staff(P.CUSTOMER_MANAGE),
    "PATCH /api/v1/customers/{customer_id}": Staff(P.CUSTOMER_MANAGE),
    "GET /api/v1/customers/{customer_id}/account": Staff(P.CUSTOMER_MANAGE),
    "POST /api/v1/customers/{customer_id}/payments": Staff(P.TAB_SETTLE),
    "POST /api/v1/price-groups": Staff(P.VENUE_CONFIGURE),
    "GET /api/v1/price-groups": Staff(P.CUSTOMER_MANAGE),
    "PUT /api/v1/price-groups/{price_group_id}/prices/{product_id}": Staff(P.VENUE_CONFIGURE),
    "POST /api/v1/tariffs": Staff(P.VENUE_CONFIGURE),
    "POST /api/v1/topup-rules": Staff(P.VENUE_CONFIGURE),
    "POST /api/v1/account-types": Staff(P.VENUE_CONFIGURE),
    "GET /api/v1/account-types": Staff(P.VENUE_CONFIGURE),
    "PATCH /api/v1/account-types/{type_id}": Staff(P.VENUE_CONFIGURE),
    "POST /api/v1/account-types/{type_id}/copies": Staff(P.VENUE_CONFIGURE),
    "POST /api/v1/account-types/{type_id}/preview": Staff(P.ACCOUNT_SELL, KIOSK),
    "PUT /api/v1/skin-types/{skin_type}": Staff(P.VENUE_CONFIGURE),
    "POST /api/v1/media/{uid}/account-sales": Staff(P.ACCOUNT_SELL, KIOSK),
    "GET /api/v1/media/{uid}/accounts": Staff(P.ACCOUNT_SELL, KIOSK),
    "GET /api/v1/card-numbers/{uid}": Staff(P.ACCOUNT_SELL),
    "POST /api/v1/resources/{resource_id}/sessions": Staff(
        P.RESOURCE_START, frozenset({DeviceKind.KIOSK, DeviceKind.RESOURCE})
    ),
    "POST /api/v1/fingerprint-matches": Device(frozenset({DeviceKind.FINGERPRINT_READER})),
    "POST /api/v1/account-transfers": Staff(P.ACCOUNT_TRANSFER),
    # cashless payments
    "GET /api/v1/payments/{payment_id}": TakenHere(),
    "POST /api/v1/payments/{payment_id}/confirmation": TakenHere(),
    "POST /api/v1/payments/{payment_id}/decline": TakenHere(),
    "POST /api/v1/payments/{payment_id}/cancel": TakenHere(),
    "POST /api/v1/payments/{payment_id}/status-inquiry": TakenHere(),
    "POST /api/v1/payments/{payment_id}/reversal": TakenHere(),
    "POST /api/v1/tills/{device_id}/terminals": Staff(P.VENUE_CONFIGURE),
    "GET /api/v1/tills/{device_id}/terminals": Staff(P.TAB_SETTLE),
    "PUT /api/v1/tills/{device_id}/default-terminal": Staff(P.VENUE_CONFIGURE),
    # payouts
    "POST /api/v1/media/{uid}/payouts": Staff(P.PREPAID_REFUND),
    "GET /api/v1/payouts": Staff(P.PAYOUT_MANAGE),
    "POST /api/v1/payouts/{payout_id}/revoke": Staff(P.PAYOUT_MANAGE),
    "POST /api/v1/payout-batches": Staff(P.PAYOUT_MANAGE),
    "GET /api/v1/payout-batches/{batch_id}.xml": Staff(P.PAYOUT_MANAGE),
    "GET /api/v1/payout-batches/{batch_id}": Staff(P.PAYOUT_MANAGE),
    "POST /api/v1/payout-batches/{batch_id}/paid": Staff(P.PAYOUT_MANAGE),
    # shifts, drawer, Z report, receipts, reports
    "POST /api/v1/shifts": Staff(P.SHIFT_MANAGE),
    "GET /api/v1/shifts/current": Staff(P.SHIFT_MANAGE),
    "POST /api/v1/shifts/current/cash-movements": Staff(P.CASH_MOVE),
    "POST /api/v1/shifts/current/close": Staff(P.SHIFT_MANAGE),
    "POST /api/v1/z-reports": Staff(P.Z_REPORT),
    "GET /api/v1/tills/{device_id}/z-reports/{number}": Staff(P.REPORT_VIEW),
    "GET /api/v1/receipts/{receipt_id}": Staff(P.TAB_SETTLE),
    "GET /api/v1/reports/card-float": Staff(P.REPORT_VIEW),
    "GET /api/v1/reports/open-tabs": Staff(P.REPORT_VIEW),
    "GET /api/v1/reports/daily-revenue": Staff(P.REPORT_VIEW),
    "GET /api/v1/reports/{report}/chart.{ext}": Staff(P.REPORT_VIEW),
    # support
    "POST /api/v1/corrections": Staff(P.BALANCE_CORRECT),
    "GET /api/v1/online-top-ups": Staff(P.BALANCE_CORRECT),
    "POST /api/v1/online-top-ups/{topup_id}/resolution": Staff(P.BALANCE_CORRECT),
    "POST /api/v1/tabs/{tab_id}/write-off": Staff(P.TAB_WRITE_OFF),
    # the customer portal and payment providers
    "POST /api/v1/portal/sessions": Public("medium number + PIN, rate limited; tests/api/test_portal_http.py"),
    "GET /api/v1/portal/balance": Portal(),
    "GET /api/v1/portal/history": Portal(),
    "GET /api/v1/portal/receipts": Portal(),
    "GET /api/v1/portal/receipts/{receipt_id}": Portal(),
    "GET /api/v1/portal/top-ups": Portal(),
    "POST /api/v1/portal/top-ups": Portal(),
    "POST /api/v1/payment-providers/{provider}/webhooks": Public("the provider's HMAC signature, checked first"),
    # screens: pairing and sign-in
    "GET /": Public("redirects to the till screen"),
    "GET /pair": Public("asks for a device token"),
    "POST /pair": Public("checks the device token"),
    "GET /sign-in": Public("needs a paired device"),
    "POST /sign-in": Public("needs a paired device and a password"),
    "POST /sign-out": Public("ends the browser's own session"),
    # the till screen: every write goes through the use case's permission
    "GET /till": SignedIn(),
    "GET /till/current": SignedIn(),
    "POST /till/read": SignedIn(),
    "POST /till/{uid}/items": Staff(P.TAB_SAVE),
    "POST /till/{uid}/bill": Staff(P.TAB_BILL),
    "POST /till/{uid}/settle": Staff(P.TAB_SETTLE),
    "POST /till/{uid}/pay-out": Staff(P.PREPAID_REFUND),
    "POST /till/{uid}/payments/{payment_id}/confirm": TakenHere(),
    "POST /till/{uid}/payments/{payment_id}/close": TakenHere(),
    "GET /receipts/{receipt_id}": Staff(P.TAB_SETTLE),
    "POST /till/{uid}/top-up": Staff(P.TOPUP),
    "GET /till/{uid}/entry-form": SignedIn(),
    "GET /till/{uid}/entry-total": SignedIn(),
    "POST /till/{uid}/entry": Staff(P.MEDIUM_ISSUE),
    "GET /till/{uid}/account-form": SignedIn(),
    "POST /till/{uid}/account": Staff(P.ACCOUNT_SELL),
    "POST /till/{uid}/transfer": Staff(P.MEDIUM_TRANSFER),
    "POST /till/{uid}/return": Staff(P.MEDIUM_RETURN),
    "POST /till/{uid}/together": SignedIn(),
    # the entry view
    "GET /gates": Staff(P.ACCESS_VIEW),
    "GET /gates/events": Staff(P.ACCESS_VIEW),
    # the back office
    "GET /office": SignedIn(),
    **{
        f"{method} /office/{area}": Staff(P.VENUE_CONFIGURE)
        for method in ("GET", "POST")
        for area in (
            "venue",
            "zones",
            "gates",
            "devices",
            "staff",
            "products",
            "price-groups",
            "entry-products",
            "account-types",
            "tariffs",
            "topup-rules",
            "skin-types",
        )
        if f"{method} /office/{area}" != "POST /office/venue"
    },
    "POST /office/venue/settings": Staff(P.VENUE_CONFIGURE),
    "POST /office/venue/details": Staff(P.VENUE_CONFIGURE),
    "GET /office/devices/{device_id}": Staff(P.VENUE_CONFIGURE),
    "POST /office/devices/{device_id}/tokens": Staff(P.VENUE_CONFIGURE),
    "POST /office/devices/{device_id}/pay-with-medium": Staff(P.VENUE_CONFIGURE),
    "POST /office/devices/{device_id}/terminals": Staff(P.VENUE_CONFIGURE),
    "POST /office/devices/{device_id}/default-terminal": Staff(P.VENUE_CONFIGURE),
    "GET /office/staff/{staff_id}": Staff(P.VENUE_CONFIGURE),
    "POST /office/staff/{staff_id}/language": Staff(P.VENUE_CONFIGURE),
    "POST /office/staff/{staff_id}/role": Staff(P.VENUE_CONFIGURE),
    "POST /office/staff/{staff_id}/password": Staff(P.VENUE_CONFIGURE),
    "POST /office/staff/{staff_id}/active": Staff(P.VENUE_CONFIGURE),
    "POST /office/products/{product_id}": Staff(P.VENUE_CONFIGURE),
    "POST /office/price-groups/prices": Staff(P.VENUE_CONFIGURE),
    "GET /office/account-types/{type_id}": Staff(P.VENUE_CONFIGURE),
    "POST /office/account-types/{type_id}": Staff(P.VENUE_CONFIGURE),
    "POST /office/account-types/{type_id}/copies": Staff(P.VENUE_CONFIGURE),
    "GET /office/reports": Staff(P.REPORT_VIEW),
    "GET /office/reports/open-tabs": Staff(P.REPORT_VIEW),
    "GET /office/reports/{kind}/chart.svg": Staff(P.REPORT_VIEW),
    "GET /office/reports/{kind}.{fmt}": Staff(P.REPORT_VIEW),
    "GET /office/audit": Staff(P.REPORT_VIEW),
    # the customer portal's screens
    "GET /portal": Public("the portal's sign-in page"),
    "POST /portal/sign-in": Public("medium number + PIN, rate limited"),
    "GET /portal/qr/{payload}": Public("the printed QR token is the credential"),
    "POST /portal/sign-out": Public("ends the browser's own portal session"),
    "GET /portal/history": Portal(),
    "GET /portal/receipts": Portal(),
    "GET /portal/receipts/{receipt_id}": Portal(),
    "GET /portal/receipts/{receipt_id}/pdf": Portal(),
    "GET /portal/balance": Portal(),
    "POST /portal/top-up": Portal(),
    "GET /portal/returned": Public("the page a payment provider sends the customer back to"),
    "GET /portal/simulator/pay/{reference}": Public("only with TAPZONE_PORTAL_SIMULATOR=1, else 404"),
    "POST /portal/simulator/pay/{reference}": Public("only with TAPZONE_PORTAL_SIMULATOR=1, else 404"),
}

# Requests that the generated minimal example would not get past validation (an amount must be positive, a
# format checked by the use case before it looks at the caller).
EXAMPLES: dict[str, dict[str, object]] = {
    "PATCH /api/v1/settings": {"auto_unbind": True},
    "PATCH /api/v1/customers/{customer_id}": {"skin_type": 2},
    "POST /api/v1/media/{uid}/tab/settlements": {"tenders": [{"kind": "cash", "amount_minor": 100, "currency": "EUR"}]},
    "POST /api/v1/corrections": {"medium_uid": "PERM1", "amount_minor": 100, "currency": "EUR", "reason": "matrix"},
    "POST /api/v1/media/{uid}/pin": {"pin": "471100"},
    "POST /api/v1/shifts/current/close": {"denominations": {"100": 1}},
    "POST /api/v1/tariffs": {"name": "matrix", "kind": "per-use", "price_minor": 100},
}
QUERIES = {
    "GET /api/v1/qr-sheets.pdf": "?uids=PERM1",
    "GET /api/v1/media/{uid}/qr-code.{kind}": "",
}
PATHS = {"GET /api/v1/media/{uid}/qr-code.{kind}": "/api/v1/media/PERM1/qr-code.svg"}
# Screens that keep a stream open for a permitted caller; the refused ones still answer at once.
STREAMS = {"GET /gates/events"}
LANGUAGE = "?lang=en"  # screens show a refusal's title in the reader's language: read it in English


@pytest.fixture(scope="module")
def callers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callers]:
    # One SQLite venue for the whole matrix: each case only sends refused requests and checks nothing changed,
    # so they cannot disturb each other; the permission check itself is one SQL statement on both engines.
    directory = tmp_path_factory.mktemp("matrix")
    url = SqliteTemplate(Path(directory)).clone(Path(directory) / "matrix.db")
    engine = make_engine(url)
    world = build_world(UnitOfWork(engine, clock=World.default_clock()))
    app = create_app(url, clock=World.default_clock())
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as client:
        built = Callers.build(client, world)
        built.app, built.openapi = app, client.get("/api/v1/openapi.json").json()
        yield built
    engine.dispose()


def test_every_route_is_in_the_matrix(callers: Callers) -> None:
    assert callers.app is not None
    routes = {str(route) for route in every_route(callers.app)}
    assert sorted(routes - MATRIX.keys()) == [], "routes without a row in MATRIX: say who may call them"
    assert sorted(MATRIX.keys() - routes) == [], "rows in MATRIX for routes that no longer exist"


def _example(callers: Callers, key: str) -> tuple[RouteKey, Example]:
    method, path = key.split(" ", 1)
    route = RouteKey(method, path)
    example = example_request(callers.openapi, route, callers)
    if key in EXAMPLES:
        example = Example(example.path, json=EXAMPLES[key])
    target = PATHS.get(key, example.path) + QUERIES.get(key, "")
    if not route.is_api:
        target += LANGUAGE if "?" not in target else "&" + LANGUAGE[1:]
    return route, Example(target, json=example.json, form=example.form)


def _refused_screen(response: httpx.Response) -> bool:
    """A screen refuses with 403, or (an HTMX form) with the refusal shown in place of the result."""
    return response.status_code == 403 or "Permission denied" in response.text


def _anonymous_refusal(route: RouteKey, response: httpx.Response, guard: Guard) -> None:
    if route.is_api:
        assert response.status_code == 401, response.text
        return
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        assert response.text.startswith("event: signed-out"), response.text  # the stream tells and ends
        return
    to = "/portal" if isinstance(guard, Portal) else "/pair"
    assert response.status_code in (303, 204), response.text
    assert to == (response.headers.get("location") or response.headers.get("hx-redirect")), response.headers


def _sign_in_first(response: httpx.Response) -> None:
    """A paired screen without a signed-in staff member: to /sign-in (a stream says so and ends)."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        assert response.text.startswith("event: signed-out"), response.text
        return
    assert "/sign-in" in (response.headers.get("location"), response.headers.get("hx-redirect")), response.headers


def _lacking(permission: Permission) -> list[str]:
    return [role for role in ROLES if permission not in DEFAULT_ROLES[role]]


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_route_refuses_every_caller_without_its_right(callers: Callers, key: str) -> None:
    guard = MATRIX[key]
    route, example = _example(callers, key)
    if isinstance(guard, Public):
        return  # nothing to refuse; `why` names what protects it
    before = fingerprint(callers.world)
    _anonymous_refusal(route, callers.send(route, example, None, None), guard)

    if isinstance(guard, Staff | SignedIn | TakenHere):
        for kind in UNATTENDED:  # a gate, a kiosk, a sunbed, a reader on its token alone
            if isinstance(guard, Staff) and kind in guard.unattended:
                continue
            response = callers.send(route, example, kind, None)
            if route.is_api:
                assert response.status_code in (401, 403, 404), (kind, response.text)
            else:
                _sign_in_first(response)
    if isinstance(guard, Staff):
        for role in _lacking(guard.permission):
            response = callers.send(route, example, DeviceKind.TILL, role)
            if route.is_api:
                assert response.status_code == 403, (role, response.text)
                assert response.json()["type"] == "/problems/permission-denied", (role, response.text)
            elif key not in STREAMS or response.status_code == 403:
                assert _refused_screen(response), (role, response.status_code, response.text[:300])
        for role in ROLES:  # holding the permission is not enough at a gate, unless it is used there
            if guard.permission in DEFAULT_ROLES[role] and not usable_from(DeviceKind.TURNSTILE, guard.permission):
                response = callers.send(route, example, DeviceKind.TURNSTILE, role)
                if route.is_api:
                    assert response.status_code == 403, (role, "at a gate", response.text)
                else:
                    assert _refused_screen(response), (role, "at a gate", response.status_code)
    if isinstance(guard, Device):
        for kind in set(UNATTENDED) - guard.kinds:
            response = callers.send(route, example, kind, None)
            assert response.status_code == 403, (kind, response.text)
        if DeviceKind.TILL not in guard.kinds:  # a till cannot tap as a gate, whoever is signed in
            for role in ROLES:
                response = callers.send(route, example, DeviceKind.TILL, role)
                assert response.status_code == 403, (role, response.text)
    if isinstance(guard, Portal):
        for kind in UNATTENDED:
            _anonymous_refusal(route, callers.send(route, example, kind, None), guard)
        _anonymous_refusal(route, callers.send(route, example, DeviceKind.TILL, "admin"), guard)

    assert fingerprint(callers.world) == before, f"a refused {key} changed the database"
