"""The journal's per-device hash chains: built as entries are booked, and any later change is found and named."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import event

from tapzone.access.visits import issue_medium
from tapzone.context import RequestContext
from tapzone.ledger.check import all_findings
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, revenue
from tapzone.ledger.posting import post_entries
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.tabs import cancel_lines, save_items
from tapzone.store.migrate import alembic_config
from tapzone.store.tables import devices, journal_entries, postings
from tapzone.venues.repo import load_venue
from tests.world import World


def book_on_two_tills(world: World) -> None:
    issue_medium(world.uow, world.ctx(), medium_uid="C1", credit_type=CreditType.PREPAID, initial_load=world.eur(2000))
    issue_medium(
        world.uow,
        world.ctx(till=world.till2_id),
        medium_uid="C2",
        credit_type=CreditType.PREPAID,
        initial_load=world.eur(2000),
    )
    sell_from_balance(world.uow, world.ctx(), medium_uid="C1", items=[Item(world.beer_id)])
    sell_from_balance(world.uow, world.ctx(till=world.till2_id), medium_uid="C2", items=[Item(world.fries_id)])


def findings(world: World) -> list[str]:
    with world.uow.engine.connect() as conn:
        return [str(finding) for finding in all_findings(conn)]


def test_each_device_has_its_own_gapless_chain(world: World) -> None:
    book_on_two_tills(world)
    with world.uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(journal_entries.c.device_id, journal_entries.c.device_seq, journal_entries.c.prev_hash).order_by(
                journal_entries.c.device_id, journal_entries.c.device_seq
            )
        ).all()
    by_device: dict[int, list[int]] = {}
    for row in rows:
        by_device.setdefault(row.device_id, []).append(row.device_seq)
    assert by_device == {world.till_id: [1, 2], world.till2_id: [1, 2]}
    assert [row.prev_hash for row in rows if row.device_seq == 1] == ["0" * 64, "0" * 64]
    assert findings(world) == []


def test_a_changed_memo_is_named(world: World) -> None:
    book_on_two_tills(world)
    with world.uow.engine.begin() as conn:
        victim = conn.execute(sa.select(sa.func.min(journal_entries.c.id))).scalar_one()
        conn.execute(journal_entries.update().where(journal_entries.c.id == victim).values(memo="nothing to see"))
    found = findings(world)
    assert any(f"journal entry {victim} " in text and "hash does not match" in text for text in found), found


def test_a_moved_posting_breaks_the_chain_even_when_balances_are_fixed_too(world: World) -> None:
    """Someone moves money between two postings of one entry (the entry still balances) and edits nothing
    else: only the chain notices which entry was touched."""
    book_on_two_tills(world)
    with world.uow.engine.begin() as conn:
        entry_id = conn.execute(sa.select(sa.func.max(journal_entries.c.id))).scalar_one()
        lines = conn.execute(
            sa.select(postings.c.id, postings.c.amount).where(postings.c.entry_id == entry_id).order_by(postings.c.id)
        ).all()
        first, second = lines[0], lines[1]
        conn.execute(postings.update().where(postings.c.id == first.id).values(amount=second.amount))
        conn.execute(postings.update().where(postings.c.id == second.id).values(amount=first.amount))
    found = findings(world)
    assert any(f"journal entry {entry_id} " in text for text in found), found


def test_one_till_booking_from_many_threads_keeps_one_gapless_chain(world: World) -> None:
    """Concurrent requests of one device each read the chain head after taking the device lock."""
    import threading

    for index in range(8):
        issue_medium(
            world.uow, world.ctx(), medium_uid=f"T{index}", credit_type=CreditType.PREPAID, initial_load=world.eur(900)
        )
    barrier = threading.Barrier(8)

    def sell(index: int) -> None:
        barrier.wait()
        sell_from_balance(world.uow, world.ctx(), medium_uid=f"T{index}", items=[Item(world.beer_id)])

    threads = [threading.Thread(target=sell, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with world.uow.engine.connect() as conn:
        seqs = (
            conn.execute(
                sa.select(journal_entries.c.device_seq)
                .where(journal_entries.c.device_id == world.till_id)
                .order_by(journal_entries.c.device_seq)
            )
            .scalars()
            .all()
        )
    assert seqs == list(range(1, 17))
    assert findings(world) == []


def recorded_and_last(world: World) -> dict[int, tuple[tuple[int, str], tuple[int, str]]]:
    """Per till: the journal head its device row records, and the chain's last entry."""
    found = {}
    with world.uow.engine.connect() as conn:
        for till in (world.till_id, world.till2_id):
            device = conn.execute(
                sa.select(devices.c.journal_head_seq, devices.c.journal_head_hash).where(devices.c.id == till)
            ).one()
            last = conn.execute(
                sa.select(journal_entries.c.device_seq, journal_entries.c.hash)
                .where(journal_entries.c.device_id == till)
                .order_by(journal_entries.c.device_seq.desc())
                .limit(1)
            ).one()
            found[till] = ((device[0], device[1]), (last[0], last[1]))
    return found


def test_each_device_records_where_its_chain_ends(world: World) -> None:
    book_on_two_tills(world)
    heads = recorded_and_last(world)
    assert [recorded[0] for recorded, _ in heads.values()] == [2, 2]
    assert all(recorded == last for recorded, last in heads.values())


def test_a_batch_records_each_device_head_once(world: World) -> None:
    """`post_entries` carries the heads through the batch and writes each device's head once, not per entry."""
    cards = {
        till: issue_medium(
            world.uow, world.ctx(till=till), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=world.eur(900)
        ).card_account_id
        for uid, till in (("B1", world.till_id), ("B2", world.till2_id))
    }
    pairs = [
        (
            RequestContext(world.venue_id, till, None, f"batch-{n}"),
            EntryDraft(EntryCode.FEE, memo=str(n))
            .debit(card_money(cards[till], "EUR"), 100)
            .credit(revenue("EUR", 0), 100),
        )
        for n, till in enumerate([world.till_id, world.till2_id, world.till_id, world.till2_id])
    ]
    head_writes: list[Any] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE DEVICES SET JOURNAL_HEAD"):
            head_writes.extend(parameters if many else [parameters])

    event.listen(world.uow.engine, "before_cursor_execute", count)
    try:
        with world.uow.transaction() as tx:
            post_entries(tx, load_venue(tx, world.venue_id), pairs)
    finally:
        event.remove(world.uow.engine, "before_cursor_execute", count)
    assert len(head_writes) == 2
    heads = recorded_and_last(world)
    assert [recorded[0] for recorded, _ in heads.values()] == [3, 3]
    assert all(recorded == last for recorded, last in heads.values())
    assert findings(world) == []


def test_migration_0013_sets_the_heads_of_existing_chains(world: World) -> None:
    """Chains booked before the device rows recorded their heads get them from their last rows."""
    book_on_two_tills(world)
    cancel_lines_after_a_sale(world)  # a privileged action: an audit row
    before = recorded_and_last(world)
    audit_before = audit_heads(world)
    assert audit_before[world.till_id][0] == 1
    config = alembic_config(world.uow.engine)
    command.downgrade(config, "0012")
    command.upgrade(config, "head")
    assert recorded_and_last(world) == before
    assert audit_heads(world) == audit_before
    assert findings(world) == []


def cancel_lines_after_a_sale(world: World) -> None:
    save_items(world.uow, world.ctx(), medium_uid="C1", items=[Item(world.beer_id)])
    cancel_lines(world.uow, world.manager(), medium_uid="C1", reason="wrong medium read")


def audit_heads(world: World) -> dict[int, tuple[int, str]]:
    with world.uow.engine.connect() as conn:
        rows = conn.execute(sa.select(devices.c.id, devices.c.audit_head_seq, devices.c.audit_head_hash))
        return {row[0]: (row[1], row[2]) for row in rows}
