"""Payouts over HTTP: who may do what, problem types, idempotent replay and the SEPA file as served."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from tapzone.payouts.sepa import NAMESPACE
from tests.api.conftest import Api, assert_problem
from tests.sepa_schema import pain001_errors

NS = {"p": NAMESPACE}
BANK = {"method": "bank", "account_holder": "Jürgen Groß", "iban": "DE89 3704 0044 0532 0130 00"}
DEBTOR = {"debtor_name": "Aquapark Test GmbH", "debtor_iban": "DE02120300000000202051"}


def bank_payout(api: Api, uid: str, **extra: Any) -> dict[str, Any]:
    response = api.post(f"/media/{uid}/payouts", {**BANK, **extra}, login="mo")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_bank_payout_export_and_file_over_http(api: Api) -> None:
    api.issue("HB1", amount=5000)
    api.issue("HB2", amount=3000)
    first = bank_payout(api, "HB1", amount=api.eur(1250))
    assert (first["state"], first["amount_minor"], first["balance_minor"]) == ("requested", 1250, 3750)
    assert (first["iban"], first["bic"]) == ("DE89370400440532013000", "COBADEFFXXX")
    second = bank_payout(api, "HB2")
    assert second["amount_minor"] == 3000

    waiting = api.get("/payouts?state=requested", login="mo")
    assert waiting.status_code == 200, waiting.text
    assert [p["payout_id"] for p in waiting.json()["payouts"]] == [second["payout_id"], first["payout_id"]]

    assert_problem(api.post("/payout-batches", DEBTOR, login="kim"), 403, "permission-denied")
    exported = api.post("/payout-batches", DEBTOR, login="mo")
    assert exported.status_code == 201, exported.text
    batch = exported.json()
    assert (batch["count"], batch["total_minor"]) == (2, 4250)
    assert batch["payout_ids"] == [first["payout_id"], second["payout_id"]]

    document = api.get(f"/payout-batches/{batch['batch_id']}.xml", login="mo")
    assert document.status_code == 200, document.text
    assert document.headers["content-type"].startswith("application/xml")
    assert f'filename="{batch["message_id"]}.xml"' in document.headers["content-disposition"]
    assert pain001_errors(document.text) == []
    root = ET.fromstring(document.content)
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == batch["message_id"]
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "42.50"
    assert_problem(api.get(f"/payout-batches/{batch['batch_id']}.xml", login="kim"), 403, "permission-denied")

    assert_problem(api.post("/payout-batches", DEBTOR, login="mo"), 409, "nothing-to-export")
    late = api.post(f"/payouts/{first['payout_id']}/revoke", {"reason": "wrong account"}, login="mo")
    assert_problem(late, 409, "payout-not-revocable")

    paid = api.post(f"/payout-batches/{batch['batch_id']}/paid", {}, login="mo")
    assert paid.status_code == 200, paid.text
    assert paid.json()["paid_payout_ids"] == batch["payout_ids"]
    shown = api.get(f"/payout-batches/{batch['batch_id']}", login="mo")
    assert shown.json()["paid_payout_ids"] == batch["payout_ids"]
    api.world.assert_ledger_clean()


def test_revoke_before_export_over_http(api: Api) -> None:
    api.issue("HR1", amount=2000)
    payout = bank_payout(api, "HR1")
    assert_problem(
        api.post(f"/payouts/{payout['payout_id']}/revoke", {"reason": "x"}, login="kim"), 403, "permission-denied"
    )

    revoked = api.post(f"/payouts/{payout['payout_id']}/revoke", {"reason": "typo in the IBAN"}, login="mo")

    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["state"], revoked.json()["balance_minor"]) == ("revoked", 2000)
    assert_problem(
        api.post(f"/payouts/{payout['payout_id']}/revoke", {"reason": "again"}, login="mo"), 409, "payout-not-revocable"
    )
    assert_problem(api.post("/payouts/999999/revoke", {"reason": "none"}, login="mo"), 404, "not-found")
    api.world.assert_ledger_clean()


def test_cash_payout_by_the_cashier_with_its_receipt(api: Api) -> None:
    api.issue("HC1", amount=1800)
    response = api.post("/media/HC1/payouts", {"method": "cash"}, login="kim")
    assert response.status_code == 201, response.text
    payout = response.json()
    assert (payout["method"], payout["state"], payout["amount_minor"], payout["balance_minor"]) == (
        "cash",
        "paid",
        1800,
        0,
    )

    receipt = api.get(f"/receipts/{payout['receipt_id']}")
    assert receipt.status_code == 200, receipt.text
    assert (receipt.json()["kind"], receipt.json()["total_minor"]) == ("refund", 1800)
    assert_problem(api.get("/payouts", login="kim"), 403, "permission-denied")
    listed = api.get("/payouts?method=cash", login="mo").json()["payouts"]
    assert [(p["payout_id"], p["receipt_id"]) for p in listed] == [(payout["payout_id"], payout["receipt_id"])]
    api.world.assert_ledger_clean()


def test_a_cashier_cannot_order_a_bank_transfer(api: Api) -> None:
    api.issue("HP1", amount=1000)
    assert_problem(api.post("/media/HP1/payouts", BANK, login="kim"), 403, "permission-denied")


def test_bad_requests_are_refused_with_their_problem(api: Api) -> None:
    api.issue("HX1", amount=1000)
    bad_iban = api.post("/media/HX1/payouts", {**BANK, "iban": "DE89370400440532013001"}, login="mo")
    assert_problem(bad_iban, 422, "invalid-iban")
    assert_problem(api.post("/media/HX1/payouts", {**BANK, "bic": "COBADEF1X"}, login="mo"), 422, "invalid-bic")
    no_iban = {"method": "bank", "account_holder": "Ann Ek"}
    assert_problem(api.post("/media/HX1/payouts", no_iban, login="mo"), 422, "invalid-request")
    cash_with_iban = {"method": "cash", "iban": "DE89370400440532013000"}
    assert_problem(api.post("/media/HX1/payouts", cash_with_iban, login="kim"), 422, "invalid-request")
    string_amount = {**BANK, "amount": {"amount_minor": "10", "currency": "EUR"}}
    assert_problem(api.post("/media/HX1/payouts", string_amount, login="mo"), 422, "invalid-amount")
    too_much = api.post("/media/HX1/payouts", {**BANK, "amount": api.eur(1001)}, login="mo")
    assert_problem(too_much, 409, "insufficient-balance")
    assert_problem(
        api.post("/payout-batches", {**DEBTOR, "debtor_iban": "DE00370400440532013000"}, login="mo"),
        422,
        "invalid-iban",
    )
    assert_problem(api.get("/payout-batches/999999.xml", login="mo"), 404, "not-found")
    assert api.get("/payouts?state=lost", login="mo").status_code == 422
    api.world.assert_ledger_clean()


def test_a_replayed_payout_returns_the_first_answer(api: Api) -> None:
    api.issue("HI1", amount=3000)
    body = {**BANK, "amount": api.eur(1000)}
    first = api.post("/media/HI1/payouts", body, login="mo", key="payout-replay-1")
    assert first.status_code == 201, first.text
    counts = api.world.counts()

    again = api.post("/media/HI1/payouts", body, login="mo", key="payout-replay-1")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert api.world.counts() == counts
    other = api.post("/media/HI1/payouts", {**body, "amount": api.eur(999)}, login="mo", key="payout-replay-1")
    assert_problem(other, 422, "idempotency-key-reused")


def test_the_z_report_counts_payouts_as_value_paid_back(api: Api) -> None:
    """Cash and bank payouts pay prepaid value back like a refund; a payout revoked the same day does not count."""
    api.issue("HZ1", amount=1800)
    api.issue("HZ2", amount=500)
    api.issue("HZ3", amount=700)
    assert api.post("/media/HZ1/payouts", {"method": "cash"}, login="kim").status_code == 201
    revoked = bank_payout(api, "HZ2")
    assert api.post(f"/payouts/{revoked['payout_id']}/revoke", {"reason": "typo"}, login="mo").status_code == 200
    bank_payout(api, "HZ3")

    z = api.post("/z-reports", {}, login="mo")

    assert z.status_code == 201, z.text
    assert (z.json()["totals"]["refunds_minor"], z.json()["totals"]["topups_minor"]) == (1800 + 700, 1800 + 500 + 700)
    api.world.assert_ledger_clean()
