"""Products as a till sells them: item requests and the active catalogue of a venue, at the price the
customer pays (their price group's price where the product has one, seed 004 "Benutzergruppe")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tapzone.context import MediumEntry
from tapzone.errors import InvalidAmount, InvalidRequest, NotFound
from tapzone.money import MAX_AMOUNT_MINOR
from tapzone.store.tables import customers, product_prices, products
from tapzone.store.uow import Tx

MAX_QUANTITY = 999
MAX_ITEMS = 100


@dataclass(frozen=True, slots=True)
class Item:
    product_id: int
    quantity: int = 1

    def __post_init__(self) -> None:
        for name, value in (("product_id", self.product_id), ("quantity", self.quantity)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidRequest(f"{name} must be an integer")
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise InvalidRequest(f"quantity must be 1..{MAX_QUANTITY}")


def check_items(items: list[Item]) -> None:
    if not items:
        raise InvalidRequest("no items given")
    if len(items) > MAX_ITEMS:
        raise InvalidRequest(f"at most {MAX_ITEMS} items per request")


def customer_price(
    source: sa.FromClause, venue_id: int, customer_id: int | None
) -> tuple[sa.FromClause, sa.ColumnElement[Any]]:
    """`source` (a FROM containing `products`) joined to the customer's price group, and the price the
    customer pays: the group's price where the product has one, else the product's own. A join, not an
    extra query: this runs on every till tap."""
    if customer_id is None:
        return source, products.c.price_minor
    joined = source.outerjoin(
        customers, sa.and_(customers.c.id == customer_id, customers.c.venue_id == venue_id)
    ).outerjoin(
        product_prices,
        sa.and_(
            product_prices.c.product_id == products.c.id,
            product_prices.c.price_group_id == customers.c.price_group_id,
        ),
    )
    return joined, sa.func.coalesce(product_prices.c.price_minor, products.c.price_minor)


def load_products(tx: Tx, venue_id: int, ids: set[int], customer_id: int | None = None) -> dict[int, sa.Row[Any]]:
    """The active products `ids`; each row's `price_minor` is what `customer_id` pays (`customer_price`).

    The group is read at the sale and the price copied onto the tab line, so moving a customer to another
    group changes only later sales, never what was sold before."""
    source, price = customer_price(products, venue_id, customer_id)
    columns = [column for column in products.c if column.key != "price_minor"]
    query: sa.Select[Any] = (
        sa.select(*columns, price.label("price_minor"))
        .select_from(source)
        .where(products.c.venue_id == venue_id, products.c.id.in_(ids), products.c.active.is_(True))
    )
    found = {row.id: row for row in tx.conn.execute(query)}
    missing = sorted(ids - found.keys())
    if missing:
        raise NotFound(f"unknown or inactive products: {missing}")
    return found


def items_payload(
    medium_uid: str, card_account_id: int | None, entry: MediumEntry, items: list[Item]
) -> dict[str, Any]:
    """The request fingerprint of a sale of items on a medium."""
    check_items(items)
    return {
        "medium_uid": medium_uid,
        "card_account_id": card_account_id,
        "entry": entry.value,
        "items": [[item.product_id, item.quantity] for item in items],
    }


def price_items(
    tx: Tx, venue_id: int, items: list[Item], *, customer_id: int | None
) -> tuple[dict[int, sa.Row[Any]], list[int], int]:
    """The venue's products for `items` at the customer's prices (see `load_products`), each line's gross
    amount, and the total (refused past the maximum). `customer_id` is the visit's registered customer."""
    catalogue = load_products(tx, venue_id, {item.product_id for item in items}, customer_id)
    amounts = [catalogue[item.product_id].price_minor * item.quantity for item in items]
    total = sum(amounts)
    if total > MAX_AMOUNT_MINOR:
        raise InvalidAmount(f"the items total {total} exceeds the maximum of {MAX_AMOUNT_MINOR}")
    return catalogue, amounts, total
