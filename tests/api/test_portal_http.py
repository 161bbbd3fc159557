"""The customer portal over HTTP: sign-in by number and PIN or by QR code, one uniform answer for every failure
(DESIGN §5), limits on failed attempts that hold in the database, and only the medium's own history and
receipts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tapzone.clock import FixedClock
from tapzone.store.tables import audit_log, media, rate_limits
from tests.api.conftest import Api, assert_problem
from tests.api.portal_helpers import (
    PIN,
    balance,
    portal_get,
    scalar,
    session,
    set_pin,
    sign_in,
    sign_in_qr,
    use_test_secret,
)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secret(monkeypatch)


def issue_with_pin(api: Api, uid: str, amount: int = 5000) -> None:
    api.issue(uid, "prepaid", amount)
    response = set_pin(api, uid)
    assert response.status_code == 201, response.text


def test_number_and_pin_open_the_balance(api: Api) -> None:
    issue_with_pin(api, "PORTAL-1", 5000)
    pin_audit = scalar(api, sa.select(sa.func.count()).where(audit_log.c.action == "medium.pin_set"))
    assert pin_audit == 1
    stored = scalar(api, sa.select(media.c.pin_hash).where(media.c.uid == "PORTAL-1"))
    assert stored.startswith("$argon2") and PIN not in stored

    token = session(api, "portal-1")  # numbers are read as staff print them, in any case
    body = balance(api, token)
    assert body["medium_uid"] == "PORTAL-1"
    assert body["currency"] == "EUR"
    (account,) = body["accounts"]
    assert (account["credit_type"], account["balance_minor"], account["is_active"]) == ("prepaid", 5000, True)
    assert body["pending_top_ups_minor"] == 0

    assert_problem(api.client.get("/api/v1/portal/balance"), 401, "unauthenticated")
    assert_problem(portal_get(api, "/balance", token[:-2] + "xx"), 401, "unauthenticated")
    assert_problem(portal_get(api, "/balance", api.till_token), 401, "unauthenticated")
    api.world.assert_ledger_clean()


def test_every_failure_is_the_same_unknown_or_inactive_medium(api: Api) -> None:
    issue_with_pin(api, "PORTAL-OK")
    issue_with_pin(api, "PORTAL-BLOCKED")
    assert api.post("/media/PORTAL-BLOCKED/block", {"reason": "found at the slide"}, login="mo").status_code == 200
    api.issue("PORTAL-NOPIN")
    api.issue("PORTAL-BACK", "credit", 1000)
    assert set_pin(api, "PORTAL-BACK").status_code == 201
    returned = api.post("/media/PORTAL-BACK/return", {})
    assert returned.status_code == 200, returned.text

    attempts = [
        sign_in(api, "PORTAL-OK", "000000"),  # wrong PIN
        sign_in(api, "NO-SUCH-CARD"),  # unknown number
        sign_in(api, "PORTAL-BLOCKED"),  # right PIN, blocked medium
        sign_in(api, "PORTAL-NOPIN", "123456"),  # no PIN set
        sign_in(api, "PORTAL-BACK"),  # right PIN of the visit that ended: the medium is back in stock
        sign_in(api, "PORTAL-OK", venue_id=api.world.venue_id + 1000),  # another venue
        sign_in(api, "not a number!"),  # malformed number
        sign_in(api, "PORTAL-OK", "12ab"),  # malformed PIN
        sign_in_qr(api, "no-such-token-0123456789"),  # unknown QR code
    ]
    bodies = [assert_problem(response, 404, "unknown-or-inactive-medium") for response in attempts]
    assert {(body["title"], body["detail"]) for body in bodies} == {
        ("Unknown or inactive medium", "unknown or inactive medium")
    }
    assert sign_in(api, "PORTAL-OK").status_code == 201


def test_failed_attempts_are_limited_per_number_until_the_window_ends(api: Api, api_clock: FixedClock) -> None:
    issue_with_pin(api, "PORTAL-LIMIT")
    for _ in range(5):
        assert_problem(sign_in(api, "PORTAL-LIMIT", "111111"), 404, "unknown-or-inactive-medium")
    limited = assert_problem(sign_in(api, "PORTAL-LIMIT"), 429, "rate-limited")  # even the right PIN now
    assert limited["title"] == "Too many attempts"
    retry_after = int(sign_in(api, "PORTAL-LIMIT").headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    # The count lives in the database, so every API process sees it; refused attempts add nothing.
    counted = scalar(api, sa.select(rate_limits.c.count).where(rate_limits.c.scope == "portal-number"))
    assert counted == 5

    api_clock.advance(timedelta(seconds=retry_after))
    assert sign_in(api, "PORTAL-LIMIT").status_code == 201
    # A success forgets the failures of the number.
    assert scalar(api, sa.select(sa.func.count()).where(rate_limits.c.scope == "portal-number")) == 0


def test_an_unknown_number_is_limited_like_a_known_one(api: Api) -> None:
    for _ in range(5):
        assert_problem(sign_in(api, "GHOST-1", "111111"), 404, "unknown-or-inactive-medium")
    assert_problem(sign_in(api, "GHOST-1", "111111"), 429, "rate-limited")


def test_failed_attempts_are_limited_per_client_address(api: Api) -> None:
    issue_with_pin(api, "PORTAL-ADDR")
    for number in range(20):  # a guesser spreading over many numbers
        assert_problem(sign_in(api, f"GUESS-{number}", "111111"), 404, "unknown-or-inactive-medium")
    assert_problem(sign_in(api, "PORTAL-ADDR"), 429, "rate-limited")
    assert_problem(sign_in_qr(api, "any-token-at-all-0123"), 429, "rate-limited")


def test_qr_code_opens_the_portal(api: Api) -> None:
    api.issue("QR-1", "prepaid", 1500)
    token = "0123456789ABCDEF0123456789ABCDEF"
    with api.world.uow.engine.begin() as conn:
        conn.execute(media.update().where(media.c.uid == "QR-1").values(qr_token=token))
    opened = sign_in_qr(api, f"TZQ-{token}")  # the code as a phone scans it
    assert opened.status_code == 201, opened.text
    assert opened.json()["medium_uid"] == "QR-1"
    assert balance(api, opened.json()["session_token"])["accounts"][0]["balance_minor"] == 1500
    assert sign_in_qr(api, token).status_code == 201  # or the token alone
    assert_problem(sign_in_qr(api, "TZQ-" + token[:-1] + "0"), 404, "unknown-or-inactive-medium")

    # Regenerating the code (a new token) ends sessions opened with the old one, and the old code opens nothing.
    with api.world.uow.engine.begin() as conn:
        conn.execute(media.update().where(media.c.uid == "QR-1").values(qr_token="FEDCBA9876543210FEDCBA9876543210"))
    assert_problem(portal_get(api, "/balance", opened.json()["session_token"]), 401, "unauthenticated")
    assert_problem(sign_in_qr(api, f"TZQ-{token}"), 404, "unknown-or-inactive-medium")


def test_sessions_expire_and_end_when_the_medium_is_blocked_or_the_pin_changes(api: Api, api_clock: FixedClock) -> None:
    issue_with_pin(api, "PORTAL-S")
    token = session(api, "PORTAL-S")
    api_clock.advance(timedelta(minutes=16))
    assert_problem(portal_get(api, "/balance", token), 401, "unauthenticated")

    token = session(api, "PORTAL-S")
    assert set_pin(api, "PORTAL-S", "975310").status_code == 201
    assert_problem(portal_get(api, "/balance", token), 401, "unauthenticated")
    assert_problem(sign_in(api, "PORTAL-S", PIN), 404, "unknown-or-inactive-medium")

    token = session(api, "PORTAL-S", "975310")
    assert api.post("/media/PORTAL-S/block", {"reason": "reported stolen"}, login="mo").status_code == 200
    assert_problem(portal_get(api, "/balance", token), 401, "unauthenticated")


def test_setting_a_pin_needs_a_bound_medium_and_six_digits(api: Api) -> None:
    api.issue("PIN-1")
    assert_problem(set_pin(api, "PIN-1", "1234"), 422, "invalid-request")
    assert_problem(set_pin(api, "PIN-1", "12345a"), 422, "invalid-request")
    assert_problem(set_pin(api, "PIN-1", login="gus"), 403, "permission-denied")
    assert_problem(set_pin(api, "NOT-ISSUED"), 404, "unknown-medium")


def test_history_and_receipts_show_only_this_medium(api: Api) -> None:
    issue_with_pin(api, "MINE", 5000)
    issue_with_pin(api, "THEIRS", 7000)
    sale = api.post("/media/MINE/sales", {"items": [{"product_id": api.world.beer_id, "quantity": 2}]})
    assert sale.status_code == 201, sale.text
    assert api.post("/media/THEIRS/sales", {"items": [{"product_id": api.world.fries_id}]}).status_code == 201
    mine, theirs = session(api, "MINE"), session(api, "THEIRS")

    history = portal_get(api, "/history", mine)
    assert history.status_code == 200, history.text
    lines = history.json()["lines"]
    assert [(line["code"], line["amount"], line["unit"]) for line in lines] == [
        ("sale", -900, "EUR"),
        ("topup", 5000, "EUR"),
    ]
    assert all(line["receipt_ids"] for line in lines)
    assert lines[0]["what"] == "Verkäufe"  # the venue speaks German; Accept-Language would choose otherwise
    paged = portal_get(api, f"/history?before_entry_id={lines[0]['entry_id']}", mine).json()["lines"]
    assert [line["code"] for line in paged] == ["topup"]

    my_receipts = portal_get(api, "/receipts", mine).json()["receipts"]
    their_receipts = portal_get(api, "/receipts", theirs).json()["receipts"]
    assert sorted(r["kind"] for r in my_receipts) == ["purchase", "topup"]
    assert {r["receipt_id"] for r in my_receipts}.isdisjoint({r["receipt_id"] for r in their_receipts})
    assert {r["receipt_id"] for r in my_receipts} == {rid for line in lines for rid in line["receipt_ids"]}

    receipt_id = my_receipts[0]["receipt_id"]
    as_json = portal_get(api, f"/receipts/{receipt_id}", mine)
    assert as_json.status_code == 200 and as_json.json()["medium_uid"] == "MINE"
    as_html = portal_get(api, f"/receipts/{receipt_id}?format=html", mine)
    assert as_html.headers["content-type"].startswith("text/html")
    as_pdf = portal_get(api, f"/receipts/{receipt_id}?format=pdf", mine)
    assert as_pdf.content.startswith(b"%PDF")
    assert_problem(portal_get(api, f"/receipts/{their_receipts[0]['receipt_id']}", mine), 404, "not-found")
    api.world.assert_ledger_clean()


def test_a_bill_of_a_credit_tab_is_among_the_receipts(api: Api) -> None:
    api.issue("TAB-1", "credit", 10_000)
    assert set_pin(api, "TAB-1").status_code == 201
    saved = api.post("/media/TAB-1/tab/lines", {"items": [{"product_id": api.world.beer_id}]})
    assert saved.status_code == 201, saved.text
    bill = api.post("/media/TAB-1/tab/bills", {})
    assert bill.status_code == 201, bill.text
    receipts = portal_get(api, "/receipts", session(api, "TAB-1")).json()["receipts"]
    assert [r["kind"] for r in receipts] == ["bill"]
