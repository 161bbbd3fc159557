"""Account types (seed 002 "Kartenkonto"): a tariff system sold as a card, so staff sell "a ten-visit card"
or "a happy-hour card" without knowing the tariff details. Pure domain: the rules between the fields."""

from __future__ import annotations

from dataclasses import dataclass

from tapzone.errors import InvalidAccountType
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.tariffs import Tariff, TariffKind
from tapzone.plans.topup_rules import Field, TopupRule, rule_fields

MAX_LOCK_DAYS = 365
MAX_LOCK_HOURS = 24 * 365


@dataclass(frozen=True, slots=True)
class AccountType:
    id: int
    venue_id: int
    number: int
    name: str
    tariff: Tariff | None
    usage_free: bool
    rule: TopupRule | None
    discount_type_id: int | None
    default_price_minor: int | None
    vat_rate_bp: int
    deposit_minor: int | None
    deposit_is_sale_price: bool
    lock_days: int | None
    lock_hours: int | None
    half_time_after_days: int | None
    fee_minor: int
    number_from: int | None
    number_to: int | None
    sellable: bool
    auto_renew: bool
    delete_on_expiry: bool
    pay_without_topup: bool
    staff_only: bool
    fingerprint_required: bool
    picture: str | None
    skin_types_enforced: bool
    contract_required: bool

    @property
    def fields(self) -> frozenset[Field]:
        return rule_fields(self.rule)

    @property
    def holds_money(self) -> bool:
        return Field.MONEY in self.fields

    @property
    def credit_type(self) -> CreditType:
        """Money accounts spend at the tills like seed 001 prepaid value; the others hold units only."""
        return CreditType.PREPAID if self.holds_money else CreditType.NONE

    @property
    def signature(self) -> tuple[str, ...]:
        """How the type works, for networked venues: an account may only move to a type with the same
        number and the same signature, so a bonus card never turns into a subscription (seed 002)."""
        tariff_kind = self.tariff.kind.value if self.tariff else "none"
        return (tariff_kind, "usage-free" if self.usage_free else "priced", *sorted(f.value for f in self.fields))

    def in_number_range(self, number: int) -> bool:
        return (
            self.number_from is not None and self.number_to is not None and self.number_from <= number <= self.number_to
        )

    def check(self) -> AccountType:
        """Refuse combinations the manual rules out, with the reason, before anything is stored."""
        self._check_usage()
        self._check_numbers()
        return self

    def _check_usage(self) -> None:
        if self.pay_without_topup and not (
            self.holds_money and self.tariff is not None and self.tariff.kind is TariffKind.PER_MINUTE
        ):
            raise InvalidAccountType(
                "pay without top-up is only allowed for money accounts with a per-minute tariff "
                "(seed 002: a minute or subscription account cannot price a session)"
            )
        if self.usage_free and self.tariff is not None and self.tariff.kind is not TariffKind.SUBSCRIPTION:
            raise InvalidAccountType("a usage-free type takes a subscription tariff or none")
        if not self.usage_free and self.tariff is not None and self.tariff.kind is TariffKind.SUBSCRIPTION:
            raise InvalidAccountType("a subscription tariff prices nothing; mark the type usage free")
        if self.auto_renew and self.delete_on_expiry:
            raise InvalidAccountType("an account is either renewed or deleted when it expires, not both")
        if self.discount_type_id is not None and self.discount_type_id == self.id:
            raise InvalidAccountType("a type cannot be its own discount card")

    def _check_numbers(self) -> None:
        if (self.number_from is None) != (self.number_to is None):
            raise InvalidAccountType("a card-number range needs both ends")
        if self.number_from is not None and self.number_to is not None and self.number_from > self.number_to:
            raise InvalidAccountType("the card-number range starts after it ends")
        if self.lock_days is not None and not 0 <= self.lock_days <= MAX_LOCK_DAYS:
            raise InvalidAccountType(f"lock days must be 0..{MAX_LOCK_DAYS}")
        if self.lock_hours is not None and not 0 <= self.lock_hours <= MAX_LOCK_HOURS:
            raise InvalidAccountType(f"lock hours must be 0..{MAX_LOCK_HOURS}")
        if self.half_time_after_days is not None and self.half_time_after_days < 1:
            raise InvalidAccountType("half usage time needs a number of days of at least 1")
        rule, price = self.rule, self.default_price_minor
        if rule is not None and rule.steps and price is not None and price not in rule.prices:
            raise InvalidAccountType("the default price must be one of the rule's price list")
        if not 0 <= self.vat_rate_bp <= 10000:
            raise InvalidAccountType("VAT rate must be 0..10000 basis points")


def display_number(number: str, digits: int | None) -> str:
    """seed 002: with 3 display digits the card number 10046 is shown as 046."""
    if digits is None or digits <= 0 or not number.isdigit() or len(number) <= digits:
        return number
    return number[-digits:]
