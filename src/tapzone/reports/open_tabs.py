"""Open tabs (seed 001 "listan med öppna passerkortsbeställningar"): orders still unpaid, oldest first.

A visitor who left on credit without paying, or a medium reported lost, leaves its tab here until it is
settled, cancelled or written off. Searching by a medium's number finds its tab whatever the medium's state
(lost, blocked), and follows a lost-card transfer to the medium the tab moved to (seed 004).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field

from tapzone.media.model import normalise_uid
from tapzone.reports.shapes import Table
from tapzone.store.tables import (
    card_accounts,
    customers,
    media,
    medium_transfers,
    tab_lines,
    tabs,
    visits,
    zones,
)
from tapzone.store.uow import Tx
from tapzone.venues.model import Venue

PAGE_SIZE_MAX = 1000
# A lost medium's value moves at most once (medium_transfers.from_medium_id is unique), but the new medium
# can be lost again; this bounds how many links are followed.
TRANSFER_HOPS_MAX = 20


class OpenTabsQuery(BaseModel):
    medium_uid: str | None = None
    min_age_minutes: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=PAGE_SIZE_MAX)] = 100
    offset: Annotated[int, Field(ge=0)] = 0


class OpenTabRow(BaseModel):
    tab_id: int
    card_account_id: int
    medium_uid: str
    medium_kind: str
    medium_state: str
    credit_type: str
    visitor: str | None  # the registered customer's name, when the visit has one
    zone: str | None
    inside: bool  # still inside the paid zone by the gates' count
    opened_at: datetime
    age_minutes: int
    lines: int
    amount_minor: int


class OpenTabs(BaseModel):
    venue_id: int
    currency: str
    as_of: datetime
    total_count: int  # tabs matching the filters, on every page
    total_amount_minor: int
    limit: int
    offset: int
    rows: list[OpenTabRow]


def _media_ids(tx: Tx, venue_id: int, uid: str) -> list[int]:
    """The medium with this number and every medium its value was transferred to since."""
    found = tx.conn.execute(
        sa.select(media.c.id).where(media.c.venue_id == venue_id, media.c.uid == normalise_uid(uid))
    ).scalar_one_or_none()
    if found is None:
        return []
    ids = [int(found)]
    for _ in range(TRANSFER_HOPS_MAX):
        moved = tx.conn.execute(
            sa.select(medium_transfers.c.to_medium_id).where(medium_transfers.c.from_medium_id == ids[-1])
        ).scalar_one_or_none()
        if moved is None or int(moved) in ids:
            break
        ids.append(int(moved))
    return ids


def read_open_tabs(tx: Tx, venue: Venue, query: OpenTabsQuery) -> OpenTabs:
    open_lines = (
        sa.select(
            tab_lines.c.tab_id,
            sa.func.count().label("lines"),
            sa.func.sum(tab_lines.c.amount_minor).label("amount"),
        )
        .where(tab_lines.c.venue_id == venue.id, tab_lines.c.state == "open")
        .group_by(tab_lines.c.tab_id)
        .subquery()
    )
    source = (
        tabs.join(open_lines, open_lines.c.tab_id == tabs.c.id)
        .join(card_accounts, card_accounts.c.id == tabs.c.card_account_id)
        .join(media, media.c.id == card_accounts.c.medium_id)
        .join(visits, visits.c.id == card_accounts.c.visit_id)
        .outerjoin(customers, customers.c.id == visits.c.customer_id)
        .outerjoin(zones, zones.c.id == visits.c.zone_id)
    )
    conditions: list[sa.ColumnElement[bool]] = [tabs.c.venue_id == venue.id, tabs.c.state == "open"]
    if query.medium_uid is not None:
        conditions.append(media.c.id.in_(_media_ids(tx, venue.id, query.medium_uid)))
    if query.min_age_minutes is not None:
        conditions.append(tabs.c.opened_at <= tx.now - timedelta(minutes=query.min_age_minutes))
    count, amount = tx.conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(open_lines.c.amount), 0))
        .select_from(source)
        .where(*conditions)
    ).one()
    page = tx.conn.execute(
        sa.select(
            tabs.c.id,
            tabs.c.card_account_id,
            tabs.c.opened_at,
            media.c.uid,
            media.c.kind,
            media.c.state,
            card_accounts.c.credit_type,
            customers.c.name.label("visitor"),
            zones.c.name.label("zone"),
            visits.c.inside,
            open_lines.c.lines,
            open_lines.c.amount,
        )
        .select_from(source)
        .where(*conditions)
        .order_by(tabs.c.opened_at, tabs.c.id)
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    return OpenTabs(
        venue_id=venue.id,
        currency=venue.currency,
        as_of=tx.now,
        total_count=int(count),
        total_amount_minor=int(amount),
        limit=query.limit,
        offset=query.offset,
        rows=[_row(tx.now, row) for row in page],
    )


def _row(now: datetime, row: Any) -> OpenTabRow:  # a result row of the page query
    return OpenTabRow(
        tab_id=row.id,
        card_account_id=row.card_account_id,
        medium_uid=row.uid,
        medium_kind=row.kind,
        medium_state=row.state,
        credit_type=row.credit_type,
        visitor=row.visitor,
        zone=row.zone,
        inside=bool(row.inside),
        opened_at=row.opened_at,
        age_minutes=max(0, int((now - row.opened_at).total_seconds() // 60)),
        lines=int(row.lines),
        amount_minor=int(row.amount),
    )


COLUMNS = [
    "tab_id",
    "medium_uid",
    "medium_kind",
    "medium_state",
    "credit_type",
    "visitor",
    "zone",
    "inside",
    "opened_at",
    "age_minutes",
    "lines",
    "amount_minor",
]


def tables(report: OpenTabs) -> list[Table]:
    rows: list[list[Any]] = [
        [
            row.tab_id,
            row.medium_uid,
            row.medium_kind,
            row.medium_state,
            row.credit_type,
            row.visitor,
            row.zone,
            "yes" if row.inside else "no",
            row.opened_at.isoformat(timespec="seconds"),
            row.age_minutes,
            row.lines,
            row.amount_minor,
        ]
        for row in report.rows
    ]
    return [Table("open_tabs", COLUMNS, rows)]
