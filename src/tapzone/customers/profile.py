"""A registered customer's profile as the till uses it: the price group they pay in (seed 004
"Benutzergruppe") and their skin type (seed 002 "Hauttypen", limits tanning time).

Changing the price group moves only later sales: every tab line keeps the unit price it was sold at and
journal entries are never updated, so nothing already sold is repriced.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import customers, price_groups
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

SKIN_TYPES = range(1, 7)  # Fitzpatrick I–VI


class Keep(Enum):
    """A field a partial update leaves as it is (None would mean: clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


class CustomerView(BaseModel):
    customer_id: int
    name: str
    price_group_id: int | None
    price_group: str | None  # the group's name
    skin_type: int | None


def check_skin_type(skin_type: object) -> int | None:
    if skin_type is None:
        return None
    if isinstance(skin_type, bool) or not isinstance(skin_type, int) or skin_type not in SKIN_TYPES:
        raise InvalidRequest(f"skin type is 1..6 or null, got {skin_type!r}")
    return skin_type


def _check_id(value: object, what: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidRequest(f"{what} is an integer or null, got {value!r}")
    return value


def _load_customer(tx: Tx, venue_id: int, customer_id: int) -> CustomerView:
    row = tx.conn.execute(
        sa.select(
            customers.c.id,
            customers.c.name,
            customers.c.price_group_id,
            customers.c.skin_type,
            price_groups.c.name.label("group_name"),
        )
        .select_from(customers.outerjoin(price_groups, price_groups.c.id == customers.c.price_group_id))
        .where(customers.c.id == customer_id, customers.c.venue_id == venue_id)
    ).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist in this venue")
    return CustomerView(
        customer_id=row.id,
        name=row.name,
        price_group_id=row.price_group_id,
        price_group=row.group_name,
        skin_type=row.skin_type,
    )


def update_customer(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    customer_id: int,
    price_group_id: int | Keep | None = KEEP,
    skin_type: int | Keep | None = KEEP,
) -> CustomerView:
    """Put a customer into a price group (None: no group, list prices) and/or record their skin type
    (1..6, None: unknown). Needs `customer.manage`; audited with the values before, since a group decides
    what the customer pays."""
    changes: dict[str, Any] = {}
    if price_group_id is not KEEP:
        changes["price_group_id"] = _check_id(price_group_id, "price_group_id")
    if skin_type is not KEEP:
        changes["skin_type"] = check_skin_type(skin_type)
    if not changes:
        raise InvalidRequest("give price_group_id and/or skin_type")

    def handler(tx: Tx) -> CustomerView:
        venue = authorise(tx, ctx, Permission.CUSTOMER_MANAGE)
        before = _load_customer(tx, venue.id, customer_id)
        group_id = changes.get("price_group_id")
        if group_id is not None:
            known = tx.conn.execute(
                sa.select(price_groups.c.id).where(price_groups.c.id == group_id, price_groups.c.venue_id == venue.id)
            ).first()
            if known is None:
                raise NotFound(f"price group {group_id} does not exist in this venue")
        tx.conn.execute(customers.update().where(customers.c.id == customer_id).values(**changes))
        audit.record(
            tx,
            ctx,
            "customer.update",
            f"customer:{customer_id}",
            {**changes, "before": {name: getattr(before, name) for name in changes}},
        )
        return _load_customer(tx, venue.id, customer_id)

    payload = {"customer_id": customer_id, "changes": changes}
    return run_idempotent(uow, ctx, "update_customer", payload, handler, CustomerView)


def view_customer(uow: UnitOfWork, ctx: RequestContext, *, customer_id: int) -> CustomerView:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.CUSTOMER_MANAGE)
        return _load_customer(tx, venue.id, customer_id)
