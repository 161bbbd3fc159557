"""seed 002 over HTTP: a tanning studio configures tariffs, top-up rules and account types, sells cards
without staff knowing tariff details, and customers use sunbeds from the counter, a kiosk or the bed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tapzone.clock import FixedClock
from tapzone.plans.setup import add_resource
from tapzone.store.tables import card_accounts, contracts, journal_entries, media, venues
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tapzone.venues.setup import add_device, create_customer, create_product
from tests.api.conftest import Api, assert_problem

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # Wednesday 15:00 in Berlin


@pytest.fixture
def api_clock() -> FixedClock:
    return FixedClock(START)


@dataclass
class Studio:
    api: Api
    clock: FixedClock
    sunbed: int
    sunbed2: int
    kiosk_token: str
    sunbed_token: str
    reader_token: str
    customer_id: int

    def admin(self, path: str, body: Any) -> dict[str, Any]:
        response = self.api.post(path, body, login="ada")
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def tariff(self, **spec: Any) -> int:
        return int(self.admin("/tariffs", {"name": f"tariff {spec}", **spec})["id"])

    def rule(self, **spec: Any) -> int:
        return int(self.admin("/topup-rules", {"name": f"rule {spec}", **spec})["id"])

    def account_type(self, number: int, **spec: Any) -> dict[str, Any]:
        return self.admin("/account-types", {"number": number, "name": f"type {number}", **spec})

    def sell(self, uid: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = self.api.post(f"/media/{uid}/account-sales", body)
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def use(self, uid: str, minutes: int, *, resource: int | None = None, token: str | None = None) -> dict[str, Any]:
        body = {"medium_uid": uid, "minutes": minutes}
        path = f"/resources/{resource or self.sunbed}/sessions"
        if token is None:
            response = self.api.post(path, body)
        else:
            response = self.api.post(path, body, login=None, Authorization=f"Bearer {token}")
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        assert (response.status_code == 201) == result["allowed"]
        return result


@pytest.fixture
def studio(api: Api, api_clock: FixedClock) -> Studio:
    world = api.world
    uow = world.uow
    sunbed_product = create_product(
        uow, world.venue_id, name="Sunbed", price_minor=100, vat_rate_bp=1900, product_group="tanning"
    )
    sunbed = add_resource(uow, world.venue_id, name="Sunbed 1", product_id=sunbed_product, max_minutes=20)
    sunbed2 = add_resource(uow, world.venue_id, name="Sunbed 2", product_id=sunbed_product, max_minutes=25)
    kiosk = add_device(uow, world.venue_id, name="Kiosk", kind=DeviceKind.KIOSK)
    reader = add_device(uow, world.venue_id, name="Finger reader", kind=DeviceKind.FINGERPRINT_READER)
    return Studio(
        api=api,
        clock=api_clock,
        sunbed=sunbed,
        sunbed2=sunbed2,
        kiosk_token=issue_device_token(uow, kiosk),
        sunbed_token=issue_device_token(uow, sunbed),
        reader_token=issue_device_token(uow, reader),
        customer_id=create_customer(uow, world.venue_id, name="Sunny Customer"),
    )


def test_happy_hour_card_with_bonus_preview_equals_sale(studio: Studio) -> None:
    """The seed's "Happy Hour Karte": a free top-up with bonus; the preview shows what the sale books."""
    per_minute = studio.tariff(kind="per-minute", price_minor=50)
    bonus = studio.rule(kind="free", bonus_percent_bp=2000)
    happy = studio.account_type(1, tariff_id=per_minute, topup_rule_id=bonus, default_price_minor=5000)
    assert happy["fields"] == ["bonus", "money"]

    preview = studio.api.post(f"/account-types/{happy['id']}/preview", {"medium_uid": "HH-1"})
    assert preview.status_code == 200, preview.text
    assert preview.json()["resulting"] == {
        "money_minor": 5000,
        "bonus": 1000,
        "minutes": 0,
        "visits": 0,
        "valid_until": None,
    }
    sale = studio.sell("HH-1", {"account_type_id": happy["id"]})
    assert sale["created"] and sale["total_charged_minor"] == 5000
    assert sale["account"]["balances"] == preview.json()["resulting"]
    assert sale["account"]["account_type_name"] == "type 1"

    session = studio.use("HH-1", 12)
    assert (session["allowed_minutes"], session["price_minor"], session["charged"]) == (12, 600, {"EUR": 600})
    assert session["account"]["balances"]["money_minor"] == 4400

    # A top-up of the same type goes through the rule: 20 % bonus again.
    again = studio.sell("HH-1", {"account_type_id": happy["id"], "price_minor": 1000})
    assert not again["created"]
    assert (again["account"]["balances"]["money_minor"], again["account"]["balances"]["bonus"]) == (5400, 1200)
    plain_topup = studio.api.post("/media/HH-1/top-ups", {"amount": studio.api.eur(500)})
    assert plain_topup.status_code == 201, plain_topup.text
    accounts = studio.use("HH-1", 1)["account"]["balances"]
    assert (accounts["money_minor"], accounts["bonus"]) == (5900 - 50, 1300)
    studio.api.world.assert_ledger_clean()


def test_ten_visit_card_and_price_list(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=900)
    ten = studio.rule(kind="stepped", steps=[{"price_minor": 8000, "visits": 10}, {"price_minor": 4500, "visits": 5}])
    card = studio.account_type(3, tariff_id=per_use, topup_rule_id=ten, vat_rate_bp=1900)
    assert card["price_list"] == [4500, 8000]

    before = studio.api.world.counts()
    off_list = studio.api.post("/media/TEN-1/account-sales", {"account_type_id": card["id"], "price_minor": 7000})
    assert_problem(off_list, 422, "invalid-amount")
    assert studio.api.world.counts() == before

    sale = studio.sell("TEN-1", {"account_type_id": card["id"], "price_minor": 8000})
    assert sale["account"]["balances"]["visits"] == 10
    assert sale["account"]["credit_type"] == "none"  # a visit card holds no money to spend at the bar
    session = studio.use("TEN-1", 15)
    assert (session["paid_with"], session["charged"], session["price_minor"]) == ("visits", {"visits": 1}, 900)
    assert session["account"]["balances"]["visits"] == 9
    studio.api.world.assert_ledger_clean()


def test_subscription_with_contract_resource_limit_and_expiry(studio: Studio) -> None:
    abo = studio.tariff(kind="subscription", max_minutes=15, resource_ids=[studio.sunbed])
    month = studio.rule(kind="stepped", steps=[{"price_minor": 4900, "months": 1}])
    kind = studio.account_type(
        2, tariff_id=abo, usage_free=True, topup_rule_id=month, contract_required=True, fee_minor=1500, vat_rate_bp=1900
    )
    contract = {
        "account_holder": "Sunny Customer",
        "iban": "DE89 3704 0044 0532 0130 00",
        "mandate_reference": "TZ-0001",
        "mandate_signed_on": "2026-06-10",
        "address": "Sonnenweg 1, 10115 Berlin",
    }
    sale_body = {"account_type_id": kind["id"], "price_minor": 4900, "customer_id": studio.customer_id}

    before = studio.api.world.counts()
    assert_problem(studio.api.post("/media/ABO-1/account-sales", sale_body), 422, "contract-required")
    bad_iban = {**sale_body, "contract": {**contract, "iban": "DE89 3704 0044 0532 0130 01"}}
    assert_problem(studio.api.post("/media/ABO-1/account-sales", bad_iban), 422, "invalid-iban")
    missing_field = {**sale_body, "contract": {k: v for k, v in contract.items() if k != "mandate_reference"}}
    assert_problem(studio.api.post("/media/ABO-1/account-sales", missing_field), 422, "invalid-request")
    assert studio.api.world.counts() == before

    sale = studio.sell("ABO-1", {**sale_body, "contract": contract})
    assert sale["fee_minor"] == 1500 and sale["total_charged_minor"] == 6400
    assert sale["account"]["balances"]["valid_until"] == "2026-07-10"
    with studio.api.world.uow.engine.connect() as conn:
        stored = conn.execute(sa.select(contracts.c.iban, contracts.c.customer_id)).one()
    assert tuple(stored) == ("DE89370400440532013000", studio.customer_id)

    free = studio.use("ABO-1", 30)
    assert (free["paid_with"], free["allowed_minutes"], free["price_minor"], free["charged"]) == ("free", 15, 0, {})
    other_bed = studio.use("ABO-1", 10, resource=studio.sunbed2)
    assert (other_bed["allowed"], other_bed["reason"]) == (False, "resource-not-included")

    studio.clock.set(datetime(2026, 7, 11, 8, 0, tzinfo=UTC))
    assert studio.use("ABO-1", 10)["reason"] == "expired"
    # Renewing the running subscription charges the fee again (seed 002: fee on renewal).
    renewal = studio.sell("ABO-1", {"account_type_id": kind["id"], "price_minor": 4900})
    assert renewal["fee_minor"] == 1500
    assert renewal["account"]["balances"]["valid_until"] == "2026-08-11"
    studio.api.world.assert_ledger_clean()


def test_a_type_without_tariff_cannot_be_used(studio: Studio) -> None:
    plain = studio.account_type(4)
    studio.sell("NT-1", {"account_type_id": plain["id"], "price_minor": 2000})
    denied = studio.use("NT-1", 10)
    assert (denied["allowed"], denied["reason"]) == (False, "no-tariff")
    # A seed 001 prepaid account without any type cannot switch on a sunbed either.
    studio.api.issue("PLAIN-1")
    assert studio.use("PLAIN-1", 10)["reason"] == "no-tariff"


def test_pay_without_topup_only_for_money_and_per_minute(studio: Studio) -> None:
    per_minute = studio.tariff(kind="per-minute", price_minor=60)
    per_use = studio.tariff(kind="per-use", price_minor=700)
    visits = studio.rule(kind="stepped", steps=[{"price_minor": 5000, "visits": 6}])
    for refused in (
        {"tariff_id": per_use, "pay_without_topup": True},
        {"tariff_id": per_minute, "topup_rule_id": visits, "pay_without_topup": True},
    ):
        response = studio.api.post("/account-types", {"number": 50, "name": "refused", **refused}, login="ada")
        body = assert_problem(response, 422, "invalid-account-type")
        assert "per-minute" in body["detail"]

    cash_customer = studio.account_type(5, tariff_id=per_minute, pay_without_topup=True, default_price_minor=1000)
    studio.sell("PW-1", {"account_type_id": cash_customer["id"], "price_minor": 300})
    session = studio.use("PW-1", 10)  # 6.00 with 3.00 on the card: the whole price goes on the tab
    assert (session["paid_with"], session["charged"]) == ("tab", {"tab": 600})
    tab = studio.api.get(f"/media/PW-1/tab?card_account_id={session['card_account_id']}")
    assert tab.status_code == 200, tab.text
    assert [line["amount_minor"] for line in tab.json()["lines"]] == [600]
    studio.api.world.assert_ledger_clean()


def test_insufficient_balance_is_refused(studio: Studio) -> None:
    per_minute = studio.tariff(kind="per-minute", price_minor=60)
    money = studio.account_type(6, tariff_id=per_minute)
    studio.sell("POOR-1", {"account_type_id": money["id"], "price_minor": 300})
    before = studio.api.world.counts()
    denied = studio.use("POOR-1", 10)
    assert (denied["reason"], denied["price_minor"], denied["session_id"]) == ("insufficient-balance", 600, None)
    assert studio.api.world.counts() == before


def test_lock_days_are_calendar_days(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    locked = studio.account_type(7, tariff_id=per_use, lock_days=1)
    studio.sell("LOCK-1", {"account_type_id": locked["id"], "price_minor": 5000})
    studio.clock.set(datetime(2026, 6, 10, 20, 0, tzinfo=BERLIN))
    assert studio.use("LOCK-1", 10)["allowed"]
    studio.clock.advance(timedelta(hours=3, minutes=59))  # 23:59 the same day
    denied = studio.use("LOCK-1", 10)
    assert denied["reason"] == "locked"
    assert denied["display_text"] == "Karte gesperrt bis zur angezeigten Zeit"  # the venue speaks German
    assert datetime.fromisoformat(denied["unlock_at"]) == datetime(2026, 6, 11, 0, 0, tzinfo=BERLIN)
    studio.clock.set(datetime(2026, 6, 11, 7, 0, tzinfo=BERLIN))  # next morning: fine with lock 1 day
    assert studio.use("LOCK-1", 10)["allowed"]


def test_lock_day_plus_hours_is_strict_across_the_spring_switch(studio: Studio) -> None:
    """1 day + 12 hours = 36 real hours, even over the night the clocks go forward."""
    per_use = studio.tariff(kind="per-use", price_minor=500)
    locked = studio.account_type(8, tariff_id=per_use, lock_days=1, lock_hours=12)
    studio.sell("LOCK-2", {"account_type_id": locked["id"], "price_minor": 5000})
    used = datetime(2026, 3, 28, 20, 0, tzinfo=BERLIN)
    studio.clock.set(used)
    assert studio.use("LOCK-2", 10)["allowed"]
    studio.clock.set(used + timedelta(hours=35, minutes=59))
    denied = studio.use("LOCK-2", 10)
    assert denied["reason"] == "locked"
    opens = datetime.fromisoformat(denied["unlock_at"])
    assert opens - used == timedelta(hours=36)
    assert opens.astimezone(BERLIN).hour == 9  # 36 real hours, shown one hour later on the wall clock
    studio.clock.set(opens)
    assert studio.use("LOCK-2", 10)["allowed"]


def test_lock_days_across_the_autumn_switch_end_at_local_midnight(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    locked = studio.account_type(9, tariff_id=per_use, lock_days=1)
    studio.sell("LOCK-3", {"account_type_id": locked["id"], "price_minor": 5000})
    studio.clock.set(datetime(2026, 10, 24, 23, 30, tzinfo=BERLIN))
    assert studio.use("LOCK-3", 10)["allowed"]
    denied = studio.use("LOCK-3", 10)
    shown = datetime.fromisoformat(denied["unlock_at"]).astimezone(BERLIN)
    assert (shown.date(), shown.hour, shown.minute) == (date(2026, 10, 25), 0, 0)
    studio.clock.set(datetime(2026, 10, 25, 0, 1, tzinfo=BERLIN))
    assert studio.use("LOCK-3", 10)["allowed"]


def test_half_usage_time_after_days_absent(studio: Studio) -> None:
    per_minute = studio.tariff(kind="per-minute", price_minor=50)
    kind = studio.account_type(10, tariff_id=per_minute, half_time_after_days=30)
    studio.sell("HALF-1", {"account_type_id": kind["id"], "price_minor": 5000})
    assert studio.use("HALF-1", 20)["allowed_minutes"] == 20
    studio.clock.advance(timedelta(days=31))
    away = studio.use("HALF-1", 20)
    assert (away["allowed_minutes"], away["max_minutes"], away["halved"], away["price_minor"]) == (10, 10, True, 500)


def test_staff_only_cards_are_refused_at_the_kiosk(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    staff_only = studio.account_type(11, tariff_id=per_use, staff_only=True)
    studio.sell("STAFF-1", {"account_type_id": staff_only["id"], "price_minor": 5000})
    assert studio.use("STAFF-1", 10, token=studio.kiosk_token)["reason"] == "staff-only"
    assert studio.use("STAFF-1", 10)["allowed"]  # at the counter


def test_fingerprint_confirmed_only_by_a_reader(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    finger = studio.account_type(12, tariff_id=per_use, fingerprint_required=True)
    studio.sell("FP-1", {"account_type_id": finger["id"], "price_minor": 5000})
    assert studio.use("FP-1", 10, token=studio.kiosk_token)["reason"] == "fingerprint-not-confirmed"
    from_till = studio.api.post("/fingerprint-matches", {"medium_uid": "FP-1"})
    assert_problem(from_till, 403, "permission-denied")
    from_reader = studio.api.post(
        "/fingerprint-matches", {"medium_uid": "FP-1"}, login=None, Authorization=f"Bearer {studio.reader_token}"
    )
    assert from_reader.status_code == 201, from_reader.text
    assert studio.use("FP-1", 10, token=studio.kiosk_token)["allowed"]
    studio.clock.advance(timedelta(minutes=3))
    assert studio.use("FP-1", 10, token=studio.kiosk_token)["reason"] == "fingerprint-not-confirmed"


def test_skin_types_limit_the_session(studio: Studio) -> None:
    per_minute = studio.tariff(kind="per-minute", price_minor=50)
    skin = studio.account_type(13, tariff_id=per_minute, skin_types_enforced=True)
    studio.sell("SKIN-1", {"account_type_id": skin["id"], "price_minor": 5000, "customer_id": studio.customer_id})
    assert studio.use("SKIN-1", 10)["reason"] == "skin-type-missing"
    put = studio.api.client.put(
        "/api/v1/skin-types/2", json={"name": "Type II", "max_minutes": 12}, headers=studio.api.headers("ada")
    )
    assert put.status_code == 200, put.text
    patch = studio.api.client.patch(
        f"/api/v1/customers/{studio.customer_id}", json={"skin_type": 2}, headers=studio.api.headers("kim")
    )
    assert patch.status_code == 200, patch.text
    over = studio.use("SKIN-1", 15)
    assert (over["reason"], over["max_minutes"]) == ("skin-type-maximum-exceeded", 12)
    assert studio.use("SKIN-1", 12)["allowed"]


def test_the_resource_starts_only_its_own_sessions(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    kind = studio.account_type(14, tariff_id=per_use)
    studio.sell("BED-1", {"account_type_id": kind["id"], "price_minor": 5000})
    assert studio.use("BED-1", 10, token=studio.sunbed_token)["allowed"]
    elsewhere = studio.api.post(
        f"/resources/{studio.sunbed2}/sessions",
        {"medium_uid": "BED-1", "minutes": 10},
        login=None,
        Authorization=f"Bearer {studio.sunbed_token}",
    )
    assert_problem(elsewhere, 403, "permission-denied")


def test_number_range_picks_the_type_and_display_digits(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    ranged = studio.account_type(15, tariff_id=per_use, number_from=10000, number_to=20000, default_price_minor=2000)
    with studio.api.world.uow.engine.begin() as conn:
        conn.execute(venues.update().values(card_number_digits=3))
    suggested = studio.api.get("/card-numbers/10046")
    assert suggested.status_code == 200, suggested.text
    assert suggested.json() == {"number": "10046", "display_number": "046", "account_type_id": ranged["id"]}
    sale = studio.sell("10046", {})
    assert sale["account"]["account_type_id"] == ranged["id"]
    assert sale["account"]["display_number"] == "046"
    outside = studio.api.post("/media/30046/account-sales", {})
    assert_problem(outside, 422, "invalid-request")


def test_discount_card_collects_bonus_on_each_use(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=800)
    points = studio.rule(kind="free", bonus_percent_bp=1000)
    discount = studio.account_type(16, topup_rule_id=points, sellable=False)
    card = studio.account_type(17, tariff_id=per_use, discount_type_id=discount["id"])
    studio.sell("DISC-1", {"account_type_id": card["id"], "price_minor": 5000})
    studio.use("DISC-1", 10)
    studio.use("DISC-1", 10)
    with studio.api.world.uow.engine.connect() as conn:
        discount_account = conn.execute(
            sa.select(card_accounts.c.id).where(card_accounts.c.account_type_id == discount["id"])
        ).scalar_one()
    preview = studio.api.post(f"/account-types/{discount['id']}/preview", {"price_minor": 100})
    assert preview.status_code == 200
    sessions = studio.use("DISC-1", 10)["account"]
    assert sessions["balances"]["money_minor"] == 5000 - 3 * 800
    response = studio.api.post(
        "/media/DISC-1/top-ups", {"amount": studio.api.eur(100), "card_account_id": discount_account}
    )
    assert response.status_code == 201
    with studio.api.world.uow.engine.connect() as conn:
        bonus = conn.execute(
            sa.text("select balance from card_balances where card_account_id = :id and unit = 'bonus'"),
            {"id": discount_account},
        ).scalar_one()
    assert bonus == 3 * 80 + 10  # 10 % of each 8.00 use, then 10 % of the 1.00 top-up
    studio.api.world.assert_ledger_clean()


def test_deposits_fee_and_deposit_as_sale_price(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    vip = studio.account_type(18, tariff_id=per_use, deposit_minor=1000, fee_minor=300)
    sold_card = studio.account_type(19, tariff_id=per_use, deposit_minor=500, deposit_is_sale_price=True)
    plain = studio.account_type(20, tariff_id=per_use)
    with studio.api.world.uow.engine.begin() as conn:
        conn.execute(venues.update().values(card_deposit_minor=200))

    first = studio.sell("DEP-1", {"account_type_id": vip["id"], "price_minor": 2000})
    assert (first["deposit_minor"], first["fee_minor"], first["total_charged_minor"]) == (1000, 300, 3300)
    topup = studio.sell("DEP-1", {"account_type_id": vip["id"], "price_minor": 2000})
    assert (topup["deposit_minor"], topup["fee_minor"]) == (0, 0)  # no validity renewed: no fee
    studio.sell("DEP-2", {"account_type_id": sold_card["id"], "price_minor": 2000})
    studio.sell("DEP-3", {"account_type_id": plain["id"], "price_minor": 2000})
    with studio.api.world.uow.engine.connect() as conn:
        held = dict(conn.execute(sa.select(media.c.uid, media.c.deposit_minor)).all())
        codes = sorted(conn.execute(sa.select(journal_entries.c.code)).scalars())
    assert (held["DEP-1"], held["DEP-2"], held["DEP-3"]) == (1000, 0, 200)
    assert codes.count("deposit-hold") == 2 and codes.count("fee") == 1 and codes.count("sale") == 1
    studio.api.world.assert_ledger_clean()


def test_several_accounts_the_active_one_pays(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    ten = studio.rule(kind="stepped", steps=[{"price_minor": 4000, "visits": 10}])
    money = studio.account_type(21, tariff_id=per_use)
    visits = studio.account_type(22, tariff_id=per_use, topup_rule_id=ten)
    first = studio.sell("MULTI-1", {"account_type_id": money["id"], "price_minor": 3000})
    second = studio.sell("MULTI-1", {"account_type_id": visits["id"], "price_minor": 4000})
    assert second["created"] and second["account"]["is_active"]
    assert studio.use("MULTI-1", 10)["paid_with"] == "visits"
    chosen = studio.api.post(
        f"/resources/{studio.sunbed}/sessions",
        {"medium_uid": "MULTI-1", "minutes": 10, "card_account_id": first["account"]["card_account_id"]},
    )
    assert chosen.status_code == 201 and chosen.json()["charged"] == {"EUR": 500}


def test_copy_with_chosen_number_and_sellable_flag(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    christmas = studio.account_type(23, tariff_id=per_use, sellable=False, default_price_minor=2500)
    copy = studio.api.post(f"/account-types/{christmas['id']}/copies", {"number": 123}, login="ada")
    assert copy.status_code == 201, copy.text
    assert (copy.json()["number"], copy.json()["tariff_id"], copy.json()["sellable"]) == (123, per_use, False)
    taken = studio.api.post(f"/account-types/{christmas['id']}/copies", {"number": 23}, login="ada")
    assert_problem(taken, 409, "conflict")
    refused = studio.api.post("/media/XMAS-1/account-sales", {"account_type_id": christmas["id"]})
    assert_problem(refused, 409, "account-type-not-sellable")
    for_sale = studio.api.get("/account-types?sellable=true")
    assert for_sale.status_code == 200
    assert christmas["id"] not in [t["id"] for t in for_sale.json()]


def test_configuration_needs_its_permission(studio: Studio) -> None:
    cashier = studio.api.post("/tariffs", {"name": "x", "kind": "per-use", "price_minor": 100})
    assert_problem(cashier, 403, "permission-denied")
    per_use = studio.tariff(kind="per-use", price_minor=500)
    kind = studio.account_type(24, tariff_id=per_use)
    gate_staff = studio.api.post(
        "/media/G-1/account-sales", {"account_type_id": kind["id"], "price_minor": 100}, login="gus"
    )
    assert_problem(gate_staff, 403, "permission-denied")
    as_string = studio.api.post("/tariffs", {"name": "y", "kind": "per-use", "price_minor": "100"}, login="ada")
    assert as_string.status_code == 422


def test_sale_and_session_are_idempotent(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    kind = studio.account_type(25, tariff_id=per_use)
    body = {"account_type_id": kind["id"], "price_minor": 3000}
    first = studio.api.post("/media/IDEM-1/account-sales", body, key="sale-1")
    again = studio.api.post("/media/IDEM-1/account-sales", body, key="sale-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    use = {"medium_uid": "IDEM-1", "minutes": 10}
    one = studio.api.post(f"/resources/{studio.sunbed}/sessions", use, key="use-1")
    two = studio.api.post(f"/resources/{studio.sunbed}/sessions", use, key="use-1")
    assert one.json() == two.json()
    assert two.json()["account"]["balances"]["money_minor"] == 2500


def test_the_kiosk_lists_types_for_sale_and_shows_a_cards_accounts(studio: Studio) -> None:
    per_use = studio.tariff(kind="per-use", price_minor=500)
    shown = studio.account_type(26, tariff_id=per_use, picture="gold-card.png", default_price_minor=3000)
    studio.account_type(27, tariff_id=per_use, sellable=False)
    kiosk = {"Authorization": f"Bearer {studio.kiosk_token}"}
    offered = studio.api.get("/account-types?sellable=true", login=None, **kiosk)
    assert offered.status_code == 200, offered.text
    assert [(t["number"], t["picture"]) for t in offered.json()] == [(26, "gold-card.png")]
    assert_problem(studio.api.get("/account-types", login=None, **kiosk), 403, "permission-denied")

    studio.sell("KIOSK-1", {"account_type_id": shown["id"]})
    accounts = studio.api.get("/media/KIOSK-1/accounts", login=None, **kiosk)
    assert accounts.status_code == 200, accounts.text
    assert [(a["account_type_number"], a["balances"]["money_minor"]) for a in accounts.json()] == [(26, 3000)]


def test_a_seasonal_card_is_switched_on_and_off(studio: Studio) -> None:
    """seed 002 "Artikel": a Christmas card is ticked sellable before Christmas and unticked after."""
    per_use = studio.tariff(kind="per-use", price_minor=500)
    visits = studio.rule(kind="stepped", steps=[{"price_minor": 3000, "visits": 5}])
    christmas = studio.account_type(28, tariff_id=per_use, topup_rule_id=visits, sellable=False)

    def patch(changes: dict[str, Any], login: str = "ada") -> Any:
        return studio.api.client.patch(
            f"/api/v1/account-types/{christmas['id']}", json=changes, headers=studio.api.headers(login)
        )

    on = patch({"sellable": True})
    assert on.status_code == 200, on.text
    assert on.json()["sellable"] and on.json()["number"] == 28
    studio.sell("XMAS-2", {"account_type_id": christmas["id"], "price_minor": 3000})
    assert patch({"sellable": False}).status_code == 200
    assert_problem(
        studio.api.post("/media/XMAS-3/account-sales", {"account_type_id": christmas["id"], "price_minor": 3000}),
        409,
        "account-type-not-sellable",
    )
    assert_problem(patch({"pay_without_topup": True}), 422, "invalid-account-type")
    assert_problem(patch({"number": 29}), 422, "invalid-request")
    assert_problem(patch({"fee_minor": "100"}), 422, "invalid-request")
    assert_problem(patch({"sellable": True}, login="kim"), 403, "permission-denied")
    assert studio.use("XMAS-2", 10)["paid_with"] == "visits"  # the card sold in season keeps working
