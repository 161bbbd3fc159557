"""Bad input over HTTP: each a 4xx problem+json, and the ledger unchanged (entry counts and the check)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, assert_problem


@pytest.fixture
def funded(api: Api) -> Api:
    api.issue("BAD1", "prepaid", 2000)
    api.issue("BAD2", "credit", 2000)
    return api


def assert_no_change(api: Api, response_status: int, before: tuple[int, int]) -> None:
    assert 400 <= response_status < 500
    assert api.world.counts() == before
    api.world.assert_ledger_clean()


@pytest.mark.parametrize("amount", ["10", 10.0, 10.5, -1, 0, 2**63, None, True, [10], {"v": 10}])
def test_top_up_amounts_must_be_positive_integers(funded: Api, amount: Any) -> None:
    before = funded.world.counts()
    response = funded.post("/media/BAD1/top-ups", {"amount": {"amount_minor": amount, "currency": "EUR"}})
    assert_problem(response, 422, "invalid-amount")
    assert_no_change(funded, response.status_code, before)


@pytest.mark.parametrize("amount", ["10", 10.0, 10.5, -1, 0, 2**63])
def test_tender_amounts_must_be_positive_integers(funded: Api, amount: Any) -> None:
    funded.post("/media/BAD2/tab/lines", {"items": [{"product_id": funded.world.beer_id}]})
    before = funded.world.counts()
    response = funded.post(
        "/media/BAD2/tab/settlements", {"tenders": [{"kind": "cash", "amount_minor": amount, "currency": "EUR"}]}
    )
    assert_problem(response, 422, "invalid-amount")
    assert_no_change(funded, response.status_code, before)


def test_malformed_json(funded: Api) -> None:
    before = funded.world.counts()
    response = funded.client.post("/api/v1/media/BAD1/top-ups", content=b'{"amount": {', headers=funded.headers())
    assert_problem(response, 400, "malformed-json")
    assert_no_change(funded, response.status_code, before)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type(funded: Api, content_type: str) -> None:
    before = funded.world.counts()
    headers = {**funded.headers(), "Content-Type": content_type}
    response = funded.client.post(
        "/api/v1/media/BAD1/top-ups", content=b'{"amount": {"amount_minor": 100, "currency": "EUR"}}', headers=headers
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert_no_change(funded, response.status_code, before)


def test_missing_idempotency_key(funded: Api) -> None:
    before = funded.world.counts()
    headers = funded.headers()
    del headers["Idempotency-Key"]
    response = funded.client.post("/api/v1/media/BAD1/top-ups", json={"amount": funded.eur(100)}, headers=headers)
    assert_problem(response, 428, "idempotency-key-required")
    assert_no_change(funded, response.status_code, before)


def test_oversized_idempotency_key(funded: Api) -> None:
    before = funded.world.counts()
    response = funded.post("/media/BAD1/top-ups", {"amount": funded.eur(100)}, key="k" * 200)
    assert_problem(response, 422, "invalid-request")
    assert_no_change(funded, response.status_code, before)


def test_wrong_currency(funded: Api) -> None:
    before = funded.world.counts()
    response = funded.post("/media/BAD1/top-ups", {"amount": {"amount_minor": 100, "currency": "SEK"}})
    assert_problem(response, 422, "currency-mismatch")
    response = funded.post("/media/BAD1/top-ups", {"amount": {"amount_minor": 100, "currency": "eur"}})
    assert_problem(response, 422, "invalid-request")
    assert_no_change(funded, response.status_code, before)


def test_unknown_and_blocked_media(funded: Api) -> None:
    before = funded.world.counts()
    assert_problem(funded.post("/media/NOSUCH/top-ups", {"amount": funded.eur(100)}), 404, "unknown-medium")
    assert_no_change(funded, 404, before)
    funded.post("/media/BAD1/block", {"reason": "test"}, login="mo")
    before = funded.world.counts()
    response = funded.post("/media/BAD1/top-ups", {"amount": funded.eur(100)})
    assert_problem(response, 409, "medium-blocked")
    assert_no_change(funded, response.status_code, before)


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": 1.0}]},
        {"items": [{"product_id": 1, "quantity": "2"}]},
        {"items": [{"product_id": 1}], "unexpected": True},
        {"items": "beer"},
        [],
    ],
)
def test_malformed_item_lists(funded: Api, body: Any) -> None:
    before = funded.world.counts()
    response = funded.post("/media/BAD2/tab/lines", body)
    assert_problem(response, 422, "invalid-request")
    assert_no_change(funded, response.status_code, before)
