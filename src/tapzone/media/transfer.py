"""Moving a medium's value to another medium (seed 004).

Transfer ("Karte Umbuchen"): the visitor lost a physical card or wristband. The new medium is read, the lost
one's number typed; the visit moves to the new medium and every open card account gets a twin there, the
balances moving in one `transfer` entry, the open tab and its holds with them. The lost medium is blocked for
good (`transferred`), counts 0 in the card float, and a second transfer from it is refused — the unique
`medium_transfers.from_medium_id` makes a double load impossible even for two tills at once.

Swap ("Karte Entladen" / "Karte Laden"): both media are present. The old one is unloaded in cash (possibly
notional) and the new one loaded by the same amount, so the report shows an equal unload and load.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.access.deposits import forfeit_deposit
from tapzone.access.visits import open_card_account
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import Conflict, InvalidRequest, MediumInUse, NothingToSettle
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, card_units, cash
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import failed_lookup, find_medium, lookup_medium
from tapzone.media.model import MediumKind, MediumState, normalise_uid, refusal_for_state, unknown_medium
from tapzone.money import CountUnit
from tapzone.plans.card_store import CardAccount, accounts_of_visit, lock_card_accounts
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import card_accounts, card_balances, holds, media, medium_transfers, tabs, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

PHYSICAL = frozenset({MediumKind.CARD.value, MediumKind.WRISTBAND.value})


class MovedAccountView(BaseModel):
    from_card_account_id: int
    to_card_account_id: int
    balances: dict[str, int]
    open_tab_id: int | None


class MediumMoveView(BaseModel):
    from_medium_uid: str
    to_medium_uid: str
    visit_id: int
    accounts: list[MovedAccountView]
    entry_ids: list[int]
    from_state: str


def _balances(tx: Tx, account_id: int) -> dict[str, int]:
    rows = tx.conn.execute(
        sa.select(card_balances.c.unit, card_balances.c.balance).where(card_balances.c.card_account_id == account_id)
    ).all()
    return {row.unit: int(row.balance) for row in rows if row.balance}


def _new_medium(tx: Tx, ctx: RequestContext, uid: str, kind: str) -> sa.Row[Any]:
    """The medium the value moves to: registered now if new, refused if in use, blocked or lost."""
    row = find_medium(tx, ctx.venue_id, uid)
    if row is None:
        tx.conn.execute(
            media.insert().values(
                venue_id=ctx.venue_id,
                uid=normalise_uid(uid),
                kind=kind,
                state=MediumState.ACTIVE.value,
                created_at=tx.now,
            )
        )
        row = find_medium(tx, ctx.venue_id, uid)
        assert row is not None
        return row
    refusal = refusal_for_state(MediumState(row.state), MediumEntry.READER)
    if refusal is not None:
        raise refusal
    bound = tx.conn.execute(
        sa.select(visits.c.id).where(visits.c.medium_id == row.id, visits.c.closed_at.is_(None))
    ).first()
    if bound is not None:
        raise MediumInUse(f"medium {row.uid} is bound to a visit; use a medium from stock")
    return row


def _twin(tx: Tx, venue: Venue, account: CardAccount, visit_id: int, medium_id: int) -> int:
    """A new card account on the new medium with the old one's terms, type, validity and history."""
    old = tx.conn.execute(sa.select(card_accounts).where(card_accounts.c.id == account.id)).one()
    twin_id = open_card_account(
        tx,
        venue,
        visit_id=visit_id,
        medium_id=medium_id,
        credit_type=account.credit_type,
        limit_minor=account.credit_limit_minor,
        is_active=account.is_active,
    )
    tx.conn.execute(
        card_accounts.update()
        .where(card_accounts.c.id == twin_id)
        .values(account_type_id=old.account_type_id, valid_until=old.valid_until, last_used_at=old.last_used_at)
    )
    return twin_id


def _move_accounts(
    tx: Tx, ctx: RequestContext, venue: Venue, visit_id: int, new_medium_id: int, *, money_in_cash: bool
) -> tuple[list[MovedAccountView], list[int]]:
    """Give every open account of the visit a twin on the new medium; move balances, tabs and holds; close
    the old accounts. Balances move in one `transfer` entry — or, with `money_in_cash` (a swap), the money
    as an unload in cash of the old accounts and an equal load of the new ones (seed 004)."""
    accounts = [a for a in lock_card_accounts(tx, [a.id for a in accounts_of_visit(tx, visit_id)]) if not a.closed]
    draft = EntryDraft(EntryCode.TRANSFER, memo=f"medium {new_medium_id} takes over visit {visit_id}")
    unload = EntryDraft(EntryCode.UNLOAD, memo="swap: old medium unloaded in cash")
    load = EntryDraft(EntryCode.LOAD, memo="swap: new medium loaded in cash")
    moved: list[MovedAccountView] = []
    for account in accounts:
        twin_id = _twin(tx, venue, account, visit_id, new_medium_id)
        balances = _balances(tx, account.id)
        for unit, amount in sorted(balances.items()):
            if unit == venue.currency and money_in_cash and amount > 0:
                # The cash is notional: it goes out of the drawer and straight back in.
                unload.debit(card_money(account.id, unit), amount).credit(cash(unit), amount)
                load.debit(cash(unit), amount).credit(card_money(twin_id, unit), amount)
            elif unit == venue.currency:
                draft.debit(card_money(account.id, unit), amount).credit(card_money(twin_id, unit), amount)
            else:
                count = CountUnit(unit)
                draft.debit(card_units(account.id, count), amount).credit(card_units(twin_id, count), amount)
        tab_id = tx.conn.execute(
            sa.select(tabs.c.id).where(tabs.c.card_account_id == account.id, tabs.c.state == "open")
        ).scalar_one_or_none()
        # The tab and what it reserves belong to whoever holds the value now; lines keep their history.
        tx.conn.execute(
            tabs.update()
            .where(tabs.c.card_account_id == account.id, tabs.c.state == "open")
            .values(card_account_id=twin_id)
        )
        tx.conn.execute(
            holds.update()
            .where(holds.c.card_account_id == account.id, holds.c.state == "reserved")
            .values(card_account_id=twin_id)
        )
        tx.conn.execute(
            card_accounts.update()
            .where(card_accounts.c.id == account.id)
            .values(closed_at=tx.now, closed_reason="transferred", is_active=False)
        )
        moved.append(
            MovedAccountView(
                from_card_account_id=account.id, to_card_account_id=twin_id, balances=balances, open_tab_id=tab_id
            )
        )
    entry_ids = [post_entry(tx, ctx, venue, each) for each in (draft, unload, load) if each.lines]
    return moved, entry_ids


def _open_visit(tx: Tx, medium_id: int) -> int:
    visit_id = tx.conn.execute(
        sa.select(visits.c.id).where(visits.c.medium_id == medium_id, visits.c.closed_at.is_(None))
    ).scalar_one_or_none()
    if visit_id is None:
        raise NothingToSettle("the medium has no open visit: there is no value to move")
    tx.lock_rows(visits, [visit_id])
    return int(visit_id)


def transfer_lost_medium(uow: UnitOfWork, ctx: RequestContext, *, lost_uid: str, new_uid: str) -> MediumMoveView:
    """seed 004 "Karte Umbuchen": the new medium is on the reader, the lost one's number is typed."""
    normalise_uid(lost_uid)
    normalise_uid(new_uid)
    if normalise_uid(lost_uid) == normalise_uid(new_uid):
        raise InvalidRequest("the new medium must be another one")
    payload = {"lost_uid": lost_uid, "new_uid": new_uid}

    def handler(tx: Tx) -> MediumMoveView:
        venue = authorise(tx, ctx, Permission.MEDIUM_TRANSFER)
        # The lost medium is never on the reader: its number is always typed, which needs its own permission
        # wherever the transfer comes from (web till, API, support desk), not only in the web screen.
        authorise(tx, ctx, Permission.MEDIUM_MANUAL_ENTRY)
        lost = lookup_medium(tx, ctx, lost_uid)
        if lost is None:
            raise failed_lookup(tx, ctx, unknown_medium(MediumEntry.TYPED))
        if lost.kind not in PHYSICAL:
            raise InvalidRequest("a QR medium is not transferred: regenerate its code, or unload it and load another")
        new = _new_medium(tx, ctx, new_uid, lost.kind)
        lost, new = _lock_pair(tx, lost.id, new.id)
        if lost.state == MediumState.TRANSFERRED.value:
            raise Conflict(f"the value of medium {lost.uid} was already transferred; it cannot be loaded twice")
        visit_id = _open_visit(tx, lost.id)
        tx.conn.execute(visits.update().where(visits.c.id == visit_id).values(medium_id=new.id))
        moved, entry_ids = _move_accounts(tx, ctx, venue, visit_id, new.id, money_in_cash=False)
        tx.conn.execute(
            medium_transfers.insert().values(
                venue_id=venue.id,
                from_medium_id=lost.id,
                to_medium_id=new.id,
                entry_id=entry_ids[0] if entry_ids else None,
                device_id=ctx.device_id,
                operator_id=ctx.operator_id,
                created_at=tx.now,
            )
        )
        if lost.deposit_minor:  # it is not coming back (DESIGN §7)
            forfeit_deposit(tx, ctx, venue, lost.id)
        tx.conn.execute(media.update().where(media.c.id == lost.id).values(state=MediumState.TRANSFERRED.value))
        tx.conn.execute(media.update().where(media.c.id == new.id).values(state=MediumState.ACTIVE.value))
        audit.record(
            tx, ctx, "medium.transfer", f"medium:{lost.uid}", {"to": new.uid, "visit": visit_id, "entries": entry_ids}
        )
        return MediumMoveView(
            from_medium_uid=lost.uid,
            to_medium_uid=new.uid,
            visit_id=visit_id,
            accounts=moved,
            entry_ids=entry_ids,
            from_state=MediumState.TRANSFERRED.value,
        )

    return run_idempotent(uow, ctx, "transfer_lost_medium", payload, handler, MediumMoveView)


def _lock_pair(tx: Tx, first_id: int, second_id: int) -> tuple[sa.Row[Any], sa.Row[Any]]:
    rows = {row.id: row for row in tx.lock_rows(media, [first_id, second_id])}
    return rows[first_id], rows[second_id]


def swap_media(uow: UnitOfWork, ctx: RequestContext, *, old_uid: str, new_uid: str) -> MediumMoveView:
    """seed 004: both media present (a new card for a promotion, another price treatment). The old one is
    unloaded in cash and the new one loaded by the same amount — two entries the report shows side by side;
    the old medium goes back to stock with its deposit passed on to the new one."""
    if normalise_uid(old_uid) == normalise_uid(new_uid):
        raise InvalidRequest("the new medium must be another one")
    payload = {"old_uid": old_uid, "new_uid": new_uid}

    def handler(tx: Tx) -> MediumMoveView:
        venue = authorise(tx, ctx, Permission.MEDIUM_ISSUE, Permission.PREPAID_REFUND, Permission.TOPUP)
        old = lookup_medium(tx, ctx, old_uid)
        if old is None:
            raise failed_lookup(tx, ctx, unknown_medium(MediumEntry.READER))
        refusal = refusal_for_state(MediumState(old.state), MediumEntry.READER)
        if refusal is not None:
            raise refusal
        new = _new_medium(tx, ctx, new_uid, old.kind)
        old, new = _lock_pair(tx, old.id, new.id)
        visit_id = _open_visit(tx, old.id)
        tx.conn.execute(visits.update().where(visits.c.id == visit_id).values(medium_id=new.id))
        moved, entry_ids = _move_accounts(tx, ctx, venue, visit_id, new.id, money_in_cash=True)
        tx.conn.execute(
            media.update()
            .where(media.c.id == new.id)
            .values(state=MediumState.ACTIVE.value, deposit_minor=old.deposit_minor)
        )
        tx.conn.execute(
            media.update().where(media.c.id == old.id).values(state=MediumState.RETURNED.value, deposit_minor=0)
        )
        audit.record(tx, ctx, "medium.swap", f"medium:{old.uid}", {"to": new.uid, "visit": visit_id})
        return MediumMoveView(
            from_medium_uid=old.uid,
            to_medium_uid=new.uid,
            visit_id=visit_id,
            accounts=moved,
            entry_ids=entry_ids,
            from_state=MediumState.RETURNED.value,
        )

    return run_idempotent(uow, ctx, "swap_media", payload, handler, MediumMoveView)
