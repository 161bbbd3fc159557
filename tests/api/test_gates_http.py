"""The paid zone over HTTP: entry sale at the till, gate taps with tokens, the entry view."""

from __future__ import annotations

import uuid

import pytest

from tapzone.access.model import AntiPassback, Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.plans.card_accounts import CreditType
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tests.api.conftest import Api, assert_problem


@pytest.fixture
def paid(api: Api) -> dict[str, int | str]:
    w = api.world
    zone = create_zone(w.uow, w.venue_id, name="Pools")
    entrance = add_gate(w.uow, w.venue_id, name="In", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.IN)
    exit_gate = add_gate(
        w.uow, w.venue_id, name="Out", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.OUT
    )
    family = create_entry_product(
        w.uow,
        w.venue_id,
        name="Family",
        price_minor=4000,
        vat_rate_bp=700,
        zone_id=zone,
        credit_type=CreditType.CREDIT,
        credit_limit_minor=2000,
        anti_passback=AntiPassback.SHARED,
        companions=2,
    )
    return {
        "entrance": entrance,
        "exit": exit_gate,
        "family": family,
        "entrance_token": issue_device_token(w.uow, entrance),
        "exit_token": issue_device_token(w.uow, exit_gate),
    }


def tap(api: Api, paid: dict[str, int | str], gate: str, uid: str, tap_id: str | None = None):  # type: ignore[no-untyped-def]
    return api.client.post(
        f"/api/v1/gates/{paid[gate]}/taps",
        json={"tap_id": tap_id or uuid.uuid4().hex, "medium_uid": uid},
        headers={"Authorization": f"Bearer {paid[gate + '_token']}", "Content-Type": "application/json"},
    )


def test_family_visit_over_http(api: Api, paid: dict[str, int | str]) -> None:
    sale = api.post(
        "/entries",
        {
            "entry_product_id": paid["family"],
            "medium_uid": "FAM1",
            "companion_uids": ["FAM2"],
            "tenders": [{"kind": "cash", "amount_minor": 5000, "currency": "EUR"}],
        },
    )
    assert sale.status_code == 201, sale.text
    assert (sale.json()["change_minor"], len(sale.json()["media"])) == (1000, 2)
    for uid in ("FAM1", "FAM2"):
        assert tap(api, paid, "entrance", uid).json()["allowed"]
    api.post("/media/FAM2/tab/lines", {"items": [{"product_id": api.world.beer_id}]})

    denied = tap(api, paid, "exit", "FAM2")
    assert denied.status_code == 200
    body = denied.json()
    assert (body["allowed"], body["reason"], body["display_text"]) == (
        False,
        "unpaid-goods",
        "Unbezahlte Waren, bitte an der Kasse bezahlen",
    )
    feed = api.get("/access-events?denied_only=true").json()
    assert feed[0]["reason"] == "unpaid-goods"
    assert feed[0]["tab_ids"] == body["tab_ids"]

    tab = api.get("/media/FAM1/tab").json()
    assert [debt["medium_uid"] for debt in tab["party_debts"]] == ["FAM2"]
    paid_all = api.post(
        "/media/FAM1/tab/settlements",
        {"tenders": [{"kind": "cash", "amount_minor": 450, "currency": "EUR"}], "include_party": True},
    )
    assert paid_all.status_code == 201, paid_all.text
    first = tap(api, paid, "exit", "FAM2", tap_id="t-42")
    assert first.json()["allowed"]
    assert tap(api, paid, "exit", "FAM2", tap_id="t-42").json() == first.json()  # redelivered tap
    assert tap(api, paid, "exit", "FAM1").json()["unbound"]
    api.world.assert_ledger_clean()


def test_gate_problems(api: Api, paid: dict[str, int | str]) -> None:
    other_gate = api.client.post(
        f"/api/v1/gates/{paid['exit']}/taps",
        json={"tap_id": "x", "medium_uid": "A1"},
        headers={"Authorization": f"Bearer {paid['entrance_token']}", "Content-Type": "application/json"},
    )
    assert_problem(other_gate, 403, "permission-denied")
    till_as_gate = api.client.post(
        f"/api/v1/gates/{api.world.till_id}/taps",
        json={"tap_id": "x", "medium_uid": "A1"},
        headers={"Authorization": f"Bearer {api.till_token}", "Content-Type": "application/json"},
    )
    assert_problem(till_as_gate, 403, "permission-denied")
    assert_problem(tap(api, paid, "entrance", "bad uid!"), 422, "invalid-request")
    no_token = api.client.post(f"/api/v1/gates/{paid['entrance']}/taps", json={"tap_id": "x", "medium_uid": "A1"})
    assert_problem(no_token, 401, "unauthenticated")
    unknown = tap(api, paid, "entrance", "NEVER1").json()
    assert (unknown["allowed"], unknown["reason"]) == (False, "unknown-medium")
    # A gate has no staff and cannot use the till's routes.
    gate_sale = api.client.post(
        "/api/v1/media/NEVER1/tab/lines",
        json={"items": [{"product_id": 1}]},
        headers={
            "Authorization": f"Bearer {paid['entrance_token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": "g1",
        },
    )
    assert_problem(gate_sale, 403, "permission-denied")


def test_entry_sale_problems(api: Api, paid: dict[str, int | str]) -> None:
    too_many = api.post(
        "/entries",
        {
            "entry_product_id": paid["family"],
            "medium_uid": "E1",
            "companion_uids": ["E2", "E3", "E4"],
            "tenders": [{"kind": "cash", "amount_minor": 4000, "currency": "EUR"}],
        },
    )
    assert_problem(too_many, 422, "invalid-request")
    short = api.post(
        "/entries",
        {
            "entry_product_id": paid["family"],
            "medium_uid": "E1",
            "tenders": [{"kind": "cash", "amount_minor": 3999, "currency": "EUR"}],
        },
    )
    assert_problem(short, 422, "insufficient-tender")
    not_entry = api.post(
        "/entries",
        {
            "entry_product_id": api.world.beer_id,
            "medium_uid": "E1",
            "tenders": [{"kind": "cash", "amount_minor": 450, "currency": "EUR"}],
        },
    )
    assert_problem(not_entry, 404, "not-found")
    gate_staff = api.post(
        "/entries",
        {
            "entry_product_id": paid["family"],
            "medium_uid": "E1",
            "tenders": [{"kind": "cash", "amount_minor": 4000, "currency": "EUR"}],
        },
        login="gus",
    )
    assert_problem(gate_staff, 403, "permission-denied")


def test_settings_and_lost_media_over_http(api: Api, paid: dict[str, int | str]) -> None:
    w = api.world
    assert_problem(
        api.client.patch("/api/v1/settings", json={"pay_with_medium": False}, headers=api.headers("mo")),
        403,
        "permission-denied",
    )
    off = api.client.patch("/api/v1/settings", json={"pay_with_medium": False}, headers=api.headers("ada"))
    assert off.status_code == 200 and off.json()["pay_with_medium"] is False
    api.issue("SET1", "credit", 1000)
    assert_problem(
        api.post("/media/SET1/tab/lines", {"items": [{"product_id": w.beer_id}]}), 409, "payment-with-medium-disabled"
    )
    on_here = api.client.put(
        f"/api/v1/tills/{w.till_id}/pay-with-medium", json={"pay_with_medium": True}, headers=api.headers("ada")
    )
    assert on_here.json()["effective"] is True
    assert api.post("/media/SET1/tab/lines", {"items": [{"product_id": w.beer_id}]}).status_code == 201
    assert_problem(
        api.client.patch("/api/v1/settings", json={"auto_unbind": "yes"}, headers=api.headers("ada")),
        422,
        "invalid-request",
    )

    assert_problem(api.post("/media/SET1/lost", {"reason": "pool"}), 403, "permission-denied")
    lost = api.post("/media/SET1/lost", {"reason": "lost in the pool"}, login="mo")
    assert lost.status_code == 200 and lost.json()["state"] == "lost"
    assert_problem(api.get("/media/SET1/tab"), 409, "medium-lost")
