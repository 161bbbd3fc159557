"""Online top-ups and support corrections over HTTP (seed 004): pending until the provider confirms, credited
exactly once; forged confirmations refused; support resolves a top-up that never completed, and a late
confirmation afterwards credits nothing; corrections only by support, pointing to what they correct."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from tapzone.payments.online import ProviderStatus
from tapzone.store.tables import audit_log, journal_entries, online_topups, receipts
from tests.api.conftest import Api, assert_problem
from tests.api.portal_helpers import (
    add_support,
    money_balance,
    portal_get,
    scalar,
    session,
    set_pin,
    simulator,
    start_top_up,
    use_test_secret,
    webhook,
)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secret(monkeypatch)


def visitor(api: Api, uid: str, amount: int = 5000) -> str:
    api.issue(uid, "prepaid", amount)
    assert set_pin(api, uid).status_code == 201
    return session(api, uid)


def pending_top_up(api: Api, token: str, amount: int) -> dict[str, Any]:
    started = start_top_up(api, token, amount)
    assert started.status_code == 201, started.text
    body: dict[str, Any] = started.json()
    assert body["state"] == "pending"
    return body


def entries(api: Api) -> int:
    return api.world.counts()[0]


def test_online_top_up_is_credited_once_when_the_provider_confirms(api: Api) -> None:
    token = visitor(api, "WEB-1", 5000)
    top_up = pending_top_up(api, token, 2000)
    assert top_up["redirect_url"].startswith("https://checkout.simulator.invalid/pay/")
    assert "aquapark.example" in top_up["redirect_url"]
    booked_before = entries(api)
    assert money_balance(api, token) == 5000  # nothing is credited before the provider confirms
    assert portal_get(api, "/balance", token).json()["pending_top_ups_minor"] == 2000

    confirmed = webhook(api, top_up["provider_reference"], 2000)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "credited"
    assert money_balance(api, token) == 7000
    assert entries(api) == booked_before + 1
    receipt_id = confirmed.json()["receipt_id"]
    receipt = portal_get(api, f"/receipts/{receipt_id}", token).json()
    assert (receipt["kind"], receipt["total_minor"], receipt["balance_after_minor"]) == ("topup", 2000, 7000)
    assert receipt["tenders"][0]["cashless"] is True
    history = portal_get(api, "/history", token).json()["lines"]
    assert (history[0]["code"], history[0]["amount"]) == ("topup", 2000)

    repeated = webhook(api, top_up["provider_reference"], 2000)  # providers retry until they get a 2xx
    assert repeated.status_code == 200
    assert (repeated.json()["state"], repeated.json()["entry_id"]) == ("credited", confirmed.json()["entry_id"])
    assert money_balance(api, token) == 7000
    assert entries(api) == booked_before + 1
    listed = portal_get(api, "/top-ups", token).json()
    assert [(t["state"], t["amount_minor"]) for t in listed] == [("credited", 2000)]
    api.world.assert_ledger_clean()


def test_a_forged_or_tampered_confirmation_is_refused(api: Api) -> None:
    token = visitor(api, "WEB-2")
    top_up = pending_top_up(api, token, 1000)
    forged = webhook(api, top_up["provider_reference"], 1000, signature="0" * 64)
    assert_problem(forged, 403, "invalid-signature")
    # A body changed after signing (a bigger amount) no longer matches its signature.
    payload = json.dumps(
        {"payment_id": top_up["provider_reference"], "status": "paid", "amount_minor": 1000, "currency": "EUR"},
        separators=(",", ":"),
    )
    _, signature = simulator().signed_confirmation(top_up["provider_reference"], 1000, "EUR")
    tampered = api.client.post(
        "/api/v1/payment-providers/simulator/webhooks",
        content=payload.replace("1000", "9000").encode(),
        headers={"X-Simulator-Signature": signature},
    )
    assert_problem(tampered, 403, "invalid-signature")
    assert_problem(webhook(api, "sim_unknown", 1000), 404, "not-found")
    assert_problem(api.client.post("/api/v1/payment-providers/nobody/webhooks", content=b"{}"), 404, "not-found")
    assert money_balance(api, token) == 5000
    state = scalar(api, sa.select(online_topups.c.state).where(online_topups.c.id == top_up["online_top_up_id"]))
    assert state == "pending"
    api.world.assert_ledger_clean()


def test_a_failed_payment_and_a_payment_of_another_amount_credit_nothing(api: Api) -> None:
    token = visitor(api, "WEB-3")
    failed = pending_top_up(api, token, 1000)
    answer = webhook(api, failed["provider_reference"], 0, ProviderStatus.FAILED)
    assert answer.json()["state"] == "failed"
    assert webhook(api, failed["provider_reference"], 1000).json()["state"] == "failed"  # late success: no credit

    odd = pending_top_up(api, token, 1500)
    held = webhook(api, odd["provider_reference"], 150)
    assert held.status_code == 200
    assert held.json()["state"] == "pending" and "left for support" in held.json()["detail"]
    assert money_balance(api, token) == 5000
    api.world.assert_ledger_clean()


def test_starting_a_top_up_is_idempotent_by_key(api: Api) -> None:
    token = visitor(api, "WEB-4")
    first = start_top_up(api, token, 1200, key="web-4-key")
    again = start_top_up(api, token, 1200, key="web-4-key")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert_problem(start_top_up(api, token, 1300, key="web-4-key"), 422, "idempotency-key-reused")
    assert scalar(api, sa.select(sa.func.count()).select_from(online_topups)) == 1
    no_key = api.client.post(
        "/api/v1/portal/top-ups",
        json={"amount": {"amount_minor": 100, "currency": "EUR"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_problem(no_key, 428, "idempotency-key-required")
    assert_problem(start_top_up(api, token, 0), 422, "invalid-amount")


def test_a_credit_card_account_cannot_be_topped_up_online(api: Api) -> None:
    api.issue("WEB-CREDIT", "credit", 10_000)
    assert set_pin(api, "WEB-CREDIT").status_code == 201
    token = session(api, "WEB-CREDIT")
    assert_problem(start_top_up(api, token, 1000), 409, "wrong-credit-type")


def test_late_provider_confirmation_after_support_resolution_credits_nothing(api: Api) -> None:
    """seed 004: the top-up never arrived; the guest calls support with the card number and the value, support
    finds the provider's transaction and corrects the open transaction; then the provider's confirmation
    turns up after all."""
    add_support(api)
    token = visitor(api, "WEB-LATE", 5000)
    top_up = pending_top_up(api, token, 3000)
    resolution = {
        "provider_transaction": top_up["provider_reference"],
        "correction": {"amount_minor": 3000, "currency": "EUR"},
        "reason": "guest called: paid online, value never arrived; provider shows the payment",
    }
    path = f"/online-top-ups/{top_up['online_top_up_id']}/resolution"
    assert_problem(api.post(path, resolution, login="kim"), 403, "permission-denied")
    assert_problem(api.post(path, resolution, login="mo"), 403, "permission-denied")

    found = api.get("/online-top-ups?state=pending&medium_uid=WEB-LATE", login="sue")
    assert [t["online_top_up_id"] for t in found.json()] == [top_up["online_top_up_id"]]
    booked_before = entries(api)
    resolved = api.post(path, resolution, login="sue")
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["state"] == "resolved" and "30.00 EUR credited" in body["resolution"]
    assert money_balance(api, token) == 8000
    assert entries(api) == booked_before + 1
    code = scalar(api, sa.select(journal_entries.c.code).where(journal_entries.c.id == body["entry_id"]))
    assert code == "correction"
    resolved_by = scalar(
        api, sa.select(online_topups.c.resolved_by).where(online_topups.c.id == top_up["online_top_up_id"])
    )
    assert resolved_by is not None
    audited = scalar(api, sa.select(sa.func.count()).where(audit_log.c.action == "online_top_up.resolve"))
    assert audited == 1

    late = webhook(api, top_up["provider_reference"], 3000)
    assert late.status_code == 200, late.text
    assert late.json()["state"] == "resolved"
    assert "nothing changed" in late.json()["detail"]
    assert money_balance(api, token) == 8000  # credited once, by support
    assert entries(api) == booked_before + 1
    assert (
        scalar(api, sa.select(sa.func.count()).select_from(receipts).where(receipts.c.entry_id == body["entry_id"]))
        == 0
    )
    assert_problem(api.post(path, resolution, login="sue"), 409, "conflict")  # closed: no second resolution
    api.world.assert_ledger_clean()


def test_support_resolves_with_nothing_arrived(api: Api) -> None:
    add_support(api)
    token = visitor(api, "WEB-ZERO", 5000)
    top_up = pending_top_up(api, token, 2500)
    resolution = {
        "provider_transaction": "PSP-778812",
        "correction": {"amount_minor": 0, "currency": "EUR"},
        "reason": "provider shows the payment as abandoned",
    }
    resolved = api.post(f"/online-top-ups/{top_up['online_top_up_id']}/resolution", resolution, login="sue")
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["state"], resolved.json()["entry_id"]) == ("resolved", None)
    assert webhook(api, top_up["provider_reference"], 2500).json()["state"] == "resolved"
    assert money_balance(api, token) == 5000
    api.world.assert_ledger_clean()


def test_corrections_only_by_support_with_a_reason_pointing_to_what_they_correct(api: Api) -> None:
    add_support(api)
    issued = api.issue("CORR-1", "prepaid", 5000).json()
    topup_entry = issued["topup_entry_id"]
    correction = {
        "medium_uid": "CORR-1",
        "amount_minor": -1500,
        "currency": "EUR",
        "reason": "loaded 50.00 instead of 35.00 by mistake",
        "corrects_entry_id": topup_entry,
    }
    assert_problem(api.post("/corrections", correction, login="kim"), 403, "permission-denied")
    assert_problem(api.post("/corrections", correction, login="mo"), 403, "permission-denied")
    assert_problem(api.post("/corrections", {**correction, "reason": ""}, login="sue"), 422, "invalid-request")
    assert_problem(api.post("/corrections", {**correction, "amount_minor": 0}, login="sue"), 422, "invalid-amount")
    assert_problem(api.post("/corrections", {**correction, "amount_minor": "-15"}, login="sue"), 422, "invalid-amount")
    assert_problem(
        api.post("/corrections", {**correction, "amount_minor": -6000}, login="sue"), 409, "insufficient-balance"
    )
    assert_problem(api.post("/corrections", {**correction, "corrects_entry_id": 99999}, login="sue"), 404, "not-found")

    booked = api.post("/corrections", correction, login="sue")
    assert booked.status_code == 201, booked.text
    body = booked.json()
    assert (body["amount_minor"], body["balance_minor"], body["corrects_entry_id"]) == (-1500, 3500, topup_entry)
    with api.world.uow.engine.connect() as conn:
        entry = conn.execute(sa.select(journal_entries).where(journal_entries.c.id == body["entry_id"])).one()
        audit = conn.execute(sa.select(audit_log).where(audit_log.c.action == "balance.correct")).one()
    assert (entry.code, entry.corrects_entry_id) == ("correction", topup_entry)
    assert json.loads(audit.details)["reason"] == "loaded 50.00 instead of 35.00 by mistake"
    assert audit.subject == f"card-account:{body['card_account_id']}"

    by_account = api.post(
        "/corrections",
        {"card_account_id": body["card_account_id"], "amount_minor": 250, "currency": "EUR", "reason": "goodwill"},
        login="sue",
    )
    assert by_account.status_code == 201, by_account.text
    assert by_account.json()["balance_minor"] == 3750
    api.world.assert_ledger_clean()
