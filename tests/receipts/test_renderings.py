"""The three renderings — ESC/POS bytes, HTML, PDF — carry the same content: every text of the layout."""

from __future__ import annotations

import html
import io
import logging
import re

import pytest
import segno
from pypdf import PdfReader

from tapzone.i18n import gettext
from tapzone.pos.receipts.escpos import CODEPAGES, render_escpos
from tapzone.pos.receipts.html import render_html, render_html_fragment
from tapzone.pos.receipts.layout import block_texts, layout
from tapzone.pos.receipts.model import ReceiptKind
from tapzone.pos.receipts.pdf import render_pdf
from tapzone.pos.receipts.render import MEDIA_TYPES, render
from tests.receipts.renderings import (
    escpos_expected,
    escpos_text,
    html_text,
    missing_in_order,
    pdf_text,
    squash,
)
from tests.receipts.samples import QR_PAYLOAD, TIMEZONES, sample_receipt

LANGUAGES = ("de", "ru", "en", "sv")
CASES = [(kind, language) for kind in ReceiptKind for language in LANGUAGES]
IDS = [f"{kind.value}-{language}" for kind, language in CASES]

ESC_INIT = b"\x1b@"
BOLD_ON = b"\x1bE\x01"
DOUBLE_HEIGHT = b"\x1b!\x10"
INVERT_ON = b"\x1dB\x01"
INVERT_OFF = b"\x1dB\x00"
FULL_CUT = b"\x1dV\x00"
QR_STORE = b"\x1d(k"


@pytest.mark.parametrize(("kind", "language"), CASES, ids=IDS)
def test_the_three_renderings_carry_every_text_of_the_layout_in_order(kind: ReceiptKind, language: str) -> None:
    receipt = sample_receipt(kind, language)
    timezone = TIMEZONES[language]
    texts = block_texts(layout(receipt, timezone))
    assert len(texts) > 15

    printed = escpos_text(render_escpos(receipt, timezone), language)
    assert missing_in_order([escpos_expected(text, language) for text in texts], printed) == []
    assert missing_in_order(texts, html_text(render_html(receipt, timezone))) == []
    assert missing_in_order(texts, pdf_text(render_pdf(receipt, timezone))) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bill_says_not_paid_at_top_and_bottom_in_all_three(language: str) -> None:
    receipt = sample_receipt(ReceiptKind.BILL, language)
    timezone = TIMEZONES[language]
    not_paid = gettext("NOT PAID", language)
    title = gettext("Bill — not paid", language)

    output = render_escpos(receipt, timezone)
    encoded = escpos_expected(not_paid, language).encode(CODEPAGES[language])
    assert output.count(encoded) == 2
    first = output.index(encoded)
    # inverted, bold and double height, before anything else is printed
    assert INVERT_ON in output[:first] and BOLD_ON in output[:first] and DOUBLE_HEIGHT in output[:first]
    assert output.rindex(INVERT_ON) < output.rindex(encoded)
    assert squash(escpos_text(output[:first], language)).isascii()  # only commands precede it

    page = render_html(receipt, timezone)
    assert page.count(f'<p class="alert center">{html.escape(not_paid)}</p>') == 2
    assert html_text(page).strip().startswith(not_paid)
    assert html.escape(title) in page

    text = pdf_text(render_pdf(receipt, timezone))
    assert squash(text).startswith(squash(not_paid))
    assert squash(text).endswith(squash(not_paid))
    assert squash(title) in squash(text)


@pytest.mark.parametrize("kind", [kind for kind in ReceiptKind if kind is not ReceiptKind.BILL])
def test_only_a_bill_says_not_paid(kind: ReceiptKind) -> None:
    receipt = sample_receipt(kind, "de")
    timezone = TIMEZONES["de"]
    assert "NICHT BEZAHLT" not in escpos_text(render_escpos(receipt, timezone), "de")
    assert INVERT_ON not in render_escpos(receipt, timezone)
    assert "NICHT BEZAHLT" not in render_html(receipt, timezone)
    assert "NICHTBEZAHLT" not in squash(pdf_text(render_pdf(receipt, timezone)))


def test_escpos_resets_selects_the_code_page_and_ends_with_a_cut() -> None:
    output = render_escpos(sample_receipt(ReceiptKind.PURCHASE, "ru"), TIMEZONES["ru"])
    assert output.startswith(ESC_INIT + b"\x1bt\x11")  # ESC t 17: CP866, the Cyrillic code page
    assert output.endswith(FULL_CUT)
    assert "Итого".encode("cp866") in output
    assert "15,50 руб.".encode("cp866") in output  # the printer has no ₽

    german = render_escpos(sample_receipt(ReceiptKind.PURCHASE, "de"), TIMEZONES["de"])
    assert german.startswith(ESC_INIT + b"\x1bt\x13")  # ESC t 19: CP858, with €
    assert "15,50 €".encode("cp858") in german
    assert "Rückgeld".encode("cp858") in german


def test_escpos_title_is_bold_and_double_height() -> None:
    output = render_escpos(sample_receipt(ReceiptKind.TOPUP, "sv"), TIMEZONES["sv"])
    title = "Laddning".encode("cp858")
    before = output[: output.index(title)]
    assert before.rindex(DOUBLE_HEIGHT) > before.rindex(b"\x1b!\x00")
    assert before.rindex(BOLD_ON) > before.rindex(b"\x1bE\x00")


def test_escpos_lines_fit_the_paper() -> None:
    output = render_escpos(sample_receipt(ReceiptKind.Z_REPORT, "ru"), TIMEZONES["ru"])
    text = escpos_text(output.split(QR_STORE)[0], "ru")
    # drop the command sequences python-escpos sends (ESC/GS + command byte + one argument byte)
    lines = re.sub(r"[\x1b\x1d].[\x00-\x7f]?", "", text).split("\n")
    assert max(len(line) for line in lines) <= 56  # font B; font A lines are at most 42


def test_escpos_prints_the_qr_code_natively_with_the_fiscal_payload() -> None:
    receipt = sample_receipt(ReceiptKind.PURCHASE, "de")
    output = render_escpos(receipt, TIMEZONES["de"])
    payload = QR_PAYLOAD.encode()
    # GS ( k pL pH 49 80 48 d1…dk: store the symbol data, then GS ( k … 49 81 48: print it
    store = QR_STORE + (len(payload) + 3).to_bytes(2, "little") + b"1P0" + payload
    assert store in output
    assert QR_STORE + b"\x03\x001Q0" in output[output.index(store) :]


def test_escpos_can_send_the_qr_code_as_an_image_drawn_by_segno() -> None:
    receipt = sample_receipt(ReceiptKind.PURCHASE, "de")
    output = render_escpos(receipt, TIMEZONES["de"], qr="image")
    assert b"\x1dv0" in output  # GS v 0: raster bit image
    assert QR_PAYLOAD.encode() not in output
    assert QR_STORE not in output
    texts = [escpos_expected(text, "de") for text in block_texts(layout(receipt, TIMEZONES["de"]))]
    assert missing_in_order(texts, escpos_text(output, "de")) == []


def test_html_is_one_self_contained_escaped_page_in_the_receipt_language() -> None:
    receipt = sample_receipt(ReceiptKind.PURCHASE, "en")
    page = render_html(receipt, TIMEZONES["en"])
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "<style>" in page
    assert not re.search(r"https?:|<script|<link|<img|\bsrc=|\bhref=", page)
    # names from the venue and the catalogue are text, never markup
    assert "Splash &amp; Co &lt;Lido&gt;" in page
    assert "Fish &amp; chips &lt;large&gt;" in page
    assert "<Lido>" not in page
    assert "<large>" not in page
    assert '<html lang="ru">' in render_html(sample_receipt(ReceiptKind.PURCHASE, "ru"), TIMEZONES["ru"])


def test_html_fragment_is_the_article_of_the_page() -> None:
    receipt = sample_receipt(ReceiptKind.SETTLEMENT, "sv")
    fragment = render_html_fragment(receipt, TIMEZONES["sv"])
    assert fragment.startswith('<article class="tz-receipt" lang="sv" data-kind="settlement">')
    assert fragment in render_html(receipt, TIMEZONES["sv"])


def test_html_carries_the_qr_payload_and_the_code_segno_draws_for_it() -> None:
    receipt = sample_receipt(ReceiptKind.ENTRY, "de")
    page = render_html(receipt, TIMEZONES["de"])
    payloads = [html.unescape(value) for value in re.findall(r'data-qr-payload="([^"]*)"', page)]
    assert payloads == [QR_PAYLOAD]
    drawn = re.findall(r'<path [^>]*\bd="([^"]+)"', page)
    expected = re.findall(r'\bd="([^"]+)"', segno.make(QR_PAYLOAD, error="m", micro=False).svg_inline())
    other = re.findall(r'\bd="([^"]+)"', segno.make(QR_PAYLOAD + "x", error="m", micro=False).svg_inline())
    assert drawn == expected
    assert drawn != other


def test_pdf_is_80_mm_wide_as_long_as_the_receipt_with_an_embedded_unicode_font(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        short = render_pdf(sample_receipt(ReceiptKind.BILL, "ru"), TIMEZONES["ru"])
        long = render_pdf(sample_receipt(ReceiptKind.Z_REPORT, "de"), TIMEZONES["de"])
        render_pdf(sample_receipt(ReceiptKind.PURCHASE, "en"), TIMEZONES["en"])  # "5:05:09 PM", a narrow space
        render_pdf(sample_receipt(ReceiptKind.PURCHASE, "sv"), TIMEZONES["sv"])
    assert caplog.records == []  # no glyph missing from the font
    heights = []
    for document in (short, long):
        reader = PdfReader(io.BytesIO(document))
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert float(box.width) == pytest.approx(80 / 25.4 * 72, abs=0.01)
        heights.append(float(box.height) / 72 * 25.4)
        fonts = reader.pages[0]["/Resources"]["/Font"]
        assert all("PTSans" in str(font.get_object()["/BaseFont"]) for font in fonts.values())
    assert 80 < heights[0] < heights[1] < 400


def test_pdf_of_the_same_receipt_is_the_same_bytes() -> None:
    receipt = sample_receipt(ReceiptKind.PURCHASE, "de")
    assert render_pdf(receipt, TIMEZONES["de"]) == render_pdf(receipt, TIMEZONES["de"])


def test_render_picks_the_format() -> None:
    receipt = sample_receipt(ReceiptKind.REFUND, "de")
    timezone = TIMEZONES["de"]
    assert render(receipt, "escpos", timezone) == render_escpos(receipt, timezone)
    assert render(receipt, "html", timezone) == render_html(receipt, timezone).encode()
    assert render(receipt, "pdf", timezone).startswith(b"%PDF-")
    assert set(MEDIA_TYPES) == {"escpos", "html", "pdf"}
    with pytest.raises(ValueError, match="unknown receipt format"):
        render(receipt, "png", timezone)  # type: ignore[arg-type]
