"""Texts for people in their language: Babel message catalogs (en, de, sv, ru) and Babel formatting.

Catalogs are the `.po` files under tapzone/locales, read once with Babel and kept in memory; the msgid is the
English text. Money and dates are formatted by Babel for the chosen locale.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_precision

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "de", "sv", "ru")
DEFAULT_LANGUAGE = "en"


@cache
def catalog(language: str) -> dict[str, str]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "tapzone.po"
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    return {str(message.id): str(message.string) for message in parsed if message.id and message.string}


def gettext(message: str, language: str) -> str:
    """The translation of `message`, or the English msgid where a catalog lacks it."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return catalog(language).get(message, message)


def choose_language(accept_language: str | None, venue_language: str) -> str:
    """The caller's preferred supported language (Accept-Language), else the venue's."""
    if accept_language:
        preferred = []
        for part in accept_language.split(","):
            tag, _, quality = part.strip().partition(";q=")
            try:
                weight = float(quality) if quality else 1.0
            except ValueError:
                continue
            if tag and tag != "*":
                preferred.append((weight, tag.strip().replace("-", "_")))
        ordered = [tag for _, tag in sorted(preferred, key=lambda item: -item[0])]
        chosen = negotiate_locale(ordered, list(LANGUAGES), sep="_")
        if chosen:
            return chosen
    return venue_language if venue_language in LANGUAGES else DEFAULT_LANGUAGE


def format_money(amount_minor: int, currency: str, language: str) -> str:
    """12.20 € in de, €12.20 in en: exact, from integer minor units via Decimal."""
    digits = get_currency_precision(currency)
    value = Decimal(amount_minor).scaleb(-digits)
    return format_currency(value, currency, locale=Locale.parse(language))


def format_moment(moment: datetime, timezone: str, language: str) -> str:
    return babel_format_datetime(moment, format="medium", tzinfo=ZoneInfo(timezone), locale=Locale.parse(language))
