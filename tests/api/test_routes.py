"""Every route: the happy path, each permission refusal and each problem type it can answer."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.store.tables import audit_log
from tests.api.conftest import Api, assert_problem


def audit_actions(api: Api) -> list[str]:
    with api.world.uow.engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id))]


def test_visit_issue_permissions_and_problems(api: Api) -> None:
    body = api.issue("V1", "credit", 3000).json()
    assert (body["medium_uid"], body["credit_type"], body["credit_limit_minor"]) == ("V1", "credit", 3000)
    assert_problem(api.post("/visits", {"medium_uid": "V1", "credit_type": "none"}), 409, "medium-in-use")
    assert_problem(
        api.post("/visits", {"medium_uid": "V2", "credit_type": "none"}, login="gus"), 403, "permission-denied"
    )
    assert_problem(
        api.post("/visits", {"medium_uid": "V2", "credit_type": "credit"}), 422, "invalid-request"
    )  # a credit entry needs its limit
    assert_problem(
        api.post(
            "/visits",
            {"medium_uid": "V2", "credit_type": "credit", "credit_limit": {"amount_minor": 100, "currency": "SEK"}},
        ),
        422,
        "currency-mismatch",
    )
    assert_problem(api.post("/visits", {"medium_uid": "bad uid!", "credit_type": "none"}), 422, "invalid-request")
    assert_problem(api.post("/visits", {"medium_uid": "V3", "credit_type": "gold"}), 422, "invalid-request")


def test_card_accounts_on_one_medium(api: Api) -> None:
    api.issue("CA1", "credit", 1000)
    second = api.post("/media/CA1/card-accounts", {"credit_type": "credit", "credit_limit": api.eur(2000)})
    assert second.status_code == 201, second.text
    second_id = second.json()["card_account_id"]
    chosen = api.client.put(
        "/api/v1/media/CA1/active-card-account", json={"card_account_id": second_id}, headers=api.headers()
    )
    assert chosen.status_code == 200 and chosen.json()["is_active"]
    assert api.get("/media/CA1/tab").json()["available_minor"] == 2000
    missing = api.client.put(
        "/api/v1/media/CA1/active-card-account", json={"card_account_id": 999}, headers=api.headers()
    )
    assert_problem(missing, 404, "not-found")
    assert_problem(api.post("/media/CA1/card-accounts", {"credit_type": "none"}, login="gus"), 403, "permission-denied")
    assert_problem(api.post("/media/NOPE/card-accounts", {"credit_type": "none"}), 404, "unknown-medium")


def test_tab_lines_and_limits(api: Api) -> None:
    world = api.world
    api.issue("T1", "credit", 1000)
    saved = api.post("/media/T1/tab/lines", {"items": [{"product_id": world.beer_id, "quantity": 2}]})
    assert saved.status_code == 201
    assert saved.json()["open_total_minor"] == 900
    assert saved.json()["display"]["open_total"] == "9,00\xa0€"  # the venue speaks German
    assert_problem(
        api.post("/media/T1/tab/lines", {"items": [{"product_id": world.towel_id}]}), 409, "credit-limit-exceeded"
    )
    assert_problem(api.post("/media/T1/tab/lines", {"items": [{"product_id": 424242}]}), 404, "not-found")
    assert_problem(api.post("/media/T1/tab/lines", {"items": []}), 422, "invalid-request")
    assert_problem(
        api.post("/media/T1/tab/lines", {"items": [{"product_id": world.beer_id}]}, login="gus"),
        403,
        "permission-denied",
    )
    api.issue("T2", "none")
    assert_problem(
        api.post("/media/T2/tab/lines", {"items": [{"product_id": world.beer_id}]}), 409, "wrong-credit-type"
    )
    api.issue("T3", "prepaid", 100)
    assert_problem(
        api.post("/media/T3/tab/lines", {"items": [{"product_id": world.beer_id}]}), 409, "insufficient-balance"
    )


def test_bill_cancel_settle_return(api: Api) -> None:
    world = api.world
    api.issue("S1", "credit", 5000)
    assert_problem(api.post("/media/S1/tab/bills", {}), 409, "nothing-to-settle")
    lines = api.post(
        "/media/S1/tab/lines", {"items": [{"product_id": world.beer_id}, {"product_id": world.fries_id}]}
    ).json()
    bill = api.post("/media/S1/tab/bills", {})
    assert bill.status_code == 201
    assert (bill.json()["number"], bill.json()["total_minor"], bill.json()["status"]) == (1, 770, "unpaid")
    assert_problem(api.post("/media/S1/tab/bills", {}, login="gus"), 403, "permission-denied")

    fries_line = next(line["id"] for line in lines["lines"] if line["product_id"] == world.fries_id)
    cancel = {"reason": "wrong order", "line_ids": [fries_line]}
    assert_problem(api.post("/media/S1/tab/cancellations", cancel), 403, "permission-denied")
    assert_problem(
        api.post("/media/S1/tab/cancellations", {"reason": "x", "line_ids": [99999]}, login="mo"), 404, "not-found"
    )
    cancelled = api.post("/media/S1/tab/cancellations", cancel, login="mo")
    assert cancelled.status_code == 200 and cancelled.json()["open_total_minor"] == 450

    assert_problem(api.post("/media/S1/return", {}), 409, "unpaid-goods")
    assert_problem(
        api.post("/media/S1/tab/settlements", {"tenders": [{"kind": "cash", "amount_minor": 400, "currency": "EUR"}]}),
        422,
        "insufficient-tender",
    )
    assert_problem(
        api.post("/media/S1/tab/settlements", {"tenders": [{"kind": "card", "amount_minor": 500, "currency": "EUR"}]}),
        422,
        "over-tender",
    )
    assert_problem(
        api.post(
            "/media/S1/tab/settlements",
            {"tenders": [{"kind": "cash", "amount_minor": 500, "currency": "EUR"}]},
            login="gus",
        ),
        403,
        "permission-denied",
    )
    settled = api.post(
        "/media/S1/tab/settlements", {"tenders": [{"kind": "cash", "amount_minor": 500, "currency": "EUR"}]}
    )
    assert settled.status_code == 201
    assert (settled.json()["total_minor"], settled.json()["change_minor"]) == (450, 50)
    assert_problem(api.post("/media/S1/return", {}, login="gus"), 403, "permission-denied")
    returned = api.post("/media/S1/return", {})
    assert returned.status_code == 200 and returned.json()["medium_state"] == "returned"
    assert_problem(api.post("/media/S1/return", {}), 409, "medium-not-bound")
    assert audit_actions(api) == ["tab.cancel"]
    api.world.assert_ledger_clean()


def test_prepaid_value_routes(api: Api) -> None:
    world = api.world
    api.issue("P1", "prepaid", 1000)
    topped = api.post("/media/P1/top-ups", {"amount": api.eur(500), "tender": "card"})
    assert topped.status_code == 201 and topped.json()["balance_minor"] == 1500
    assert_problem(api.post("/media/P1/top-ups", {"amount": api.eur(500)}, login="gus"), 403, "permission-denied")
    sale = api.post("/media/P1/sales", {"items": [{"product_id": world.fries_id, "quantity": 2}]})
    assert sale.status_code == 201 and sale.json()["balance_minor"] == 860
    assert_problem(
        api.post("/media/P1/sales", {"items": [{"product_id": world.towel_id}]}), 409, "insufficient-balance"
    )
    assert_problem(
        api.post("/media/P1/sales", {"items": [{"product_id": world.beer_id}]}, login="gus"), 403, "permission-denied"
    )
    assert_problem(api.post("/media/P1/return", {}), 409, "prepaid-value-left")
    assert_problem(api.post("/media/P1/refunds", {"amount": api.eur(861)}), 409, "insufficient-balance")
    assert_problem(api.post("/media/P1/refunds", {}, login="gus"), 403, "permission-denied")
    refund = api.post("/media/P1/refunds", {})
    assert refund.status_code == 201 and refund.json()["refunded_minor"] == 860
    assert_problem(api.post("/media/P1/refunds", {}), 409, "nothing-to-settle")
    assert audit_actions(api) == ["prepaid.refund"]
    api.issue("P2", "credit", 1000)
    assert_problem(api.post("/media/P2/top-ups", {"amount": api.eur(500)}), 409, "wrong-credit-type")
    assert_problem(api.post("/media/P2/sales", {"items": [{"product_id": world.beer_id}]}), 409, "wrong-credit-type")
    api.world.assert_ledger_clean()


def test_blocking_media(api: Api) -> None:
    api.issue("K1", "prepaid", 1000)
    assert_problem(api.post("/media/K1/block", {"reason": "stolen"}), 403, "permission-denied")
    blocked = api.post("/media/K1/block", {"reason": "stolen"}, login="mo")
    assert blocked.status_code == 200 and blocked.json()["state"] == "blocked"
    assert_problem(api.get("/media/K1/tab"), 409, "medium-blocked")
    assert_problem(api.post("/media/K1/top-ups", {"amount": api.eur(100)}), 409, "medium-blocked")
    assert_problem(api.post("/media/K1/block", {"reason": "again"}, login="mo"), 422, "invalid-request")
    assert_problem(api.post("/media/NOPE/block", {"reason": "x"}, login="mo"), 404, "not-found")
    assert api.post("/media/K1/unblock", {"reason": "found"}, login="mo").json()["state"] == "active"
    assert api.get("/media/K1/tab").status_code == 200
    assert audit_actions(api) == ["medium.blocked", "medium.active"]


def test_typed_numbers_need_permission_are_audited_and_learn_nothing(api: Api) -> None:
    api.issue("M1", "credit", 1000)
    typed = {"Idempotency-Key": "typed-1"}
    assert_problem(api.get("/media/M1/tab?entry=typed", **typed), 403, "permission-denied")
    seen = api.get("/media/M1/tab?entry=typed", login="mo", **typed)
    assert seen.status_code == 200 and seen.json()["medium_uid"] == "M1"
    unknown = assert_problem(api.get("/media/NOPE/tab?entry=typed", login="mo"), 404, "unknown-or-inactive-medium")
    api.post("/media/M1/block", {"reason": "test"}, login="mo")
    blocked = assert_problem(api.get("/media/M1/tab?entry=typed", login="mo"), 404, "unknown-or-inactive-medium")
    assert unknown["detail"] == blocked["detail"] and unknown["title"] == blocked["title"]
    # The reader learns the specific reason.
    assert_problem(api.get("/media/NOPE/tab"), 404, "unknown-medium")
    assert audit_actions(api).count("medium.manual_entry") == 1  # refused lookups roll back their audit row


def test_catalog_health_openapi_and_problem_pages(api: Api) -> None:
    products = api.get("/products").json()
    assert {product["name"] for product in products} == {"Beer", "Fries", "Towel"}
    assert next(p for p in products if p["name"] == "Beer")["price_display"] == "4,50\xa0€"
    assert api.client.get("/api/v1/health").json()["status"] == "ok"
    spec = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/media/{uid}/tab/settlements" in spec["paths"]
    listed = {entry["type"] for entry in api.client.get("/problems").json()}
    assert {
        "/problems/credit-limit-exceeded",
        "/problems/unknown-or-inactive-medium",
        "/problems/request-in-flight",
    } <= listed
    assert api.client.get("/problems/unpaid-goods").json()["status"] == 409
    assert_problem(api.client.get("/problems/nope"), 404, "not-found")
    assert_problem(api.client.get("/api/v1/nowhere"), 404, "not-found")
