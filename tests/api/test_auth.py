"""Devices authenticate with bearer tokens; staff sign in with a password and act through their till."""

from __future__ import annotations

from tests.api.conftest import PASSWORD, Api, assert_problem


def sign_in(api: Api, login: str, password: str, token: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token or api.till_token}"}
    return api.client.post("/api/v1/sessions", json={"login": login, "password": password}, headers=headers)


def test_sign_in_returns_a_session_bound_to_the_till(api: Api) -> None:
    response = sign_in(api, "mo", PASSWORD)
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["role"]) == ("Mo Manager", "manager")
    # The session only works together with the till it was opened on.
    other_till = api.client.get(
        "/api/v1/products",
        headers={"Authorization": f"Bearer {api.till2_token}", "X-Staff-Session": body["session_token"]},
    )
    assert_problem(other_till, 401, "unauthenticated")


def test_wrong_password_and_unknown_login_look_the_same(api: Api) -> None:
    wrong = assert_problem(sign_in(api, "mo", "not the password"), 401, "unauthenticated")
    unknown = assert_problem(sign_in(api, "nobody", PASSWORD), 401, "unauthenticated")
    assert wrong["detail"] == unknown["detail"]


def test_requests_without_a_valid_device_token_are_refused(api: Api) -> None:
    assert_problem(api.client.get("/api/v1/products"), 401, "unauthenticated")
    assert_problem(api.client.get("/api/v1/products", headers={"Authorization": "Bearer nope"}), 401, "unauthenticated")
    assert_problem(sign_in(api, "mo", PASSWORD, token="forged"), 401, "unauthenticated")
    assert api.client.get("/api/v1/products").headers["www-authenticate"] == "Bearer"


def test_sign_out_ends_the_session(api: Api) -> None:
    token = sign_in(api, "kim", PASSWORD).json()["session_token"]
    headers = {"Authorization": f"Bearer {api.till_token}", "X-Staff-Session": token}
    assert api.client.get("/api/v1/products", headers=headers).status_code == 200
    assert api.client.delete("/api/v1/sessions/current", headers=headers).status_code == 204
    assert_problem(api.client.get("/api/v1/products", headers=headers), 401, "unauthenticated")


def test_writes_without_staff_are_refused(api: Api) -> None:
    response = api.post("/visits", {"medium_uid": "NS1", "credit_type": "none"}, login=None)
    assert_problem(response, 403, "permission-denied")


def test_sign_in_body_is_validated(api: Api) -> None:
    response = api.client.post(
        "/api/v1/sessions", json={"login": "kim"}, headers={"Authorization": f"Bearer {api.till_token}"}
    )
    assert_problem(response, 422, "invalid-request")
