"""Offline gates over HTTP: a gate controller talking to the real API (list, taps, upload, status), an outage
cut at the transport, the replay, the gap refusal and the one-gate-one-token rule."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tapzone.access.gate_controller import GateController, HttpGateServer, ServerUnavailable, Transport
from tapzone.access.gate_journal import GateJournal
from tapzone.access.model import Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.clock import FixedClock
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.store.tables import media
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tests.api.conftest import Api, assert_problem


class Cable:
    """The network between a gate and the API; unplug it to cut the gate off."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token, self.plugged = client, token, True

    def send(self, method: str, path: str, body: dict[str, Any] | None, timeout_s: float) -> tuple[int, Any]:
        if not self.plugged:
            raise ServerUnavailable("no route to host")
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        response = self.client.request(method, f"/api/v1{path}", json=body, headers=headers)
        return response.status_code, response.json()


@pytest.fixture
def gates(api: Api) -> dict[str, Any]:
    w = api.world
    zone = create_zone(w.uow, w.venue_id, name="Pools")
    entrance = add_gate(w.uow, w.venue_id, name="In", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.IN)
    exit_gate = add_gate(
        w.uow, w.venue_id, name="Out", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.OUT
    )
    product = create_entry_product(
        w.uow,
        w.venue_id,
        name="Day",
        price_minor=1500,
        vat_rate_bp=700,
        zone_id=zone,
        credit_type=CreditType.CREDIT,
        credit_limit_minor=3000,
    )
    return {
        "entrance": entrance,
        "exit": exit_gate,
        "product": product,
        "entrance_token": issue_device_token(w.uow, entrance),
        "exit_token": issue_device_token(w.uow, exit_gate),
    }


def sell(api: Api, gates: dict[str, Any], uid: str) -> None:
    body = {
        "entry_product_id": gates["product"],
        "medium_uid": uid,
        "tenders": [{"kind": "cash", "amount_minor": 1500, "currency": "EUR"}],
    }
    response = api.post("/entries", body)
    assert response.status_code == 201, response.text


def controller(
    api: Api, gates: dict[str, Any], gate: str, clock: FixedClock, tmp: Path
) -> tuple[GateController, Cable]:
    cable = Cable(api.client, gates[f"{gate}_token"])
    send: Transport = cable.send
    journal = GateJournal(tmp / f"{gate}.sqlite")
    return GateController(HttpGateServer(gates[gate], send), journal, clock), cable


def test_outage_over_http(api: Api, gates: dict[str, Any], api_clock: FixedClock, tmp_path: Path) -> None:
    w = api.world
    for uid in ("H-OK", "H-OWES"):
        sell(api, gates, uid)
    entrance, _ = controller(api, gates, "entrance", api_clock, tmp_path)
    exit_gate, cable = controller(api, gates, "exit", api_clock, tmp_path)
    for uid in ("H-OK", "H-OWES"):
        answer = entrance.tap(uid)
        assert (answer.allowed, answer.offline) == (True, False)
    save_items(w.uow, w.ctx(), medium_uid="H-OWES", items=[Item(w.beer_id)])
    exit_gate.tick()  # the whole list
    assert exit_gate.journal.entry_count() == 2

    cable.plugged = False
    api_clock.advance(timedelta(minutes=5))
    owes = exit_gate.tap("H-OWES")
    ok = exit_gate.tap("H-OK")
    assert (owes.allowed, owes.reason, owes.offline) == (False, "unpaid-goods", True)
    assert (ok.allowed, ok.reason, ok.offline, ok.seq) == (True, "goodbye", True, 2)
    assert ok.display_text == "Auf Wiedersehen"  # the venue's language, kept with the list
    api_clock.advance(timedelta(minutes=10))
    exit_gate.tick()  # still down: stays offline, nothing lost
    assert not exit_gate.online
    assert exit_gate.journal.pending_count() == 2

    cable.plugged = True
    api_clock.advance(timedelta(seconds=30))
    exit_gate.tick()
    assert exit_gate.online
    assert exit_gate.journal.pending_count() == 0
    assert exit_gate.stats.uploaded == 2

    feed = api.get("/access-events?limit=10", login="mo").json()
    offline = [event for event in feed if event["offline"]]
    assert [(e["medium_uid"], e["allowed"], e["gate_seq"]) for e in offline] == [
        ("H-OK", True, 2),
        ("H-OWES", False, 1),
    ]
    assert {e["recorded_at"][:16] for e in offline} == {"2026-07-04T10:05"}  # the gate's time, not the upload's
    with w.uow.engine.connect() as conn:
        states = dict(
            conn.execute(sa.select(media.c.uid, media.c.state).where(media.c.uid.in_(["H-OK", "H-OWES"]))).all()
        )
    assert states == {"H-OK": "returned", "H-OWES": "active"}  # unbound at its offline exit; the debtor stays bound

    status = cable.send("GET", f"/gates/{gates['exit']}/offline-events", None, 5)
    assert status == (200, {"gate_id": gates["exit"], "applied_through": 2})


def test_a_gap_is_refused_whole_and_a_gate_only_speaks_for_itself(api: Api, gates: dict[str, Any]) -> None:
    sell(api, gates, "G-1")
    event = {
        "seq": 2,
        "tap_id": uuid.uuid4().hex,
        "medium_uid": "G-1",
        "allowed": True,
        "reason": "welcome",
        "passage": "entry",
        "occurred_at": "2026-07-04T09:00:00+00:00",
    }
    headers = {"Authorization": f"Bearer {gates['entrance_token']}", "Content-Type": "application/json"}
    path = f"/api/v1/gates/{gates['entrance']}/offline-events"
    gap = api.client.post(path, json={"events": [event]}, headers=headers)
    assert "expected sequence number 1" in assert_problem(gap, 409, "offline-sequence-gap")["detail"]

    applied = api.client.post(path, json={"events": [{**event, "seq": 1}]}, headers=headers)
    assert applied.status_code == 200, applied.text
    assert applied.json()["results"] == [{"seq": 1, "tap_id": event["tap_id"], "status": "applied", "flag": None}]
    again = api.client.post(path, json={"events": [{**event, "seq": 1}]}, headers=headers)
    assert again.json()["results"][0]["status"] == "already-applied"
    reused = api.client.post(path, json={"events": [{**event, "seq": 1, "tap_id": "other"}]}, headers=headers)
    assert "already applied" in assert_problem(reused, 409, "offline-sequence-gap")["detail"]

    other = f"/api/v1/gates/{gates['exit']}/offline-list"
    assert_problem(api.client.get(other, headers=headers), 403, "permission-denied")
    till = {"Authorization": f"Bearer {api.till_token}"}
    assert_problem(
        api.client.get(f"/api/v1/gates/{api.world.till_id}/offline-list", headers=till), 403, "permission-denied"
    )
