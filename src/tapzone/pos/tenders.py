"""Tenders of a settlement: how a due amount is paid and how much change goes back (cash only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tapzone.errors import InsufficientBalance, InsufficientTender, InvalidRequest, OverTender
from tapzone.money import Money, check_positive_amount, minor_in

# A card tender that names no terminal is taken on the till's default terminal (seed 003).
DEFAULT_CARD_PROVIDER = "default"


class TenderKind(StrEnum):
    CASH = "cash"
    CARD = "card"
    PREPAID = "prepaid"  # the tab's own prepaid value used as a tender (seed 001 "värdekort")


@dataclass(frozen=True, slots=True)
class Tender:
    kind: TenderKind
    amount: Money
    provider: str = DEFAULT_CARD_PROVIDER

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TenderKind(self.kind))
        check_positive_amount(self.amount.minor, f"{self.kind} tender")
        if not self.provider or len(self.provider) > 32:
            raise InvalidRequest("card provider name must be 1..32 characters")

    def payload(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "minor": self.amount.minor,
            "currency": self.amount.currency,
            "provider": self.provider,
        }


@dataclass(frozen=True, slots=True)
class TenderPlan:
    """What each tender books: cash net of change, card per provider, prepaid value consumed."""

    due_minor: int
    cash_minor: int
    change_minor: int
    prepaid_minor: int
    card_by_provider: dict[str, int] = field(default_factory=dict)


def plan_tenders(due_minor: int, tenders: list[Tender], prepaid_available_minor: int, currency: str) -> TenderPlan:
    """Refuse tenders that do not pay exactly `due_minor`, allowing surplus only in cash as change."""
    if not tenders:
        raise InsufficientTender("at least one tender is needed")
    card_by_provider: dict[str, int] = {}
    prepaid = cash = 0
    for tender in tenders:
        amount = minor_in(tender.amount, currency, f"{tender.kind} tender")
        if tender.kind is TenderKind.CARD:
            card_by_provider[tender.provider] = card_by_provider.get(tender.provider, 0) + amount
        elif tender.kind is TenderKind.PREPAID:
            prepaid += amount
        else:
            cash += amount
    non_cash = prepaid + sum(card_by_provider.values())
    if non_cash > due_minor:
        raise OverTender(f"card and prepaid tenders ({non_cash}) exceed the amount due ({due_minor})")
    if prepaid > prepaid_available_minor:
        raise InsufficientBalance(
            f"prepaid tender {prepaid} exceeds the prepaid value available ({prepaid_available_minor})"
        )
    remaining = due_minor - non_cash
    if cash < remaining:
        raise InsufficientTender(f"tenders cover {non_cash + cash} of {due_minor} due")
    if remaining == 0 and cash > 0:
        raise OverTender("a cash tender was given although nothing is left to pay")
    return TenderPlan(
        due_minor=due_minor,
        cash_minor=remaining,
        change_minor=cash - remaining,
        prepaid_minor=prepaid,
        card_by_provider=card_by_provider,
    )


def allocate(plan: TenderPlan, amounts: list[int]) -> list[TenderPlan]:
    """Split one payment over several journal entries (e.g. entry price, deposit, prepaid load).

    Card money is used first, then cash; each part gets tenders that sum exactly to its amount. The change
    of the whole payment stays with the caller's plan.
    """
    if plan.prepaid_minor:
        raise ValueError("prepaid value cannot be split over entries")
    if sum(amounts) != plan.due_minor:
        raise ValueError("the parts must add up to what was paid")
    sources: list[tuple[str | None, int]] = [
        (provider, amount) for provider, amount in sorted(plan.card_by_provider.items())
    ]
    sources.append((None, plan.cash_minor))
    parts: list[TenderPlan] = []
    for amount in amounts:
        remaining, cash = amount, 0
        cards: dict[str, int] = {}
        while remaining:
            provider, available = sources[0]
            taken = min(available, remaining)
            if provider is None:
                cash += taken
            else:
                cards[provider] = cards.get(provider, 0) + taken
            remaining -= taken
            if taken == available:
                sources.pop(0)
            else:
                sources[0] = (provider, available - taken)
        parts.append(
            TenderPlan(due_minor=amount, cash_minor=cash, change_minor=0, prepaid_minor=0, card_by_provider=cards)
        )
    return parts
