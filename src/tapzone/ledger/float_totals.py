"""The card float kept pre-aggregated, so the report for "now" reads a few dozen rows instead of every card account.

`card_float_totals` holds, per venue, account type, medium kind, purpose (card money or counted units) and
unit, the sum of the card liability balances and how many of those liability accounts are non-zero. The
posting code adds to it in the same transaction as the postings and balances (`add_card_movements`), so they
are exactly as current as the ledger; `tapzone check` re-derives it from the materialised balances.

Each booking device adds to rows of its own (`slot` = the device id): a till already holds its device row
for the hash chain while it books, so no two tills ever wait on the same total. The report sums the slots.

The grouping keys of a card account never change once something is booked on it: its medium is fixed when
it is opened, and its account type is set right after opening, before the first entry (plans/selling.py,
plans/chain.py, plans/resources.py). An account whose type changed later would be reported by the check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tapzone.ledger.model import CARD_BUCKET, CARD_PURPOSES
from tapzone.store.tables import account_balances, card_accounts, card_float_totals, ledger_accounts, media
from tapzone.store.uow import Tx

NO_ACCOUNT_TYPE = 0  # the key of card accounts sold without an account type
CARD_PURPOSE_VALUES = sorted(purpose.value for purpose in CARD_PURPOSES)
_KEY_COLUMNS = ("venue_id", "slot", "account_type_id", "medium_kind", "purpose", "unit")


@dataclass(frozen=True, slots=True)
class CardMovement:
    """One write's change to one card liability account, booked by device `slot`."""

    account_id: int
    slot: int
    amount: int


def add_card_movements(
    tx: Tx, venue_id: int, movements: Sequence[CardMovement], balances_after: Mapping[int, int]
) -> None:
    """Add the movements to the totals; `balances_after` holds each moved account's balance once they are
    booked, from which its balance before follows, and so whether it turned zero or non-zero."""
    by_account: dict[int, int] = defaultdict(int)
    slot_of: dict[int, int] = {}
    for movement in movements:
        by_account[movement.account_id] += movement.amount
        slot_of[movement.account_id] = movement.slot  # a batch's change counts where the account was last booked
    if not by_account:
        return
    totals: dict[tuple[int, int, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in tx.conn.execute(_grouping_keys(tx, sorted(by_account))):
        amount = by_account[row.account_id]
        after = balances_after[row.account_id]
        before = after - amount
        total = totals[(slot_of[row.account_id], int(row.account_type_id), row.medium_kind, row.purpose, row.unit)]
        total[0] += amount
        total[1] += (after != 0) - (before != 0)
    rows = [
        {"venue_id": venue_id, **dict(zip(_KEY_COLUMNS[1:], key, strict=True)), "balance": balance, "accounts": count}
        for key, (balance, count) in sorted(totals.items())
        if balance or count
    ]
    if rows:
        statement = tx.insert_for(card_float_totals)
        statement = statement.on_conflict_do_update(
            index_elements=[card_float_totals.c[name] for name in _KEY_COLUMNS],
            set_={
                "balance": card_float_totals.c.balance + statement.excluded.balance,
                "accounts": card_float_totals.c.accounts + statement.excluded.accounts,
            },
        )
        tx.conn.execute(statement, rows)


def _grouping_keys(tx: Tx, account_ids: list[int]) -> sa.Select[Any]:
    """Each card liability account's grouping keys."""
    return (
        sa.select(
            ledger_accounts.c.id.label("account_id"),
            sa.func.coalesce(card_accounts.c.account_type_id, NO_ACCOUNT_TYPE).label("account_type_id"),
            media.c.kind.label("medium_kind"),
            ledger_accounts.c.purpose,
            ledger_accounts.c.unit,
        )
        .select_from(
            ledger_accounts.join(card_accounts, card_accounts.c.id == ledger_accounts.c.card_account_id).join(
                media, media.c.id == card_accounts.c.medium_id
            )
        )
        .where(tx.among(ledger_accounts.c.id, account_ids))
    )


def derived_totals() -> sa.Select[Any]:
    """The totals as the materialised card liability balances give them, per venue and key (no slots)."""
    nonzero = sa.case((account_balances.c.balance != 0, 1), else_=0)
    account_type = sa.func.coalesce(card_accounts.c.account_type_id, NO_ACCOUNT_TYPE)
    return (
        sa.select(
            account_balances.c.venue_id,
            account_type.label("account_type_id"),
            media.c.kind.label("medium_kind"),
            ledger_accounts.c.purpose,
            ledger_accounts.c.unit,
            sa.func.sum(account_balances.c.balance).label("balance"),
            sa.func.sum(nonzero).label("accounts"),
        )
        .select_from(
            account_balances.join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
            .join(card_accounts, card_accounts.c.id == ledger_accounts.c.card_account_id)
            .join(media, media.c.id == card_accounts.c.medium_id)
        )
        .where(account_balances.c.bucket == CARD_BUCKET, ledger_accounts.c.purpose.in_(CARD_PURPOSE_VALUES))
        .group_by(
            account_balances.c.venue_id, account_type, media.c.kind, ledger_accounts.c.purpose, ledger_accounts.c.unit
        )
    )


def rebuild(conn: sa.Connection) -> None:
    """Replace every total by what the balances give, in slot 0: for bulk loads that write balances
    directly (bench/scale.py) — never needed after ordinary bookings, which keep the totals themselves."""
    conn.execute(card_float_totals.delete())
    derived = derived_totals().subquery()
    conn.execute(
        card_float_totals.insert().from_select(
            [*_KEY_COLUMNS, "balance", "accounts"],
            sa.select(
                derived.c.venue_id,
                sa.literal(0),
                derived.c.account_type_id,
                derived.c.medium_kind,
                derived.c.purpose,
                derived.c.unit,
                derived.c.balance,
                derived.c.accounts,
            ).where(sa.or_(derived.c.balance != 0, derived.c.accounts != 0)),
        )
    )


def mismatches(conn: sa.Connection) -> list[sa.Row[Any]]:
    """Keys whose stored totals (summed over slots) differ from the balances, with both sides."""
    derived = derived_totals().subquery()
    stored = sa.select(
        card_float_totals.c.venue_id,
        card_float_totals.c.account_type_id,
        card_float_totals.c.medium_kind,
        card_float_totals.c.purpose,
        card_float_totals.c.unit,
        sa.literal(0).label("balance"),
        sa.literal(0).label("accounts"),
        card_float_totals.c.balance.label("stored_balance"),
        card_float_totals.c.accounts.label("stored_accounts"),
    )
    given = sa.select(
        derived.c.venue_id,
        derived.c.account_type_id,
        derived.c.medium_kind,
        derived.c.purpose,
        derived.c.unit,
        derived.c.balance,
        derived.c.accounts,
        sa.literal(0).label("stored_balance"),
        sa.literal(0).label("stored_accounts"),
    )
    sides = sa.union_all(given, stored).subquery()
    keys = [sides.c.venue_id, sides.c.account_type_id, sides.c.medium_kind, sides.c.purpose, sides.c.unit]
    sides_summed = ("balance", "accounts", "stored_balance", "stored_accounts")
    sums = [sa.func.sum(sides.c[name]).label(name) for name in sides_summed]
    query = (
        sa.select(*keys, *sums)
        .group_by(*keys)
        .having(
            sa.or_(
                sa.func.sum(sides.c.balance) != sa.func.sum(sides.c.stored_balance),
                sa.func.sum(sides.c.accounts) != sa.func.sum(sides.c.stored_accounts),
            )
        )
        .order_by(*keys)
    )
    return list(conn.execute(query))
