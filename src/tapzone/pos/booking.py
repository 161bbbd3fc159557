"""Postings shared by top-ups, settlements and sales: tenders in, revenue and VAT out."""

from __future__ import annotations

from tapzone.ledger.model import EntryDraft, card_clearing, card_money, cash, revenue, vat_payable
from tapzone.pos.tenders import TenderPlan
from tapzone.pos.vat import RateTotal
from tapzone.venues.model import Venue


def debit_tenders(draft: EntryDraft, venue: Venue, plan: TenderPlan, card_account_id: int | None) -> None:
    draft.debit(cash(venue.currency), plan.cash_minor)
    for provider, amount in sorted(plan.card_by_provider.items()):
        draft.debit(card_clearing(venue.currency, provider), amount)
    if plan.prepaid_minor:
        if card_account_id is None:
            raise ValueError("a prepaid tender needs the card account it comes from")
        draft.debit(card_money(card_account_id, venue.currency), plan.prepaid_minor)


def credit_revenue(draft: EntryDraft, venue: Venue, totals: list[RateTotal]) -> None:
    """Revenue net of VAT and the VAT itself, per rate; prices are gross (DESIGN §3)."""
    for total in totals:
        draft.credit(revenue(venue.currency, total.rate_bp), total.net_minor)
        draft.credit(vat_payable(venue.currency, total.rate_bp), total.vat_minor)
