"""Every text a person sees exists in every catalog (en, de, sv, ru)."""

from __future__ import annotations

import pytest

from tapzone.access.model import DISPLAY_TEXTS
from tapzone.errors import all_error_types
from tapzone.i18n import LANGUAGES, catalog, format_money
from tapzone.plans.usage import USAGE_TEXTS
from tapzone.pos.receipts.texts import RECEIPT_TEXTS

TEXTS = sorted(
    {cls.title for cls in all_error_types()}
    | set(DISPLAY_TEXTS.values())
    | set(USAGE_TEXTS.values())
    | RECEIPT_TEXTS  # every text a receipt prints (ESC/POS, HTML, PDF)
    | {"Please try again"}
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_title_and_display_text_is_translated(language: str) -> None:
    missing = [text for text in TEXTS if text not in catalog(language)]
    assert missing == []


def test_translations_differ_from_english() -> None:
    for language in ("de", "sv", "ru"):
        same = [text for text in TEXTS if catalog(language)[text] == text]
        assert same == [], language


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "€12.20"), ("de", "12,20\xa0€"), ("sv", "12,20\xa0€"), ("ru", "12,20\xa0€")]
)
def test_money_is_formatted_per_language(language: str, expected: str) -> None:
    assert format_money(1220, "EUR", language) == expected
