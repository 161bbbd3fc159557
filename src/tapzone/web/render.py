"""Rendering pages in the reader's language, with every text looked up in the Babel catalogs.

A msgid missing from the language's catalog is shown in English and remembered in `UNTRANSLATED`, so the
browser tests can fail on any text that reached a screen untranslated.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tapzone.i18n import LANGUAGES, catalog, format_moment, format_money

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

_untranslated_lock = threading.Lock()
UNTRANSLATED: set[tuple[str, str]] = set()  # (language, msgid) that reached a page without a translation

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def translate(message: str, language: str) -> str:
    translated = catalog(language).get(message)
    if translated is None:
        with _untranslated_lock:
            UNTRANSLATED.add((language, message))
        return message
    return translated


def render(request: Request, template: str, *, language: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page (or an HTMX fragment) rendered in `language`; `money` and `moment` format for the locale."""
    timezone = context.get("timezone", "UTC")

    def _(message: str, **values: object) -> str:
        text = translate(message, language)
        return text.format(**values) if values else text

    def money(amount_minor: int, currency: str = context.get("currency", "EUR")) -> str:
        return format_money(amount_minor, currency, language)

    def moment(value: datetime) -> str:
        return format_moment(value, timezone, language)

    html = _environment.get_template(template).render(
        request=request, language=language, languages=LANGUAGES, _=_, money=money, moment=moment, **context
    )
    return HTMLResponse(html, status_code=status_code)
