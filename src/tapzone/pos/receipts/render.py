"""One entry point for the three renderings of a stored receipt, for the HTTP routes and the printer port."""

from __future__ import annotations

from typing import Final, Literal

from tapzone.pos.receipts.escpos import render_escpos
from tapzone.pos.receipts.html import render_html
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.receipts.pdf import render_pdf

Format = Literal["escpos", "html", "pdf"]

MEDIA_TYPES: Final[dict[str, str]] = {
    "escpos": "application/octet-stream",  # raw printer commands; no registered media type exists
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def render(receipt: Receipt, fmt: Format, timezone: str) -> bytes:
    """The receipt in `fmt`, its texts in the receipt's language and its times in the venue's `timezone`."""
    if fmt == "escpos":
        return render_escpos(receipt, timezone)
    if fmt == "html":
        return render_html(receipt, timezone).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(receipt, timezone)
    raise ValueError(f"unknown receipt format {fmt!r}")
