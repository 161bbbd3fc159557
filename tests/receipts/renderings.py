"""Read back what a rendering shows: ESC/POS bytes in the printer's code page, HTML text, PDF text."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from pypdf import PdfReader

from tapzone.pos.receipts.escpos import CODEPAGES, printable


def squash(text: str) -> str:
    """Without any whitespace: line breaks, padding and no-break spaces differ between renderings."""
    return "".join(text.split())


def escpos_text(output: bytes, language: str) -> str:
    # Control sequences decode to stray characters between the texts; they never split a text.
    return output.decode(CODEPAGES[language].lower())


def escpos_expected(text: str, language: str) -> str:
    """A text as the printer shows it: characters its code page lacks are replaced (₽ → руб.)."""
    return printable(text, language)


class _TextOfHtml(HTMLParser):
    """The text a reader sees: character data outside <head>, <style> and the QR code's <svg>."""

    SKIPPED = frozenset({"head", "style", "title", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def html_text(page: str) -> str:
    parser = _TextOfHtml()
    parser.feed(page)
    parser.close()
    return " ".join(parser.parts)


def pdf_text(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def missing_in_order(texts: list[str], shown: str) -> list[str]:
    """The texts that `shown` lacks, looking for each one after the previous one (layout order)."""
    haystack = squash(shown)
    missing: list[str] = []
    position = 0
    for text in texts:
        needle = squash(text)
        found = haystack.find(needle, position)
        if found < 0:
            missing.append(text)
        else:
            position = found + len(needle)
    return missing
