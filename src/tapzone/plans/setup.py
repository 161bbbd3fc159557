"""Back-office configuration of the tariff system: tariffs, top-up rules, account types, skin types, resources."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import ValidationError

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, InvalidRequest, NotFound
from tapzone.plans.account_types import AccountType
from tapzone.plans.specs import AccountTypeSpec, AccountTypeView, CreatedView, TariffSpec, TopupRuleSpec
from tapzone.plans.tariffs import Rate, Tariff
from tapzone.plans.topup_rules import Increments, Step, TopupRule
from tapzone.plans.type_store import (
    account_type_from_row,
    format_resource_ids,
    load_account_type,
    load_rule,
    load_tariff,
)
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import (
    account_types,
    products,
    resources,
    skin_types,
    tariff_rates,
    tariffs,
    topup_rules,
    topup_steps,
)
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.text import clean_name
from tapzone.venues.model import DeviceKind
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, authorise_unattended
from tapzone.venues.setup import add_device


def _name_free(tx: Tx, table: sa.Table, venue_id: int, name: str) -> None:
    taken = tx.conn.execute(sa.select(table.c.id).where(table.c.venue_id == venue_id, table.c.name == name)).first()
    if taken is not None:
        raise Conflict(f"{name!r} already exists")


def create_tariff(uow: UnitOfWork, ctx: RequestContext, spec: TariffSpec) -> CreatedView:
    # Validate as a domain object before anything is written; resource ids are checked against the venue.
    Tariff(
        id=0,
        name=spec.name,
        kind=spec.kind,
        price_minor=spec.price_minor,
        rates=tuple(Rate(r.weekdays, r.start_minute, r.end_minute, r.price_minor) for r in spec.rates),
        max_minutes=spec.max_minutes,
        resource_ids=frozenset(spec.resource_ids),
    )

    def handler(tx: Tx) -> CreatedView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        _name_free(tx, tariffs, ctx.venue_id, spec.name)
        known = set(
            tx.conn.execute(
                sa.select(resources.c.device_id).where(
                    resources.c.venue_id == ctx.venue_id, resources.c.device_id.in_(spec.resource_ids)
                )
            ).scalars()
        )
        unknown = sorted(set(spec.resource_ids) - known)
        if unknown:
            raise NotFound(f"unknown resources: {unknown}")
        tariff_id: int = tx.conn.execute(
            tariffs.insert()
            .values(
                venue_id=ctx.venue_id,
                name=spec.name,
                kind=spec.kind.value,
                price_minor=spec.price_minor,
                max_minutes=spec.max_minutes,
                resource_ids=format_resource_ids(spec.resource_ids),
                created_at=tx.now,
            )
            .returning(tariffs.c.id)
        ).scalar_one()
        if spec.rates:
            tx.conn.execute(
                tariff_rates.insert(),
                [{"venue_id": ctx.venue_id, "tariff_id": tariff_id, **rate.model_dump()} for rate in spec.rates],
            )
        audit.record(tx, ctx, "tariff.create", f"tariff:{tariff_id}", spec.model_dump(mode="json"))
        return CreatedView(id=tariff_id)

    return run_idempotent(uow, ctx, "create_tariff", spec.model_dump(mode="json"), handler, CreatedView)


def create_topup_rule(uow: UnitOfWork, ctx: RequestContext, spec: TopupRuleSpec) -> CreatedView:
    TopupRule(
        id=0,
        name=spec.name,
        kind=spec.kind,
        bonus_percent_bp=spec.bonus_percent_bp,
        steps=tuple(
            Step(
                s.price_minor, Increments(s.money_minor, s.bonus, s.minutes, s.visits, s.days, s.months, s.valid_until)
            )
            for s in spec.steps
        ),
    )

    def handler(tx: Tx) -> CreatedView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        _name_free(tx, topup_rules, ctx.venue_id, spec.name)
        rule_id: int = tx.conn.execute(
            topup_rules.insert()
            .values(
                venue_id=ctx.venue_id,
                name=spec.name,
                kind=spec.kind.value,
                bonus_percent_bp=spec.bonus_percent_bp,
                created_at=tx.now,
            )
            .returning(topup_rules.c.id)
        ).scalar_one()
        if spec.steps:
            tx.conn.execute(
                topup_steps.insert(),
                [{"venue_id": ctx.venue_id, "rule_id": rule_id, **step.model_dump()} for step in spec.steps],
            )
        audit.record(tx, ctx, "topup-rule.create", f"topup-rule:{rule_id}", spec.model_dump(mode="json"))
        return CreatedView(id=rule_id)

    return run_idempotent(uow, ctx, "create_topup_rule", spec.model_dump(mode="json"), handler, CreatedView)


def _domain_type(tx: Tx, venue_id: int, spec: AccountTypeSpec, type_id: int = 0) -> AccountType:
    if spec.discount_type_id is not None:
        load_account_type(tx, venue_id, spec.discount_type_id)  # exists in this venue
    return AccountType(
        id=type_id,
        venue_id=venue_id,
        tariff=load_tariff(tx, venue_id, spec.tariff_id) if spec.tariff_id is not None else None,
        rule=load_rule(tx, venue_id, spec.topup_rule_id) if spec.topup_rule_id is not None else None,
        **spec.model_dump(exclude={"tariff_id", "topup_rule_id"}),
    ).check()


def account_type_view(kind: AccountType, tariff_id: int | None = None, rule_id: int | None = None) -> AccountTypeView:
    values = {
        name: getattr(kind, name) for name in AccountTypeSpec.model_fields if name not in {"tariff_id", "topup_rule_id"}
    }
    return AccountTypeView(
        id=kind.id,
        tariff_id=kind.tariff.id if kind.tariff else tariff_id,
        topup_rule_id=kind.rule.id if kind.rule else rule_id,
        fields=sorted(field.value for field in kind.fields),
        price_list=kind.rule.prices if kind.rule else [],
        **values,
    )


def _insert_type(tx: Tx, ctx: RequestContext, spec: AccountTypeSpec) -> AccountType:
    taken = tx.conn.execute(
        sa.select(account_types.c.id).where(
            account_types.c.venue_id == ctx.venue_id, account_types.c.number == spec.number
        )
    ).first()
    if taken is not None:
        raise Conflict(f"account type number {spec.number} is taken")
    _domain_type(tx, ctx.venue_id, spec)
    type_id: int = tx.conn.execute(
        account_types.insert()
        .values(venue_id=ctx.venue_id, created_at=tx.now, **spec.model_dump())
        .returning(account_types.c.id)
    ).scalar_one()
    audit.record(tx, ctx, "account-type.create", f"account-type:{type_id}", spec.model_dump(mode="json"))
    return load_account_type(tx, ctx.venue_id, type_id)


def create_account_type(uow: UnitOfWork, ctx: RequestContext, spec: AccountTypeSpec) -> AccountTypeView:
    def handler(tx: Tx) -> AccountTypeView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        return account_type_view(_insert_type(tx, ctx, spec))

    return run_idempotent(uow, ctx, "create_account_type", spec.model_dump(mode="json"), handler, AccountTypeView)


def copy_account_type(uow: UnitOfWork, ctx: RequestContext, *, type_id: int, number: int) -> AccountTypeView:
    """seed 002 "Schalter mit Id": copy a type under a chosen number, so networked venues use the same
    numbers for the same kind of card."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 999_999:
        raise InvalidRequest("number must be an integer 1..999999")

    def handler(tx: Tx) -> AccountTypeView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        row = tx.conn.execute(
            sa.select(account_types).where(account_types.c.id == type_id, account_types.c.venue_id == ctx.venue_id)
        ).first()
        if row is None:
            raise NotFound(f"account type {type_id} does not exist in this venue")
        values = {name: getattr(row, name) for name in AccountTypeSpec.model_fields}
        # A copy keeps the tariff system but not the card-number range: two types cannot claim one number.
        spec = AccountTypeSpec(**{**values, "number": number, "number_from": None, "number_to": None})
        return account_type_view(_insert_type(tx, ctx, spec))

    return run_idempotent(
        uow, ctx, "copy_account_type", {"type_id": type_id, "number": number}, handler, AccountTypeView
    )


def update_account_type(
    uow: UnitOfWork, ctx: RequestContext, *, type_id: int, changes: dict[str, object]
) -> AccountTypeView:
    """Change fields of a type from now on (seed 002: a Christmas card is ticked sellable each December and
    unticked after). Accounts already sold keep their balances; the number stays (copy to renumber)."""
    if "number" in changes:
        raise InvalidRequest("the number of a type does not change; copy the type under the new number")
    unknown = sorted(set(changes) - set(AccountTypeSpec.model_fields))
    if unknown:
        raise InvalidRequest(f"unknown fields: {unknown}")

    def handler(tx: Tx) -> AccountTypeView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        rows = tx.lock_rows(account_types, [type_id])
        if not rows or rows[0].venue_id != ctx.venue_id:
            raise NotFound(f"account type {type_id} does not exist in this venue")
        current = {name: getattr(rows[0], name) for name in AccountTypeSpec.model_fields}
        try:
            spec = AccountTypeSpec.model_validate({**current, **changes})
        except ValidationError as error:
            raise InvalidRequest(f"invalid fields: {error.errors(include_url=False)}") from error
        _domain_type(tx, ctx.venue_id, spec, type_id)
        tx.conn.execute(account_types.update().where(account_types.c.id == type_id).values(**spec.model_dump()))
        changed = spec.model_dump(mode="json", include=set(changes))
        audit.record(tx, ctx, "account-type.update", f"account-type:{type_id}", {"changes": changed})
        return account_type_view(load_account_type(tx, ctx.venue_id, type_id))

    return run_idempotent(
        uow, ctx, "update_account_type", {"type_id": type_id, "changes": changes}, handler, AccountTypeView
    )


def list_account_types(uow: UnitOfWork, ctx: RequestContext, *, sellable_only: bool) -> list[AccountTypeView]:
    """The types a till or kiosk offers for sale (seed 002 "Artikel"), or all of them for the back office."""
    with uow.transaction() as tx:
        if sellable_only:  # the kiosk shows the types for sale, with their pictures (seed 002 "Bild zuordnen")
            authorise_unattended(tx, ctx, frozenset({DeviceKind.KIOSK.value}), Permission.ACCOUNT_SELL)
        else:
            authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        query = sa.select(account_types).where(account_types.c.venue_id == ctx.venue_id)
        if sellable_only:
            query = query.where(account_types.c.sellable.is_(True))
        rows = tx.conn.execute(query.order_by(account_types.c.number)).all()
        return [account_type_view(account_type_from_row(tx, row)) for row in rows]


def set_skin_type(uow: UnitOfWork, ctx: RequestContext, *, skin_type: int, name: str, max_minutes: int) -> CreatedView:
    """seed 002 "Hauttypen": the longest session for customers of this skin type."""
    if not 1 <= skin_type <= 6 or not 1 <= max_minutes <= 120 or not name.strip():
        raise InvalidRequest("skin type is 1..6 with a name and a maximum of 1..120 minutes")
    payload = {"skin_type": skin_type, "name": clean_name(name, "skin type name", 64), "max_minutes": max_minutes}

    def handler(tx: Tx) -> CreatedView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        tx.conn.execute(
            skin_types.delete().where(skin_types.c.venue_id == ctx.venue_id, skin_types.c.skin_type == skin_type)
        )
        tx.conn.execute(skin_types.insert().values(venue_id=ctx.venue_id, **payload))
        audit.record(tx, ctx, "skin-type.set", f"skin-type:{skin_type}", payload)
        return CreatedView(id=skin_type)

    return run_idempotent(uow, ctx, "set_skin_type", payload, handler, CreatedView)


def add_resource(uow: UnitOfWork, venue_id: int, *, name: str, product_id: int, max_minutes: int) -> int:
    """Register a service device (sunbed, sauna, fitness area) that books its usage to `product_id`."""
    if not 1 <= max_minutes <= 1440:
        raise InvalidRequest("max_minutes must be 1..1440")
    with uow.transaction() as tx:
        product = tx.conn.execute(
            sa.select(products.c.id).where(products.c.id == product_id, products.c.venue_id == venue_id)
        ).first()
        if product is None:
            raise NotFound(f"product {product_id} does not exist in this venue")
    device_id = add_device(uow, venue_id, name=name, kind=DeviceKind.RESOURCE)
    with uow.transaction() as tx:
        tx.conn.execute(
            resources.insert().values(
                device_id=device_id, venue_id=venue_id, product_id=product_id, max_minutes=max_minutes
            )
        )
    return device_id
