"""A whole visit in a real browser (issue 8): entry sold at the till, items booked on the till screen, the
exit refused and shown live in the gate monitor, one click from there to the tab, settled in cash, the exit
allowed and the wristband released (seed 001)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tapzone.i18n import LANGUAGES
from tests.browser.conftest import LiveVenue, screenshot, sign_in_at_till

UNPAID_GOODS = {"en": "Unpaid goods", "de": "Unbezahlte Waren", "sv": "Obetalda varor", "ru": "Неоплаченные товары"}
ENTRY_VIEW = {"en": "Entry view", "de": "Einlassansicht", "sv": "Entrévy", "ru": "Вид входа"}


class Api:
    """The venue's devices over HTTP: the entrance till sells, the gates tap."""

    def __init__(self, live: LiveVenue) -> None:
        self.live = live
        till = {"Authorization": f"Bearer {live.till_token()}"}
        session = httpx.post(
            f"{live.base_url}/api/v1/sessions", json={"login": "anna", "password": live.password("anna")}, headers=till
        )
        assert session.status_code == 201, session.text
        self.till_headers = {**till, "X-Staff-Session": session.json()["session_token"]}

    def gate(self, name: str) -> tuple[int, str]:
        return next((gate_id, token) for gate_id, label, token in self.live.demo.gates if label.startswith(name))

    def sell_credit_entry(self, uid: str) -> None:
        product_id = next(
            pid for pid, name in self.live.demo.entry_products if name.startswith("Day ticket with credit")
        )
        sold = httpx.post(
            f"{self.live.base_url}/api/v1/entries",
            json={
                "entry_product_id": product_id,
                "medium_uid": uid,
                "tenders": [{"kind": "cash", "amount_minor": 1800, "currency": "EUR"}],
            },
            headers={**self.till_headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert sold.status_code == 201, sold.text

    def book(self, uid: str, product: str) -> None:
        product_id = next(pid for pid, name, _, _ in self.live.demo.products if name == product)
        booked = httpx.post(
            f"{self.live.base_url}/api/v1/media/{uid}/tab/lines",
            json={"items": [{"product_id": product_id, "quantity": 1}]},
            headers={**self.till_headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert booked.status_code == 201, booked.text

    def tap(self, gate: str, uid: str) -> dict[str, Any]:
        gate_id, token = self.gate(gate)
        tapped = httpx.post(
            f"{self.live.base_url}/api/v1/gates/{gate_id}/taps",
            json={"tap_id": uuid.uuid4().hex, "medium_uid": uid},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert tapped.status_code == 200, tapped.text
        decision: dict[str, Any] = tapped.json()
        return decision

    def tab_status(self, uid: str) -> httpx.Response:
        return httpx.get(f"{self.live.base_url}/api/v1/media/{uid}/tab", headers=self.till_headers)


@pytest.fixture
def api(live: LiveVenue) -> Api:
    return Api(live)


@pytest.fixture
def second_page(browser: Any) -> Iterator[Any]:
    """Another screen in the venue (its own cookies), held to the same rules as `page`: no console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"console errors: {errors}"


def sign_in_at_gate(page: Any, live: LiveVenue, gate: str, login: str = "dan") -> None:
    token = next(token for _, label, token in live.demo.gates if label.startswith(gate))
    page.goto(f"{live.base_url}/pair")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", live.password(login))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.base_url}/gates")


def test_whole_visit(page: Any, second_page: Any, live: LiveVenue, api: Api) -> None:
    uid = "W0061"
    api.sell_credit_entry(uid)
    assert api.tap("Entrance turnstile", uid)["allowed"]

    # Items at the till screen of the entrance.
    sign_in_at_till(page, live)
    page.fill("#medium", uid)
    page.press("#medium", "Enter")
    page.wait_for_selector(".tab")
    page.click("button.product:has-text('Beer 0.5 l')")
    page.wait_for_selector("#open-total:has-text('4.50')")
    page.click("button.product:has-text('Fries')")
    page.wait_for_selector("#open-total:has-text('7.70')")

    # The gate monitor at the pool bar till, open before the visitor tries to leave.
    monitor = second_page
    sign_in_at_till(monitor, live, login="ben", till=1)
    monitor.goto(f"{live.base_url}/gates")
    monitor.wait_for_selector("section.monitor")
    refused = api.tap("Exit turnstile", uid)
    assert (refused["allowed"], refused["reason"]) == (False, "unpaid-goods")

    # Pushed live over server-sent events, highlighted, with the reason.
    failed = monitor.wait_for_selector(f"tr.failed-exit[data-medium={uid}]")
    assert "Unpaid goods" in failed.inner_text()
    assert "resolved" not in (failed.get_attribute("class") or "")
    screenshot(monitor, "gates-failed-exit-en")

    # One click opens that tab at the till, where it is settled in cash.
    failed.query_selector("a.open-tab").click()
    monitor.wait_for_url(f"{live.base_url}/till?medium={uid}")
    monitor.wait_for_selector("#open-total:has-text('7.70')")
    screenshot(monitor, "till-opened-from-gates-en")
    monitor.click("form.settle button[value=cash]")
    monitor.wait_for_selector("#open-total:has-text('0.00')")

    # Back at the monitor, the second try at the exit passes and the failed exit is marked as resolved.
    monitor.goto(f"{live.base_url}/gates")
    monitor.wait_for_selector("section.monitor")
    allowed = api.tap("Exit turnstile", uid)
    assert (allowed["allowed"], allowed["reason"], allowed["unbound"]) == (True, "goodbye", True)
    monitor.wait_for_selector(f"tr.allowed[data-medium={uid}][data-passage=exit]")
    monitor.wait_for_selector(f"tr.failed-exit.resolved[data-medium={uid}]")
    screenshot(monitor, "gates-exit-allowed-en")

    # Auto-unbind is on in the demo: the wristband carries no visit any more.
    released = api.tab_status(uid)
    assert released.status_code == 409
    assert released.json()["type"].endswith("/medium-not-bound")


@pytest.mark.parametrize("language", LANGUAGES)
def test_gate_monitor_in_every_language(page: Any, live: LiveVenue, api: Api, language: str) -> None:
    """At a gate's own screen (gate staff): the failed exit shows its reason in the screen's language, and
    there is no till to open the tab on."""
    uid = f"W007{LANGUAGES.index(language)}"
    api.sell_credit_entry(uid)
    api.tap("Entrance turnstile", uid)
    sign_in_at_gate(page, live, "Exit collector")
    page.goto(f"{live.base_url}/gates?lang={language}")
    assert page.get_attribute("html", "lang") == language
    page.wait_for_selector("section.monitor")
    api.book(uid, "Beer 0.5 l")
    assert api.tap("Exit collector", uid)["reason"] == "unpaid-goods"
    row = page.wait_for_selector(f"tr.failed-exit[data-medium={uid}]")
    assert UNPAID_GOODS[language] in row.inner_text()
    assert row.query_selector("a.open-tab") is None
    assert ENTRY_VIEW[language] in page.inner_text("h1")
    screenshot(page, f"gates-{language}")


def test_gate_monitor_shows_a_flagged_offline_passage(page: Any, live: LiveVenue, api: Api) -> None:
    """The exit turnstile let an owing visitor out during an outage; when its journal is uploaded the passage
    is flagged, pushed to the monitor with its finding, and listed above the events when the page opens."""
    uid = "W0090"
    api.sell_credit_entry(uid)
    api.tap("Entrance turnstile", uid)
    api.book(uid, "Beer 0.5 l")
    gate_id, token = api.gate("Exit turnstile")
    gate = {"Authorization": f"Bearer {token}"}
    path = f"{live.base_url}/api/v1/gates/{gate_id}/offline-events"
    applied = httpx.get(path, headers=gate).json()["applied_through"]

    sign_in_at_gate(page, live, "Exit collector")
    page.wait_for_selector("section.monitor")
    event = {
        "seq": applied + 1,
        "tap_id": uuid.uuid4().hex,
        "medium_uid": uid,
        "allowed": True,
        "reason": "goodbye",
        "passage": "exit",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    uploaded = httpx.post(path, json={"events": [event]}, headers=gate)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["results"][0]["flag"] == "passed-offline-while-owing"

    row = page.wait_for_selector(f"tr.event.flagged[data-medium={uid}][data-passage=exit]")
    assert "Passed offline while owing" in row.inner_text()
    page.reload()
    listed = page.wait_for_selector(f"section.flagged tr[data-medium={uid}]")
    assert "Passed offline while owing" in listed.inner_text()
    assert "Exit turnstile" in listed.inner_text()
    assert "Flagged offline passages" in page.inner_text("section.flagged h2")
    screenshot(page, "gates-flagged-offline-en")
