"""The README walk-through over HTTP, and texts in the caller's or the venue's language."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


def test_one_visit_issue_top_up_save_bill_settle_return(api: Api) -> None:
    world = api.world
    assert (
        api.post(
            "/visits", {"medium_uid": "W0001", "credit_type": "prepaid", "initial_load": api.eur(2000)}
        ).status_code
        == 201
    )
    assert api.post("/media/W0001/top-ups", {"amount": api.eur(1000), "tender": "card"}).json()["balance_minor"] == 3000
    tab = api.post(
        "/media/W0001/tab/lines",
        {"items": [{"product_id": world.beer_id, "quantity": 2}, {"product_id": world.fries_id}]},
    )
    assert tab.json()["open_total_minor"] == 1220
    assert api.post("/media/W0001/tab/bills", {}).json()["total_minor"] == 1220
    settled = api.post(
        "/media/W0001/tab/settlements",
        {"tenders": [{"kind": "prepaid", "amount_minor": 1220, "currency": "EUR"}], "pay_out_leftover": True},
    ).json()
    assert (settled["prepaid_minor"], settled["refunded_minor"], settled["balance_minor"]) == (1220, 1780, 0)
    assert api.post("/media/W0001/return", {}).json()["medium_state"] == "returned"
    world.assert_ledger_clean()


def test_problem_titles_follow_accept_language_then_venue_language(api: Api) -> None:
    api.issue("L2", "credit", 1000)
    api.post("/media/L2/tab/lines", {"items": [{"product_id": api.world.beer_id}]})
    sv = assert_problem(api.post("/media/L2/return", {}, **{"Accept-Language": "sv-SE,sv;q=0.9"}), 409, "unpaid-goods")
    assert sv["title"] == "Obetalda varor"
    ru = assert_problem(api.post("/media/L2/return", {}, **{"Accept-Language": "ru"}), 409, "unpaid-goods")
    assert ru["title"] == "Неоплаченные товары"
    venue_default = assert_problem(api.post("/media/L2/return", {}), 409, "unpaid-goods")
    assert venue_default["title"] == "Unbezahlte Waren"  # the test venue's language is German
    english = assert_problem(
        api.post("/media/L2/return", {}, **{"Accept-Language": "fr-FR, en;q=0.5"}), 409, "unpaid-goods"
    )
    assert english["title"] == "Unpaid goods"
