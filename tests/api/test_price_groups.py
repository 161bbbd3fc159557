"""Price groups over HTTP (seed 004 "Benutzergruppe … andere Preisbehandlung"): the till charges the
group's price, a later change of group never reprices what was sold, and only admins set prices."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tapzone.access.setup import create_entry_product, create_zone
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import audit_log, customers, postings, price_groups, product_prices, staff, tab_lines
from tapzone.venues.setup import add_staff, create_customer
from tests.api.conftest import Api, assert_problem, password_hash

STAFF_BEER = 300  # list price 450
STAFF_FRIES = 250  # list price 320
MEMBER_BEER = 400


@pytest.fixture
def priced(api: Api) -> dict[str, int]:
    """An admin, two groups with prices for beer and fries, and customers in and out of the groups."""
    w = api.world
    add_staff(w.uow, w.venue_id, name="Pia Pricing", login="pia", role="admin")
    with w.uow.engine.begin() as conn:
        conn.execute(staff.update().where(staff.c.login == "pia").values(password_hash=password_hash()))
    staff_group = api.post("/price-groups", {"name": "staff"}, login="pia")
    assert staff_group.status_code == 201, staff_group.text
    members = api.post("/price-groups", {"name": "members"}, login="pia").json()["id"]
    group = staff_group.json()["id"]
    for group_id, product_id, price in (
        (group, w.beer_id, STAFF_BEER),
        (group, w.fries_id, STAFF_FRIES),
        (members, w.beer_id, MEMBER_BEER),
    ):
        response = put_price(api, group_id, product_id, {"price": api.eur(price)})
        assert response.status_code == 200, response.text
    sam = create_customer(w.uow, w.venue_id, name="Sam Staff")
    nia = create_customer(w.uow, w.venue_id, name="Nia Nogroup")
    assert patch_customer(api, sam, {"price_group_id": group}).status_code == 200
    return {"staff": group, "members": members, "sam": sam, "nia": nia}


def put_price(api: Api, group_id: int, product_id: int, body: Any, login: str = "pia", key: str | None = None) -> Any:
    return api.client.put(
        f"/api/v1/price-groups/{group_id}/prices/{product_id}", json=body, headers=api.headers(login, key=key)
    )


def patch_customer(api: Api, customer_id: int, body: Any, login: str = "kim", key: str | None = None) -> Any:
    return api.client.patch(f"/api/v1/customers/{customer_id}", json=body, headers=api.headers(login, key=key))


def issue_for(api: Api, uid: str, customer_id: int | None, credit_type: str = "prepaid") -> None:
    body: dict[str, Any] = {"medium_uid": uid, "credit_type": credit_type, "customer_id": customer_id}
    if credit_type == "prepaid":
        body["initial_load"] = api.eur(5000)
    else:
        body["credit_limit"] = api.eur(5000)
    response = api.post("/visits", body)
    assert response.status_code == 201, response.text


def save(api: Api, uid: str, product_id: int, quantity: int = 1) -> dict[str, Any]:
    response = api.post(f"/media/{uid}/tab/lines", {"items": [{"product_id": product_id, "quantity": quantity}]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def config_state(api: Api) -> tuple[list[Any], list[Any], list[Any], int]:
    """Everything a refused configuration request must leave as it was."""
    with api.world.uow.engine.connect() as conn:
        return (
            [tuple(row) for row in conn.execute(sa.select(price_groups.c.id, price_groups.c.name))],
            [tuple(row) for row in conn.execute(sa.select(product_prices).order_by(*product_prices.primary_key))],
            [tuple(row) for row in conn.execute(sa.select(customers).order_by(customers.c.id))],
            conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one(),
        )


def test_the_till_charges_the_group_price(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    issue_for(api, "PG1", priced["sam"])
    saved = save(api, "PG1", w.beer_id, 2)
    (line,) = saved["lines"]
    assert (line["unit_price_minor"], line["amount_minor"], saved["open_total_minor"]) == (STAFF_BEER, 600, 600)
    sale = api.post("/media/PG1/sales", {"items": [{"product_id": w.fries_id}, {"product_id": w.towel_id}]})
    assert sale.status_code == 201, sale.text
    # Fries at the staff price; the towel has no staff price, so staff pay its own price.
    assert sale.json()["total_minor"] == STAFF_FRIES + 1200
    assert sale.json()["balance_minor"] == 5000 - STAFF_FRIES - 1200

    issue_for(api, "PG2", priced["nia"])  # a customer without a group
    assert save(api, "PG2", w.beer_id)["lines"][0]["unit_price_minor"] == 450
    issue_for(api, "PG3", None)  # no customer at all
    assert save(api, "PG3", w.beer_id)["lines"][0]["unit_price_minor"] == 450
    assert api.post("/media/PG3/sales", {"items": [{"product_id": w.fries_id}]}).json()["total_minor"] == 320
    w.assert_ledger_clean()


def test_group_price_on_the_customer_account_and_the_entry_ticket(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    issue_for(api, "PG4", priced["sam"], "credit")  # a member's credit goes to the customer account (seed 001)
    save(api, "PG4", w.beer_id, 3)
    assert api.get(f"/customers/{priced['sam']}/account").json()["owed_minor"] == 3 * STAFF_BEER

    zone = create_zone(w.uow, w.venue_id, name="Pools")
    ticket = create_entry_product(
        w.uow, w.venue_id, name="Day", price_minor=2000, vat_rate_bp=700, zone_id=zone, credit_type=CreditType.NONE
    )
    assert put_price(api, priced["staff"], ticket, {"price": api.eur(1000)}).status_code == 200
    cash = [{"kind": "cash", "amount_minor": 2000, "currency": "EUR"}]
    for uid, customer, change in (("PG5", priced["sam"], 1000), ("PG6", priced["nia"], 0), ("PG7", None, 0)):
        entry = api.post(
            "/entries", {"entry_product_id": ticket, "medium_uid": uid, "tenders": cash, "customer_id": customer}
        )
        assert entry.status_code == 201, entry.text
        assert entry.json()["change_minor"] == change
    w.assert_ledger_clean()


def test_changing_the_group_never_reprices_what_was_sold(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    issue_for(api, "PG8", priced["sam"])
    save(api, "PG8", w.beer_id)
    sale = api.post("/media/PG8/sales", {"items": [{"product_id": w.fries_id}]}).json()

    def sold() -> tuple[list[Any], list[Any]]:
        with w.uow.engine.connect() as conn:
            lines = [tuple(row) for row in conn.execute(sa.select(tab_lines).order_by(tab_lines.c.id))]
            entry = conn.execute(
                sa.select(postings.c.account_id, postings.c.amount)
                .where(postings.c.entry_id == sale["entry_id"])
                .order_by(postings.c.id)
            )
            return lines, [tuple(row) for row in entry]

    before = sold()
    moved = patch_customer(api, priced["sam"], {"price_group_id": priced["members"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["price_group"], moved.json()["skin_type"]) == ("members", None)
    assert put_price(api, priced["staff"], w.beer_id, {"price": api.eur(350)}).status_code == 200
    assert sold() == before
    tab = api.get("/media/PG8/tab").json()
    assert [line["unit_price_minor"] for line in tab["lines"]] == [STAFF_BEER]

    # Later sales follow the new group, then the list price once the customer has no group.
    assert save(api, "PG8", w.beer_id)["lines"][-1]["unit_price_minor"] == MEMBER_BEER
    assert patch_customer(api, priced["sam"], {"price_group_id": None}).json()["price_group_id"] is None
    final = save(api, "PG8", w.beer_id)
    assert [line["unit_price_minor"] for line in final["lines"]] == [STAFF_BEER, MEMBER_BEER, 450]
    assert final["open_total_minor"] == STAFF_BEER + MEMBER_BEER + 450
    w.assert_ledger_clean()


def test_clearing_a_group_price_charges_the_list_price(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    cleared = put_price(api, priced["staff"], w.beer_id, {"price": None})
    assert cleared.status_code == 200, cleared.text
    assert [p["product_id"] for p in cleared.json()["prices"]] == [w.fries_id]
    issue_for(api, "PG9", priced["sam"])
    assert save(api, "PG9", w.beer_id)["lines"][0]["unit_price_minor"] == 450


def test_listing_and_viewing(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    groups = api.get("/price-groups").json()
    assert [group["name"] for group in groups] == ["members", "staff"]
    staff_group = groups[1]
    assert staff_group["currency"] == "EUR"
    assert {(p["product_name"], p["list_price_minor"], p["price_minor"]) for p in staff_group["prices"]} == {
        ("Beer", 450, STAFF_BEER),
        ("Fries", 320, STAFF_FRIES),
    }
    skin = patch_customer(api, priced["sam"], {"skin_type": 2})
    assert skin.status_code == 200, skin.text
    customer = api.get(f"/customers/{priced['sam']}").json()
    assert customer == {
        "customer_id": priced["sam"],
        "name": "Sam Staff",
        "price_group_id": priced["staff"],
        "price_group": "staff",
        "skin_type": 2,
    }
    assert patch_customer(api, priced["sam"], {"skin_type": None}).json()["skin_type"] is None
    assert w.beer_id  # the world's products are what the prices refer to


def test_permissions(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    before = config_state(api)
    assert_problem(api.post("/price-groups", {"name": "guests"}), 403, "permission-denied")  # cashier
    assert_problem(api.post("/price-groups", {"name": "guests"}, login="mo"), 403, "permission-denied")
    assert_problem(put_price(api, priced["staff"], w.beer_id, {"price": api.eur(1)}, "kim"), 403, "permission-denied")
    assert_problem(put_price(api, priced["staff"], w.beer_id, {"price": None}, "mo"), 403, "permission-denied")
    assert_problem(
        patch_customer(api, priced["nia"], {"price_group_id": priced["staff"]}, "gus"), 403, "permission-denied"
    )
    assert_problem(api.get("/price-groups", login="gus"), 403, "permission-denied")
    assert_problem(api.get(f"/customers/{priced['nia']}", login="gus"), 403, "permission-denied")
    assert config_state(api) == before
    # Putting a customer into a group is customer care, which cashiers do.
    assert patch_customer(api, priced["nia"], {"price_group_id": priced["members"]}, "kim").status_code == 200


@pytest.mark.parametrize("amount", ["10", 10.0, 10.5, 0, -5, None, True, 2**63])
def test_bad_prices_are_refused(api: Api, priced: dict[str, int], amount: Any) -> None:
    before = config_state(api)
    response = put_price(
        api, priced["staff"], api.world.towel_id, {"price": {"amount_minor": amount, "currency": "EUR"}}
    )
    assert_problem(response, 422, "invalid-amount")
    assert config_state(api) == before


def test_bad_input_changes_nothing(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    before = config_state(api)
    group = priced["staff"]
    cases = [
        (put_price(api, 424242, w.beer_id, {"price": api.eur(100)}), 404, "not-found"),
        (put_price(api, group, 424242, {"price": api.eur(100)}), 404, "not-found"),
        (
            put_price(api, group, w.beer_id, {"price": {"amount_minor": 100, "currency": "SEK"}}),
            422,
            "currency-mismatch",
        ),
        (put_price(api, group, w.beer_id, {}), 422, "invalid-request"),
        (put_price(api, group, w.beer_id, {"price": api.eur(100), "extra": 1}), 422, "invalid-request"),
        (api.post("/price-groups", {"name": "staff"}, login="pia"), 409, "conflict"),
        (api.post("/price-groups", {"name": ""}, login="pia"), 422, "invalid-request"),
        (api.post("/price-groups", {"name": "   "}, login="pia"), 422, "invalid-request"),
        (api.post("/price-groups", {"name": "x" * 65}, login="pia"), 422, "invalid-request"),
        (api.post("/price-groups", {"name": 7}, login="pia"), 422, "invalid-request"),
        (patch_customer(api, priced["nia"], {"price_group_id": 424242}), 404, "not-found"),
        (patch_customer(api, priced["nia"], {"price_group_id": str(group)}), 422, "invalid-request"),
        (patch_customer(api, 424242, {"price_group_id": group}), 404, "not-found"),
        (patch_customer(api, priced["nia"], {"skin_type": 7}), 422, "invalid-request"),
        (patch_customer(api, priced["nia"], {"skin_type": 0}), 422, "invalid-request"),
        (patch_customer(api, priced["nia"], {"skin_type": "3"}), 422, "invalid-request"),
        (patch_customer(api, priced["nia"], {}), 422, "invalid-request"),
        (patch_customer(api, priced["nia"], {"name": "Eve"}), 422, "invalid-request"),
    ]
    for response, status, problem in cases:
        assert_problem(response, status, problem)
    assert config_state(api) == before


def test_a_group_of_another_venue_is_unknown(api: Api, priced: dict[str, int]) -> None:
    from tapzone.venues.setup import create_venue

    other = create_venue(api.world.uow, name="Elsewhere", currency="EUR", timezone="Europe/Berlin")
    with api.world.uow.engine.begin() as conn:
        foreign = conn.execute(
            price_groups.insert()
            .values(venue_id=other, name="staff", created_at=api.world.default_clock().now())
            .returning(price_groups.c.id)
        ).scalar_one()
    before = config_state(api)
    assert_problem(patch_customer(api, priced["nia"], {"price_group_id": foreign}), 404, "not-found")
    assert_problem(put_price(api, foreign, api.world.beer_id, {"price": api.eur(1)}), 404, "not-found")
    assert config_state(api) == before


def test_writes_replay_by_idempotency_key(api: Api, priced: dict[str, int]) -> None:
    w = api.world
    first = api.post("/price-groups", {"name": "guests"}, login="pia", key="pg-create")
    again = api.post("/price-groups", {"name": "guests"}, login="pia", key="pg-create")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert [g["name"] for g in api.get("/price-groups").json()].count("guests") == 1
    assert_problem(
        api.post("/price-groups", {"name": "visitors"}, login="pia", key="pg-create"), 422, "idempotency-key-reused"
    )

    guests = first.json()["id"]
    priced_once = put_price(api, guests, w.beer_id, {"price": api.eur(500)}, key="pg-price")
    # Someone else reprices in between; replaying the first request returns its stored answer, no rewrite.
    put_price(api, guests, w.beer_id, {"price": api.eur(510)})
    replay = put_price(api, guests, w.beer_id, {"price": api.eur(500)}, key="pg-price")
    assert replay.json() == priced_once.json()
    assert api.get("/price-groups").json()[0]["prices"][0]["price_minor"] == 510

    moved = patch_customer(api, priced["nia"], {"price_group_id": guests}, key="pg-patch")
    assert patch_customer(api, priced["nia"], {"price_group_id": guests}, key="pg-patch").json() == moved.json()
    assert_problem(patch_customer(api, priced["nia"], {"skin_type": 3}, key="pg-patch"), 422, "idempotency-key-reused")
    issue_for(api, "PG10", priced["nia"])
    assert save(api, "PG10", w.beer_id)["lines"][0]["unit_price_minor"] == 510


def test_configuration_is_audited(api: Api, priced: dict[str, int]) -> None:
    with api.world.uow.engine.connect() as conn:
        actions = [row[0] for row in conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id))]
    assert actions == ["price_group.create", "price_group.create", *["price_group.price"] * 3, "customer.update"]
