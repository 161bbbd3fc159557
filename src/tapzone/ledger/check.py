"""Ledger invariants, re-derived from the postings (`tapzone check`).

Two independent sources are compared (DESIGN §3): the balances stored beside the ledger (per account and
bucket, and per card account on the card side) against sums of the append-only postings. Any difference is
reported by name; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from tapzone import audit
from tapzone.ledger import chain, float_totals
from tapzone.ledger.codes import ENTRY_CODES
from tapzone.ledger.model import UNBUCKETED_PURPOSES, Purpose
from tapzone.store.tables import (
    account_balances,
    card_accounts,
    card_balances,
    holds,
    journal_entries,
    ledger_accounts,
    payouts,
    postings,
    tab_lines,
    tabs,
)


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


def _entries_have_two_postings(conn: sa.Connection) -> Iterator[str]:
    count = sa.func.count(postings.c.id)
    query = (
        sa.select(journal_entries.c.id, count.label("n"))
        .select_from(journal_entries.outerjoin(postings, postings.c.entry_id == journal_entries.c.id))
        .group_by(journal_entries.c.id)
        .having(count < 2)
        .order_by(journal_entries.c.id)
    )
    for row in conn.execute(query):
        yield f"journal entry {row.id} has {row.n} posting(s); at least two are required"


def _entries_balance_per_unit(conn: sa.Connection) -> Iterator[str]:
    total = sa.func.sum(postings.c.amount)
    query = (
        sa.select(postings.c.entry_id, postings.c.unit, total.label("total"))
        .group_by(postings.c.entry_id, postings.c.unit)
        .having(total != 0)
        .order_by(postings.c.entry_id, postings.c.unit)
    )
    for row in conn.execute(query):
        yield f"journal entry {row.entry_id} does not sum to zero in {row.unit}: off by {row.total}"


def _entry_codes_known(conn: sa.Connection) -> Iterator[str]:
    query = sa.select(journal_entries.c.id, journal_entries.c.code).where(
        journal_entries.c.code.not_in(sorted(ENTRY_CODES))
    )
    for row in conn.execute(query):
        yield f"journal entry {row.id} has unknown code {row.code!r}"


def _postings_match_accounts(conn: sa.Connection) -> Iterator[str]:
    unbucketed = [purpose.value for purpose in UNBUCKETED_PURPOSES]
    card_bucket_wrong = sa.and_(ledger_accounts.c.purpose.in_(unbucketed), postings.c.bucket != "")
    venue_bucket_wrong = sa.and_(ledger_accounts.c.purpose.not_in(unbucketed), postings.c.bucket == "")
    query = (
        sa.select(postings.c.id, postings.c.unit, postings.c.bucket, ledger_accounts.c.key, ledger_accounts.c.unit)
        .select_from(postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id))
        .where(sa.or_(postings.c.unit != ledger_accounts.c.unit, card_bucket_wrong, venue_bucket_wrong))
        .order_by(postings.c.id)
    )
    for row in conn.execute(query):
        yield f"posting {row.id} (unit {row[1]}, bucket {row.bucket!r}) does not fit account {row.key}"


def _stored_balances_match_postings(conn: sa.Connection) -> Iterator[str]:
    # Compared in the database, one pass over each side: only the differences travel, so a ledger of
    # millions of accounts costs no memory here.
    sides = sa.union_all(
        sa.select(
            postings.c.account_id, postings.c.bucket, postings.c.amount.label("posted"), sa.literal(0).label("stored")
        ),
        sa.select(
            account_balances.c.account_id,
            account_balances.c.bucket,
            sa.literal(0).label("posted"),
            account_balances.c.balance.label("stored"),
        ),
    ).subquery()
    posted, stored = sa.func.sum(sides.c.posted), sa.func.sum(sides.c.stored)
    differences = (
        sa.select(sides.c.account_id, sides.c.bucket, posted.label("posted"), stored.label("stored"))
        .group_by(sides.c.account_id, sides.c.bucket)
        .having(posted != stored)
        .subquery()
    )
    query = (
        sa.select(differences, ledger_accounts.c.key)
        .select_from(differences.outerjoin(ledger_accounts, ledger_accounts.c.id == differences.c.account_id))
        .order_by(differences.c.account_id, differences.c.bucket)
    )
    for row in conn.execute(query):
        yield (
            f"balance of ledger account {row.account_id} ({row.key or '?'}) bucket "
            f"{row.bucket or '(card)'} is stored as {int(row.stored)} but its postings sum to {int(row.posted)}"
        )


def _card_balances_match_liabilities(conn: sa.Connection) -> Iterator[str]:
    sides = sa.union_all(
        sa.select(
            ledger_accounts.c.card_account_id,
            postings.c.unit,
            (-postings.c.amount).label("derived"),
            sa.literal(0).label("stored"),
        )
        .select_from(postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id))
        .where(ledger_accounts.c.card_account_id.is_not(None)),
        sa.select(
            card_balances.c.card_account_id,
            card_balances.c.unit,
            sa.literal(0).label("derived"),
            card_balances.c.balance.label("stored"),
        ),
    ).subquery()
    derived, stored = sa.func.sum(sides.c.derived), sa.func.sum(sides.c.stored)
    query = (
        sa.select(sides.c.card_account_id, sides.c.unit, derived.label("derived"), stored.label("stored"))
        .group_by(sides.c.card_account_id, sides.c.unit)
        .having(derived != stored)
        .order_by(sides.c.card_account_id, sides.c.unit)
    )
    for row in conn.execute(query):
        yield (
            f"card account {row.card_account_id} holds {int(row.stored)} {row.unit} on the card side but its "
            f"liability postings sum to {int(row.derived)}"
        )


def _float_totals_match_balances(conn: sa.Connection) -> Iterator[str]:
    for row in float_totals.mismatches(conn):
        kind = "no account type" if row.account_type_id == float_totals.NO_ACCOUNT_TYPE else "account type"
        type_label = kind if kind.startswith("no") else f"{kind} {row.account_type_id}"
        yield (
            f"card float total of venue {row.venue_id} ({type_label}, {row.medium_kind}, {row.purpose} {row.unit}) "
            f"is stored as {int(row.stored_balance)} over {int(row.stored_accounts)} account(s) but the balances "
            f"give {int(row.balance)} over {int(row.accounts)}"
        )


def _prepaid_never_overspent(conn: sa.Connection) -> Iterator[str]:
    reserved = (
        sa.select(holds.c.card_account_id, holds.c.unit, sa.func.sum(holds.c.amount).label("reserved"))
        .where(holds.c.state == "reserved")
        .group_by(holds.c.card_account_id, holds.c.unit)
        .subquery()
    )
    query = (
        sa.select(
            card_balances.c.card_account_id,
            card_balances.c.unit,
            card_balances.c.balance,
            sa.func.coalesce(reserved.c.reserved, 0).label("reserved"),
        )
        .select_from(
            card_balances.outerjoin(
                reserved,
                sa.and_(
                    reserved.c.card_account_id == card_balances.c.card_account_id,
                    reserved.c.unit == card_balances.c.unit,
                ),
            )
        )
        .where(card_balances.c.balance - sa.func.coalesce(reserved.c.reserved, 0) < 0)
    )
    for row in conn.execute(query):
        yield (
            f"card account {row.card_account_id} holds {row.balance} {row.unit} but {row.reserved} is reserved "
            "or the balance is negative"
        )


def _credit_limits_kept(conn: sa.Connection) -> Iterator[str]:
    open_total = sa.func.sum(tab_lines.c.amount_minor)
    query = (
        sa.select(card_accounts.c.id, card_accounts.c.credit_limit_minor, open_total.label("open_total"))
        .select_from(
            card_accounts.join(tabs, tabs.c.card_account_id == card_accounts.c.id).join(
                tab_lines, tab_lines.c.tab_id == tabs.c.id
            )
        )
        .where(card_accounts.c.credit_type == "credit", tabs.c.state == "open", tab_lines.c.state == "open")
        .group_by(card_accounts.c.id, card_accounts.c.credit_limit_minor)
        .having(open_total > card_accounts.c.credit_limit_minor)
    )
    for row in conn.execute(query):
        yield (
            f"card account {row.id} has {row.open_total} on its open tab, "
            f"over its credit limit {row.credit_limit_minor}"
        )


def _chain_clearing_nets_out(conn: sa.Connection) -> Iterator[str]:
    """A transfer between venues books one half in each; what venue A says B owes it must be what B says it
    owes A, or one half is missing."""
    query = (
        sa.select(
            ledger_accounts.c.venue_id,
            ledger_accounts.c.key,
            postings.c.unit,
            sa.func.sum(postings.c.amount).label("total"),
        )
        .select_from(postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id))
        .where(ledger_accounts.c.purpose == Purpose.CHAIN_CLEARING.value)
        .group_by(ledger_accounts.c.venue_id, ledger_accounts.c.key, postings.c.unit)
    )
    net: dict[tuple[int, int, str], int] = defaultdict(int)
    for row in conn.execute(query):
        partner = int(row.key.split(":")[1].removeprefix("v"))  # key "chain-clearing:v<partner>:<unit>"
        net[(min(row.venue_id, partner), max(row.venue_id, partner), row.unit)] += int(row.total)
    for (first, second, unit), total in sorted(net.items()):
        if total:
            yield f"chain clearing between venues {first} and {second} does not net out in {unit}: off by {total}"


def _payouts_due_match_payouts(conn: sa.Connection) -> Iterator[str]:
    """A bank payout's own `payouts-due` account holds its amount exactly while it is requested or exported
    (the venue owes it); once revoked or paid it is back at zero. Either side alone could be wrong."""
    ledger: dict[int, int] = {}
    query = (
        sa.select(ledger_accounts.c.key, sa.func.sum(postings.c.amount).label("total"))
        .select_from(postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id))
        .where(ledger_accounts.c.purpose == Purpose.PAYOUTS_DUE.value)
        .group_by(ledger_accounts.c.key)
    )
    for row in conn.execute(query):
        payout_id = int(row.key.split(":")[1].removeprefix("po"))  # key "payouts-due:po<payout>:<unit>"
        ledger[payout_id] = -int(row.total)
    owed = {
        row.id: row.amount_minor if row.state in ("requested", "exported") else 0
        for row in conn.execute(
            sa.select(payouts.c.id, payouts.c.amount_minor, payouts.c.state).where(payouts.c.method == "bank")
        )
    }
    for payout_id in sorted(ledger.keys() | owed.keys()):
        expected, actual = owed.get(payout_id, 0), ledger.get(payout_id, 0)
        if expected != actual:
            yield f"payout {payout_id} is owed {expected} by its state but its payouts-due account holds {actual}"


CHECKS: list[tuple[str, Callable[[sa.Connection], Iterator[str]]]] = [
    ("entries have two postings", _entries_have_two_postings),
    ("entries balance per unit", _entries_balance_per_unit),
    ("entry codes are known", _entry_codes_known),
    ("postings fit their accounts", _postings_match_accounts),
    ("stored balances equal postings", _stored_balances_match_postings),
    ("card balances equal liabilities", _card_balances_match_liabilities),
    ("card float totals equal balances", _float_totals_match_balances),
    ("prepaid value never overspent", _prepaid_never_overspent),
    ("credit limits kept", _credit_limits_kept),
    ("chain clearing nets out", _chain_clearing_nets_out),
    ("bank payouts owed match the ledger", _payouts_due_match_payouts),
    ("journal chains verify", chain.broken_links),
    ("audit chains verify", audit.broken_links),
]


def run_checks(conn: sa.Connection) -> Iterator[tuple[str, list[Finding]]]:
    """Run every check in turn; yields each check's name with what it found (empty when clean)."""
    for name, check in CHECKS:
        yield name, [Finding(name, message) for message in check(conn)]


def all_findings(conn: sa.Connection) -> list[Finding]:
    return [finding for _, findings in run_checks(conn) for finding in findings]
