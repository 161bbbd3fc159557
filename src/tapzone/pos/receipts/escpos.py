"""ESC/POS bytes for an 80 mm thermal printer, drawn from the receipt's layout blocks with python-escpos.

The printer object is python-escpos's `Dummy`, which only collects the bytes; sending them to a device
(USB, network port 9100, serial) is the printer port's business, so rendering needs no hardware.

Text goes out in one fixed code page per language (CP858 has € and the German and Swedish letters,
CP866 the Cyrillic ones) instead of python-escpos's automatic switching: the bytes then do not depend on
which characters a receipt happens to contain, and a character the code page lacks (₽, narrow spaces,
dashes) is replaced by a readable stand-in rather than a "?".
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from typing import Literal

import segno
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from tapzone.i18n import DEFAULT_LANGUAGE, LANGUAGES
from tapzone.pos.receipts.layout import Align, Block, Item, Line, Pair, Qr, Rule, Style, Table, layout
from tapzone.pos.receipts.model import Receipt

COLUMNS = 42  # Font A on 80 mm paper (512 printable dots, 12 dots a character)
COLUMNS_SMALL = 56  # Font B, for the signature data
CODEPAGES: dict[str, str] = {"en": "CP858", "de": "CP858", "sv": "CP858", "ru": "CP866"}

# Printers draw the code pages' no-break space (0xFF) unreliably; column padding is plain spaces anyway.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
# Stand-ins for characters a code page lacks; a language's own entries win (₽ reads "руб." in Russian).
_FALLBACKS: dict[str, str] = {
    "—": "-",
    "–": "-",
    "−": "-",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "…": "...",
    "×": "x",
    "€": "EUR",
    "₽": "RUB",
    "№": "No.",
}
_LANGUAGE_FALLBACKS: dict[str, dict[str, str]] = {"ru": {"₽": "руб."}}

QrMode = Literal["native", "image"]


def render_escpos(receipt: Receipt, timezone: str, *, qr: QrMode = "native") -> bytes:
    """The receipt as ESC/POS bytes, ending with a feed and a full cut.

    The QR code is sent natively by default (`GS ( k`): the printer draws it at its own resolution from the
    payload itself, a few hundred bytes instead of a raster image, and every ESC/POS printer sold for
    receipts in the last decade has it. `qr="image"` draws it with segno and sends a raster image instead,
    for printers without the 2D-code command.
    """
    language = receipt.language if receipt.language in LANGUAGES else DEFAULT_LANGUAGE
    return _EscposDrawer(language, qr).draw(layout(receipt, timezone))


def printable(text: str, language: str) -> str:
    """`text` as the printer will show it: every character encodable in the language's code page."""
    codec = CODEPAGES.get(language, CODEPAGES[DEFAULT_LANGUAGE]).lower()
    own = _LANGUAGE_FALLBACKS.get(language, {})
    out: list[str] = []
    for char in text.translate(_SPACES):
        if _encodable(char, codec):
            out.append(char)
            continue
        stand_in = own.get(char) or _FALLBACKS.get(char)
        if stand_in is None:
            # letters the code page lacks lose their accent (ł → l) before they become "?"
            decomposed = unicodedata.normalize("NFKD", char)
            stand_in = "".join(part for part in decomposed if _encodable(part, codec)) or "?"
        out.append(stand_in)
    return "".join(out)


def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _two_columns(left: str, right: str, width: int) -> list[str]:
    """Label left, value right on one line; when both do not fit, the value goes below: right-aligned when it
    fits one line (an amount), else wrapped from the left (a serial number, a long name)."""
    if len(left) + 1 + len(right) <= width:
        return [left + " " * (width - len(left) - len(right)) + right]
    below = [right.rjust(width)] if len(right) <= width else _wrap(right, width)
    return _wrap(left, width) + below


def _table_lines(table: Table, width: int) -> list[str] | None:
    """The table in columns: the first one left-aligned, the amounts right-aligned; None when it does not fit."""
    rows = [table.header, *table.rows]
    columns = len(table.header)
    widths = [max(len(row[index]) for row in rows) for index in range(columns)]
    spare = width - sum(widths) - (columns - 1)
    if spare < 0:
        return None
    widths[0] += spare  # the slack goes after the label column, so the amounts line up on the right edge
    return [
        " ".join(cell.ljust(widths[0]) if index == 0 else cell.rjust(widths[index]) for index, cell in enumerate(row))
        for row in rows
    ]


class _EscposDrawer:
    def __init__(self, language: str, qr: QrMode) -> None:
        self.language = language
        self.qr = qr
        self.printer = Dummy()
        self.current: tuple[Style, Align] | None = None

    def draw(self, blocks: list[Block]) -> bytes:
        self.printer.hw("INIT")
        self.printer.charcode(CODEPAGES.get(self.language, CODEPAGES[DEFAULT_LANGUAGE]))
        for block in blocks:
            self._block(block)
        self.printer.set_with_default()
        self.printer.cut()
        return bytes(self.printer.output)

    def _block(self, block: Block) -> None:
        match block:
            case Line():
                self._line(block)
            case Pair(label=label, value=value, style=style):
                self._style(style)
                self._print(_two_columns(self._p(label), self._p(value), self._width(style)))
            case Item():
                self._style(Style.NORMAL)
                lines = _two_columns(self._p(block.name), self._p(block.amount), COLUMNS)
                for detail in block.details:
                    lines += ["  " + part for part in _wrap(self._p(detail), COLUMNS - 2)]
                self._print(lines)
            case Table():
                self._table(block)
            case Rule():
                self._style(Style.NORMAL)
                self._print(["-" * COLUMNS])
            case Qr(payload=payload):
                self._qr(payload)

    def _line(self, line: Line) -> None:
        self._style(line.style, line.align)
        width = self._width(line.style)
        parts = _wrap(self._p(line.text), width)
        if line.style is Style.ALERT:
            # padded to the full width, so the inverted bar runs edge to edge and cannot be overlooked
            parts = [part.center(width) for part in parts]
        self._print(parts)

    def _table(self, table: Table) -> None:
        self._style(Style.NORMAL)
        table = Table(tuple(map(self._p, table.header)), tuple(tuple(map(self._p, row)) for row in table.rows))
        lines = _table_lines(table, COLUMNS)
        if lines is not None:
            self._print(lines)
            return
        for row in table.rows:  # too wide: one "header: value" pair per cell
            for label, value in zip(table.header, row, strict=True):
                self._print(_two_columns(label, value, COLUMNS))

    def _qr(self, payload: str) -> None:
        self._style(Style.NORMAL, Align.CENTER)
        if self.qr == "native":
            # M: a DSFinV-K payload of ~300 characters still fits 80 mm at 4 dots a module
            self.printer.qr(payload, ec=QR_ECLEVEL_M, size=4, native=True)
            self.printer.ln()
        else:
            code = segno.make(payload, error="m", micro=False)
            png = io.BytesIO()
            code.save(png, kind="png", scale=4, border=2)
            png.seek(0)
            with Image.open(png) as image:
                self.printer.image(image.convert("RGB"), center=True)
        self.current = None  # state the next block's style in full again after the code

    def _width(self, style: Style) -> int:
        return COLUMNS_SMALL if style is Style.SMALL else COLUMNS

    def _style(self, style: Style, align: Align = Align.LEFT) -> None:
        if self.current == (style, align):
            return
        self.current = (style, align)
        self.printer.set_with_default(
            align=align.value,
            font="b" if style is Style.SMALL else "a",
            bold=style in (Style.STRONG, Style.TITLE, Style.ALERT),
            double_height=style in (Style.TITLE, Style.ALERT),
            invert=style is Style.ALERT,
        )

    def _p(self, text: str) -> str:
        # before wrapping and padding: a stand-in may be longer than the character it replaces (₽ → руб.)
        return printable(text, self.language)

    def _print(self, lines: list[str]) -> None:
        for line in lines:
            self.printer.textln(line)
