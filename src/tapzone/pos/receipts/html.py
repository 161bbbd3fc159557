"""A receipt as a self-contained HTML page: inline CSS, the QR code as inline SVG, no external resources.

The page doubles as the receipt preview of the web UI: `render_html_fragment` gives the `<article>` alone
and `RECEIPT_CSS` its style sheet. Every text is escaped here, since names and references come from
operators and customers and may contain `<` or `&`.
"""

from __future__ import annotations

from html import escape
from typing import assert_never

import segno

from tapzone.i18n import DEFAULT_LANGUAGE, LANGUAGES
from tapzone.pos.receipts.layout import Block, Item, Line, Pair, Qr, Rule, Table, layout
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.receipts.texts import TITLES, translate

RECEIPT_CSS = """
.tz-receipt{box-sizing:border-box;width:80mm;max-width:100%;margin:0 auto;padding:4mm;background:#fff;color:#000;
  font:13px/1.35 "DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace}
.tz-receipt p{margin:0;overflow-wrap:anywhere}
.tz-receipt .center{text-align:center}
.tz-receipt .strong{font-weight:bold}
.tz-receipt .title{font-weight:bold;font-size:1.35em;margin:.2em 0}
.tz-receipt .small{font-size:.8em}
.tz-receipt .alert{font-weight:bold;font-size:1.35em;background:#000;color:#fff;padding:.15em 0;margin:.2em 0}
.tz-receipt hr{border:0;border-top:1px dashed #000;margin:.4em 0}
.tz-receipt .pair,.tz-receipt .item-head{display:flex;justify-content:space-between;gap:1em}
.tz-receipt .pair>span:last-child,.tz-receipt .item-head>span:last-child{text-align:right;overflow-wrap:anywhere}
.tz-receipt .pair>span:first-child{flex-shrink:0;max-width:65%}
.tz-receipt .detail{padding-left:1.5em}
.tz-receipt table{width:100%;border-collapse:collapse;margin:.3em 0}
.tz-receipt th,.tz-receipt td{padding:0 0 0 .5em;text-align:right;font-weight:normal;white-space:nowrap}
.tz-receipt th:first-child,.tz-receipt td:first-child{padding-left:0;text-align:left}
.tz-receipt thead th{border-bottom:1px solid #000}
.tz-receipt figure{margin:.5em auto;text-align:center}
.tz-receipt figure svg{width:45mm;height:auto}
@media print{body{margin:0}.tz-receipt{padding:0}}
""".strip()


def render_html(receipt: Receipt, timezone: str) -> str:
    """The whole page, `lang` set to the receipt's language, ready to serve as text/html; charset=utf-8."""
    language = _language(receipt)
    title = escape(f"{translate(TITLES[receipt.kind], language)} {receipt.number} · {receipt.venue.name}")
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>\nbody{{margin:1em;background:#eee}}\n{RECEIPT_CSS}\n</style>\n"
        f"</head>\n<body>\n{render_html_fragment(receipt, timezone)}\n</body>\n</html>\n"
    )


def render_html_fragment(receipt: Receipt, timezone: str) -> str:
    """The receipt's `<article>` alone, for embedding in a page that includes `RECEIPT_CSS`."""
    classes = "tz-receipt unpaid" if receipt.unpaid else "tz-receipt"
    body = "\n".join(_block(block) for block in layout(receipt, timezone))
    return (
        f'<article class="{classes}" lang="{_language(receipt)}" data-kind="{escape(receipt.kind.value)}">\n'
        f"{body}\n</article>"
    )


def _language(receipt: Receipt) -> str:
    return receipt.language if receipt.language in LANGUAGES else DEFAULT_LANGUAGE


def _block(block: Block) -> str:
    match block:
        case Line(text=text, style=style, align=align):
            return f'<p class="{style.value} {align.value}">{escape(text)}</p>'
        case Pair(label=label, value=value, style=style):
            return f'<div class="pair {style.value}"><span>{escape(label)}</span><span>{escape(value)}</span></div>'
        case Item(name=name, amount=amount, details=details):
            lines = [f'<div class="item-head"><span>{escape(name)}</span><span>{escape(amount)}</span></div>']
            lines += [f'<div class="detail">{escape(detail)}</div>' for detail in details]
            return '<div class="item">' + "".join(lines) + "</div>"
        case Table(header=header, rows=rows):
            head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
            body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
            return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        case Rule():
            return "<hr>"
        case Qr(payload=payload):
            # The payload travels as data too, so a test (or a support agent) can read what was encoded.
            svg = segno.make(payload, error="m", micro=False).svg_inline(scale=1, border=4, omitsize=True)
            return f'<figure class="qr" data-qr-payload="{escape(payload)}">{svg}</figure>'
    assert_never(block)
