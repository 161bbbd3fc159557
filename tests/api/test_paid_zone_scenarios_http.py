"""The scenarios of seeds 000 and 001 end to end over HTTP: tills and gates with their own tokens."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tapzone.access.model import AntiPassback, Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.plans.card_accounts import CreditType
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tapzone.venues.setup import create_customer, create_product
from tests.api.conftest import Api


class Venue:
    """The paid zone of the test venue, driven only through the HTTP API."""

    def __init__(self, api: Api) -> None:
        w = api.world
        self.api = api
        zone = create_zone(w.uow, w.venue_id, name="Pools")
        self.gates: dict[str, tuple[int, str]] = {}
        for name, kind, direction in (
            ("in", DeviceKind.TURNSTILE, Direction.IN),
            ("out", DeviceKind.TURNSTILE, Direction.OUT),
            ("collector", DeviceKind.COLLECTOR, Direction.OUT),
            ("phone", DeviceKind.MOBILE, Direction.BOTH),
        ):
            gate_id = add_gate(w.uow, w.venue_id, name=name, kind=kind, zone_id=zone, direction=direction)
            self.gates[name] = (gate_id, issue_device_token(w.uow, gate_id))
        block = create_product(
            w.uow, w.venue_id, name="Overstay", price_minor=400, vat_rate_bp=700, product_group="time"
        )
        entry = {"vat_rate_bp": 700, "zone_id": zone}
        self.credit = create_entry_product(
            w.uow,
            w.venue_id,
            name="Credit",
            price_minor=1500,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=3000,
            included_minutes=120,
            overstay_product_id=block,
            overstay_block_minutes=30,
            **entry,  # type: ignore[arg-type]
        )
        self.prepaid = create_entry_product(
            w.uow,
            w.venue_id,
            name="Prepaid",
            price_minor=1500,
            credit_type=CreditType.PREPAID,
            deposit_minor=300,
            **entry,  # type: ignore[arg-type]
        )
        self.shared = create_entry_product(
            w.uow,
            w.venue_id,
            name="Family",
            price_minor=4000,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=2000,
            anti_passback=AntiPassback.SHARED,
            companions=2,
            **entry,  # type: ignore[arg-type]
        )
        self.separate = create_entry_product(
            w.uow,
            w.venue_id,
            name="Group",
            price_minor=4000,
            credit_type=CreditType.CREDIT,
            credit_limit_minor=2000,
            anti_passback=AntiPassback.SEPARATE,
            companions=2,
            **entry,  # type: ignore[arg-type]
        )

    def sell(
        self, product: int, uid: str, pay: int, companions: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "entry_product_id": product,
            "medium_uid": uid,
            "companion_uids": companions or [],
            "tenders": [{"kind": "cash", "amount_minor": pay, "currency": "EUR"}],
            **extra,
        }
        response = self.api.post("/entries", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def tap(self, gate: str, uid: str, tap_id: str | None = None) -> dict[str, Any]:
        gate_id, token = self.gates[gate]
        response = self.api.client.post(
            f"/api/v1/gates/{gate_id}/taps",
            json={"tap_id": tap_id or uuid.uuid4().hex, "medium_uid": uid},
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def buy(self, uid: str, product: int, quantity: int = 1) -> httpx.Response:
        return self.api.post(f"/media/{uid}/tab/lines", {"items": [{"product_id": product, "quantity": quantity}]})

    def settle(self, uid: str, tenders: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        response = self.api.post(f"/media/{uid}/tab/settlements", {"tenders": tenders, **extra})
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture
def venue(api: Api) -> Venue:
    return Venue(api)


def cash(amount: int) -> list[dict[str, Any]]:
    return [{"kind": "cash", "amount_minor": amount, "currency": "EUR"}]


def test_credit_exit_waits_for_the_tab(venue: Venue) -> None:
    w = venue.api.world
    venue.sell(venue.credit, "CR1", 1500)
    assert venue.tap("in", "CR1")["reason"] == "welcome"
    venue.buy("CR1", w.beer_id)
    denied = venue.tap("out", "CR1")
    assert (denied["allowed"], denied["reason"]) == (False, "unpaid-goods")
    failed = venue.api.get("/access-events?denied_only=true").json()[0]
    assert failed["tab_ids"] == denied["tab_ids"]  # the till opens this order directly
    venue.settle("CR1", cash(450))
    out = venue.tap("out", "CR1")
    assert (out["allowed"], out["unbound"]) == (True, True)
    w.assert_ledger_clean()


def test_prepaid_exit_waits_for_the_value_and_the_deposit_comes_back_at_the_till(venue: Venue) -> None:
    w = venue.api.world
    venue.sell(venue.prepaid, "PP1", 1500 + 300 + 2000, initial_load={"amount_minor": 2000, "currency": "EUR"})
    venue.tap("in", "PP1")
    venue.buy("PP1", w.beer_id)
    assert venue.tap("out", "PP1")["reason"] == "prepaid-value-left"
    paid = venue.settle("PP1", [{"kind": "prepaid", "amount_minor": 450, "currency": "EUR"}], pay_out_leftover=True)
    assert paid["refunded_minor"] == 1550
    assert venue.tap("out", "PP1")["unbound"]  # a turnstile: the visitor keeps the wristband and its deposit
    back = venue.api.post("/media/PP1/return", {})
    assert back.json()["deposit_refunded_minor"] == 300
    w.assert_ledger_clean()


def test_collector_takes_the_wristband_and_gives_the_deposit_back(venue: Venue) -> None:
    venue.sell(venue.prepaid, "PP2", 1800)
    venue.tap("in", "PP2")
    assert venue.tap("collector", "PP2")["unbound"]
    assert venue.api.post("/media/PP2/return", {}).status_code == 409  # nothing left to give back
    venue.api.world.assert_ledger_clean()


def test_shared_party_of_three_with_debts_on_two(venue: Venue) -> None:
    w = venue.api.world
    venue.sell(venue.shared, "SH1", 4000, companions=["SH2", "SH3"])
    for uid in ("SH1", "SH2", "SH3"):
        venue.tap("in", uid)
    venue.buy("SH2", w.beer_id)
    venue.buy("SH3", w.fries_id)
    tab = venue.api.get("/media/SH1/tab").json()
    assert sorted((d["medium_uid"], d["open_total_minor"]) for d in tab["party_debts"]) == [("SH2", 450), ("SH3", 320)]
    assert venue.tap("out", "SH2")["reason"] == "unpaid-goods"
    receipt = venue.settle("SH1", cash(1000), include_party=True)  # pay all on one receipt
    assert (receipt["total_minor"], receipt["change_minor"]) == (770, 230)
    main_out = venue.tap("out", "SH1")
    assert (main_out["allowed"], main_out["unbound"]) == (True, False)  # main stays bound
    assert venue.tap("out", "SH2")["unbound"]
    assert venue.tap("out", "SH3")["unbound"]
    assert venue.api.get("/media/SH1/tab").status_code == 409  # the last companion out released the main medium
    w.assert_ledger_clean()


def test_separate_party_every_medium_on_its_own(venue: Venue) -> None:
    w = venue.api.world
    venue.sell(venue.separate, "SE1", 4000, companions=["SE2", "SE3"])
    for uid in ("SE1", "SE2", "SE3"):
        venue.tap("in", uid)
    venue.buy("SE3", w.beer_id)
    assert venue.api.get("/media/SE1/tab").json()["party_debts"] == []  # no pay-all offer
    assert venue.tap("out", "SE1")["unbound"]
    assert venue.tap("out", "SE3")["reason"] == "unpaid-goods"
    venue.settle("SE3", cash(450))
    assert venue.tap("out", "SE3")["unbound"]
    assert venue.tap("out", "SE2")["unbound"]


def test_one_customer_two_credit_entries(venue: Venue) -> None:
    """seed 001 media 234 and 789: separate tabs, each with its own credit (debt kept on the wristbands)."""
    w = venue.api.world
    olga = create_customer(w.uow, w.venue_id, name="Olga Ordinarie")
    from tapzone.store.tables import venues as venues_table

    with w.uow.engine.begin() as conn:
        conn.execute(venues_table.update().values(member_debt_on_medium=True))
    venue.sell(venue.credit, "234", 1500, customer_id=olga)
    venue.sell(venue.credit, "789", 1500, customer_id=olga)
    assert venue.buy("234", w.towel_id, 2).json()["available_minor"] == 600
    assert venue.buy("789", w.towel_id, 2).json()["available_minor"] == 600
    assert venue.buy("234", w.towel_id).status_code == 409  # 234's own limit, whatever 789 has left


def test_overstay_then_exit(venue: Venue) -> None:
    clock = venue.api.client.app.state.services.uow.clock  # type: ignore[attr-defined]
    venue.sell(venue.credit, "OV1", 1500)
    venue.tap("phone", "OV1")  # a mobile operator on a two-way passage: entry
    clock.advance(timedelta(minutes=151))  # 31 minutes over 2 hours: two started blocks
    denied = venue.tap("phone", "OV1")
    assert (denied["passage"], denied["reason"]) == ("exit", "overstay-unpaid")
    assert venue.api.get("/media/OV1/tab").json()["open_total_minor"] == 800
    venue.settle("OV1", cash(800))
    assert venue.tap("phone", "OV1")["allowed"]


def test_lost_medium(venue: Venue) -> None:
    w = venue.api.world
    venue.sell(venue.prepaid, "LO1", 1800)
    venue.tap("in", "LO1")
    assert venue.api.post("/media/LO1/lost", {"reason": "lost in the wave pool"}, login="mo").status_code == 200
    assert venue.tap("out", "LO1")["reason"] == "medium-lost"
    assert venue.api.get("/media/LO1/tab").status_code == 409
    w.assert_ledger_clean()


def test_two_gates_at_the_same_instant_let_one_exit_through(venue: Venue) -> None:
    venue.sell(venue.credit, "TW1", 1500)
    venue.tap("in", "TW1")
    barrier = threading.Barrier(2)
    decisions: list[dict[str, Any]] = []

    def at(gate: str) -> None:
        barrier.wait()
        decisions.append(venue.tap(gate, "TW1"))

    threads = [threading.Thread(target=at, args=(gate,)) for gate in ("out", "collector")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(decision["allowed"] for decision in decisions) == [False, True]
