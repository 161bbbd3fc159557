"""Tax treatment of prepaid value per fiscal profile (DESIGN §3).

de / generic: a top-up is a multi-purpose voucher; nothing is taxed when it is loaded.
ru (54-FZ): a top-up is an advance taxed at the calculated rate (e.g. 20/120); when the advance is
consumed by goods or paid back, that advance VAT is released again so VAT is finally owed on the goods only.
"""

from __future__ import annotations

from tapzone.ledger.model import EntryDraft, advance_vat, vat_payable
from tapzone.pos.vat import vat_included
from tapzone.venues.model import FiscalProfile, Venue


def _advance_rate(venue: Venue) -> int | None:
    if venue.fiscal_profile is FiscalProfile.RU and venue.advance_vat_rate_bp:
        return venue.advance_vat_rate_bp
    return None


def book_advance_received(draft: EntryDraft, venue: Venue, amount_minor: int) -> None:
    """Add the VAT on an advance to a top-up entry, where the profile taxes advances."""
    rate = _advance_rate(venue)
    if rate is None:
        return
    vat = vat_included(amount_minor, rate)
    draft.debit(advance_vat(venue.currency), vat).credit(vat_payable(venue.currency, rate), vat)


def book_advance_released(draft: EntryDraft, venue: Venue, amount_minor: int) -> None:
    """Release the advance VAT for prepaid value that was consumed or paid back."""
    rate = _advance_rate(venue)
    if rate is None:
        return
    vat = vat_included(amount_minor, rate)
    draft.debit(vat_payable(venue.currency, rate), vat).credit(advance_vat(venue.currency), vat)
