"""Products as a till sells them: item requests and the active catalogue of a venue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tapzone.context import MediumEntry
from tapzone.errors import InvalidAmount, InvalidRequest, NotFound
from tapzone.money import MAX_AMOUNT_MINOR
from tapzone.store.tables import products
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


def load_products(tx: Tx, venue_id: int, ids: set[int]) -> dict[int, sa.Row[Any]]:
    rows = tx.conn.execute(
        sa.select(products).where(products.c.venue_id == venue_id, products.c.id.in_(ids), products.c.active.is_(True))
    )
    found = {row.id: row for row in rows}
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


def price_items(tx: Tx, venue_id: int, items: list[Item]) -> tuple[dict[int, sa.Row[Any]], list[int], int]:
    """The venue's products for `items`, each line's gross amount, and the total (refused past the maximum)."""
    catalogue = load_products(tx, venue_id, {item.product_id for item in items})
    amounts = [catalogue[item.product_id].price_minor * item.quantity for item in items]
    total = sum(amounts)
    if total > MAX_AMOUNT_MINOR:
        raise InvalidAmount(f"the items total {total} exceeds the maximum of {MAX_AMOUNT_MINOR}")
    return catalogue, amounts, total
