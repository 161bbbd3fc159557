"""A receipt as a PDF on an 80 mm wide page as long as the receipt, drawn from its layout blocks with fpdf2.

Font: PT Sans, from the `fontpkg-pt-sans` package on PyPI (the unmodified Google Fonts files, OFL). fpdf2
needs a TrueType file for anything beyond Latin-1, and a receipt prints German, Swedish and Russian text;
ParaType drew PT Sans for Cyrillic and Latin together, it comes as static regular and bold files (no
variable-font axes to set up), and as a Python dependency it is there on a clean machine without a system
font package or a font file kept in this repository.
"""

from __future__ import annotations

import io
from contextlib import ExitStack
from importlib.resources import as_file, files
from typing import Final

import segno
from fpdf import FPDF
from fpdf.enums import Align as PdfAlign
from fpdf.enums import XPos, YPos

from tapzone.i18n import DEFAULT_LANGUAGE, LANGUAGES
from tapzone.pos.receipts.layout import Align, Block, Item, Line, Pair, Qr, Rule, Style, Table, layout
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.receipts.texts import TITLES, translate

PAGE_WIDTH_MM: Final = 80.0
MARGIN_MM: Final = 4.0
QR_WIDTH_MM: Final = 42.0
PAGE_HEIGHT_MAX_MM: Final = 5000.0  # PDF viewers' page limit is 200 in (5080 mm); longer receipts get a second page
FONT: Final = "PTSans"
_FONT_FILES: Final = {"": "PT_Sans-Web-Regular.ttf", "B": "PT_Sans-Web-Bold.ttf"}
_SIZES_PT: Final = {Style.NORMAL: 9.0, Style.STRONG: 9.0, Style.TITLE: 12.5, Style.ALERT: 12.5, Style.SMALL: 7.0}
# PT Sans has no narrow no-break space (Babel puts one before "PM" in English times)
_SUBSTITUTES: Final = str.maketrans({"\u202f": "\u00a0", "\u2009": " "})


def render_pdf(receipt: Receipt, timezone: str) -> bytes:
    """The receipt as PDF bytes in its language, times in the venue's `timezone`."""
    blocks = layout(receipt, timezone)
    # Drawn twice: once on a tall page to learn the receipt's length, then on a page exactly that long.
    height = _draw(receipt, blocks, PAGE_HEIGHT_MAX_MM).get_y() + MARGIN_MM
    pdf = _draw(receipt, blocks, min(height, PAGE_HEIGHT_MAX_MM))
    return bytes(pdf.output())


def _draw(receipt: Receipt, blocks: list[Block], height_mm: float) -> FPDF:
    pdf = FPDF(unit="mm", format=(PAGE_WIDTH_MM, height_mm))
    language = receipt.language if receipt.language in LANGUAGES else DEFAULT_LANGUAGE
    pdf.set_lang(language)
    pdf.set_title(f"{translate(TITLES[receipt.kind], language)} {receipt.number}")
    pdf.set_author(receipt.venue.name)
    pdf.set_creator("tapzone")
    pdf.set_creation_date(receipt.issued_at)  # the same receipt gives the same bytes
    with ExitStack() as stack:
        for style, name in _FONT_FILES.items():
            path = stack.enter_context(as_file(files("fontpkg_pt_sans") / "files" / name))
            pdf.add_font(FONT, style, path)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
    pdf.add_page()
    for block in blocks:
        _block(pdf, block)
    return pdf


def _line_height(style: Style) -> float:
    return _SIZES_PT[style] * 0.47  # mm: 1.33 × the font size in points, a comfortable receipt leading


def _font(pdf: FPDF, style: Style) -> None:
    bold = style in (Style.STRONG, Style.TITLE, Style.ALERT)
    pdf.set_font(FONT, "B" if bold else "", _SIZES_PT[style])


def _text(text: str) -> str:
    return text.translate(_SUBSTITUTES)


def _block(pdf: FPDF, block: Block) -> None:
    match block:
        case Line():
            _line(pdf, block)
        case Pair(label=label, value=value, style=style):
            _pair(pdf, label, value, style)
        case Item(name=name, amount=amount, details=details):
            _pair(pdf, name, amount, Style.NORMAL)
            _font(pdf, Style.SMALL)
            for detail in details:
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(
                    pdf.epw - 4, _line_height(Style.SMALL), _text(detail), new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
        case Table():
            _table(pdf, block)
        case Rule():
            y = pdf.get_y() + 1.2
            with pdf.local_context(dash_pattern={"dash": 0.8, "gap": 0.8}, line_width=0.2):
                pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
            pdf.set_y(y + 1.2)
        case Qr(payload=payload):
            svg = io.BytesIO()
            segno.make(payload, error="m", micro=False).save(svg, kind="svg", scale=1, border=4, omitsize=True)
            svg.seek(0)
            pdf.image(svg, x=PdfAlign.C, w=QR_WIDTH_MM)
            pdf.ln(1)


def _line(pdf: FPDF, line: Line) -> None:
    _font(pdf, line.style)
    height = _line_height(line.style)
    if line.style is Style.ALERT:
        # white on black across the page: a bill cannot be mistaken for a receipt of payment
        pdf.ln(1)
        with pdf.local_context(fill_color=(0, 0, 0), text_color=(255, 255, 255)):
            pdf.multi_cell(
                0, height + 1.5, _text(line.text), align=PdfAlign.C, fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        pdf.ln(1)
        return
    align = PdfAlign.C if line.align is Align.CENTER else PdfAlign.L
    pdf.multi_cell(0, height, _text(line.text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if line.style is Style.TITLE:
        pdf.ln(1)


def _pair(pdf: FPDF, label: str, value: str, style: Style) -> None:
    _font(pdf, style)
    label, value = _text(label), _text(value)
    height = _line_height(style)
    label_w = pdf.get_string_width(label) + 2 * pdf.c_margin
    value_w = pdf.get_string_width(value) + 2 * pdf.c_margin
    if label_w + value_w + 2 <= pdf.epw:
        pdf.cell(pdf.epw - value_w, height, label)
        pdf.cell(value_w, height, value, align=PdfAlign.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    # too long for one line: the label wraps and the value follows below, right-aligned when it fits one
    # line (an amount), else wrapped from the left (a serial number), as on the printer
    pdf.multi_cell(0, height, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    align = PdfAlign.R if value_w <= pdf.epw else PdfAlign.L
    pdf.multi_cell(0, height, value, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: FPDF, table: Table) -> None:
    _font(pdf, Style.NORMAL)
    height = _line_height(Style.NORMAL)
    rows = [tuple(map(_text, table.header)), *(tuple(map(_text, row)) for row in table.rows)]
    widths = [max(pdf.get_string_width(row[i]) for row in rows) + 2 * pdf.c_margin for i in range(len(table.header))]
    spare = pdf.epw - sum(widths)
    if spare < 0:
        for row in rows[1:]:  # too wide: one "header: value" pair per cell
            for label, value in zip(rows[0], row, strict=True):
                _pair(pdf, label, value, Style.NORMAL)
        return
    widths[0] += spare
    for number, row in enumerate(rows):
        for index, cell in enumerate(row):
            last = index == len(row) - 1
            pdf.cell(
                widths[index],
                height,
                cell,
                border="B" if number == 0 else 0,
                align=PdfAlign.L if index == 0 else PdfAlign.R,
                new_x=XPos.LMARGIN if last else XPos.RIGHT,
                new_y=YPos.NEXT if last else YPos.TOP,
            )
    pdf.ln(1)
