"""Every text a receipt prints comes from the catalogs, for every kind, tender, entry code and 54-FZ method."""

from __future__ import annotations

import pytest

from tapzone.i18n import LANGUAGES, catalog
from tapzone.ledger.codes import EntryCode
from tapzone.pos.receipts.model import ReceiptKind
from tapzone.pos.receipts.texts import ENTRY_CODES, RECEIPT_TEXTS, TITLES, Label


def test_every_kind_has_a_title_and_every_entry_code_a_label() -> None:
    assert set(TITLES) == set(ReceiptKind)
    assert set(ENTRY_CODES) == {code.value for code in EntryCode}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_receipt_text_is_in_the_catalog(language: str) -> None:
    assert sorted(text for text in RECEIPT_TEXTS if text not in catalog(language)) == []


def test_receipt_texts_are_the_labels() -> None:
    assert {label.value for label in Label} == RECEIPT_TEXTS
