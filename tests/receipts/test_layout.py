"""The layout: what each kind of receipt says, in the venue language and time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfoNotFoundError

import pytest

from tapzone.i18n import gettext
from tapzone.pos.receipts.layout import Item, Line, Pair, Qr, Style, Table, block_texts, layout, qr_payloads
from tapzone.pos.receipts.model import ReceiptKind
from tapzone.pos.receipts.texts import RECEIPT_TEXTS
from tests.receipts.samples import QR_PAYLOAD, SIGNATURE, TIMEZONES, fiscal_block, sample_receipt

TITLES = {
    ReceiptKind.ENTRY: {"de": "Eintrittskarte", "ru": "Входной билет", "en": "Entry ticket"},
    ReceiptKind.TOPUP: {"de": "Aufladung", "ru": "Пополнение", "en": "Top-up"},
    ReceiptKind.PURCHASE: {"de": "Kassenbon", "ru": "Кассовый чек", "en": "Receipt"},
    ReceiptKind.BILL: {"de": "Rechnung — nicht bezahlt", "ru": "Счёт — не оплачен", "en": "Bill — not paid"},
    ReceiptKind.SETTLEMENT: {"de": "Bezahlung der Rechnung", "ru": "Оплата счёта", "en": "Settlement"},
    ReceiptKind.REFUND: {"de": "Rückerstattung", "ru": "Возврат", "en": "Refund"},
    ReceiptKind.Z_REPORT: {"de": "Z-Bericht", "ru": "Z-отчёт", "en": "Z report"},
}


def pairs(kind: ReceiptKind, language: str) -> dict[str, str]:
    blocks = layout(sample_receipt(kind, language), TIMEZONES[language])
    return {block.label: block.value for block in blocks if isinstance(block, Pair)}


@pytest.mark.parametrize("kind", list(ReceiptKind))
@pytest.mark.parametrize("language", ["de", "ru", "en"])
def test_title_by_kind_in_the_receipt_language(kind: ReceiptKind, language: str) -> None:
    blocks = layout(sample_receipt(kind, language), TIMEZONES[language])
    titles = [block.text for block in blocks if isinstance(block, Line) and block.style is Style.TITLE]
    assert titles == [TITLES[kind][language]]


def test_venue_header_and_receipt_data() -> None:
    blocks = layout(sample_receipt(ReceiptKind.PURCHASE, "de"), TIMEZONES["de"])
    texts = block_texts(blocks)
    assert texts[:4] == ["Bäderland Nord", "Wellenweg 3", "20095 Hamburg", "USt-IdNr.: DE123456789"]
    russian = block_texts(layout(sample_receipt(ReceiptKind.PURCHASE, "ru"), TIMEZONES["ru"]))
    assert russian[3] == "ИНН: 1655000000"  # a tax number, no VAT id
    data = pairs(ReceiptKind.PURCHASE, "de")
    assert data["Nr."] == "42"
    assert data["Kasse"] == "Kasse 1 <Eingang>"
    assert data["Bediener"] == "Ada & Bob"
    assert data["Karten-Nr."] == "04A1B2C3D4"


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("de", "04.07.2026, 18:05:09"),  # CEST
        ("ru", "4 июл. 2026\u202fг., 19:05:09"),  # MSK
        ("en", "Jul 4, 2026, 5:05:09\u202fPM"),  # BST
        ("sv", "4 juli 2026 18:05:09"),
    ],
)
def test_issued_at_is_shown_in_the_venue_time_zone(language: str, shown: str) -> None:
    data = pairs(ReceiptKind.PURCHASE, language)
    assert data[gettext("Date", language)] == shown


def test_the_same_receipt_in_another_zone_shows_another_time() -> None:
    receipt = sample_receipt(ReceiptKind.PURCHASE, "de")
    tokyo = {b.label: b.value for b in layout(receipt, "Asia/Tokyo") if isinstance(b, Pair)}
    assert tokyo["Datum"] == "05.07.2026, 01:05:09"
    with pytest.raises(ZoneInfoNotFoundError):
        layout(receipt, "Mars/Olympus_Mons")


def test_lines_with_quantity_vat_rate_and_the_vat_table_per_rate() -> None:
    blocks = layout(sample_receipt(ReceiptKind.PURCHASE, "de"), TIMEZONES["de"])
    items = [block for block in blocks if isinstance(block, Item)]
    assert items == [
        Item("Pommes <groß> & Ketchup", "9,00\xa0€", ("2 × 4,50\xa0€", "MwSt. 19\xa0%")),
        Item("Apfelschorle 0,5 l", "6,50\xa0€", ("MwSt. 7\xa0%",)),
    ]
    tables = [block for block in blocks if isinstance(block, Table)]
    assert tables == [
        Table(
            ("Steuersatz", "Netto", "MwSt.", "Brutto"),
            (("19\xa0%", "7,56\xa0€", "1,44\xa0€", "9,00\xa0€"), ("7\xa0%", "6,07\xa0€", "0,43\xa0€", "6,50\xa0€")),
        )
    ]
    assert pairs(ReceiptKind.PURCHASE, "de")["Summe"] == "15,50\xa0€"


def test_russian_lines_carry_the_54_fz_settlement_method() -> None:
    blocks = layout(sample_receipt(ReceiptKind.TOPUP, "ru"), TIMEZONES["ru"])
    (item,) = [block for block in blocks if isinstance(block, Item)]
    assert item.details == ("НДС 20\xa0%", "Аванс")


def test_tenders_with_cashless_marker_slip_number_change_and_balance_left() -> None:
    data = pairs(ReceiptKind.SETTLEMENT, "de")
    assert data["Bar"] == "14,50\xa0€"
    assert data["Kartenzahlung (Terminal 1)"] == "5,50\xa0€"
    assert data["Zahlungsart"] == "unbar"
    assert data["Terminal-Beleg-Nr."] == "000815"
    assert data["Rückgeld"] == "4,50\xa0€"
    assert data["Restguthaben auf der Karte"] == "12,00\xa0€"
    english = pairs(ReceiptKind.SETTLEMENT, "en")
    assert english["Payment type"] == "cashless"
    assert english["Change"] == "€4.50"


def test_a_bill_has_no_tenders_and_no_change_and_a_reference() -> None:
    data = pairs(ReceiptKind.BILL, "de")
    assert data["Bezug"] == "tab 12"
    assert "Rückgeld" not in data
    assert "Bar" not in data
    texts = block_texts(layout(sample_receipt(ReceiptKind.BILL, "de"), TIMEZONES["de"]))
    assert texts[0] == texts[-1] == "NICHT BEZAHLT"
    assert "Diese Rechnung ist kein Zahlungsbeleg." in texts


def test_german_receipts_print_the_tse_fields_and_its_qr_payload() -> None:
    blocks = layout(sample_receipt(ReceiptKind.PURCHASE, "de"), TIMEZONES["de"])
    data = {block.label: block.value for block in blocks if isinstance(block, Pair)}
    fiscal = fiscal_block()
    assert data["TSE-Seriennr."] == fiscal.tse_serial
    assert data["Kassen-Seriennr."] == "TZ-TILL-0001"
    assert data["Transaktionsnr."] == "1234"
    assert data["Signaturzähler"] == "4711"
    assert data["Vorgangsbeginn"] == "04.07.2026, 18:05:03"
    assert data["Vorgangsende"] == "04.07.2026, 18:05:09"
    assert data["Vorgangstyp"] == "Kassenbeleg-V1"
    assert data["Signaturalgorithmus"] == "ecdsa-plain-SHA384"
    assert SIGNATURE in block_texts(blocks)
    assert qr_payloads(blocks) == [QR_PAYLOAD]
    assert isinstance(blocks[-3], Qr)  # the code comes after the fields it encodes, before the thank-you


@pytest.mark.parametrize("language", ["ru", "en", "sv"])
def test_no_qr_code_without_a_fiscal_block(language: str) -> None:
    assert qr_payloads(layout(sample_receipt(ReceiptKind.PURCHASE, language), TIMEZONES[language])) == []


def test_z_report_totals() -> None:
    blocks = layout(sample_receipt(ReceiptKind.Z_REPORT, "de"), TIMEZONES["de"])
    data = {block.label: block.value for block in blocks if isinstance(block, Pair)}
    labels = [block.label for block in blocks if isinstance(block, Pair)]
    assert data["Geschäftstag"] == "04.07.2026"
    # cash first, then cards per provider, then prepaid value
    tenders = labels[labels.index("Bar") : labels.index("Guthaben") + 1]
    assert tenders == ["Bar", "Kartenzahlung (Terminal 1)", "Guthaben"]
    assert data["Bar"] == "1.234,50\xa0€"
    assert data["Soll-Bargeld in der Kasse"] == "1.434,50\xa0€"
    # bookings in the closed list's order; a code the renderer does not know yet is shown as it is
    counted = labels[labels.index("Verkäufe") - 1 : labels.index("Buchungen gesamt") + 1]
    assert counted == ["Aufladungen", "Verkäufe", "Rückerstattungen", "Einlagen", "future-code", "Buchungen gesamt"]
    assert data["Buchungen gesamt"] == "161"
    assert any(isinstance(block, Table) for block in blocks)
    assert "Summe" not in data


@pytest.mark.parametrize("kind", list(ReceiptKind))
@pytest.mark.parametrize("language", ["de", "ru", "sv"])
def test_no_english_msgid_is_left_untranslated(kind: ReceiptKind, language: str) -> None:
    texts = block_texts(layout(sample_receipt(kind, language), TIMEZONES[language]))
    assert [text for text in texts if text in RECEIPT_TEXTS] == []


def test_an_unsupported_language_falls_back_to_english() -> None:
    receipt = sample_receipt(ReceiptKind.PURCHASE, "en").model_copy(update={"language": "fr"})
    texts = block_texts(layout(receipt, "Europe/Paris"))
    assert "Receipt" in texts
    assert "Total" in texts
