"""The back office in a real browser: configure products, price groups, tariffs, top-up rules, account types
and staff as the admin; a German-speaking staff member gets a German back office; form problems speak the
reader's language; the audit log and the report charts; screenshots of the main screens in every language."""

from __future__ import annotations

import httpx
import pytest

from tapzone.i18n import LANGUAGES
from tests.browser.conftest import LiveVenue, screenshot, sign_in_at_till

MAIN_SCREENS = {
    "home": "/office",
    "settings": "/office/venue",
    "devices": "/office/devices",
    "gates": "/office/gates",
    "staff": "/office/staff",
    "products": "/office/products",
    "price-groups": "/office/price-groups",
    "entry-products": "/office/entry-products",
    "account-types": "/office/account-types",
    "tariffs": "/office/tariffs",
    "topup-rules": "/office/topup-rules",
    "reports": "/office/reports",
    "open-tabs": "/office/reports/open-tabs",
    "audit": "/office/audit",
}


def office(page: object, live: LiveVenue, path: str = "/office", login: str = "eva") -> None:
    sign_in_at_till(page, live, login)
    page.goto(f"{live.base_url}{path}")  # type: ignore[attr-defined]


def submit(page: object, form: str) -> None:
    """Send one of the page's forms; HTMX swaps the answer into the body."""
    page.click(f"form[data-form='{form}'] button[type=submit]")  # type: ignore[attr-defined]


def expect_notice(page: object, text: str) -> None:
    """Wait until the form's answer is swapped in: an earlier notice may still be on the page."""
    page.locator(".notice", has_text=text).wait_for(timeout=10_000)  # type: ignore[attr-defined]
    assert page.inner_text(".notice") == text  # type: ignore[attr-defined]


def sell_something(live: LiveVenue, uid: str) -> None:
    """A visitor loads 30.00 and buys two beers and fries from the balance, so the reports have figures."""
    headers = {"Authorization": f"Bearer {live.till_token()}"}
    session = httpx.post(
        f"{live.base_url}/api/v1/sessions", json={"login": "anna", "password": live.password("anna")}, headers=headers
    ).json()["session_token"]
    headers |= {"X-Staff-Session": session}
    issued = httpx.post(
        f"{live.base_url}/api/v1/visits",
        json={
            "medium_uid": uid,
            "credit_type": "prepaid",
            "initial_load": {"amount_minor": 3000, "currency": "EUR"},
        },
        headers={**headers, "Idempotency-Key": f"issue-{uid}"},
    )
    assert issued.status_code == 201, issued.text
    beer, fries = live.demo.products[0][0], live.demo.products[3][0]
    sold = httpx.post(
        f"{live.base_url}/api/v1/media/{uid}/sales",
        json={"items": [{"product_id": beer, "quantity": 2}, {"product_id": fries}]},
        headers={**headers, "Idempotency-Key": f"sale-{uid}"},
    )
    assert sold.status_code == 201, sold.text


def test_product_with_a_group_price(page: object, live: LiveVenue) -> None:
    office(page, live, "/office/products")
    page.fill("form[data-form=product] input[name=name]", "Apple juice")  # type: ignore[attr-defined]
    page.fill("form[data-form=product] input[name=price]", "3,40")  # type: ignore[attr-defined]
    page.fill("form[data-form=product] input[name=vat_rate]", "7")  # type: ignore[attr-defined]
    page.fill("form[data-form=product] input[name=product_group]", "drinks")  # type: ignore[attr-defined]
    submit(page, "product")
    expect_notice(page, "Product Apple juice created")
    page.goto(f"{live.base_url}/office/products?search=apple")  # type: ignore[attr-defined]
    row = page.inner_text("tr:has-text('Apple juice')")  # type: ignore[attr-defined]
    assert "€3.40" in row
    assert "7 %" in row

    page.goto(f"{live.base_url}/office/price-groups")  # type: ignore[attr-defined]
    page.fill("form[data-form=group] input[name=name]", "Members")  # type: ignore[attr-defined]
    submit(page, "group")
    expect_notice(page, "Price group Members created")
    page.select_option("form[data-form=price] select[name=price_group_id]", label="Members")  # type: ignore[attr-defined]
    page.select_option("form[data-form=price] select[name=product_id]", label="Apple juice (drinks)")  # type: ignore[attr-defined]
    page.fill("form[data-form=price] input[name=price]", "2.90")  # type: ignore[attr-defined]
    submit(page, "price")
    expect_notice(page, "Prices of Members saved")
    members = page.inner_text("section.card:has(h2:text-is('Members'))")  # type: ignore[attr-defined]
    assert "Apple juice" in members
    assert "€3.40" in members
    assert "€2.90" in members
    screenshot(page, "office-price-groups-after-en")


def test_account_type_with_a_tariff_and_a_stepped_top_up_rule(page: object, live: LiveVenue) -> None:
    office(page, live, "/office/tariffs")
    page.fill("form[data-form=tariff] input[name=name]", "Sauna evening")  # type: ignore[attr-defined]
    page.select_option("form[data-form=tariff] select[name=kind]", "per-minute")  # type: ignore[attr-defined]
    page.fill("form[data-form=tariff] input[name=price]", "0,40")  # type: ignore[attr-defined]
    page.check("input[name='rates.0.weekdays'][value='0']")  # type: ignore[attr-defined]
    page.check("input[name='rates.0.weekdays'][value='4']")  # type: ignore[attr-defined]
    page.fill("input[name='rates.0.start_minute']", "18:00")  # type: ignore[attr-defined]
    page.fill("input[name='rates.0.end_minute']", "22:00")  # type: ignore[attr-defined]
    page.fill("input[name='rates.0.price']", "0,30")  # type: ignore[attr-defined]
    submit(page, "tariff")
    expect_notice(page, "Tariff Sauna evening created")
    assert "Mon Fri 18:00–22:00: €0.30" in page.inner_text("tr:has-text('Sauna evening')")  # type: ignore[attr-defined]

    page.goto(f"{live.base_url}/office/topup-rules")  # type: ignore[attr-defined]
    page.fill("form[data-form=rule] input[name=name]", "Sauna cards")  # type: ignore[attr-defined]
    page.select_option("form[data-form=rule] select[name=kind]", "stepped")  # type: ignore[attr-defined]
    page.fill("input[name='steps.0.price']", "40")  # type: ignore[attr-defined]
    page.fill("input[name='steps.0.visits']", "10")  # type: ignore[attr-defined]
    page.fill("input[name='steps.1.price']", "70")  # type: ignore[attr-defined]
    page.fill("input[name='steps.1.visits']", "20")  # type: ignore[attr-defined]
    page.fill("input[name='steps.1.bonus']", "5")  # type: ignore[attr-defined]
    submit(page, "rule")
    expect_notice(page, "Top-up rule Sauna cards created")
    steps = page.inner_text("tr:has-text('Sauna cards')")  # type: ignore[attr-defined]
    assert "€40.00 → 10 visits" in steps
    assert "€70.00 → €5.00 bonus 20 visits" in steps

    page.goto(f"{live.base_url}/office/account-types")  # type: ignore[attr-defined]
    form = "form[data-form=type]"
    page.fill(f"{form} input[name=number]", "20")  # type: ignore[attr-defined]
    page.fill(f"{form} input[name=name]", "Sauna card")  # type: ignore[attr-defined]
    page.select_option(f"{form} select[name=tariff_id]", label="Sauna evening")  # type: ignore[attr-defined]
    page.select_option(f"{form} select[name=topup_rule_id]", label="Sauna cards")  # type: ignore[attr-defined]
    page.fill(f"{form} input[name=default_price]", "40")  # type: ignore[attr-defined]
    page.fill(f"{form} input[name=vat_rate]", "19")  # type: ignore[attr-defined]
    page.fill(f"{form} input[name=lock_hours]", "12")  # type: ignore[attr-defined]
    submit(page, "type")
    expect_notice(page, "Account type Sauna card created")
    row = page.inner_text("tr:has-text('Sauna card')")  # type: ignore[attr-defined]
    assert "bonus, visits" in row
    assert "€40.00" in row

    # The type can be changed later (seed 002: a season card goes off sale after the season).
    page.click("tr:has-text('Sauna card') a")  # type: ignore[attr-defined]
    page.uncheck("form[data-form=type] input[name=sellable]")  # type: ignore[attr-defined]
    submit(page, "type")
    expect_notice(page, "Account type Sauna card saved")
    screenshot(page, "office-account-type-en")


def test_a_staff_member_with_german_gets_a_german_back_office(page: object, live: LiveVenue) -> None:
    office(page, live, "/office/staff")
    form = "form[data-form=staff]"
    page.fill(f"{form} input[name=name]", "Greta Gerber")  # type: ignore[attr-defined]
    page.fill(f"{form} input[name=login]", "greta")  # type: ignore[attr-defined]
    page.select_option(f"{form} select[name=role]", "admin")  # type: ignore[attr-defined]
    page.fill(f"{form} input[name=password]", "greta-pass-2026")  # type: ignore[attr-defined]
    page.select_option(f"{form} select[name=language]", label="Deutsch")  # type: ignore[attr-defined]
    submit(page, "staff")
    expect_notice(page, "Greta Gerber can sign in now")
    assert "Deutsch" in page.inner_text("tr:has-text('Greta Gerber')")  # type: ignore[attr-defined]

    page.click("header form[action='/sign-out'] button")  # type: ignore[attr-defined]
    page.fill("input[name=login]", "greta")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "greta-pass-2026")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/till")  # type: ignore[attr-defined]
    page.click("a:text-is('Backoffice')")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/office")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == "de"  # type: ignore[attr-defined]
    assert "Übersicht" in page.inner_text("nav.office-nav")  # type: ignore[attr-defined]
    assert "Artikel und MwSt." in page.inner_text(".tiles")  # type: ignore[attr-defined]
    screenshot(page, "office-home-greta-de")

    # A form problem in her language: an amount with too many decimals, and a missing name.
    page.goto(f"{live.base_url}/office/products")  # type: ignore[attr-defined]
    page.fill("form[data-form=product] input[name=price]", "3,505")  # type: ignore[attr-defined]
    page.fill("form[data-form=product] input[name=vat_rate]", "19")  # type: ignore[attr-defined]
    page.fill("form[data-form=product] input[name=product_group]", "drinks")  # type: ignore[attr-defined]
    page.eval_on_selector("form[data-form=product]", "form => form.noValidate = true")  # type: ignore[attr-defined]
    submit(page, "product")
    page.wait_for_selector(".field-problem")  # type: ignore[attr-defined]
    problems = page.inner_text("form[data-form=product]")  # type: ignore[attr-defined]
    assert "Höchstens 2 Nachkommastellen" in problems
    assert "Dieses Feld ausfüllen" in problems
    assert page.inner_text("p.error") == "Bitte die markierten Felder prüfen"  # type: ignore[attr-defined]
    assert page.input_value("form[data-form=product] input[name=price]") == "3,505"  # type: ignore[attr-defined]
    screenshot(page, "office-form-problem-de")


def test_a_refusal_shows_its_title_in_the_readers_language(page: object, live: LiveVenue) -> None:
    """A zone name the venue already uses: the use case's Conflict, titled in Swedish, with its detail."""
    office(page, live, "/office/zones?lang=sv")
    page.fill("form[data-form=zone] input[name=name]", "Pools and saunas")  # type: ignore[attr-defined]
    submit(page, "zone")
    refusal = page.inner_text("p.error", timeout=10_000)  # type: ignore[attr-defined]
    assert refusal.startswith("Konflikt")
    assert "already exists" in refusal
    assert page.get_attribute("html", "lang") == "sv"  # type: ignore[attr-defined]


def test_a_new_till_shows_its_token_once(page: object, live: LiveVenue) -> None:
    office(page, live, "/office/devices")
    page.fill("form[data-form=device] input[name=name]", "Kiosk at the slide")  # type: ignore[attr-defined]
    page.select_option("form[data-form=device] select[name=kind]", "kiosk")  # type: ignore[attr-defined]
    submit(page, "device")
    token = page.inner_text(".token .secret", timeout=10_000)  # type: ignore[attr-defined]
    assert len(token) >= 40
    page.goto(f"{live.base_url}/office/devices")  # type: ignore[attr-defined]
    assert token not in page.content()  # type: ignore[attr-defined]
    devices = httpx.get(f"{live.base_url}/api/v1/products", headers={"Authorization": f"Bearer {token}"})
    assert devices.status_code == 200


def test_audit_log_and_report_charts(page: object, live: LiveVenue) -> None:
    sell_something(live, "W0070")
    office(page, live, "/office/venue")
    page.uncheck("form[data-form=settings] input[name=member_debt_on_medium]")  # type: ignore[attr-defined]
    submit(page, "settings")
    expect_notice(page, "Settings saved")

    page.goto(f"{live.base_url}/office/audit")  # type: ignore[attr-defined]
    assert "venue.settings" in page.inner_text("table.audit tbody tr:first-child")  # type: ignore[attr-defined]
    page.select_option("select[name=action]", "venue.settings")  # type: ignore[attr-defined]
    page.click("form.filters button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/office/audit?**")  # type: ignore[attr-defined]
    actions = page.locator("table.audit tbody td:nth-child(4)").all_inner_texts()  # type: ignore[attr-defined]
    assert actions
    assert set(actions) == {"venue.settings"}
    screenshot(page, "office-audit-filtered-en")

    page.goto(f"{live.base_url}/office/reports")  # type: ignore[attr-defined]
    assert page.inner_text("#card-float-total") != "€0.00"  # type: ignore[attr-defined]
    assert page.inner_text("#revenue-gross") == "€12.20"  # type: ignore[attr-defined]
    for chart in ("#card-float-chart", "#revenue-rate-chart", "#revenue-group-chart"):
        page.wait_for_function(  # type: ignore[attr-defined]
            f"() => document.querySelector('{chart}').complete && document.querySelector('{chart}').naturalWidth > 0"
        )
    svg = httpx.get(
        f"{live.base_url}/office/reports/daily-revenue/chart.svg?by=rate",
        cookies={cookie["name"]: cookie["value"] for cookie in page.context.cookies()},  # type: ignore[attr-defined]
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "19 %" in svg.text
    assert "€9.00" in svg.text
    download = page.get_attribute("a[href$='/office/reports/card-float.csv']", "href")  # type: ignore[attr-defined]
    assert download == "/office/reports/card-float.csv"
    screenshot(page, "office-reports-after-sales-en")


def test_a_manager_sees_reports_but_no_configuration(page: object, live: LiveVenue) -> None:
    office(page, live, "/office", login="ben")
    tiles = page.inner_text(".tiles")  # type: ignore[attr-defined]
    assert "Card float and revenue" in tiles
    assert "Audit log" in tiles
    assert "Products and VAT" not in tiles
    assert "venue.configure" not in page.inner_text("details.permissions")  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", LANGUAGES)
def test_back_office_screens_in_every_language(page: object, live: LiveVenue, language: str) -> None:
    sign_in_at_till(page, live, "eva")
    for name, path in MAIN_SCREENS.items():
        page.goto(f"{live.base_url}{path}?lang={language}")  # type: ignore[attr-defined]
        assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
        page.wait_for_selector("#office-body h1")  # type: ignore[attr-defined]
        screenshot(page, f"office-{name}-{language}")
