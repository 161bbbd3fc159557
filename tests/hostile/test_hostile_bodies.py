"""Hostile request bodies: each refused with a clear 4xx problem+json before any use case runs, nothing changed.

"Nothing changed" is measured on the ledger (entries, postings, `tapzone check`) and on the tables a refused
write could have touched (media, staff, products, customers, idempotency keys).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tapzone.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth
from tapzone.errors import InvalidRequest
from tapzone.store.tables import customers, idempotency_keys, media, price_groups, products, staff
from tapzone.text import clean_name
from tapzone.venues.setup import add_staff, create_customer, create_product
from tests.api.conftest import Api, assert_problem
from tests.hostile.conftest import SQLITE_ONLY

TABLES = (media, staff, products, customers, price_groups, idempotency_keys)


@pytest.fixture
def funded(api: Api) -> Api:
    api.issue("HOST1", "prepaid", 2000)
    return api


def snapshot(api: Api) -> tuple[Any, ...]:
    with api.world.uow.engine.connect() as conn:
        counts = tuple(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() for table in TABLES)
    return (api.world.counts(), counts)


def assert_nothing_changed(api: Api, before: tuple[Any, ...]) -> None:
    assert snapshot(api) == before
    api.world.assert_ledger_clean()


def top_up_body(padding: int = 0) -> bytes:
    reason = "x" * padding
    return (
        b'{"amount": {"amount_minor": 100, "currency": "EUR"}, "tender": "cash", "entry": "reader"'
        + (b', "padding": "' + reason.encode() + b'"' if padding else b"")
        + b"}"
    )


@SQLITE_ONLY
def test_oversized_body_with_content_length_is_413_unread(funded: Api) -> None:
    before = snapshot(funded)
    body = top_up_body(MAX_BODY_BYTES)
    response = funded.client.post("/api/v1/media/HOST1/top-ups", content=body, headers=funded.headers())
    assert_problem(response, 413, "payload-too-large")
    assert_nothing_changed(funded, before)


@SQLITE_ONLY
def test_oversized_streamed_body_without_content_length_is_413(funded: Api) -> None:
    before = snapshot(funded)

    def chunks() -> Iterator[bytes]:  # a generator body is sent chunked: no Content-Length to check first
        yield b'{"amount": {"amount_minor": 100, "currency": "EUR"}, "padding": "'
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b"y" * 1024
        yield b'"}'

    request = funded.client.build_request(
        "POST", "/api/v1/media/HOST1/top-ups", content=chunks(), headers=funded.headers()
    )
    assert "content-length" not in request.headers
    response = funded.client.send(request)
    assert_problem(response, 413, "payload-too-large")
    assert_nothing_changed(funded, before)


@SQLITE_ONLY
def test_a_lying_content_length_is_refused(funded: Api) -> None:
    before = snapshot(funded)
    headers = {**funded.headers(), "Content-Length": "99999999999"}
    response = funded.client.post("/api/v1/media/HOST1/top-ups", content=b"{}", headers=headers)
    assert response.status_code in (400, 413)  # the HTTP layer or the limit: either way a 4xx, nothing read
    assert_nothing_changed(funded, before)


@SQLITE_ONLY
def test_a_body_just_under_the_limit_reaches_the_router(funded: Api) -> None:
    # The limit is on size only: a large but well-formed body is judged by the router (here: unknown field).
    before = snapshot(funded)
    body = top_up_body(MAX_BODY_BYTES - 200)
    assert len(body) <= MAX_BODY_BYTES
    response = funded.client.post("/api/v1/media/HOST1/top-ups", content=body, headers=funded.headers())
    assert_problem(response, 422, "invalid-request")
    assert_nothing_changed(funded, before)


@SQLITE_ONLY
def test_deeply_nested_json_is_400_without_recursion(funded: Api) -> None:
    before = snapshot(funded)
    for depth in (MAX_JSON_DEPTH + 1, 1_000, 50_000):
        nested = b"[" * depth + b"]" * depth
        body = b'{"amount": ' + nested + b"}"
        if len(body) > MAX_BODY_BYTES:
            body = nested[:MAX_BODY_BYTES]  # still far deeper than the limit, and within the size limit
        response = funded.client.post("/api/v1/media/HOST1/top-ups", content=body, headers=funded.headers())
        assert_problem(response, 400, "nesting-too-deep")
    assert_nothing_changed(funded, before)


def test_depth_is_counted_outside_strings_only() -> None:
    assert json_depth(b'{"a": "[[[[[[[[[[", "b": [{"c": "]]]"}]}') == 3
    assert json_depth(b'{"a": "\\"[[["}') == 1
    assert json_depth(b"42") == 0


WRONG_CONTENT = [
    ("text/plain", top_up_body()),
    ("application/x-www-form-urlencoded", b"amount=100"),
    ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--"),
    ("application/xml", b"<amount>100</amount>"),
]


@SQLITE_ONLY
def test_wrong_content_types_are_415(funded: Api) -> None:
    before = snapshot(funded)
    for content_type, body in WRONG_CONTENT:
        headers = {**funded.headers(), "Content-Type": content_type}
        response = funded.client.post("/api/v1/media/HOST1/top-ups", content=body, headers=headers)
        assert_problem(response, 415, "unsupported-media-type")
    assert_nothing_changed(funded, before)


@SQLITE_ONLY
def test_sign_in_also_needs_json(api: Api) -> None:
    # Sign-in is not a keyed write, so the write dependency never checked its content type.
    response = api.client.post(
        "/api/v1/sessions",
        content=b"login=kim&password=x",
        headers={"Authorization": f"Bearer {api.till_token}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415, "unsupported-media-type")


BAD_UIDS = [
    "HOST\u00002",
    "HOST\n2",
    "HOST\u202e2",
    "HÖST2",
    "HOST２",
    "HOST 2",
    "ＨＯＳＴ2",
    "HOST2\u0301",
    "🙂",
    "A" * 65,
]


@SQLITE_ONLY
def test_uids_outside_the_character_set_are_refused(funded: Api) -> None:
    """UIDs are 1..64 ASCII letters, digits and dashes (media/model.py): no control characters, no
    look-alike digits or letters from other scripts, no combining marks."""
    before = snapshot(funded)
    for uid in BAD_UIDS:
        body = {"medium_uid": uid, "credit_type": "prepaid", "initial_load": funded.eur(100)}
        assert_problem(funded.post("/visits", body), 422, "invalid-request")
    assert_nothing_changed(funded, before)


@SQLITE_ONLY
def test_uids_with_control_characters_in_the_path_are_refused(funded: Api) -> None:
    before = snapshot(funded)
    for path_uid in ("HOST%001", "HOST%0A1", "%E2%80%AEHOST1", "HOST1%C2%A0"):
        response = funded.client.post(
            f"/api/v1/media/{path_uid}/top-ups", json={"amount": funded.eur(100)}, headers=funded.headers()
        )
        assert_problem(response, 422, "invalid-request")
    assert_nothing_changed(funded, before)


def test_nul_and_lone_surrogates_anywhere_in_json_are_refused(funded: Api) -> None:
    """Valid JSON, but not storable: PostgreSQL refuses NUL in text, and a lone surrogate is not UTF-8."""
    before = snapshot(funded)
    for escaped in ("\\u0000", "\\ud800", "\\udfff", "x\\udc00y"):
        body = f'{{"reason": "lost {escaped} card"}}'.encode()
        response = funded.client.post("/api/v1/media/HOST1/block", content=body, headers=funded.headers())
        assert_problem(response, 422, "invalid-request")
    assert_nothing_changed(funded, before)


BAD_NAMES = ["Bad\u0000name", "Two\nlines", "Tab\there", "Esc\u001b[31m", "Evil\u202egnp.exe", "\ud800"]


def test_names_with_control_characters_are_refused(api: Api) -> None:
    before = snapshot(api)
    for name in BAD_NAMES:
        _refuse_name(api, name)
    assert_nothing_changed(api, before)


def _refuse_name(api: Api, name: str) -> None:
    venue = api.world.venue_id
    for create in (
        lambda: create_product(api.world.uow, venue, name=name, price_minor=100, vat_rate_bp=1900, product_group="x"),
        lambda: add_staff(api.world.uow, venue, name=name, login="new-login", role="cashier"),
        lambda: create_customer(api.world.uow, venue, name=name),
    ):
        with pytest.raises(InvalidRequest):
            create()
    # json.dumps escapes a lone surrogate as \\ud800, as a hostile client would send it
    body = json.dumps({"name": name}).encode()
    response = api.client.post("/api/v1/price-groups", content=body, headers=api.headers("ada"))
    assert 400 <= response.status_code < 500 and response.json()["type"] == "/problems/invalid-request", response.text


@SQLITE_ONLY
def test_names_in_any_script_are_kept(api: Api) -> None:
    names = ["Ölkännchen", "Пиво светлое", "Smörgås 🥪", "Family 👨‍👩‍👧", "Crème brûlée"]
    ids = [
        create_product(
            api.world.uow, api.world.venue_id, name=name, price_minor=100, vat_rate_bp=1900, product_group="x"
        )
        for name in names
    ]
    listed = {product["id"]: product["name"] for product in api.get("/products").json()}
    assert [listed[product_id] for product_id in ids] == names


def test_names_are_stored_in_nfc() -> None:
    assert clean_name("Cre\u0300me", "name") == "Crème" == "Cr\u00e8me"


def test_nul_in_a_query_string_is_refused(api: Api) -> None:
    response: httpx.Response = api.client.get("/api/v1/qr-sheets.pdf?uids=A%00B", headers=api.headers("ada"))
    assert_problem(response, 422, "invalid-request")


def test_identifiers_beyond_64_bits_are_422_not_500(funded: Api) -> None:
    """Found by the fuzz: an id the database driver cannot bind (SQLite) or compare (PostgreSQL) was a 500."""
    before = snapshot(funded)
    huge = 2**70
    assert_problem(funded.get(f"/customers/{huge}", login="ada"), 422, "invalid-request")
    response = funded.post("/media/HOST1/tab/lines", {"items": [{"product_id": huge}]})
    assert_problem(response, 422, "invalid-request")
    assert_nothing_changed(funded, before)
