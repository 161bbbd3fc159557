"""Reads for the back office: account types page by page, tariffs with their time tables, top-up rules with
their steps, skin types and the resources a subscription tariff may name (all `venue.configure`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.plans.setup import account_type_view
from tapzone.plans.specs import AccountTypeView
from tapzone.plans.type_store import account_type_from_row, load_account_type, parse_resource_ids
from tapzone.store.paging import Page, check_page
from tapzone.store.tables import (
    account_types,
    devices,
    resources,
    skin_types,
    tariff_rates,
    tariffs,
    topup_rules,
    topup_steps,
)
from tapzone.store.uow import UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class RateRow(BaseModel):
    weekdays: int
    start_minute: int
    end_minute: int
    price_minor: int


class TariffRow(BaseModel):
    id: int
    name: str
    kind: str
    price_minor: int | None
    max_minutes: int | None
    resource_ids: list[int]
    rates: list[RateRow]


class StepRow(BaseModel):
    price_minor: int
    money_minor: int
    bonus: int
    minutes: int
    visits: int
    days: int
    months: int
    valid_until: date | None


class RuleRow(BaseModel):
    id: int
    name: str
    kind: str
    bonus_percent_bp: int
    steps: list[StepRow]


class SkinTypeRow(BaseModel):
    skin_type: int
    name: str
    max_minutes: int


class ResourceRow(BaseModel):
    device_id: int
    name: str
    max_minutes: int


def page_account_types(
    uow: UnitOfWork, ctx: RequestContext, *, search: str | None, sellable: bool | None, limit: int, offset: int
) -> Page[AccountTypeView]:
    """Account types by number, optionally only those for sale (or not) or whose name contains `search`."""
    check_page(limit, offset)
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        conditions = [account_types.c.venue_id == venue.id]
        if sellable is not None:
            conditions.append(account_types.c.sellable.is_(sellable))
        if search:
            escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(sa.func.lower(account_types.c.name).like(f"%{escaped}%", escape="\\"))
        total = tx.conn.execute(sa.select(sa.func.count()).select_from(account_types).where(*conditions)).scalar_one()
        rows = tx.conn.execute(
            sa.select(account_types).where(*conditions).order_by(account_types.c.number).limit(limit).offset(offset)
        ).all()
        views = [account_type_view(account_type_from_row(tx, row)) for row in rows]
        return Page(views, int(total), limit, offset)


def read_account_type(uow: UnitOfWork, ctx: RequestContext, *, type_id: int) -> AccountTypeView:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        return account_type_view(load_account_type(tx, venue.id, type_id))


def list_tariffs(uow: UnitOfWork, ctx: RequestContext) -> list[TariffRow]:
    """Every tariff of the venue with its time table; a venue has a handful, so there is no paging."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        found = tx.conn.execute(sa.select(tariffs).where(tariffs.c.venue_id == venue.id).order_by(tariffs.c.name)).all()
        rates: dict[int, list[RateRow]] = {}
        for rate in tx.conn.execute(
            sa.select(tariff_rates).where(tariff_rates.c.venue_id == venue.id).order_by(tariff_rates.c.id)
        ):
            rates.setdefault(rate.tariff_id, []).append(
                RateRow(
                    weekdays=rate.weekdays,
                    start_minute=rate.start_minute,
                    end_minute=rate.end_minute,
                    price_minor=rate.price_minor,
                )
            )
        return [
            TariffRow(
                id=row.id,
                name=row.name,
                kind=row.kind,
                price_minor=row.price_minor,
                max_minutes=row.max_minutes,
                resource_ids=sorted(parse_resource_ids(row.resource_ids)),
                rates=rates.get(row.id, []),
            )
            for row in found
        ]


def list_topup_rules(uow: UnitOfWork, ctx: RequestContext) -> list[RuleRow]:
    """Every top-up rule with its price list, cheapest step first."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        found = tx.conn.execute(
            sa.select(topup_rules).where(topup_rules.c.venue_id == venue.id).order_by(topup_rules.c.name)
        ).all()
        steps: dict[int, list[StepRow]] = {}
        for step in tx.conn.execute(
            sa.select(topup_steps).where(topup_steps.c.venue_id == venue.id).order_by(topup_steps.c.price_minor)
        ):
            steps.setdefault(step.rule_id, []).append(
                StepRow(
                    price_minor=step.price_minor,
                    money_minor=step.money_minor,
                    bonus=step.bonus,
                    minutes=step.minutes,
                    visits=step.visits,
                    days=step.days,
                    months=step.months,
                    valid_until=step.valid_until,
                )
            )
        return [
            RuleRow(
                id=row.id,
                name=row.name,
                kind=row.kind,
                bonus_percent_bp=row.bonus_percent_bp,
                steps=steps.get(row.id, []),
            )
            for row in found
        ]


def list_skin_types(uow: UnitOfWork, ctx: RequestContext) -> list[SkinTypeRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        rows = tx.conn.execute(
            sa.select(skin_types.c.skin_type, skin_types.c.name, skin_types.c.max_minutes)
            .where(skin_types.c.venue_id == venue.id)
            .order_by(skin_types.c.skin_type)
        ).all()
        return [SkinTypeRow(skin_type=r.skin_type, name=r.name, max_minutes=r.max_minutes) for r in rows]


def list_resources(uow: UnitOfWork, ctx: RequestContext) -> list[ResourceRow]:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        rows = tx.conn.execute(
            sa.select(resources.c.device_id, devices.c.name, resources.c.max_minutes)
            .join(devices, devices.c.id == resources.c.device_id)
            .where(resources.c.venue_id == venue.id)
            .order_by(devices.c.name)
        ).all()
        return [ResourceRow(device_id=r.device_id, name=r.name, max_minutes=r.max_minutes) for r in rows]
