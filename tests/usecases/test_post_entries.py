"""Bulk posting (`post_entries`, used by the daily job) writes what `post_entry` writes one by one."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.context import RequestContext
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, cash, revenue
from tapzone.ledger.posting import post_entries, post_entry
from tapzone.plans.card_accounts import CreditType
from tapzone.store.tables import account_balances, card_balances, journal_entries, ledger_accounts, postings
from tapzone.venues.repo import load_venue
from tests.world import World, build_world


def drafts(first: int, second: int) -> list[EntryDraft]:
    """Two entries on one card and one on another; all three share the till's revenue balance row."""
    return [
        EntryDraft(EntryCode.FEE, memo="a").debit(card_money(first, "EUR"), 300).credit(revenue("EUR", 0), 300),
        EntryDraft(EntryCode.FEE, memo="b").debit(card_money(first, "EUR"), 200).credit(revenue("EUR", 0), 200),
        EntryDraft(EntryCode.FEE, memo="c").debit(card_money(second, "EUR"), 500).credit(revenue("EUR", 0), 500),
        # A new venue-wide account, first used inside the batch.
        EntryDraft(EntryCode.CASH_IN, memo="d").debit(cash("EUR"), 70).credit(revenue("EUR", 700), 70),
    ]


Rows = list[tuple[object, ...]]


def state(world: World, first: int, second: int) -> tuple[Rows, Rows, Rows]:
    """The venue's postings and balances, with ids that differ between venues replaced by names."""

    def name(text: str) -> str:
        return text.replace(f"ca{first}:", "caA:").replace(f"ca{second}:", "caB:").replace(f"d{world.till_id}:", "dT:")

    with world.uow.engine.connect() as conn:
        lines = conn.execute(
            sa.select(journal_entries.c.memo, ledger_accounts.c.key, postings.c.bucket, postings.c.amount)
            .join(postings, postings.c.entry_id == journal_entries.c.id)
            .join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id)
            .where(journal_entries.c.venue_id == world.venue_id)
        ).all()
        balances = conn.execute(
            sa.select(ledger_accounts.c.key, account_balances.c.bucket, account_balances.c.balance)
            .join(account_balances, account_balances.c.account_id == ledger_accounts.c.id)
            .where(ledger_accounts.c.venue_id == world.venue_id)
        ).all()
        cards = conn.execute(
            sa.select(card_balances.c.card_account_id, card_balances.c.unit, card_balances.c.balance).where(
                card_balances.c.venue_id == world.venue_id
            )
        ).all()
    return (
        sorted((memo, name(key), name(bucket), amount) for memo, key, bucket, amount in lines),
        sorted((name(key), name(bucket), balance) for key, bucket, balance in balances),
        sorted(("A" if card == first else "B", unit, balance) for card, unit, balance in cards),
    )


def test_post_entries_writes_the_rows_post_entry_writes(world: World) -> None:
    twin = build_world(world.uow)  # a second venue in the same database, booked in bulk
    results = []
    for target, bulk in ((world, False), (twin, True)):
        first, second = (
            issue_medium(
                target.uow, target.ctx(), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=target.eur(1000)
            ).card_account_id
            for uid in ("PE1", "PE2")
        )
        with target.uow.transaction() as tx:
            venue = load_venue(tx, target.venue_id)
            pairs = [
                (RequestContext(target.venue_id, target.till_id, None, f"k{i}"), draft)
                for i, draft in enumerate(drafts(first, second))
            ]
            if bulk:
                ids = post_entries(tx, venue, pairs)
                memos = tx.conn.execute(
                    sa.select(journal_entries.c.memo)
                    .where(journal_entries.c.id.in_(ids))
                    .order_by(journal_entries.c.id)
                ).scalars()
                assert list(memos) == ["a", "b", "c", "d"]  # ids come back in the order given
            else:
                for ctx, draft in pairs:
                    post_entry(tx, ctx, venue, draft)
        results.append(state(target, first, second))
    world.assert_ledger_clean()
    assert results[0] == results[1]
