"""The customer portal in a real browser: sign in with number and PIN or by a scanned QR code, see the
balance, top up online through the simulated provider's payment page, find the receipt; every refused
sign-in reads the same, and the limit says how long to wait."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tapzone.i18n import LANGUAGES
from tapzone.portal.keys import SECRET_ENV
from tapzone.web.portal import REFUSED
from tapzone.web.portal_simulator import SIMULATOR_SWITCH
from tests.browser.conftest import LiveVenue, screenshot

PIN = "482913"
UNIFORM = "Unknown or inactive card or wristband. Please check the number and the PIN."


@pytest.fixture(scope="module", autouse=True)
def _portal_settings() -> Iterator[None]:
    """A fixed portal secret (else the server would write one under var/) and the simulator's payment page,
    which is off unless switched on, since it credits cards without taking money."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, "browser-portal-secret-" + "0123456789abcdef" * 2)
        patch.setenv(SIMULATOR_SWITCH, "1")
        yield


class Staff:
    """The till's side of the setup, over the API as the entrance till does it."""

    def __init__(self, live: LiveVenue, login: str = "anna") -> None:
        self.live = live
        self.headers = {"Authorization": f"Bearer {live.till_token()}"}
        response = httpx.post(
            f"{live.base_url}/api/v1/sessions",
            json={"login": login, "password": live.password(login)},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        self.headers["X-Staff-Session"] = response.json()["session_token"]

    def post(self, path: str, body: dict[str, object]) -> httpx.Response:
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        return httpx.post(f"{self.live.base_url}/api/v1{path}", json=body, headers=headers)

    def issue_prepaid(self, uid: str, amount_minor: int, pin: str | None = PIN) -> None:
        load = {"amount_minor": amount_minor, "currency": "EUR"}
        issued = self.post("/visits", {"medium_uid": uid, "credit_type": "prepaid", "initial_load": load})
        assert issued.status_code == 201, issued.text
        if pin is not None:
            pinned = self.post(f"/media/{uid}/pin", {"pin": pin})
            assert pinned.status_code == 201, pinned.text


def sign_in(page: object, live: LiveVenue, uid: str, pin: str = PIN, lang: str | None = None) -> None:
    page.goto(f"{live.base_url}/portal" + (f"?lang={lang}" if lang else ""))  # type: ignore[attr-defined]
    page.fill("input[name=medium_uid]", uid)  # type: ignore[attr-defined]
    page.fill("input[name=pin]", pin)  # type: ignore[attr-defined]
    page.click("button[type=submit].primary")  # type: ignore[attr-defined]


def test_the_uniform_text_is_the_one_the_portal_shows() -> None:
    assert REFUSED == UNIFORM


def test_top_up_online_and_find_the_receipt(page: object, live: LiveVenue) -> None:
    Staff(live).issue_prepaid("W0080", 5000)
    sign_in(page, live, "w0080")  # numbers are read as printed, in any case
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    assert page.inner_text(".portal-amount") == "€50.00"  # type: ignore[attr-defined]
    assert page.locator("nav a[href='/till']").count() == 0  # type: ignore[attr-defined]

    page.fill("input[name=amount]", "10.00")  # type: ignore[attr-defined]
    page.click("form.portal-top-up button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/portal/simulator/pay/sim_[0-9a-f]+\?.*"))  # type: ignore[attr-defined]
    checkout = page.url  # type: ignore[attr-defined]
    assert "€10.00" in page.inner_text("h1")  # type: ignore[attr-defined]
    screenshot(page, "portal-simulator-en")
    page.click("#pay")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    assert page.inner_text(".portal-amount") == "€60.00"  # type: ignore[attr-defined]
    assert page.locator("tr.topup-credited").count() == 1  # type: ignore[attr-defined]
    assert page.locator("#pending").count() == 0  # type: ignore[attr-defined]

    # The provider's page paid again (a second click, a replayed confirmation): nothing changes.
    page.goto(checkout)  # type: ignore[attr-defined]
    page.click("#pay")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    assert page.inner_text(".portal-amount") == "€60.00"  # type: ignore[attr-defined]
    assert page.locator("tr.topup-credited").count() == 1  # type: ignore[attr-defined]

    page.click("nav a[href='/portal/history']")  # type: ignore[attr-defined]
    page.wait_for_selector("table.portal-history")  # type: ignore[attr-defined]
    assert "+€10.00" in page.inner_text("table.portal-history tbody tr:first-child")  # type: ignore[attr-defined]
    screenshot(page, "portal-history-en")

    page.click("nav a[href='/portal/receipts']")  # type: ignore[attr-defined]
    newest = page.locator("table.portal-receipts tbody tr").first  # type: ignore[attr-defined]
    assert "Top-up" in newest.inner_text() and "€10.00" in newest.inner_text()
    screenshot(page, "portal-receipts-en")
    newest.locator("a").click()
    page.wait_for_selector("article.tz-receipt")  # type: ignore[attr-defined]
    receipt = page.inner_text("article.tz-receipt")  # type: ignore[attr-defined]
    assert "10.00" in receipt and "W0080" in receipt
    screenshot(page, "portal-receipt-en")


def test_a_top_up_amount_is_read_exactly_or_refused(page: object, live: LiveVenue) -> None:
    Staff(live).issue_prepaid("W0083", 1000)
    sign_in(page, live, "W0083")
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    page.fill("input[name=amount]", "10.005")  # type: ignore[attr-defined]
    page.click("form.portal-top-up button[type=submit]")  # type: ignore[attr-defined]
    assert "€20.00" in page.inner_text("#top-up-error")  # type: ignore[attr-defined]
    page.fill("input[name=amount]", "0,10")  # type: ignore[attr-defined]
    page.click("form.portal-top-up button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/portal/simulator/pay/.*amount_minor=10&.*"))  # type: ignore[attr-defined]
    page.click("#cancel")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    assert page.inner_text(".portal-amount") == "€10.00"  # type: ignore[attr-defined]
    assert page.locator("tr.topup-failed").count() == 1  # type: ignore[attr-defined]


def test_every_refused_sign_in_reads_the_same(page: object, live: LiveVenue) -> None:
    staff = Staff(live)
    staff.issue_prepaid("W0081", 2000)
    staff.issue_prepaid("W0082", 2000, pin=None)
    texts = []
    for uid, pin in (("W0081", "000000"), ("W0999", PIN), ("W0082", PIN), ("not a number", PIN)):
        sign_in(page, live, uid, pin)
        texts.append(page.inner_text("#sign-in-error"))  # type: ignore[attr-defined]
    assert texts == [UNIFORM] * 4
    screenshot(page, "portal-refused-en")


def test_the_limit_says_how_long_to_wait(page: object, live: LiveVenue) -> None:
    Staff(live).issue_prepaid("W0084", 2000)
    for _ in range(5):
        sign_in(page, live, "W0084", "111111")
    sign_in(page, live, "W0084")  # the right PIN, too late
    assert page.inner_text("#sign-in-error") == "Too many attempts. Please try again in 15 min."  # type: ignore[attr-defined]


def test_a_scanned_qr_code_opens_the_balance(page: object, live: LiveVenue) -> None:
    staff = Staff(live, "ben")
    batch = staff.post("/qr-media", {"count": 1})
    assert batch.status_code == 201, batch.text
    (medium,) = batch.json()["media"]
    staff.issue_prepaid(medium["medium_uid"], 1500, pin=None)
    page.goto(f"{live.base_url}/portal/qr/{medium['qr_payload']}")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    assert page.inner_text(".portal-amount") == "€15.00"  # type: ignore[attr-defined]
    page.goto(f"{live.base_url}/portal/qr/TZQ-no-such-code-0123456789")  # type: ignore[attr-defined]
    assert page.inner_text("#sign-in-error") == UNIFORM  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", LANGUAGES)
def test_portal_screens_in_every_language(page: object, live: LiveVenue, language: str) -> None:
    uid = f"W009{LANGUAGES.index(language)}"
    Staff(live).issue_prepaid(uid, 2500)
    page.goto(f"{live.base_url}/portal?lang={language}")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
    screenshot(page, f"portal-sign-in-{language}")
    sign_in(page, live, uid)  # the language chosen stays for the following pages
    page.wait_for_url(f"{live.base_url}/portal/balance")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
    screenshot(page, f"portal-balance-{language}")


def test_the_browser_language_is_used_without_a_choice(browser: object, live: LiveVenue) -> None:
    context = browser.new_context(locale="de-DE")  # type: ignore[attr-defined]
    try:
        opened = context.new_page()
        opened.goto(f"{live.base_url}/portal")
        assert opened.get_attribute("html", "lang") == "de"
    finally:
        context.close()
