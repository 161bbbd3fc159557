"""Price groups: customers whose products have other prices (seed 004 "Benutzergruppe … andere
Preisbehandlung": staff canteen, members, guests).

A product carries at most one price per group. The till charges it when the medium's visit belongs to a
customer of that group, the product's own price otherwise (`pos.catalogue.customer_price`). Tab lines keep
the unit price they were sold at, so repricing a group or moving a customer to another group never
rewrites what was already sold (seed 004 warns against regrouping cards for exactly that reason).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, InvalidRequest, NotFound
from tapzone.money import Money, check_positive_amount, minor_in, money_payload
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import price_groups, product_prices, products
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.text import clean_name
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, load_venue

MAX_NAME_LENGTH = 64  # price_groups.name


class GroupPriceView(BaseModel):
    product_id: int
    product_name: str
    list_price_minor: int  # the product's own price, charged to everyone outside the group
    price_minor: int  # what members of the group pay


class PriceGroupView(BaseModel):
    id: int
    name: str
    currency: str
    prices: list[GroupPriceView]


def check_group_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("a price group needs a name")
    if len(name.strip()) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"a price group name has at most {MAX_NAME_LENGTH} characters")
    return clean_name(name, "a price group name", MAX_NAME_LENGTH)


def insert_price_group(tx: Tx, venue_id: int, name: str) -> int:
    """Insert the group or refuse a name the venue already uses. ON CONFLICT instead of a prior read, so
    two back offices creating the same name at once get a 409, not a constraint error."""
    group_id = tx.conn.execute(
        tx.insert_for(price_groups)
        .values(venue_id=venue_id, name=name, created_at=tx.now)
        .on_conflict_do_nothing(index_elements=[price_groups.c.venue_id, price_groups.c.name])
        .returning(price_groups.c.id)
    ).scalar_one_or_none()
    if group_id is None:
        raise Conflict(f"a price group named {name!r} already exists")
    return int(group_id)


def write_group_price(tx: Tx, venue_id: int, price_group_id: int, product_id: int, price_minor: int | None) -> None:
    """Set (or with None remove) the group's price of a product; both must belong to the venue."""
    found = tx.conn.execute(
        sa.select(
            sa.select(price_groups.c.id)
            .where(price_groups.c.id == price_group_id, price_groups.c.venue_id == venue_id)
            .scalar_subquery()
            .label("group_id"),
            sa.select(products.c.id)
            .where(products.c.id == product_id, products.c.venue_id == venue_id)
            .scalar_subquery()
            .label("product_id"),
        )
    ).one()
    if found.group_id is None:
        raise NotFound(f"price group {price_group_id} does not exist in this venue")
    if found.product_id is None:
        raise NotFound(f"product {product_id} does not exist in this venue")
    key = sa.and_(product_prices.c.product_id == product_id, product_prices.c.price_group_id == price_group_id)
    if price_minor is None:
        tx.conn.execute(product_prices.delete().where(key))
        return
    statement = tx.insert_for(product_prices).values(
        product_id=product_id, price_group_id=price_group_id, venue_id=venue_id, price_minor=price_minor
    )
    tx.conn.execute(
        statement.on_conflict_do_update(
            index_elements=[product_prices.c.product_id, product_prices.c.price_group_id],
            set_={"price_minor": statement.excluded.price_minor},
        )
    )


def load_price_groups(tx: Tx, venue_id: int, currency: str, group_id: int | None = None) -> list[PriceGroupView]:
    """The venue's price groups (or one of them) with their prices, in one statement."""
    query = (
        sa.select(
            price_groups.c.id,
            price_groups.c.name,
            products.c.id.label("product_id"),
            products.c.name.label("product_name"),
            products.c.price_minor.label("list_price_minor"),
            product_prices.c.price_minor,
        )
        .select_from(
            price_groups.outerjoin(product_prices, product_prices.c.price_group_id == price_groups.c.id).outerjoin(
                products, products.c.id == product_prices.c.product_id
            )
        )
        .where(price_groups.c.venue_id == venue_id)
        .order_by(price_groups.c.name, price_groups.c.id, products.c.name, products.c.id)
    )
    if group_id is not None:
        query = query.where(price_groups.c.id == group_id)
    views: dict[int, PriceGroupView] = {}
    for row in tx.conn.execute(query):
        view = views.setdefault(row.id, PriceGroupView(id=row.id, name=row.name, currency=currency, prices=[]))
        if row.product_id is not None:
            view.prices.append(
                GroupPriceView(
                    product_id=row.product_id,
                    product_name=row.product_name,
                    list_price_minor=row.list_price_minor,
                    price_minor=row.price_minor,
                )
            )
    return list(views.values())


def create_price_group(uow: UnitOfWork, ctx: RequestContext, *, name: str) -> PriceGroupView:
    """A new, empty price group (e.g. staff, members); needs `venue.configure` and is audited."""
    clean = check_group_name(name)

    def handler(tx: Tx) -> PriceGroupView:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        group_id = insert_price_group(tx, venue.id, clean)
        audit.record(tx, ctx, "price_group.create", f"price-group:{group_id}", {"name": clean})
        return PriceGroupView(id=group_id, name=clean, currency=venue.currency, prices=[])

    return run_idempotent(uow, ctx, "create_price_group", {"name": clean}, handler, PriceGroupView)


def set_group_price(
    uow: UnitOfWork, ctx: RequestContext, *, price_group_id: int, product_id: int, price: Money | None
) -> PriceGroupView:
    """Give a product its price for one group, or with `price=None` let the group pay the product's own
    price again. Only later sales change; needs `venue.configure` and is audited with the old price."""
    payload: dict[str, Any] = {
        "price_group_id": price_group_id,
        "product_id": product_id,
        "price": money_payload(price),
    }

    def handler(tx: Tx) -> PriceGroupView:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        price_minor = None if price is None else minor_in(price, venue.currency, "price")
        before = tx.conn.execute(
            sa.select(product_prices.c.price_minor).where(
                product_prices.c.product_id == product_id, product_prices.c.price_group_id == price_group_id
            )
        ).scalar_one_or_none()
        write_group_price(tx, venue.id, price_group_id, product_id, price_minor)
        audit.record(
            tx,
            ctx,
            "price_group.price",
            f"price-group:{price_group_id}",
            {"product_id": product_id, "price_minor": price_minor, "before_minor": before},
        )
        (view,) = load_price_groups(tx, venue.id, venue.currency, price_group_id)
        return view

    return run_idempotent(uow, ctx, "set_group_price", payload, handler, PriceGroupView)


def list_price_groups(uow: UnitOfWork, ctx: RequestContext) -> list[PriceGroupView]:
    """The venue's price groups and their prices, for whoever assigns customers to them."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.CUSTOMER_MANAGE)
        return load_price_groups(tx, venue.id, venue.currency)


def add_price_group(uow: UnitOfWork, venue_id: int, *, name: str) -> int:
    """Set-up before opening (CLI): create a price group; at run time use `create_price_group`."""
    clean = check_group_name(name)
    with uow.transaction() as tx:
        load_venue(tx, venue_id)
        return insert_price_group(tx, venue_id, clean)


def configure_group_price(
    uow: UnitOfWork, venue_id: int, *, price_group_id: int, product_id: int, price_minor: int | None
) -> None:
    """Set-up before opening (CLI): a product's price for a group, or None to remove it."""
    if price_minor is not None:
        check_positive_amount(price_minor, "price")
    with uow.transaction() as tx:
        load_venue(tx, venue_id)
        write_group_price(tx, venue_id, price_group_id, product_id, price_minor)
