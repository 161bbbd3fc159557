"""Account types, tariffs and top-up rules as stored: loading them into the pure domain objects."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tapzone.errors import NotFound
from tapzone.money import CountUnit
from tapzone.plans.account_types import AccountType
from tapzone.plans.tariffs import Rate, Tariff, TariffKind
from tapzone.plans.topup_rules import Balances, Increments, RuleKind, Step, TopupRule
from tapzone.store.tables import (
    account_types,
    card_accounts,
    card_balances,
    tariff_rates,
    tariffs,
    topup_rules,
    topup_steps,
)
from tapzone.store.uow import Tx


def parse_resource_ids(text: str) -> frozenset[int]:
    return frozenset(int(part) for part in text.split(",") if part)


def format_resource_ids(ids: frozenset[int] | list[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))


def load_tariff(tx: Tx, venue_id: int, tariff_id: int) -> Tariff:
    row = tx.conn.execute(sa.select(tariffs).where(tariffs.c.id == tariff_id, tariffs.c.venue_id == venue_id)).first()
    if row is None:
        raise NotFound(f"tariff {tariff_id} does not exist in this venue")
    rates = tx.conn.execute(
        sa.select(tariff_rates).where(tariff_rates.c.tariff_id == tariff_id).order_by(tariff_rates.c.id)
    ).all()
    return Tariff(
        id=row.id,
        name=row.name,
        kind=TariffKind(row.kind),
        price_minor=row.price_minor,
        rates=tuple(Rate(r.weekdays, r.start_minute, r.end_minute, r.price_minor) for r in rates),
        max_minutes=row.max_minutes,
        resource_ids=parse_resource_ids(row.resource_ids),
    )


def load_rule(tx: Tx, venue_id: int, rule_id: int) -> TopupRule:
    row = tx.conn.execute(
        sa.select(topup_rules).where(topup_rules.c.id == rule_id, topup_rules.c.venue_id == venue_id)
    ).first()
    if row is None:
        raise NotFound(f"top-up rule {rule_id} does not exist in this venue")
    steps = tx.conn.execute(
        sa.select(topup_steps).where(topup_steps.c.rule_id == rule_id).order_by(topup_steps.c.price_minor)
    ).all()
    return TopupRule(
        id=row.id,
        name=row.name,
        kind=RuleKind(row.kind),
        bonus_percent_bp=row.bonus_percent_bp,
        steps=tuple(
            Step(
                s.price_minor,
                Increments(s.money_minor, s.bonus, s.minutes, s.visits, s.days, s.months, s.valid_until),
            )
            for s in steps
        ),
    )


def account_type_from_row(tx: Tx, row: sa.Row[Any]) -> AccountType:
    return AccountType(
        id=row.id,
        venue_id=row.venue_id,
        number=row.number,
        name=row.name,
        tariff=load_tariff(tx, row.venue_id, row.tariff_id) if row.tariff_id is not None else None,
        usage_free=row.usage_free,
        rule=load_rule(tx, row.venue_id, row.topup_rule_id) if row.topup_rule_id is not None else None,
        discount_type_id=row.discount_type_id,
        default_price_minor=row.default_price_minor,
        vat_rate_bp=row.vat_rate_bp,
        deposit_minor=row.deposit_minor,
        deposit_is_sale_price=row.deposit_is_sale_price,
        lock_days=row.lock_days,
        lock_hours=row.lock_hours,
        half_time_after_days=row.half_time_after_days,
        fee_minor=row.fee_minor,
        number_from=row.number_from,
        number_to=row.number_to,
        sellable=row.sellable,
        auto_renew=row.auto_renew,
        delete_on_expiry=row.delete_on_expiry,
        pay_without_topup=row.pay_without_topup,
        staff_only=row.staff_only,
        fingerprint_required=row.fingerprint_required,
        picture=row.picture,
        skin_types_enforced=row.skin_types_enforced,
        contract_required=row.contract_required,
    )


def load_account_type(tx: Tx, venue_id: int, type_id: int) -> AccountType:
    row = tx.conn.execute(
        sa.select(account_types).where(account_types.c.id == type_id, account_types.c.venue_id == venue_id)
    ).first()
    if row is None:
        raise NotFound(f"account type {type_id} does not exist in this venue")
    return account_type_from_row(tx, row)


def type_by_number(tx: Tx, venue_id: int, number: int) -> AccountType | None:
    row = tx.conn.execute(
        sa.select(account_types).where(account_types.c.venue_id == venue_id, account_types.c.number == number)
    ).first()
    return account_type_from_row(tx, row) if row is not None else None


def type_for_card_number(tx: Tx, venue_id: int, uid: str) -> AccountType | None:
    """The type whose card-number range holds this medium number (seed 002 "Kartennummern")."""
    if not uid.isdigit() or len(uid) > 18:
        return None
    number = int(uid)
    row = tx.conn.execute(
        sa.select(account_types)
        .where(
            account_types.c.venue_id == venue_id,
            account_types.c.number_from <= number,
            account_types.c.number_to >= number,
        )
        .order_by(account_types.c.id)
    ).first()
    return account_type_from_row(tx, row) if row is not None else None


def account_balances_of(tx: Tx, card_account_id: int, currency: str) -> Balances:
    """Money, bonus, minutes and visits of one card account, with its valid-until."""
    units = dict(
        tx.conn.execute(
            sa.select(card_balances.c.unit, card_balances.c.balance).where(
                card_balances.c.card_account_id == card_account_id
            )
        ).all()
    )
    valid_until = tx.conn.execute(
        sa.select(card_accounts.c.valid_until).where(card_accounts.c.id == card_account_id)
    ).scalar_one()
    return Balances(
        money=int(units.get(currency, 0)),
        bonus=int(units.get(CountUnit.BONUS.value, 0)),
        minutes=int(units.get(CountUnit.MINUTES.value, 0)),
        visits=int(units.get(CountUnit.VISITS.value, 0)),
        valid_until=valid_until,
    )
