"""The daily job's reads and writes: which accounts are due, what they hold, and the changes it makes.

Everything here runs inside the batch transaction of `daily_job.run_daily`, which has locked the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tapzone.errors import Conflict
from tapzone.money import CountUnit
from tapzone.plans.daily import SKIP_NOTES, AccountFacts, ChangeCode, Deletion, Renewal, deletion_due, renewal_due
from tapzone.store.tables import (
    account_types,
    card_account_changes,
    card_accounts,
    card_balances,
    contracts,
    daily_runs,
    devices,
    holds,
    tab_lines,
    tabs,
    visits,
)
from tapzone.store.uow import Tx
from tapzone.venues.model import DeviceKind

SYSTEM_DEVICE_NAME = "daily job"
CLOSED_REASON_EXPIRED = "expired"
CHANGE_CODES = [code.value for code in ChangeCode]


def system_device(tx: Tx, venue_id: int) -> int:
    """The device the job's journal entries are booked on (every entry names one): created on first use."""
    tx.insert_ignore(
        devices,
        [{"venue_id": venue_id, "kind": DeviceKind.SYSTEM.value, "name": SYSTEM_DEVICE_NAME, "created_at": tx.now}],
        ["venue_id", "name"],
    )
    row = tx.conn.execute(
        sa.select(devices.c.id, devices.c.kind).where(
            devices.c.venue_id == venue_id, devices.c.name == SYSTEM_DEVICE_NAME
        )
    ).one()
    if row.kind != DeviceKind.SYSTEM.value:
        raise Conflict(f"the device name {SYSTEM_DEVICE_NAME!r} is taken by a {row.kind}; rename that device")
    return int(row.id)


def run_row(tx: Tx, venue_id: int, day: date, *, lock: bool = False) -> sa.Row[Any]:
    query = sa.select(daily_runs).where(daily_runs.c.venue_id == venue_id, daily_runs.c.business_day == day)
    return tx.conn.execute(query.with_for_update() if lock and tx.is_postgres else query).one()


def due_query(
    venue_id: int, day: date, after: tuple[date, int] | None = None, limit: int | None = None, *, unlogged: bool = False
) -> sa.Select[Any]:
    """Open accounts whose type renews or deletes them and whose date has come, in (valid until, id) order
    after `after`: a range of ix_card_accounts_open_due, so a batch reads its own rows and not the venue's.

    Whether the day already logged an account is left to `logged_today` (or `unlogged=True`, a NOT EXISTS for
    one-off reads): as an anti-join in every batch the planner, whose statistics know no change of a day that
    has just begun, re-scans the day's changes for each due account, and the job slows down as it goes.
    """
    query = (
        sa.select(
            card_accounts.c.id,
            card_accounts.c.valid_until,
            card_accounts.c.visit_id,
            card_accounts.c.is_active,
            account_types.c.name.label("type_name"),
            account_types.c.auto_renew,
            account_types.c.delete_on_expiry,
            account_types.c.fee_minor,
            account_types.c.vat_rate_bp,
        )
        .select_from(card_accounts.join(account_types, account_types.c.id == card_accounts.c.account_type_id))
        .where(
            card_accounts.c.venue_id == venue_id,
            card_accounts.c.closed_at.is_(None),
            card_accounts.c.valid_until <= day,  # the index range; the type decides below
            sa.or_(
                sa.and_(account_types.c.auto_renew.is_(True), card_accounts.c.valid_until <= day),
                sa.and_(account_types.c.delete_on_expiry.is_(True), card_accounts.c.valid_until < day),
            ),
        )
        .order_by(card_accounts.c.valid_until, card_accounts.c.id)
    )
    if after is not None:
        query = query.where(sa.tuple_(card_accounts.c.valid_until, card_accounts.c.id) > sa.tuple_(*after))
    if unlogged:
        query = query.where(~_logged_on(day, card_accounts.c.id).exists())
    return query if limit is None else query.limit(limit)


def _logged_on(day: date, account_id: sa.ColumnElement[int]) -> sa.Select[Any]:
    return sa.select(card_account_changes.c.card_account_id).where(
        card_account_changes.c.card_account_id == account_id,
        card_account_changes.c.code.in_(CHANGE_CODES),
        card_account_changes.c.business_day == day,
    )


def logged_today(tx: Tx, day: date, ids: list[int]) -> set[int]:
    """Which of these accounts the day has already renewed, deleted or skipped (a probe of the unique index)."""
    if not ids:
        return set()
    query = sa.select(card_account_changes.c.card_account_id).where(
        tx.among(card_account_changes.c.card_account_id, ids),
        card_account_changes.c.code.in_(CHANGE_CODES),
        card_account_changes.c.business_day == day,
    )
    return set(tx.conn.execute(query).scalars())


def due_count(tx: Tx, venue_id: int, day: date) -> int:
    """How many due accounts the day has not logged yet. Two flat reads, the due ids and the day's logged
    ones, and the difference taken here: joined in SQL, a planner that believes the day has no changes yet
    (stale statistics, a resumed run) nests one read in the other and a resumed run takes minutes."""
    logged = set(
        tx.conn.execute(
            sa.select(card_account_changes.c.card_account_id).where(
                card_account_changes.c.venue_id == venue_id,
                card_account_changes.c.code.in_(CHANGE_CODES),
                card_account_changes.c.business_day == day,
            )
        ).scalars()
    )
    due = due_query(venue_id, day).order_by(None)
    if not logged:
        return int(tx.conn.execute(sa.select(sa.func.count()).select_from(due.subquery())).scalar_one())
    return sum(
        1 for account in tx.conn.execute(due.with_only_columns(card_accounts.c.id)).scalars() if account not in logged
    )


def siblings(tx: Tx, candidates: Sequence[sa.Row[Any]]) -> list[int]:
    """The other open accounts on the media of active accounts about to be deleted: one of them becomes
    active, so they are locked with the batch, in the same key order as everything else."""
    visit_ids = {row.visit_id for row in candidates if row.delete_on_expiry and row.is_active}
    if not visit_ids:
        return []
    return list(
        tx.conn.execute(
            sa.select(card_accounts.c.id).where(
                tx.among(card_accounts.c.visit_id, sorted(visit_ids)), card_accounts.c.closed_at.is_(None)
            )
        ).scalars()
    )


def gather_facts(
    tx: Tx, currency: str, day: date, candidates: Sequence[sa.Row[Any]], locked: dict[int, sa.Row[Any]]
) -> list[AccountFacts]:
    """Balances, holds, open tab lines and the paying customer of each candidate, read under its lock;
    an account another transaction closed or renewed meanwhile is no longer due and drops out."""
    still_due = []
    for row in candidates:
        current = locked.get(row.id)
        if current is None or current.closed_at is not None:
            continue
        renew = row.auto_renew and renewal_due(current.valid_until, day)
        delete = row.delete_on_expiry and deletion_due(current.valid_until, day)
        if renew or delete:
            still_due.append((row, current, renew, delete))
    ids = [row.id for row, *_ in still_due]
    balances = _balances(tx, ids)
    reserved = _reserved(tx, ids)
    open_lines = _open_tab_lines(tx, ids)
    payers = _payers(tx, ids)
    facts = []
    for row, current, renew, delete in still_due:
        held = balances.get(row.id, {})
        facts.append(
            AccountFacts(
                id=row.id,
                valid_until=current.valid_until,
                auto_renew=renew,
                delete_on_expiry=delete,
                fee_minor=int(row.fee_minor),
                money_minor=held.get(currency, 0),
                reserved_money_minor=reserved.get(row.id, {}).get(currency, 0),
                units={unit: held[unit.value] for unit in CountUnit if held.get(unit.value)},
                open_tab_lines=open_lines.get(row.id, 0),
                reserved_holds=sum(1 for amount in reserved.get(row.id, {}).values() if amount),
                payer_customer_id=payers.get(row.id),
            )
        )
    return facts


def _balances(tx: Tx, ids: list[int]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        rows = tx.conn.execute(
            sa.select(card_balances.c.card_account_id, card_balances.c.unit, card_balances.c.balance).where(
                tx.among(card_balances.c.card_account_id, ids)
            )
        )
        for row in rows:
            found[row.card_account_id][row.unit] = int(row.balance)
    return found


def _reserved(tx: Tx, ids: list[int]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        rows = tx.conn.execute(
            sa.select(holds.c.card_account_id, holds.c.unit, sa.func.sum(holds.c.amount).label("reserved"))
            .where(tx.among(holds.c.card_account_id, ids), holds.c.state == "reserved")
            .group_by(holds.c.card_account_id, holds.c.unit)
        )
        for row in rows:
            found[row.card_account_id][row.unit] = int(row.reserved)
    return found


def _open_tab_lines(tx: Tx, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = tx.conn.execute(
        sa.select(tabs.c.card_account_id, sa.func.count(tab_lines.c.id).label("lines"))
        .select_from(tabs.join(tab_lines, tab_lines.c.tab_id == tabs.c.id))
        .where(tx.among(tabs.c.card_account_id, ids), tabs.c.state == "open", tab_lines.c.state == "open")
        .group_by(tabs.c.card_account_id)
    )
    return {row.card_account_id: int(row.lines) for row in rows}


def _payers(tx: Tx, ids: list[int]) -> dict[int, int]:
    """Who pays a fee the card cannot cover: the customer of the subscription contract, else the visit's."""
    if not ids:
        return {}
    rows = tx.conn.execute(
        sa.select(card_accounts.c.id, sa.func.coalesce(contracts.c.customer_id, visits.c.customer_id).label("payer"))
        .select_from(
            card_accounts.join(visits, visits.c.id == card_accounts.c.visit_id).outerjoin(
                contracts, contracts.c.card_account_id == card_accounts.c.id
            )
        )
        .where(tx.among(card_accounts.c.id, ids))
    )
    return {row.id: int(row.payer) for row in rows if row.payer is not None}


def claim_changes(
    tx: Tx, venue_id: int, day: date, renewals: list[Renewal], deletions: list[Deletion]
) -> set[tuple[int, ChangeCode]]:
    """Log each change before booking it; the unique (account, code, day) lets only one job claim it."""
    rows = [
        {
            "venue_id": venue_id,
            "card_account_id": r.account_id,
            "code": ChangeCode.RENEW.value,
            "business_day": day,
            "valid_until_before": r.valid_until_before,
            "valid_until_after": r.valid_until_after,
            "note": r.note.value,
            "recorded_at": tx.now,
        }
        for r in renewals
    ] + [
        {
            "venue_id": venue_id,
            "card_account_id": d.account_id,
            "code": ChangeCode.DELETE.value,
            "business_day": day,
            "valid_until_before": d.valid_until_before,
            "valid_until_after": None,
            "note": d.note.value,
            "recorded_at": tx.now,
        }
        for d in deletions
    ]
    if not rows:
        return set()
    if tx.is_postgres:
        return {(row.card_account_id, ChangeCode(row.code)) for row in tx.conn.execute(_CLAIM_PG, _columns(rows))}
    statement = (
        tx.insert_for(card_account_changes)
        .on_conflict_do_nothing(index_elements=["card_account_id", "code", "business_day"])
        .returning(card_account_changes.c.card_account_id, card_account_changes.c.code)
    )
    # Executed with a parameter list, so SQLAlchemy batches it with one cached statement ("insertmanyvalues").
    return {(row.card_account_id, ChangeCode(row.code)) for row in tx.conn.execute(statement, rows)}


# PostgreSQL: the batch's rows as one array per column, so the statement text is the same for every batch
# (a multi-row VALUES list of 500 rows × 8 parameters is parsed again by the driver each time).
_CLAIM_PG = sa.text(
    "INSERT INTO card_account_changes"
    " (venue_id, card_account_id, code, business_day, valid_until_before, valid_until_after, note, recorded_at)"
    " SELECT :venue_id, t.account, t.code, :business_day, t.until_before, t.until_after, t.note, :recorded_at"
    " FROM unnest(:accounts, :codes, :befores, :afters, :notes) AS t(account, code, until_before, until_after, note)"
    " ON CONFLICT (card_account_id, code, business_day) DO NOTHING"
    " RETURNING card_account_id, code"
).bindparams(
    sa.bindparam("venue_id", type_=sa.BigInteger()),
    sa.bindparam("business_day", type_=sa.Date()),
    sa.bindparam("recorded_at", type_=card_account_changes.c.recorded_at.type),
    sa.bindparam("accounts", type_=postgresql.ARRAY(sa.BigInteger())),
    sa.bindparam("codes", type_=postgresql.ARRAY(sa.String())),
    sa.bindparam("befores", type_=postgresql.ARRAY(sa.Date())),
    sa.bindparam("afters", type_=postgresql.ARRAY(sa.Date())),
    sa.bindparam("notes", type_=postgresql.ARRAY(sa.String())),
)


def _columns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    first = rows[0]
    return {
        "venue_id": first["venue_id"],
        "business_day": first["business_day"],
        "recorded_at": first["recorded_at"],
        "accounts": [r["card_account_id"] for r in rows],
        "codes": [r["code"] for r in rows],
        "befores": [r["valid_until_before"] for r in rows],
        "afters": [r["valid_until_after"] for r in rows],
        "notes": [r["note"] for r in rows],
    }


def link_entries(tx: Tx, day: date, entry_ids: dict[tuple[int, ChangeCode], int]) -> None:
    if not entry_ids:
        return
    tx.conn.execute(
        card_account_changes.update()
        .where(
            card_account_changes.c.card_account_id == sa.bindparam("account"),
            card_account_changes.c.code == sa.bindparam("change"),
            card_account_changes.c.business_day == day,
        )
        .values(entry_id=sa.bindparam("entry")),
        [{"account": a, "change": code.value, "entry": e} for (a, code), e in sorted(entry_ids.items())],
    )


def extend_validity(tx: Tx, renewals: list[Renewal]) -> None:
    if renewals:
        tx.conn.execute(
            card_accounts.update()
            .where(card_accounts.c.id == sa.bindparam("account"))
            .values(valid_until=sa.bindparam("until")),
            [{"account": r.account_id, "until": r.valid_until_after} for r in renewals],
        )


def close_expired(tx: Tx, ids: list[int], locked: dict[int, sa.Row[Any]]) -> None:
    """Close the accounts and their (empty) open tabs; where the active account of a medium went, its
    oldest open account takes over, so the medium still pays with something it holds."""
    if not ids:
        return
    tx.conn.execute(
        card_accounts.update()
        .where(tx.among(card_accounts.c.id, ids))
        .values(closed_at=tx.now, closed_reason=CLOSED_REASON_EXPIRED, is_active=False)
    )
    tx.conn.execute(
        tabs.update()
        .where(tx.among(tabs.c.card_account_id, ids), tabs.c.state == "open")
        .values(state="closed", closed_at=tx.now)
    )
    orphaned = sorted({locked[i].visit_id for i in ids if locked[i].is_active})
    if not orphaned:
        return
    rows = tx.conn.execute(
        sa.select(card_accounts.c.id, card_accounts.c.visit_id, card_accounts.c.is_active)
        .where(tx.among(card_accounts.c.visit_id, orphaned), card_accounts.c.closed_at.is_(None))
        .order_by(card_accounts.c.id)
    ).all()
    first_open: dict[int, int] = {}
    has_active = set()
    for row in rows:
        first_open.setdefault(row.visit_id, row.id)
        if row.is_active:
            has_active.add(row.visit_id)
    successors = [account for visit, account in first_open.items() if visit not in has_active]
    if successors:
        tx.conn.execute(card_accounts.update().where(tx.among(card_accounts.c.id, successors)).values(is_active=True))


def skipped_count(tx: Tx, venue_id: int, day: date) -> int:
    """Due accounts the day logged but left as they were (fee unpaid, open tab, negative balance)."""
    value = tx.conn.execute(
        sa.select(sa.func.count()).where(
            card_account_changes.c.venue_id == venue_id,
            card_account_changes.c.business_day == day,
            card_account_changes.c.code.in_(CHANGE_CODES),
            card_account_changes.c.note.in_(sorted(SKIP_NOTES)),
        )
    ).scalar_one()
    return int(value)
