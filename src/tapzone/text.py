"""Names people give things (products, staff, customers, venues, devices, groups): any script, no control characters.

A name is printed on receipts, shown on till and gate displays and written into exports. Control characters
(a NUL, an escape sequence, a line break) corrupt those; bidirectional overrides make a name read differently
from what it is; a lone UTF-16 surrogate is not text at all and cannot be stored as UTF-8. Letters of any
script, digits, punctuation, symbols and emoji are all fine. Names are kept in NFC, so a name typed with a
combining accent and the same name typed with a precomposed letter are one name.
"""

from __future__ import annotations

import unicodedata

from tapzone.errors import InvalidRequest

# Cc: C0/C1 controls incl. tab and line feed; Cs: surrogates; Zl/Zp: line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Embeddings, overrides and isolates reorder what is displayed ("Trojan Source"); marks such as ZWJ in emoji stay.
_BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def refused_character(text: str) -> str | None:
    """The first character a name may not contain, or None."""
    for char in text:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def clean_name(value: object, what: str, max_length: int = 200) -> str:
    """`value` stripped and in NFC, or `InvalidRequest` when it is empty, too long or holds a refused character."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{what} must not be empty")
    refused = refused_character(value.strip())
    if refused is not None:
        raise InvalidRequest(f"{what} may not contain control characters (found U+{ord(refused):04X})")
    text = unicodedata.normalize("NFC", value.strip())
    # The column's length: PostgreSQL refuses longer text with an error the caller could not act on.
    if len(text) > max_length:
        raise InvalidRequest(f"{what} has at most {max_length} characters")
    return text


def check_name_value(value: str) -> str:
    """For pydantic models (`AfterValidator`): the same rule, raised as the ValueError pydantic reports."""
    refused = refused_character(value)
    if refused is not None:
        raise ValueError(f"may not contain control characters (found U+{ord(refused):04X})")
    return unicodedata.normalize("NFC", value)
