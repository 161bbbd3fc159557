"""seed 003 over HTTP: card payments through standalone, simulated and ZVT terminals; nothing is booked and no
receipt issued before the money is approved; shifts, the Z report and the receipts' three renderings."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tapzone.payments.zvt.simulator import ZvtSimulator
from tapzone.store.tables import account_balances, ledger_accounts, payments, receipts
from tests.api.conftest import Api, assert_problem


def counts(api: Api) -> tuple[int, int, int]:
    entries, _ = api.world.counts()
    with api.world.uow.engine.connect() as conn:
        receipt_count = conn.execute(sa.select(sa.func.count()).select_from(receipts)).scalar_one()
        payment_count = conn.execute(sa.select(sa.func.count()).select_from(payments)).scalar_one()
    return entries, int(receipt_count), int(payment_count)


def terminal(api: Api, name: str, kind: str, *, till: int | None = None, default: bool = True, **extra: Any) -> None:
    body = {"name": name, "kind": kind, "is_default": default, **extra}
    response = api.post(f"/tills/{till or api.world.till_id}/terminals", body, login="ada")
    assert response.status_code == 201, response.text


def tab_with_beer(api: Api, uid: str, quantity: int = 2) -> None:
    api.issue(uid, "credit", 10_000)
    saved = api.post(f"/media/{uid}/tab/lines", {"items": [{"product_id": api.world.beer_id, "quantity": quantity}]})
    assert saved.status_code == 201, saved.text


def settle_by_card(api: Api, uid: str, amount: int, provider: str | None = None) -> Any:
    tender: dict[str, Any] = {"kind": "card", "amount_minor": amount, "currency": "EUR"}
    if provider:
        tender["provider"] = provider
    return api.post(f"/media/{uid}/tab/settlements", {"tenders": [tender]})


def test_standalone_terminal_receipt_only_after_confirmation(api: Api) -> None:
    terminal(api, "counter terminal", "standalone")
    tab_with_beer(api, "SA-1")
    before = counts(api)

    pending = settle_by_card(api, "SA-1", 900)
    assert pending.status_code == 202, pending.text
    payment = pending.json()
    assert (payment["state"], payment["terminal_kind"], payment["amount_minor"]) == ("pending", "standalone", 900)
    assert payment["instruction"].startswith("9,00")  # the venue speaks German: the exact amount to key in
    assert "Terminal" in payment["instruction"]
    entries, receipt_count, payment_count = counts(api)
    assert (entries, receipt_count, payment_count) == (before[0], before[1], before[2] + 1)  # nothing booked
    retried = settle_by_card(api, "SA-1", 900)  # a new request for the same tab opens its own payment
    assert retried.status_code == 202

    wrong = api.post(f"/payments/{payment['payment_id']}/confirmation", {"approved_amount_minor": 1900})
    assert_problem(wrong, 409, "payment-amount-mismatch")
    assert counts(api)[:2] == before[:2]

    confirmed = api.post(
        f"/payments/{payment['payment_id']}/confirmation", {"approved_amount_minor": 900, "slip_number": "4711"}
    )
    assert confirmed.status_code == 201, confirmed.text
    settlement = confirmed.json()
    assert (settlement["card_minor"], settlement["total_minor"]) == (900, 900)
    (receipt_id,) = settlement["receipt_ids"]
    receipt = api.get(f"/receipts/{receipt_id}").json()
    assert receipt["kind"] == "settlement"
    assert receipt["tenders"] == [
        {
            "kind": "card",
            "amount_minor": 900,
            "provider": "counter terminal",
            "slip_number": "4711",
            "cashless": True,
        }
    ]
    assert receipt["fiscal"]["signature_counter"] > 0  # the de profile signs it
    again = api.post(f"/payments/{payment['payment_id']}/confirmation", {"approved_amount_minor": 900})
    assert again.status_code == 201 and again.json() == settlement  # a repeated confirmation books nothing
    assert api.get(f"/payments/{payment['payment_id']}").json()["state"] == "booked"
    # The second pending payment for the paid tab can no longer be booked.
    late = api.post(f"/payments/{retried.json()['payment_id']}/confirmation", {"approved_amount_minor": 900})
    assert_problem(late, 409, "nothing-to-settle")
    assert api.get(f"/payments/{retried.json()['payment_id']}").json()["state"] == "failed"
    api.world.assert_ledger_clean()


def test_declined_or_cancelled_standalone_payment_leaves_the_tab_unpaid(api: Api) -> None:
    terminal(api, "counter terminal", "standalone")
    tab_with_beer(api, "SA-2")
    first = settle_by_card(api, "SA-2", 900).json()
    declined = api.post(f"/payments/{first['payment_id']}/decline", {})
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert_problem(
        api.post(f"/payments/{first['payment_id']}/confirmation", {"approved_amount_minor": 900}), 409, "conflict"
    )
    second = settle_by_card(api, "SA-2", 900).json()
    assert api.post(f"/payments/{second['payment_id']}/cancel", {}).json()["state"] == "cancelled"
    assert api.get("/media/SA-2/tab").json()["open_total_minor"] == 900
    cash = api.post(
        "/media/SA-2/tab/settlements", {"tenders": [{"kind": "cash", "amount_minor": 1000, "currency": "EUR"}]}
    )
    assert cash.status_code == 201 and cash.json()["change_minor"] == 100


def test_bank_transfer_uses_the_same_confirmation(api: Api) -> None:
    terminal(api, "simulator-default", "simulator")
    terminal(api, "bank transfer", "none", default=False)
    tab_with_beer(api, "BT-1")
    pending = settle_by_card(api, "BT-1", 900, provider="bank transfer")
    assert pending.status_code == 202 and pending.json()["terminal_kind"] == "none"
    confirmed = api.post(f"/payments/{pending.json()['payment_id']}/confirmation", {"approved_amount_minor": 900})
    assert confirmed.status_code == 201, confirmed.text


def test_simulated_terminal_approves_declines_and_resolves_a_timeout(api: Api) -> None:
    tab_with_beer(api, "SIM-1")
    approved = settle_by_card(api, "SIM-1", 900)  # the world's tills have a simulated terminal by default
    assert approved.status_code == 201, approved.text

    api.issue("SIM-2", "prepaid", 100)
    declined = api.post("/media/SIM-2/top-ups", {"amount": api.eur(1013), "tender": "card"})  # ...13 declines
    assert_problem(declined, 402, "card-declined")
    assert api.get("/media/SIM-2/tab").json()["balance_minor"] == 100

    timed_out = api.post("/media/SIM-2/top-ups", {"amount": api.eur(1015), "tender": "card"})  # ...15 times out
    assert timed_out.status_code == 202, timed_out.text
    payment_id = timed_out.json()["payment_id"]
    assert api.get("/media/SIM-2/tab").json()["balance_minor"] == 100  # unknown: not booked
    resolved = api.post(f"/payments/{payment_id}/status-inquiry", {})
    assert resolved.status_code == 201, resolved.text
    assert resolved.json()["balance_minor"] == 1115
    assert api.get(f"/payments/{payment_id}").json()["state"] == "booked"

    reversed_ = api.post("/media/SIM-2/top-ups", {"amount": api.eur(2015), "tender": "card"}).json()
    undone = api.post(f"/payments/{reversed_['payment_id']}/reversal", {})
    assert undone.status_code == 200 and undone.json()["state"] == "reversed"
    assert api.get("/media/SIM-2/tab").json()["balance_minor"] == 1115
    api.world.assert_ledger_clean()


def test_integrated_zvt_terminal_against_the_simulator(api: Api) -> None:
    with ZvtSimulator() as simulator:
        host, port = simulator.address
        terminal(api, "zvt", "integrated-zvt", host=host, port=port)
        tab_with_beer(api, "ZVT-1")
        paid = settle_by_card(api, "ZVT-1", 900)
        assert paid.status_code == 201, paid.text
        receipt = api.get(f"/receipts/{paid.json()['receipt_ids'][0]}").json()
        assert receipt["tenders"][0]["provider"] == "zvt"
    api.world.assert_ledger_clean()


def test_a_till_without_terminal_refuses_card_tenders(api: Api) -> None:
    with api.world.uow.engine.begin() as conn:
        conn.execute(sa.text("update payment_terminals set active = false"))
    tab_with_beer(api, "NT-1")
    assert_problem(settle_by_card(api, "NT-1", 900), 409, "no-card-terminal")


def test_terminal_configuration_is_checked(api: Api) -> None:
    refused = api.post(f"/tills/{api.world.till_id}/terminals", {"name": "zvt", "kind": "integrated-zvt"}, login="ada")
    assert_problem(refused, 422, "invalid-request")
    cashier = api.post(f"/tills/{api.world.till_id}/terminals", {"name": "x", "kind": "standalone"})
    assert_problem(cashier, 403, "permission-denied")
    terminal(api, "counter", "standalone", default=False)
    listed = api.get(f"/tills/{api.world.till_id}/terminals").json()
    assert [(t["name"], t["is_default"]) for t in listed] == [("simulator", True), ("counter", False)]
    switched = api.client.put(
        f"/api/v1/tills/{api.world.till_id}/default-terminal", json={"name": "counter"}, headers=api.headers("ada")
    )
    assert switched.status_code == 200 and switched.json()["is_default"]


def test_shift_cash_movements_close_and_z_report_equal_the_ledger(api: Api) -> None:
    opened = api.post("/shifts", {"float_minor": 10_000})
    assert opened.status_code == 201, opened.text
    assert_problem(api.post("/shifts", {"float_minor": 0}), 409, "conflict")
    tab_with_beer(api, "Z-1")
    cash = {"kind": "cash", "amount_minor": 1000, "currency": "EUR"}
    assert api.post("/media/Z-1/tab/settlements", {"tenders": [cash]}).status_code == 201
    tab_with_beer(api, "Z-2", 1)
    assert settle_by_card(api, "Z-2", 450).status_code == 201
    out = api.post(
        "/shifts/current/cash-movements",
        {"direction": "out", "amount_minor": 5000, "reason": "to the safe"},
        login="mo",
    )
    assert out.status_code == 201 and out.json()["cash_in_drawer_minor"] == 10_000 + 900 - 5000
    closed = api.post("/shifts/current/close", {"denominations": {"2000": 2, "100": 18}})  # 58.00 counted, 59.00 due
    assert closed.status_code == 200, closed.text
    assert (closed.json()["counted_minor"], closed.json()["difference_minor"]) == (5800, -100)

    z = api.post("/z-reports", {}, login="mo")
    assert z.status_code == 201, z.text
    totals = z.json()["totals"]
    assert z.json()["number"] == 1
    assert totals["tenders"] == {"card:simulator": 450, "cash": 0}  # the drawer was emptied at close
    assert totals["by_code"]["shift-difference"] == 1
    assert [(line["rate_bp"], line["gross_minor"]) for line in totals["revenue_by_rate"]] == [(1900, 1350)]
    # Against the materialised balances, an independent source: revenue + VAT of the till's day bucket.
    with api.world.uow.engine.connect() as conn:
        bucket_sums = dict(
            conn.execute(
                sa.select(ledger_accounts.c.purpose, sa.func.sum(account_balances.c.balance))
                .join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
                .where(account_balances.c.bucket.like(f"d{api.world.till_id}:%"))
                .group_by(ledger_accounts.c.purpose)
            ).all()
        )
    assert -(bucket_sums["revenue"] + bucket_sums["vat-payable"]) == sum(
        line["gross_minor"] for line in totals["revenue_by_rate"]
    )
    assert bucket_sums["cash"] == totals["cash_expected_minor"]
    assert_problem(api.post("/z-reports", {}, login="mo"), 409, "conflict")
    receipt = api.get(f"/receipts/{z.json()['receipt_id']}").json()
    assert receipt["kind"] == "z-report" and receipt["z_totals"] == totals
    api.world.assert_ledger_clean()


@pytest.mark.parametrize("fmt", ["html", "escpos", "pdf"])
def test_receipts_render_in_three_formats(api: Api, fmt: str) -> None:
    tab_with_beer(api, "R-1")
    paid = api.post(
        "/media/R-1/tab/settlements", {"tenders": [{"kind": "cash", "amount_minor": 1000, "currency": "EUR"}]}
    )
    receipt_id = paid.json()["receipt_ids"][0]
    rendered = api.client.get(f"/api/v1/receipts/{receipt_id}?format={fmt}", headers=api.headers())
    assert rendered.status_code == 200
    assert len(rendered.content) > 200
    if fmt == "html":
        assert "Beer" in rendered.text and "9,00" in rendered.text
