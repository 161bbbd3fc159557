"""Every text the till can show is in every catalog, including states no browser test reaches (a refusal
only a tampered form or a race produces). Texts are found where they are written: `_("…")` in the till's
templates and `_(…)`, `translate(…)` and `say(…)` calls in the till's modules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tapzone.i18n import LANGUAGES, catalog
from tapzone.payments.model import TerminalKind, instruction_for

WEB = Path(__file__).resolve().parents[2] / "src" / "tapzone" / "web"
SOURCES = [*sorted((WEB / "templates" / "till").glob("*.html")), *sorted(WEB.glob("till*.py"))]
_CALL = re.compile(r"""\b(?:_|translate|say)\(\s*(?:"([^"]+)"|'([^']+)')""")
# Chosen by a condition rather than written inside a call.
_INDIRECT = {"Card declined: nothing was booked", "Card payment cancelled: nothing was booked"}
# The same word in English and the other language is right here.
_SAME_WORD = {("de", "Terminal"), ("sv", "Terminal"), ("de", "Ticket"), ("de", "Medium")}


def till_texts() -> set[str]:
    found = set(_INDIRECT) | {instruction_for(kind) for kind in TerminalKind}
    for path in SOURCES:
        for match in _CALL.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return found


def test_the_texts_are_found() -> None:
    texts = till_texts()
    assert {"Sell an entry", "Lost-card transfer", "Change to give back: {amount}", "Pay this one or all"} <= texts
    assert len(texts) > 80


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_till_text_is_in_the_catalog(language: str) -> None:
    assert [text for text in sorted(till_texts()) if text not in catalog(language)] == []


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_till_texts_are_translated(language: str) -> None:
    same = [
        text
        for text in sorted(till_texts())
        if catalog(language).get(text) == text and (language, text) not in _SAME_WORD
    ]
    assert same == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language: str) -> None:
    """A translation that drops or renames `{amount}` would fail at format time in front of the cashier."""
    for text in till_texts():
        wanted = set(re.findall(r"\{(\w+)\}", text))
        assert set(re.findall(r"\{(\w+)\}", catalog(language)[text])) == wanted, text
