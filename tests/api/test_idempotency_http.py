"""Idempotency-Key over HTTP: replay, key reuse with another body, and a twin still in flight."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.store import idempotency
from tests.api.conftest import Api, assert_problem


def test_replay_returns_the_stored_response(api: Api) -> None:
    api.issue("ID1", "prepaid", 1000)
    before = api.world.counts()
    first = api.post("/media/ID1/top-ups", {"amount": api.eur(250)}, key="replay-1")
    again = [api.post("/media/ID1/top-ups", {"amount": api.eur(250)}, key="replay-1") for _ in range(3)]
    assert first.status_code == 201
    assert all(response.json() == first.json() for response in again)
    assert api.world.counts() == (before[0] + 1, before[1] + 2)


def test_same_key_with_another_body_is_refused(api: Api) -> None:
    api.issue("ID2", "prepaid", 1000)
    api.post("/media/ID2/top-ups", {"amount": api.eur(250)}, key="reuse-1")
    before = api.world.counts()
    response = api.post("/media/ID2/top-ups", {"amount": api.eur(251)}, key="reuse-1")
    assert_problem(response, 422, "idempotency-key-reused")
    assert api.world.counts() == before


def test_twin_in_flight_in_this_process_gets_409(api: Api) -> None:
    api.issue("ID3", "prepaid", 1000)
    slot = (api.client.app.state.services.uow.engine_key, api.world.venue_id, api.world.till_id, "busy-1")  # type: ignore[attr-defined]
    with idempotency._running_guard:
        idempotency._running[slot] = __import__("threading").Event()
    try:
        before = api.world.counts()
        response = api.post("/media/ID3/top-ups", {"amount": api.eur(100)}, key="busy-1")
        assert_problem(response, 409, "request-in-flight")
        assert api.world.counts() == before
    finally:
        with idempotency._running_guard:
            del idempotency._running[slot]
    # Once the first one is done the key works normally.
    assert api.post("/media/ID3/top-ups", {"amount": api.eur(100)}, key="busy-1").status_code == 201


def test_twin_in_flight_in_another_process_gets_409_on_postgres(api: Api) -> None:
    engine = api.world.uow.engine
    if engine.dialect.name != "postgresql":
        # SQLite serialises writers with BEGIN IMMEDIATE: a twin from another process waits and replays.
        return
    api.issue("ID4", "prepaid", 1000)
    ctx = RequestContext(api.world.venue_id, api.world.till_id, api.world.cashier_id, "busy-2")
    with engine.connect() as holder:  # stands in for another API process still running the first request
        holder.execute(sa.select(sa.func.pg_advisory_lock(idempotency._advisory_key(ctx))))
        response = api.post("/media/ID4/top-ups", {"amount": api.eur(100)}, key="busy-2")
        assert_problem(response, 409, "request-in-flight")
        holder.execute(sa.select(sa.func.pg_advisory_unlock(idempotency._advisory_key(ctx))))
        holder.commit()
    assert api.post("/media/ID4/top-ups", {"amount": api.eur(100)}, key="busy-2").status_code == 201


def test_keys_belong_to_the_device(api: Api) -> None:
    api.issue("ID5", "prepaid", 1000)
    first = api.post("/media/ID5/top-ups", {"amount": api.eur(100)}, key="same")
    assert first.status_code == 201
    # Till 2 has its own key space: the same key there is a new request, not a replay of till 1's.
    session = api.client.post(
        "/api/v1/sessions",
        json={"login": "kim", "password": "correct horse battery"},
        headers={"Authorization": f"Bearer {api.till2_token}"},
    ).json()["session_token"]
    headers = {**api.headers(None, key="same", till_token=api.till2_token), "X-Staff-Session": session}
    second = api.client.post("/api/v1/media/ID5/top-ups", json={"amount": api.eur(100)}, headers=headers)
    assert second.status_code == 201
    assert second.json()["entry_id"] != first.json()["entry_id"]
