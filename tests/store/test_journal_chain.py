"""The journal's per-device hash chains: built as entries are booked, and any later change is found and named."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.ledger.check import all_findings
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.sales import sell_from_balance
from tapzone.store.tables import journal_entries, postings
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
