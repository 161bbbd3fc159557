"""A gate's offline list: the media it may decide on by itself while the server does not answer.

Whole (`since=0`): every open visit of the gate's zone (of the venue, for a free zone), paged by medium id
over the partial index `ix_visits_open_zone_medium`. Incremental (`since=N`): only media whose
`gate_list_marks.seq` is above N — the marks are kept by database triggers on every table that changes a
gate's decision (migration 0008), so this is one index range, not a scan of a million media. Each entry
is derived from the tables at read time (tabs, balances, visit, medium), so a mark only has to say *that*
a medium changed, never *how*.

Versions: `seq` is handed out in trigger order, not commit order (PostgreSQL sequences). A version is
therefore only offered once no transaction can still commit below it: the answer's `version` is the seq of
the newest mark at least `lag_s` seconds old in database time. Marks above it come again next time, which
costs a few repeated entries and never loses one, as long as no transaction runs longer than `lag_s`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from tapzone.access.gates import Gate, _gate
from tapzone.access.model import Direction, Reason
from tapzone.access.offline_model import GateProfile, ListEntry, OfflineListView, decide_offline, stay_minutes
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import card_accounts, card_balances, entry_products, gate_list_marks, media, tab_lines, tabs
from tapzone.store.tables import visits as visits_table
from tapzone.store.uow import Tx, UnitOfWork

PAGE_MAX = 5000
DEFAULT_LAG_S = 60


def offline_list(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    since: int = 0,
    after: int = 0,
    limit: int = 1000,
    lag_s: int = DEFAULT_LAG_S,
) -> OfflineListView:
    """One page of the calling gate's offline list (see the module docstring)."""
    for name, value in (("since", since), ("after", after)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRequest(f"{name} is a non-negative integer")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX:
        raise InvalidRequest(f"limit must be 1..{PAGE_MAX}")
    with uow.transaction() as tx:
        gate = _gate(tx, ctx)
        version = _safe_version(tx, gate.venue_id, lag_s)
        rows = _changed_rows(tx, gate, since, after, limit) if since else _open_rows(tx, gate, after, limit)
        entries = _entries(tx, gate, rows)
    return OfflineListView(
        gate_id=gate.device_id,
        zone_id=gate.zone_id,
        direction=gate.direction.value,
        paid_zone=gate.paid_zone,
        language=gate.language,
        version=version,
        as_of=tx.now,
        full=not since,
        entries=entries,
        next_after=entries[-1].medium_id if len(rows) == limit else None,
    )


def _epoch_now(tx: Tx) -> int:
    if tx.is_postgres:
        expression = sa.text("floor(extract(epoch FROM clock_timestamp()))::bigint")
    else:
        expression = sa.text("CAST(strftime('%s', 'now') AS INTEGER)")
    return int(tx.conn.execute(sa.select(expression)).scalar_one())


def _safe_version(tx: Tx, venue_id: int, lag_s: int) -> int:
    if lag_s < 0:
        raise InvalidRequest("lag_s is non-negative")
    horizon = _epoch_now(tx) - lag_s
    seq = tx.conn.execute(
        sa.select(gate_list_marks.c.seq)
        .where(gate_list_marks.c.venue_id == venue_id, gate_list_marks.c.changed_s <= horizon)
        .order_by(gate_list_marks.c.changed_s.desc(), gate_list_marks.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return int(seq or 0)


def _visit_columns() -> list[Any]:
    return [
        media.c.id.label("medium_id"),
        media.c.uid,
        media.c.qr_token,
        media.c.state,
        visits_table.c.id.label("visit_id"),
        visits_table.c.zone_id,
        visits_table.c.inside,
        visits_table.c.entered_at,
        visits_table.c.overstay_blocks_charged,
        entry_products.c.included_minutes,
        entry_products.c.overstay_grace_minutes,
        entry_products.c.overstay_block_minutes,
        entry_products.c.overstay_product_id,
    ]


def _zone_filter(gate: Gate) -> sa.ColumnElement[bool]:
    # A free zone's gates count every bound medium of the venue; a paid zone's only its own visits.
    return visits_table.c.zone_id == gate.zone_id if gate.paid_zone else sa.true()


def _open_rows(tx: Tx, gate: Gate, after: int, limit: int) -> list[sa.Row[Any]]:
    query = (
        sa.select(*_visit_columns())
        .select_from(
            visits_table.join(media, media.c.id == visits_table.c.medium_id).outerjoin(
                entry_products, entry_products.c.product_id == visits_table.c.entry_product_id
            )
        )
        .where(
            visits_table.c.venue_id == gate.venue_id,
            visits_table.c.closed_at.is_(None),
            _zone_filter(gate),
            visits_table.c.medium_id > after,
        )
        .order_by(visits_table.c.medium_id)
        .limit(limit)
    )
    return list(tx.conn.execute(query))


def _changed_rows(tx: Tx, gate: Gate, since: int, after: int, limit: int) -> list[sa.Row[Any]]:
    open_visit = sa.and_(visits_table.c.medium_id == media.c.id, visits_table.c.closed_at.is_(None))
    query = (
        sa.select(*_visit_columns())
        .select_from(
            gate_list_marks.join(media, media.c.id == gate_list_marks.c.medium_id)
            .outerjoin(visits_table, open_visit)
            .outerjoin(entry_products, entry_products.c.product_id == visits_table.c.entry_product_id)
        )
        .where(
            gate_list_marks.c.venue_id == gate.venue_id,
            gate_list_marks.c.seq > since,
            gate_list_marks.c.medium_id > after,
        )
        .order_by(gate_list_marks.c.medium_id)
        .limit(limit)
    )
    return list(tx.conn.execute(query))


def _owed_by_visit(tx: Tx, visit_ids: list[int]) -> dict[int, Reason]:
    """Per visit, what an exit would be refused for (seed 001): unpaid goods on a credit account first,
    then prepaid value left or unpaid on a prepaid account — the order `model.decide` checks them in."""
    if not visit_ids:
        return {}
    accounts = {
        row.id: row
        for row in tx.conn.execute(
            sa.select(
                card_accounts.c.id, card_accounts.c.visit_id, card_accounts.c.credit_type, card_accounts.c.currency
            ).where(card_accounts.c.visit_id.in_(visit_ids), card_accounts.c.closed_at.is_(None))
        )
    }
    if not accounts:
        return {}
    open_totals = {
        row.card_account_id: row.total
        for row in tx.conn.execute(
            sa.select(tabs.c.card_account_id, sa.func.sum(tab_lines.c.amount_minor).label("total"))
            .select_from(tab_lines.join(tabs, tabs.c.id == tab_lines.c.tab_id))
            .where(tabs.c.card_account_id.in_(list(accounts)), tabs.c.state == "open", tab_lines.c.state == "open")
            .group_by(tabs.c.card_account_id)
        )
    }
    balances = {
        (row.card_account_id, row.unit): row.balance
        for row in tx.conn.execute(
            sa.select(card_balances.c.card_account_id, card_balances.c.unit, card_balances.c.balance).where(
                card_balances.c.card_account_id.in_(list(accounts))
            )
        )
    }
    unpaid: dict[int, int] = defaultdict(int)
    prepaid: dict[int, int] = defaultdict(int)
    for account_id, account in accounts.items():
        open_total = int(open_totals.get(account_id) or 0)
        if CreditType(account.credit_type) is CreditType.PREPAID:
            left = max(int(balances.get((account_id, account.currency)) or 0), 0)
            prepaid[account.visit_id] += open_total + left
        else:
            unpaid[account.visit_id] += open_total
    owed: dict[int, Reason] = {}
    for visit_id in visit_ids:
        if unpaid[visit_id] > 0:
            owed[visit_id] = Reason.UNPAID_GOODS
        elif prepaid[visit_id] > 0:
            owed[visit_id] = Reason.PREPAID_VALUE_LEFT
    return owed


def _entries(tx: Tx, gate: Gate, rows: list[sa.Row[Any]]) -> list[ListEntry]:
    visit_ids = [row.visit_id for row in rows if row.visit_id is not None]
    owed = _owed_by_visit(tx, visit_ids)
    entries = []
    for row in rows:
        present = row.visit_id is not None and (not gate.paid_zone or row.zone_id == gate.zone_id)
        if not present:
            entries.append(ListEntry(medium_id=row.medium_id, uid=row.uid, qr_token=row.qr_token, present=False))
            continue
        entry = ListEntry(
            medium_id=row.medium_id,
            uid=row.uid,
            qr_token=row.qr_token,
            state=row.state,
            zone_id=row.zone_id,
            inside=row.inside,
            owed=owed[row.visit_id].value if row.visit_id in owed else None,
            entered_at=row.entered_at,
            stay_minutes=stay_minutes(
                row.included_minutes if row.overstay_product_id is not None else None,
                row.overstay_grace_minutes or 0,
                row.overstay_block_minutes,
                row.overstay_blocks_charged,
            ),
        )
        # What the gate would answer now, for gates that only read the two flags (time limits aside).
        may_enter = decide_offline(entry, GateProfile(gate.zone_id, Direction.IN, gate.paid_zone), tx.now).allowed
        exit_facts = entry.model_copy(update={"stay_minutes": None})
        may_exit = decide_offline(exit_facts, GateProfile(gate.zone_id, Direction.OUT, gate.paid_zone), tx.now).allowed
        entries.append(entry.model_copy(update={"may_enter": may_enter, "may_exit": may_exit}))
    return entries
