"""HTTP fixtures: the real FastAPI app on the test database, tills with tokens and signed-in staff."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tapzone.api.app import create_app
from tapzone.clock import FixedClock
from tapzone.store.tables import staff
from tapzone.venues.credentials import issue_device_token
from tests.world import World

PASSWORD = "correct horse battery"


@dataclass
class Api:
    client: TestClient
    world: World
    till_token: str
    till2_token: str
    signed_in: dict[str, str]  # login → staff session token on till 1, signed in on first use

    @property
    def sessions(self) -> dict[str, str]:
        return _LazySessions(self)

    def sign_in(self, login: str) -> str:
        if login not in self.signed_in:
            response = self.client.post(
                "/api/v1/sessions",
                json={"login": login, "password": PASSWORD},
                headers={"Authorization": f"Bearer {self.till_token}"},
            )
            assert response.status_code == 201, response.text
            self.signed_in[login] = response.json()["session_token"]
        return self.signed_in[login]

    def headers(
        self, login: str | None = "kim", *, key: str | None = None, till_token: str | None = None
    ) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {till_token or self.till_token}", "Content-Type": "application/json"}
        if login:
            headers["X-Staff-Session"] = self.sessions[login]
        headers["Idempotency-Key"] = key or uuid.uuid4().hex
        return headers

    def post(
        self, path: str, body: Any, login: str | None = "kim", key: str | None = None, **extra: str
    ) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", json=body, headers={**self.headers(login, key=key), **extra})

    def get(self, path: str, login: str | None = "kim", **extra: str) -> httpx.Response:
        return self.client.get(f"/api/v1{path}", headers={**self.headers(login), **extra})

    def eur(self, minor: int) -> dict[str, Any]:
        return {"amount_minor": minor, "currency": "EUR"}

    def issue(self, uid: str, credit_type: str = "prepaid", amount: int = 5000) -> httpx.Response:
        body: dict[str, Any] = {"medium_uid": uid, "credit_type": credit_type}
        if credit_type == "prepaid":
            body["initial_load"] = self.eur(amount)
        elif credit_type == "credit":
            body["credit_limit"] = self.eur(amount)
        response = self.post("/visits", body)
        assert response.status_code == 201, response.text
        return response


class _LazySessions(dict[str, str]):
    def __init__(self, api: Api) -> None:
        super().__init__()
        self.api = api

    def __getitem__(self, login: str) -> str:
        return self.api.sign_in(login)


@functools.cache
def password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per session, not per test.
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def api_clock() -> FixedClock:
    """The API's clock; a test module overrides this fixture to move time (lock periods, expiry)."""
    return World.default_clock()


@pytest.fixture
def api(world: World, db_url: str, api_clock: FixedClock) -> Iterator[Api]:
    uow = world.uow
    with uow.engine.begin() as conn:
        conn.execute(staff.update().values(password_hash=password_hash()))
    till_token = issue_device_token(uow, world.till_id)
    till2_token = issue_device_token(uow, world.till2_id)
    app = create_app(db_url, clock=api_clock)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(client, world, till_token, till2_token, {})


def assert_problem(response: httpx.Response, status: int, problem: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{problem}", body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body
