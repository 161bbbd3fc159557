"""The till in a real browser: read a wristband, book products with single taps, settle in cash."""

from __future__ import annotations

import httpx
import pytest

from tapzone.i18n import LANGUAGES
from tests.browser.conftest import LiveVenue, screenshot, sign_in_at_till


def issue_wristband(live: LiveVenue, uid: str) -> None:
    """The visitor got the wristband at the entrance (over the API, like the entrance till does)."""
    headers = {"Authorization": f"Bearer {live.till_token()}"}
    session = httpx.post(
        f"{live.base_url}/api/v1/sessions", json={"login": "anna", "password": live.password("anna")}, headers=headers
    ).json()["session_token"]
    response = httpx.post(
        f"{live.base_url}/api/v1/visits",
        json={"medium_uid": uid, "credit_type": "credit", "credit_limit": {"amount_minor": 5000, "currency": "EUR"}},
        headers={**headers, "X-Staff-Session": session, "Idempotency-Key": f"issue-{uid}"},
    )
    assert response.status_code == 201, response.text


def test_book_and_settle_at_the_till(page: object, live: LiveVenue) -> None:
    issue_wristband(live, "W0050")
    sign_in_at_till(page, live)
    page.fill("#medium", "W0050")  # type: ignore[attr-defined]
    page.press("#medium", "Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".tab")  # type: ignore[attr-defined]
    page.click("button.product:has-text('Beer 0.5 l')")  # type: ignore[attr-defined]
    page.wait_for_selector("#open-total:has-text('4.50')")  # type: ignore[attr-defined]
    page.click("button.product:has-text('Fries')")  # type: ignore[attr-defined]
    page.wait_for_selector("#open-total:has-text('7.70')")  # type: ignore[attr-defined]
    screenshot(page, "till-tab-en")
    page.click("button[value=cash]")  # type: ignore[attr-defined]
    page.wait_for_selector(".receipt a")  # type: ignore[attr-defined]
    assert page.inner_text("#open-total") == "€0.00"  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", LANGUAGES)
def test_till_screen_in_every_language(page: object, live: LiveVenue, language: str) -> None:
    sign_in_at_till(page, live)
    page.goto(f"{live.base_url}/till?lang={language}")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
    screenshot(page, f"till-{language}")
