"""Callers for the permission matrix: a device of each kind with its token, staff of each built-in role signed
in on a till and on a gate, and one plausible request per route (valid enough to reach the permission check).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tapzone.access.model import Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.setup import add_resource
from tapzone.store.tables import metadata, staff
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tapzone.venues.permissions import DEFAULT_ROLES
from tapzone.venues.setup import add_device, add_staff
from tests.api.conftest import PASSWORD, password_hash
from tests.world import World

ROLES = tuple(sorted(DEFAULT_ROLES))
LOGINS = {"cashier": "kim", "manager": "mo", "gate": "gus", "admin": "ada", "support": "sue"}
# Where staff can sign in: the till (the normal place) and a gate (a mobile validator or a gate attendant).
STAFF_DEVICES = (DeviceKind.TILL, DeviceKind.TURNSTILE)
UNATTENDED = (DeviceKind.TURNSTILE, DeviceKind.KIOSK, DeviceKind.RESOURCE, DeviceKind.FINGERPRINT_READER)
MEDIUM = "PERM1"


@dataclass(frozen=True, slots=True)
class RouteKey:
    method: str
    path: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def every_route(app: FastAPI) -> list[RouteKey]:
    """Every (method, path template) the app answers, HEAD aside (Starlette adds it to every GET)."""
    found: list[RouteKey] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path_format
        assert path is not None
        if isinstance(route, Mount):
            found.append(RouteKey("GET", path))
            continue
        found.extend(RouteKey(method, path) for method in sorted(context.methods or ()) if method != "HEAD")
    return found


@dataclass
class Callers:
    client: TestClient
    world: World
    tokens: dict[DeviceKind, str]
    device_ids: dict[DeviceKind, int]
    sessions: dict[tuple[str, DeviceKind], str] = field(default_factory=dict)
    app: FastAPI | None = None
    entry_product_id: int = 0
    openapi: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, client: TestClient, world: World) -> Callers:
        uow, venue = world.uow, world.venue_id
        add_staff(uow, venue, name="Sue Support", login="sue", role="support")
        with uow.engine.begin() as conn:
            conn.execute(staff.update().values(password_hash=password_hash()))
        zone = create_zone(uow, venue, name="Matrix zone")
        gate = add_gate(uow, venue, name="Matrix gate", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.IN)
        product = world.towel_id
        ticket = create_entry_product(
            uow,
            venue,
            name="Matrix ticket",
            price_minor=1000,
            vat_rate_bp=700,
            zone_id=zone,
            credit_type=CreditType.NONE,
        )
        resource = add_resource(uow, venue, name="Matrix sunbed", product_id=product, max_minutes=20)
        ids = {
            DeviceKind.TILL: world.till_id,
            DeviceKind.TURNSTILE: gate,
            DeviceKind.RESOURCE: resource,
            DeviceKind.KIOSK: add_device(uow, venue, name="Matrix kiosk", kind=DeviceKind.KIOSK),
            DeviceKind.FINGERPRINT_READER: add_device(
                uow, venue, name="Matrix reader", kind=DeviceKind.FINGERPRINT_READER
            ),
        }
        callers = cls(client, world, {kind: issue_device_token(uow, ids[kind]) for kind in ids}, ids)
        callers.entry_product_id = ticket
        callers.sign_in_all()
        issued = client.post(
            "/api/v1/visits",
            json={
                "medium_uid": MEDIUM,
                "credit_type": "prepaid",
                "initial_load": {"amount_minor": 5000, "currency": "EUR"},
            },
            headers={
                "Authorization": f"Bearer {callers.tokens[DeviceKind.TILL]}",
                "X-Staff-Session": callers.sessions[("admin", DeviceKind.TILL)],
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        assert issued.status_code == 201, issued.text
        return callers

    def sign_in_all(self) -> None:
        """A session per role on each staff device (again after a sign-out route ended them)."""
        for role in ROLES:
            for kind in STAFF_DEVICES:
                response = self.client.post(
                    "/api/v1/sessions",
                    json={"login": LOGINS[role], "password": PASSWORD},
                    headers={"Authorization": f"Bearer {self.tokens[kind]}"},
                )
                assert response.status_code == 201, response.text
                self.sessions[(role, kind)] = response.json()["session_token"]

    def send(self, route: RouteKey, request: Example, device: DeviceKind | None, role: str | None) -> httpx.Response:
        path = request.path
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        token = self.tokens[device] if device is not None else None
        session = self.sessions[(role, device)] if role is not None and device is not None else None
        if route.is_api:
            if token:
                headers["Authorization"] = f"Bearer {token}"
            if session:
                headers["X-Staff-Session"] = session
            headers["Idempotency-Key"] = uuid.uuid4().hex
        else:
            if token:
                cookies["tz_device"] = token
            if session:
                cookies["tz_staff"] = session
        self.client.cookies.clear()
        for name, value in cookies.items():
            self.client.cookies.set(name, value)
        try:
            if request.json is not None:
                return self.client.request(route.method, path, json=request.json, headers=headers)
            if request.form is not None:
                return self.client.request(route.method, path, data=request.form, headers=headers)
            return self.client.request(route.method, path, headers=headers)
        finally:
            self.client.cookies.clear()

    def path_values(self) -> dict[str, str]:
        world = self.world
        return {
            "uid": MEDIUM,
            "gate_id": str(self.device_ids[DeviceKind.TURNSTILE]),
            "resource_id": str(self.device_ids[DeviceKind.RESOURCE]),
            "till_id": str(world.till_id),
            "device_id": str(world.till_id),
            "staff_id": str(world.cashier_id),
            "product_id": str(world.beer_id),
            "report": "card-float",
            "kind": "card-float",
            "ext": "svg",
            "fmt": "csv",
            "provider": "simulator",
            "slug": "permission-denied",
            "path": "htmx.min.js",
            "payload": "TZQ-nothing",
        }


@dataclass(frozen=True, slots=True)
class Example:
    path: str
    json: Any = None
    form: dict[str, str] | None = None


def _minimal(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest instance of a JSON schema that pydantic accepts: required properties only."""
    if "$ref" in schema:
        return _minimal(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [option for option in schema[combinator] if option.get("type") != "null"]
            return _minimal(options[0], components)
    kind = schema.get("type")
    if kind == "object":
        return {
            name: NAMED_VALUES.get(name, _minimal(schema["properties"][name], components))
            for name in schema.get("required", [])
        }
    if kind == "array":
        return [_minimal(schema.get("items", {}), components) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        return "EUR" if schema.get("maxLength") == 3 else "MX" + "1" * max(0, schema.get("minLength", 0) - 2)
    return None


# Properties whose value has a format pydantic checks (before any use case could refuse the caller).
NAMED_VALUES: dict[str, Any] = {
    "currency": "EUR",
    "occurred_at": "2026-07-04T10:00:00+00:00",
    "pin": "4711",
    "debtor_iban": "DE89370400440532013000",
    "debtor_bic": "COBADEFFXXX",
}

FORM_VALUES = {
    "uid": MEDIUM,
    "medium_uid": MEDIUM,
    "entry": "reader",
    "tender": "cash",
    "amount": "1.00",
    "price": "1.00",
    "approved_amount": "1.00",
    "slip_number": "1",
    "declined": "false",
    "scope": "this",
    "lost_uid": "LOST1",
    "other": "OTHER1",
    "pin": "0000",
    "amount_minor": "100",
    "currency": "EUR",
    "return_url": "/portal",
    "outcome": "paid",
    "login": "nobody",
    "password": "wrong",
    "token": "not-a-token",
    "name": "Matrix",
    "account_type_id": "1",
    "entry_product_id": "1",
}


def example_request(openapi: dict[str, Any], route: RouteKey, callers: Callers) -> Example:
    values = {**callers.path_values()}
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), route.path)
    if route.method == "GET":
        return Example(path)
    if route.is_api:
        operation = openapi["paths"].get(route.path, {}).get(route.method.lower(), {})
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        components = openapi.get("components", {}).get("schemas", {})
        return Example(path, json=_minimal(body["schema"], components) if body else {})
    form = {
        **FORM_VALUES,
        "key": uuid.uuid4().hex,
        "product_id": str(callers.world.beer_id),
        "venue_id": str(callers.world.venue_id),
        "entry_product_id": str(callers.entry_product_id),
    }
    return Example(path, form=form)


def fingerprint(world: World) -> dict[str, str]:
    """Every table's rows, digested: a refused request must leave the database exactly as it was (an UPDATE,
    such as a blocked medium or a changed setting, counts as much as an inserted row)."""
    found: dict[str, str] = {}
    with world.uow.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns or table.columns)).all()
            found[table.name] = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    return found
