"""The cashier's flows in a real browser: selling entries (a family with companions and deposits), top-ups,
a party paying on one receipt, several wristbands on one receipt, the lost-card transfer, the standalone
terminal's payment dialog, manual return and the receipt's print button — and each main state of the till
in every language, saved as screenshots."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.customers.profile import update_customer
from tapzone.i18n import LANGUAGES
from tapzone.pos.price_groups import add_price_group, configure_group_price
from tapzone.store.db import make_engine
from tapzone.store.tables import customers, staff
from tapzone.store.uow import UnitOfWork
from tests.browser.conftest import LiveVenue, screenshot, sign_in_at_till

PREPAID_TICKET = "Day ticket with prepaid value"
CREDIT_TICKET = "Day ticket with credit (30.00)"
FAMILY_TICKET = "Family ticket (up to 4)"


def read(page: Any, uid: str) -> None:
    """Hold a wristband to the reader: the keyboard wedge types its number and Enter."""
    page.fill("#medium", uid)
    page.press("#medium", "Enter")
    page.wait_for_selector(f"#tab .tab[data-uid='{uid}'], #tab .free[data-uid='{uid}'], #tab .error")


def choose_entry(page: Any, ticket: str) -> None:
    page.select_option(".sell-entry select[name=entry_product_id]", label=_option_label(page, ticket))
    page.wait_for_selector("#entry-form .entry-terms")


def _option_label(page: Any, ticket: str) -> str:
    labels: list[str] = page.eval_on_selector_all(
        ".sell-entry select[name=entry_product_id] option", "options => options.map(o => o.textContent.trim())"
    )
    return next(label for label in labels if label.startswith(ticket))


def sell_entry(page: Any, uid: str, ticket: str, *, load: str = "", companions: tuple[str, ...] = ()) -> None:
    """Sell a ticket onto the free wristband on the reader, paid exactly in cash."""
    read(page, uid)
    choose_entry(page, ticket)
    if load:
        page.fill("#entry-form input[name=initial_load]", load)
    for index, companion in enumerate(companions):
        page.locator("#entry-form input[name=companions]").nth(index).fill(companion)
    page.click(".sell-entry button[value=cash]")
    page.wait_for_selector(f"#tab .tab[data-uid='{uid}']")


def tap(page: Any, product: str, open_total: str) -> None:
    page.click(f"button.product:has-text('{product}')")
    page.wait_for_selector(f"#open-total:has-text('{open_total}')")


def test_sell_an_entry_and_top_up(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live)
    read(page, "W0010")
    assert page.is_visible(".free .sell-entry")
    assert not page.is_visible(".free .transfer"), "a cashier may not move a lost card's value"
    choose_entry(page, PREPAID_TICKET)
    page.fill("#entry-form input[name=initial_load]", "20")
    page.press("#entry-form input[name=initial_load]", "Tab")
    page.wait_for_selector("#entry-due:has-text('€38.00')")
    page.fill(".sell-entry input[name=cash_given]", "50")
    screenshot(page, "till-entry-en")
    page.click(".sell-entry button[value=cash]")
    page.wait_for_selector("#tab .tab[data-uid='W0010']")
    notices = page.inner_text("#tab")
    assert "Entry sold for €38.00" in notices
    assert "Change to give back: €12.00" in notices
    assert page.inner_text("#balance") == "€20.00"
    assert page.is_visible(".receipt a")

    page.fill(".topup input[name=amount]", "10")
    screenshot(page, "till-topup-en")
    page.click(".topup button[value=cash]")
    page.wait_for_selector("#balance:has-text('€30.00')")
    assert "Loaded €10.00, balance now €30.00" in page.inner_text("#tab")
    page.fill(".topup input[name=amount]", "10.005")
    page.click(".topup button[value=cash]")
    page.wait_for_selector("#tab .error")
    assert "Enter the amount like €12.50" in page.inner_text("#tab .error")
    assert page.inner_text("#balance") == "€30.00"


def test_family_pays_this_one_or_all_on_one_receipt(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live)
    read(page, "W0020")
    choose_entry(page, FAMILY_TICKET)
    companions = page.locator("#entry-form input[name=companions]")
    assert companions.count() == 3
    # The reader's Enter in a companion field moves on instead of selling half a family.
    companions.nth(0).fill("W0021")
    companions.nth(0).press("Enter")
    assert page.evaluate("document.activeElement.value === '' && document.activeElement.name") == "companions"
    companions.nth(1).fill("W0020")  # the main wristband read again by mistake
    page.click(".sell-entry button[value=cash]")
    page.wait_for_selector("#tab .error")
    assert page.input_value("#entry-form input[name=companions] >> nth=0") == "W0021", "what was read is kept"
    companions.nth(1).fill("w0022")
    companions.nth(1).press("Tab")
    page.wait_for_selector("#entry-due:has-text('€64.00')")  # 49.00 + three deposits of 5.00
    page.click(".sell-entry button[value=cash]")
    page.wait_for_selector("#tab .tab[data-uid='W0020']")
    assert "Entry sold for €64.00" in page.inner_text("#tab")
    assert page.inner_text("#deposit") == "€5.00"
    assert page.locator(".party .member").count() == 2

    read(page, "W0021")
    tap(page, "Fries", "€3.20")
    read(page, "W0020")
    tap(page, "Beer 0.5 l", "€4.50")
    assert page.inner_text(".party .member[data-uid='W0021'] .debt") == "€3.20"
    assert page.inner_text(".scope .due-all") == "€7.70"
    assert page.inner_text(".scope .due-this") == "€4.50"
    page.click(".settle button[value=cash]")  # the whole party is chosen by default
    page.wait_for_selector("#tab .receipt a")
    assert page.locator("#tab .receipt a").count() == 1, "one receipt for the whole party"
    assert page.inner_text("#open-total") == "€0.00"
    assert page.inner_text(".party .member[data-uid='W0021'] .debt") == "€0.00"

    # Manual return of a companion: the deposit comes back in cash.
    read(page, "W0022")
    page.click(".tab button.return")
    page.wait_for_selector("#tab .notice:has-text('Medium returned')")
    assert "Deposit paid back in cash: €5.00" in page.inner_text("#tab")


def test_several_wristbands_on_one_receipt(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live, till=1)
    for uid, product, total in (("W0030", "Espresso", "€2.20"), ("W0031", "Bratwurst", "€4.80")):
        sell_entry(page, uid, CREDIT_TICKET)
        tap(page, product, total)
    page.fill(".together-read input[name=other]", "W0030")
    page.press(".together-read input[name=other]", "Enter")
    page.wait_for_selector(".together li[data-uid='W0030']")
    assert page.inner_text("#due") == "€7.00"
    page.fill(".settle input[name=cash_given]", "10")
    page.click(".settle button[value=cash]")
    page.wait_for_selector("#tab .receipt a")
    assert "Change to give back: €3.00" in page.inner_text("#tab")
    read(page, "W0030")
    assert page.inner_text("#open-total") == "€0.00"


def test_lost_card_transfer(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live, login="ben")
    sell_entry(page, "W0040", PREPAID_TICKET, load="20")
    tap(page, "Beer 0.5 l", "€4.50")
    read(page, "W0041")
    page.fill(".transfer input[name=lost_uid]", "W0040")
    screenshot(page, "till-transfer-en")
    page.click(".transfer button[type=submit]")
    page.wait_for_selector("#tab .tab[data-uid='W0041']")
    assert "The value of W0040 moved to W0041; W0040 is blocked for good" in page.inner_text("#tab")
    assert page.inner_text("#open-total") == "€4.50"
    assert page.inner_text("#balance") == "€20.00"
    screenshot(page, "till-transferred-en")

    read(page, "W0040")
    assert "Medium reported lost" in page.inner_text("#tab .error")
    assert not page.is_visible("#tab .tab")
    assert page.is_disabled("button.product:has-text('Beer 0.5 l')"), "no tap may book onto a refused medium"


def test_standalone_terminal_payment(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live)
    sell_entry(page, "W0060", CREDIT_TICKET)
    tap(page, "Beer 0.5 l", "€4.50")
    tap(page, "Fries", "€7.70")
    page.select_option(".settle select[name=provider]", "counter terminal")
    page.click(".settle button[value=card]")
    page.wait_for_selector(".backdrop .dialog")
    assert page.inner_text("#payment-amount") == "€7.70"
    assert "Take the card payment on the terminal first" in page.inner_text(".dialog .instruction")
    assert page.locator("#tab .receipt a").count() == 0, "no receipt before the terminal approved"
    screenshot(page, "till-card-dialog-en")

    page.fill(".dialog input[name=approved_amount]", "7.00")
    page.click(".dialog .confirm button[type=submit]")
    page.wait_for_selector(".dialog .error")
    refusal = page.inner_text(".dialog .error")
    assert "Payment amount differs" in refusal
    assert "The terminal approved €7.00, but €7.70 is due" in refusal
    assert page.locator("#tab .receipt a").count() == 0
    assert page.inner_text("#open-total") == "€7.70"
    screenshot(page, "till-card-refused-en")

    page.fill(".dialog input[name=approved_amount]", "7,70")
    page.fill(".dialog input[name=slip_number]", "0042")
    page.click(".dialog .confirm button[type=submit]")
    page.wait_for_selector("#tab .receipt a")
    assert not page.is_visible(".backdrop")
    assert page.inner_text("#open-total") == "€0.00"


def test_card_payment_declined_cancelled_and_kept_over_a_reload(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live)
    sell_entry(page, "W0061", PREPAID_TICKET, load="5")
    page.fill(".topup input[name=amount]", "25")
    page.select_option(".topup select[name=provider]", "counter terminal")
    page.click(".topup button[value=card]")
    page.wait_for_selector(".backdrop .dialog")
    assert page.inner_text("#payment-amount") == "€25.00"
    page.click(".dialog button.decline")
    page.wait_for_selector("#tab .notice:has-text('Card declined: nothing was booked')")
    assert page.inner_text("#balance") == "€5.00"

    page.fill(".topup input[name=amount]", "25")
    page.select_option(".topup select[name=provider]", "counter terminal")
    page.click(".topup button[value=card]")
    page.wait_for_selector(".backdrop .dialog")
    page.reload()  # the tablet restarted: the money on the terminal must not be forgotten
    page.wait_for_selector(".backdrop .dialog")
    assert page.inner_text("#payment-amount") == "€25.00"
    page.fill(".dialog input[name=approved_amount]", "25")
    page.click(".dialog .confirm button[type=submit]")
    page.wait_for_selector("#balance:has-text('€30.00')")
    assert page.is_visible("#tab .receipt a")

    page.fill(".topup input[name=amount]", "1")
    page.select_option(".topup select[name=provider]", "counter terminal")
    page.click(".topup button[value=card]")
    page.wait_for_selector(".backdrop .dialog")
    page.click(".dialog button.cancel")
    page.wait_for_selector("#tab .notice:has-text('Card payment cancelled')")
    assert page.inner_text("#balance") == "€30.00"


def test_receipt_preview_prints(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live)
    sell_entry(page, "W0070", CREDIT_TICKET)
    with page.context.expect_page() as opened:
        page.click("#tab .receipt a")
    preview = opened.value
    preview.add_init_script("window.print = () => { window.printed = true; };")
    preview.reload()
    preview.wait_for_selector(".tz-receipt")
    screenshot(preview, "till-receipt-en")
    preview.click("#print")
    assert preview.evaluate("window.printed === true")
    assert preview.evaluate("getComputedStyle(document.querySelector('.toolbar')).display") != "none"
    preview.emulate_media(media="print")
    assert preview.evaluate("getComputedStyle(document.querySelector('.toolbar')).display") == "none"


def test_account_type_at_the_till(page: Any, live: LiveVenue) -> None:
    sign_in_at_till(page, live)
    read(page, "C0001")  # a new card, registered by the sale
    page.click(".free details.more summary")
    page.wait_for_selector(".sell-account select[name=account_type_id]")
    page.select_option(".sell-account select[name=account_type_id]", label="3 · Ten-visit card · €45.00 / €80.00")
    page.fill(".sell-account input[name=price]", "45")
    screenshot(page, "till-account-type-en")
    page.click(".sell-account button[value=cash]")
    page.wait_for_selector("#tab .tab[data-uid='C0001']")
    assert "Sold for €45.00: Ten-visit card" in page.inner_text("#tab")


@pytest.mark.parametrize("language", LANGUAGES)
def test_till_states_in_every_language(page: Any, live: LiveVenue, language: str) -> None:
    """Every main state of the till in each language; any text without a translation fails the test."""
    base = 80 + 4 * LANGUAGES.index(language)
    main, companion = f"W{base:04d}", f"W{base + 1:04d}"
    sign_in_at_till(page, live, login="ben")
    page.goto(f"{live.base_url}/till?lang={language}")
    assert page.get_attribute("html", "lang") == language
    read(page, main)
    choose_entry(page, FAMILY_TICKET)
    page.locator("#entry-form input[name=companions]").nth(0).fill(companion)
    page.click(".free details.more summary")
    page.wait_for_selector(".sell-account")
    screenshot(page, f"till-sell-{language}")
    page.click(".sell-entry button[value=cash]")
    page.wait_for_selector(f"#tab .tab[data-uid='{main}']")
    read(page, companion)
    # Read the next wristband at once: the till's requests queue, so the answer shown is the last read's.
    page.click("button.product[data-product]:not([disabled])")
    read(page, main)
    page.wait_for_selector(".scope")
    screenshot(page, f"till-party-{language}")
    page.select_option(".settle select[name=provider]", "counter terminal")
    page.click(".settle button[value=card]")
    page.wait_for_selector(".backdrop .dialog")
    page.fill(".dialog input[name=approved_amount]", "1")
    page.click(".dialog .confirm button[type=submit]")
    page.wait_for_selector(".dialog .error")
    screenshot(page, f"till-card-dialog-{language}")
    page.click(".dialog button.cancel")
    page.wait_for_selector("#tab .notice")
    read(page, f"W{base + 2:04d}")
    page.wait_for_selector(".free .transfer")
    screenshot(page, f"till-free-{language}")


def _members_price_group(live: LiveVenue) -> None:
    """Set-up as the back office would do it: a "Members" group paying less for beer and the credit day
    ticket, and Olga in it."""
    engine = make_engine(live.database_url)
    uow = UnitOfWork(engine)
    venue_id = live.demo.venue_id
    prices = {name: product_id for product_id, name, *_ in live.demo.products}
    entries = {name: product_id for product_id, name in live.demo.entry_products}
    group_id = add_price_group(uow, venue_id, name="Members")
    configure_group_price(uow, venue_id, price_group_id=group_id, product_id=prices["Beer 0.5 l"], price_minor=300)
    configure_group_price(uow, venue_id, price_group_id=group_id, product_id=entries[CREDIT_TICKET], price_minor=1500)
    with engine.connect() as conn:
        admin = conn.execute(sa.select(staff.c.id).where(staff.c.login == "eva")).scalar_one()
        olga = conn.execute(sa.select(customers.c.id).where(customers.c.name == "Olga Ordinarie")).scalar_one()
    ctx = RequestContext(venue_id, live.demo.tills[0][0], admin, "members-olga")
    update_customer(uow, ctx, customer_id=olga, price_group_id=group_id)
    engine.dispose()


def test_the_customers_price_group_applies(page: Any, live: LiveVenue) -> None:
    _members_price_group(live)
    sign_in_at_till(page, live)
    read(page, "W0090")
    choose_entry(page, CREDIT_TICKET)
    assert page.inner_text("#entry-due") == "€18.00"
    page.select_option(".sell-entry select[name=customer_id]", label="Olga Ordinarie")
    page.wait_for_selector("#entry-due:has-text('€15.00')")
    page.click(".sell-entry button[value=cash]")
    page.wait_for_selector("#tab .tab[data-uid='W0090']")
    assert "Entry sold for €15.00" in page.inner_text("#tab")
    assert "Price group: Members" in page.inner_text("#tab .customer")
    assert "€3.00" in page.inner_text("button.product:has-text('Beer 0.5 l')")
    # A member's purchases go to the customer's own account, not onto the wristband's tab (seed 001).
    page.click("button.product:has-text('Beer 0.5 l')")
    page.wait_for_selector("#on-account:has-text('€3.00')")
    assert page.inner_text("#available") == "€27.00"
    screenshot(page, "till-price-group-en")
    read(page, "W0010")  # another visitor pays list prices again
    assert "€4.50" in page.inner_text("button.product:has-text('Beer 0.5 l')")
