"""Shared steps of the portal, online top-up and support tests: a support login, PINs, portal sessions and the
simulated provider's signed webhooks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tapzone.payments.online import SIMULATOR, ProviderStatus, SimulatorProvider, provider_secret
from tapzone.portal.keys import SECRET_ENV
from tapzone.store.tables import staff
from tapzone.venues.setup import add_staff
from tests.api.conftest import Api, password_hash

SECRET = "portal-test-secret-" + "0123456789abcdef" * 2
PIN = "482913"


def use_test_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the secret on the first portal request; tests sign webhooks with the same one."""
    monkeypatch.setenv(SECRET_ENV, SECRET)


def simulator() -> SimulatorProvider:
    return SimulatorProvider(provider_secret(SECRET.encode(), SIMULATOR))


def add_support(api: Api, login: str = "sue") -> int:
    staff_id = add_staff(api.world.uow, api.world.venue_id, name="Sue Support", login=login, role="support")
    with api.world.uow.engine.begin() as conn:
        conn.execute(staff.update().where(staff.c.id == staff_id).values(password_hash=password_hash()))
    return staff_id


def set_pin(api: Api, uid: str, pin: str = PIN, login: str = "kim") -> httpx.Response:
    return api.post(f"/media/{uid}/pin", {"pin": pin}, login=login)


def sign_in(api: Api, uid: str, pin: str = PIN, *, venue_id: int | None = None) -> httpx.Response:
    body = {"venue_id": venue_id or api.world.venue_id, "medium_uid": uid, "pin": pin}
    return api.client.post("/api/v1/portal/sessions", json=body)


def sign_in_qr(api: Api, qr_token: str) -> httpx.Response:
    return api.client.post("/api/v1/portal/sessions", json={"venue_id": api.world.venue_id, "qr_token": qr_token})


def session(api: Api, uid: str, pin: str = PIN) -> str:
    response = sign_in(api, uid, pin)
    assert response.status_code == 201, response.text
    token: str = response.json()["session_token"]
    return token


def portal_get(api: Api, path: str, token: str) -> httpx.Response:
    return api.client.get(f"/api/v1/portal{path}", headers={"Authorization": f"Bearer {token}"})


def start_top_up(api: Api, token: str, amount: int, key: str | None = None) -> httpx.Response:
    return api.client.post(
        "/api/v1/portal/top-ups",
        json={"amount": {"amount_minor": amount, "currency": "EUR"}, "return_url": "https://aquapark.example/done"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or uuid.uuid4().hex},
    )


def webhook(
    api: Api,
    provider_reference: str,
    amount: int,
    status: ProviderStatus = ProviderStatus.PAID,
    *,
    signature: str | None = None,
) -> httpx.Response:
    payload, signed = simulator().signed_confirmation(provider_reference, amount, "EUR", status)
    return api.client.post(
        f"/api/v1/payment-providers/{SIMULATOR}/webhooks",
        content=payload,
        headers={"Content-Type": "application/json", "X-Simulator-Signature": signature or signed},
    )


def balance(api: Api, token: str) -> dict[str, Any]:
    response = portal_get(api, "/balance", token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def money_balance(api: Api, token: str) -> int:
    (account,) = balance(api, token)["accounts"]
    return int(account["balance_minor"])


def scalar(api: Api, query: sa.Select[Any]) -> Any:
    with api.world.uow.engine.connect() as conn:
        return conn.execute(query).scalar_one()
