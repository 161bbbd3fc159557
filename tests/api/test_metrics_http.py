"""/metrics: latency per route template, bookings by entry code equal to the ledger, denials by reason, and
who may scrape."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tapzone.access.model import Direction
from tapzone.access.mqtt_bridge import TOPIC_ROOT, GateBridge, tap_topic
from tapzone.access.setup import add_gate, create_zone
from tapzone.api.app import create_app
from tapzone.api.metrics import TOKEN_ENV, Metrics, watch_unit_of_work
from tapzone.plans.setup import add_resource
from tapzone.store.tables import journal_entries
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tapzone.venues.setup import create_product
from tests.api.conftest import Api, assert_problem
from tests.world import World

TOKEN = "scrape-" + uuid.uuid4().hex
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def _scrape_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # autouse: set before the `api` fixture builds the app, which reads the token once.
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def scrape(api: Api) -> Samples:
    response = api.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def entries_by_code(api: Api) -> Counter[str]:
    with api.world.uow.engine.connect() as conn:
        rows = conn.execute(sa.select(journal_entries.c.code, sa.func.count()).group_by(journal_entries.c.code))
        return Counter({code: int(n) for code, n in rows})


def test_bookings_denials_and_latency_after_a_sale_and_a_denied_tap(api: Api) -> None:
    world = api.world
    zone = create_zone(world.uow, world.venue_id, name="Pools")
    gate = add_gate(
        world.uow, world.venue_id, name="In", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.IN
    )
    gate_headers = {"Authorization": f"Bearer {issue_device_token(world.uow, gate)}"}
    product = create_product(
        world.uow, world.venue_id, name="Sunbed", price_minor=100, vat_rate_bp=1900, product_group="tanning"
    )
    sunbed = add_resource(world.uow, world.venue_id, name="Sunbed 1", product_id=product, max_minutes=20)
    sunbed_headers = {"Authorization": f"Bearer {issue_device_token(world.uow, sunbed)}", "Idempotency-Key": "use-1"}
    before, ledger_before = scrape(api), entries_by_code(api)

    api.issue("M1", "prepaid", 5000)
    sale_body = {"items": [{"product_id": world.fries_id, "quantity": 2}]}
    assert api.post("/media/M1/sales", sale_body, key="sale-1").status_code == 201
    assert api.post("/media/M1/sales", sale_body, key="sale-1").status_code == 201  # replay: booked once
    assert_problem(
        api.post("/media/M1/sales", {"items": [{"product_id": world.towel_id, "quantity": 9}]}),
        409,
        "insufficient-balance",
    )
    tap = {"tap_id": "t-1", "medium_uid": "NOBODY"}
    for _ in range(2):  # the gate's retry of one tap id replays the stored decision
        denied = api.client.post(f"/api/v1/gates/{gate}/taps", json=tap, headers=gate_headers)
        assert (denied.status_code, denied.json()["reason"]) == (200, "unknown-medium")
    session = api.client.post(
        f"/api/v1/resources/{sunbed}/sessions", json={"medium_uid": "M1", "minutes": 10}, headers=sunbed_headers
    )
    assert (session.status_code, session.json()["reason"]) == (200, "no-tariff")
    after, ledger_after = scrape(api), entries_by_code(api)

    booked = ledger_after - ledger_before
    assert booked["sale"] == 1 and booked["topup"] == 1, booked
    for code in {*booked, "sale", "refund"}:  # every code the ledger grew by, and one it did not
        counted = value(after, "tapzone_bookings_total", code=code) - value(before, "tapzone_bookings_total", code=code)
        assert counted == booked[code], code
    assert (
        value(after, "tapzone_gate_denials_total", reason="unknown-medium")
        - value(before, "tapzone_gate_denials_total", reason="unknown-medium")
        == 1
    )
    assert value(after, "tapzone_resource_denials_total", reason="no-tariff") == 1

    sales = {"route": "/api/v1/media/{uid}/sales", "method": "POST"}
    histogram = "tapzone_http_request_duration_seconds"
    assert value(after, f"{histogram}_count", **sales, status_class="2xx") == 2
    assert value(after, f"{histogram}_bucket", **sales, status_class="2xx", le="+Inf") == 2
    assert value(after, f"{histogram}_bucket", **sales, status_class="4xx", le="10.0") == 1
    taps = {"route": "/api/v1/gates/{gate_id}/taps", "method": "POST", "status_class": "2xx"}
    assert value(after, f"{histogram}_count", **taps) == 2
    routes = {dict(labels).get("route") for name, labels in after if name.startswith(histogram)}
    assert not any("M1" in str(route) or str(gate) in str(route) for route in routes), routes  # templates only


def test_unknown_paths_share_one_label(api: Api) -> None:
    for n in range(3):
        assert api.client.get(f"/no/such/page/{n}").status_code == 404
    samples = scrape(api)
    assert (
        value(
            samples,
            "tapzone_http_request_duration_seconds_count",
            route="<unmatched>",
            method="GET",
            status_class="4xx",
        )
        == 3
    )


def test_metrics_need_the_token_or_a_direct_loopback_client(
    api: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_problem(api.client.get("/metrics"), 401, "unauthenticated")
    assert_problem(api.client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "unauthenticated")
    monkeypatch.delenv(TOKEN_ENV)
    local_app = create_app(db_url)
    with TestClient(local_app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
        # A reverse proxy on the same host connects from loopback too: what it forwards is not local.
        assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    with TestClient(create_app(db_url), client=("192.0.2.7", 40000)) as remote:
        assert remote.get("/metrics").status_code == 401


def test_the_gate_bridge_counts_its_denials_after_commit(world: World) -> None:
    """The MQTT path decides with the same use case in its own process; `gate-bridge --metrics-port` serves
    these counters."""
    zone = create_zone(world.uow, world.venue_id, name="Pools")
    gate = add_gate(
        world.uow, world.venue_id, name="In", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.IN
    )
    metrics = Metrics()
    watch_unit_of_work(world.uow, metrics)
    bridge = GateBridge(world.uow, world.venue_id)
    topic = tap_topic(TOPIC_ROOT, world.venue_id, gate)
    for _ in range(2):  # QoS 1 redelivers: the stored decision is replayed, the denial counted once
        decision = bridge.decide(topic, json.dumps({"tap_id": "mq-1", "medium_uid": "NOBODY"}).encode())
        assert decision is not None and decision.reason == "unknown-medium"
    samples = {
        (s.name, s.labels.get("reason")): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }
    assert samples[("tapzone_gate_denials_total", "unknown-medium")] == 1
