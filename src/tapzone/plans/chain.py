"""Networked venues (seed 002 "Schalter mit Id", "vernetzte Studios"): a customer takes a card account to
another studio of the same chain. Only the balances and the number of the account type travel, never the
tariff settings, so the destination must hold a type with that number that works the same way — a bonus
card must never turn into a subscription.

The customer shows the card at the destination, so the destination's till asks; the source venue's staff
are not involved. Both venues keep their own books (every row carries its venue, DESIGN §6): the source
moves the value out to a clearing account towards the destination, the destination takes it in from its
clearing account towards the source, in one database transaction so neither side can happen alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.access.visits import bind_medium, open_card_account
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import (
    AccountTypeMismatch,
    Conflict,
    CurrencyMismatch,
    InvalidRequest,
    MediumNotBound,
    NotFound,
    UnknownMedium,
    UnpaidGoods,
)
from tapzone.fiscal.profiles import book_advance_received, book_advance_released
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.holds import HoldState
from tapzone.ledger.model import EntryDraft, card_money, card_units, chain_clearing, units_issued
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import failed_lookup, find_medium
from tapzone.media.lookup_limits import refuse_if_used_up
from tapzone.media.model import MediumKind, MediumState, normalise_uid, refusal_for_state
from tapzone.money import CountUnit
from tapzone.plans.account_types import AccountType
from tapzone.plans.card_store import CardAccount, accounts_of_visit, lock_card_accounts, open_tab_total
from tapzone.plans.selling import check_contract, typed_account_view
from tapzone.plans.specs import ContractSpec, TypedAccountView
from tapzone.plans.topup_rules import Balances
from tapzone.plans.type_store import account_balances_of, load_account_type, type_by_number
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import card_accounts, contracts, customers, holds, tabs, venues, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, load_venue

When = TypeVar("When", date, datetime)

MAX_CHAIN_LENGTH = 64
TRANSFERRED = "transferred"  # card_accounts.closed_reason of an account handed to another venue


class TransferView(BaseModel):
    account: TypedAccountView  # the card account in this (the destination) venue
    merged: bool  # the card already held an open account of this type here; the balances were added to it
    source_venue_id: int
    source_card_account_id: int
    # None when the account held no balance at all (e.g. a subscription that carries only its validity).
    source_entry_id: int | None
    destination_entry_id: int | None


def set_venue_chain(uow: UnitOfWork, venue_id: int, chain: str | None) -> str | None:
    """Put a venue into a chain (venues with the same chain name hand card accounts to each other), or take
    it out with None. An operator's set-up step like creating the venue, deliberately not a venue admin's
    API call: joining a chain lets the venue pull value off the other venues' cards."""
    name = None if chain is None else chain.strip()
    if name is not None and not 1 <= len(name) <= MAX_CHAIN_LENGTH:
        raise InvalidRequest(f"a chain name is 1..{MAX_CHAIN_LENGTH} characters")
    with uow.transaction() as tx:
        load_venue(tx, venue_id)
        tx.conn.execute(venues.update().where(venues.c.id == venue_id).values(chain=name))
    return name


def _chain_partner(tx: Tx, here: Venue, source_venue_id: int) -> Venue:
    """The source venue, if it is another venue of this venue's chain. One answer for "no such venue" and
    "not in the chain", so a till cannot learn about venues outside its chain."""
    if source_venue_id == here.id:
        raise InvalidRequest("the card account is already in this venue")
    rows = dict(
        tx.conn.execute(sa.select(venues.c.id, venues.c.chain).where(venues.c.id.in_([here.id, source_venue_id]))).all()
    )
    chain = rows.get(here.id)
    if chain is None or rows.get(source_venue_id) != chain:
        raise NotFound(f"venue {source_venue_id} is not a venue of this venue's chain")
    source = load_venue(tx, source_venue_id)
    if source.currency != here.currency:
        raise CurrencyMismatch(f"venue {source.id} keeps {source.currency}, this venue {here.currency}")
    return source


@dataclass(frozen=True, slots=True)
class _Source:
    account: CardAccount
    medium_kind: MediumKind
    others: list[CardAccount]  # the other open accounts on the card in the source venue
    last_used_at: datetime | None


def _source_account(tx: Tx, ctx: RequestContext, source: Venue, uid: str, card_account_id: int | None) -> _Source:
    """The card account to move, locked: the one named, else the card's active one in the source venue."""
    refuse_if_used_up(tx, ctx.device_id)  # a lookup by number like any other (media/lookup_limits.py)
    medium = find_medium(tx, source.id, uid)
    if medium is None:
        raise failed_lookup(tx, ctx, UnknownMedium(f"this card is not registered in venue {source.id}"))
    refusal = refusal_for_state(MediumState(medium.state), MediumEntry.READER)
    if refusal is not None:
        raise refusal
    visit_id = tx.conn.execute(
        sa.select(visits.c.id).where(visits.c.medium_id == medium.id, visits.c.closed_at.is_(None))
    ).scalar_one_or_none()
    if visit_id is None:
        raise MediumNotBound(f"this card carries no card account in venue {source.id}")
    tx.lock_rows(visits, [visit_id])  # visit before card accounts, the order tills and gates lock in
    accounts = lock_card_accounts(tx, [account.id for account in accounts_of_visit(tx, visit_id)])
    if card_account_id is None:
        chosen = next((a for a in accounts if a.is_active and not a.closed), None)
        if chosen is None:
            raise InvalidRequest(f"the card has no active card account in venue {source.id}; name one")
    else:
        chosen = next((a for a in accounts if a.id == card_account_id), None)
        if chosen is None:
            raise NotFound(f"card account {card_account_id} is not on this card in venue {source.id}")
        if chosen.closed:
            raise Conflict(f"card account {chosen.id} is closed; a transferred account cannot move twice")
    if chosen.account_type_id is None:
        raise InvalidRequest("only accounts of an account type move between venues: the type number travels")
    if open_tab_total(tx, chosen.id):
        raise UnpaidGoods(f"card account {chosen.id} has unpaid goods on its tab in venue {source.id}")
    reserved = tx.conn.execute(
        sa.select(sa.func.count())
        .select_from(holds)
        .where(holds.c.card_account_id == chosen.id, holds.c.state == HoldState.RESERVED.value)
    ).scalar_one()
    if reserved:
        raise UnpaidGoods(f"value of card account {chosen.id} is reserved for open lines in venue {source.id}")
    last_used_at = tx.conn.execute(
        sa.select(card_accounts.c.last_used_at).where(card_accounts.c.id == chosen.id)
    ).scalar_one()
    others = [a for a in accounts if a.id != chosen.id and not a.closed]
    return _Source(chosen, MediumKind(medium.kind), others, last_used_at)


def _destination_type(tx: Tx, here: Venue, source_type: AccountType) -> AccountType:
    """seed 002: the number travels, so the type with that number here must work the same way."""
    kind = type_by_number(tx, here.id, source_type.number)
    if kind is None:
        raise NotFound(
            f"this venue has no account type number {source_type.number}; "
            f"copy {source_type.name!r} under that number first"
        )
    if kind.signature != source_type.signature:
        raise AccountTypeMismatch(
            f"account type {source_type.number} is {source_type.name!r} ({', '.join(source_type.signature)}) "
            f"in venue {source_type.venue_id} but {kind.name!r} ({', '.join(kind.signature)}) here"
        )
    return kind


@dataclass(frozen=True, slots=True)
class _Placed:
    account_id: int
    merged: bool


def _place(
    tx: Tx,
    ctx: RequestContext,
    here: Venue,
    kind: AccountType,
    *,
    uid: str,
    medium_kind: MediumKind,
    customer_id: int | None,
    contract: ContractSpec | None,
) -> _Placed:
    """The account here that receives the balances: the open one of this type the card already holds,
    one more on the card's open visit, or the first account of the card bound now (like a sale binds it)."""
    medium = find_medium(tx, here.id, uid)
    visit = None
    if medium is not None:
        refusal = refusal_for_state(MediumState(medium.state), MediumEntry.READER)
        if refusal is not None:
            raise refusal
        visit = tx.conn.execute(
            sa.select(visits.c.id, visits.c.customer_id).where(
                visits.c.medium_id == medium.id, visits.c.closed_at.is_(None)
            )
        ).first()
    if visit is not None and medium is not None:
        tx.lock_rows(visits, [visit.id])
        accounts = lock_card_accounts(tx, [account.id for account in accounts_of_visit(tx, visit.id)])
        same = next((a for a in accounts if a.account_type_id == kind.id and not a.closed), None)
        if same is not None:
            return _Placed(same.id, merged=True)
        iban = _contract_iban(kind, contract, customer_id if customer_id is not None else visit.customer_id)
        # The customer brought this account to use it: it becomes the one that pays, as a sale makes it.
        tx.conn.execute(card_accounts.update().where(card_accounts.c.visit_id == visit.id).values(is_active=False))
        account_id = open_card_account(
            tx,
            here,
            visit_id=visit.id,
            medium_id=medium.id,
            credit_type=kind.credit_type,
            limit_minor=0,
            is_active=True,
        )
        holder = customer_id if customer_id is not None else visit.customer_id
    else:
        iban = _contract_iban(kind, contract, customer_id)
        binding = bind_medium(
            tx,
            ctx,
            here,
            uid=uid,
            kind=medium_kind,
            credit_type=kind.credit_type,
            limit_minor=0,
            customer_id=customer_id,
        )
        account_id, holder = binding.card_account_id, customer_id
    tx.conn.execute(card_accounts.update().where(card_accounts.c.id == account_id).values(account_type_id=kind.id))
    if iban is not None and holder is not None and contract is not None:
        _store_contract(tx, here, account_id, holder, contract, iban)
    return _Placed(account_id, merged=False)


def _contract_iban(kind: AccountType, contract: ContractSpec | None, holder: int | None) -> str | None:
    """A subscription contract is a direct-debit mandate with this venue, so a type that requires one here
    gets its own contract with the transfer, exactly as a sale of the type would (seed 002 "Abovertrag")."""
    return check_contract(contract, holder) if kind.contract_required else None


def _store_contract(tx: Tx, here: Venue, account_id: int, holder: int, contract: ContractSpec, iban: str) -> None:
    tx.conn.execute(
        contracts.insert().values(
            venue_id=here.id,
            card_account_id=account_id,
            customer_id=holder,
            account_holder=contract.account_holder,
            iban=iban,
            bic=contract.bic,
            mandate_reference=contract.mandate_reference,
            mandate_signed_on=contract.mandate_signed_on,
            address=contract.address,
            created_at=tx.now,
        )
    )


_COUNTED = (CountUnit.BONUS, CountUnit.MINUTES, CountUnit.VISITS)


def _book_move(
    tx: Tx, ctx: RequestContext, venue: Venue, account_id: int, partner_id: int, held: Balances, *, out: bool, memo: str
) -> int | None:
    """One venue's half of a transfer. Out: the card's money goes to the clearing account towards the partner
    venue (which now owes the holder that value) and counted units back to the issued units; in: the reverse.
    An account that holds nothing books nothing."""
    draft = EntryDraft(EntryCode.TRANSFER, memo=memo)
    card, clearing = card_money(account_id, venue.currency), chain_clearing(venue.currency, partner_id)
    debit, credit = (card, clearing) if out else (clearing, card)
    draft.debit(debit, held.money).credit(credit, held.money)
    # 54-FZ: the advance VAT follows the prepaid value, released where it leaves and taxed where it arrives.
    (book_advance_released if out else book_advance_received)(draft, venue, held.money)
    for unit, amount in zip(_COUNTED, (held.bonus, held.minutes, held.visits), strict=True):
        units, issued = card_units(account_id, unit), units_issued(unit)
        draft.debit(units if out else issued, amount).credit(issued if out else units, amount)
    return post_entry(tx, ctx, venue, draft) if draft.lines else None


def _close_source(tx: Tx, moved: _Source) -> None:
    """The account stays in the source venue's books, closed; the card itself stays bound there, since the
    customer keeps it and any deposit on it is still owed back by that venue."""
    account = moved.account
    tx.conn.execute(
        card_accounts.update()
        .where(card_accounts.c.id == account.id)
        .values(closed_at=tx.now, closed_reason=TRANSFERRED, is_active=False)
    )
    # An empty open tab has nothing left to pay (lines were refused above); close it with its account.
    tx.conn.execute(
        tabs.update()
        .where(tabs.c.card_account_id == account.id, tabs.c.state == "open")
        .values(state="closed", closed_at=tx.now)
    )
    if account.is_active and moved.others:
        # seed 002: one account pays unless another is chosen; the oldest remaining one takes over.
        tx.conn.execute(card_accounts.update().where(card_accounts.c.id == moved.others[0].id).values(is_active=True))


def _later(first: When | None, second: When | None) -> When | None:
    return max((moment for moment in (first, second) if moment is not None), default=None)


def _carry_dates(tx: Tx, account_id: int, valid_until: date | None, last_used_at: datetime | None) -> None:
    """The validity travels with the balances; into an account the card already holds here, the later end
    wins. The last use travels too: lock periods and "half time after N days" follow the customer, or a
    second studio would let them tan again at once."""
    row = tx.conn.execute(
        sa.select(card_accounts.c.valid_until, card_accounts.c.last_used_at).where(card_accounts.c.id == account_id)
    ).one()
    tx.conn.execute(
        card_accounts.update()
        .where(card_accounts.c.id == account_id)
        .values(valid_until=_later(row.valid_until, valid_until), last_used_at=_later(row.last_used_at, last_used_at))
    )


def _customer_exists(tx: Tx, venue_id: int, customer_id: int | None) -> None:
    if customer_id is None:
        return
    found = tx.conn.execute(
        sa.select(customers.c.id).where(customers.c.id == customer_id, customers.c.venue_id == venue_id)
    ).first()
    if found is None:
        raise NotFound(f"customer {customer_id} does not exist in this venue")


def transfer_card_account(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    source_venue_id: int,
    medium_uid: str,
    source_card_account_id: int | None = None,
    customer_id: int | None = None,
    contract: ContractSpec | None = None,
) -> TransferView:
    """Move a card account with its type number and balances from another venue of the chain onto the same
    card here (seed 002 "vernetzte Studios"). Refused outside the chain, for a closed account, with unpaid
    or reserved value, and when this venue's type with that number works differently (a bonus card must
    never become a subscription). The source account closes, so the same account never moves twice."""
    uid = normalise_uid(medium_uid)
    payload = {
        "source_venue_id": source_venue_id,
        "medium_uid": uid,
        "source_card_account_id": source_card_account_id,
        "customer_id": customer_id,
        "contract": contract.model_dump(mode="json") if contract else None,
    }

    def handler(tx: Tx) -> TransferView:
        here = authorise(tx, ctx, Permission.ACCOUNT_TRANSFER)
        source = _chain_partner(tx, here, source_venue_id)
        _customer_exists(tx, here.id, customer_id)
        moved = _source_account(tx, ctx, source, uid, source_card_account_id)
        assert moved.account.account_type_id is not None
        source_type = load_account_type(tx, source.id, moved.account.account_type_id)
        kind = _destination_type(tx, here, source_type)
        held = account_balances_of(tx, moved.account.id, source.currency)

        placed = _place(
            tx, ctx, here, kind, uid=uid, medium_kind=moved.medium_kind, customer_id=customer_id, contract=contract
        )
        _carry_dates(tx, placed.account_id, held.valid_until, moved.last_used_at)

        # The source venue's entry and audit row name the requesting till and operator: they did it. The
        # bucket of the source's clearing account is then this till's (d<device>:<source day>), which check
        # and the balance sums accept — a bucket only splits hot rows, and a transfer is rare. This is the
        # one write that crosses venues; a till of the source venue would misstate who acted, and a made-up
        # device would have to be created in every venue of the chain.
        at_source = dataclasses.replace(ctx, venue_id=source.id)
        out_id = _book_move(
            tx,
            at_source,
            source,
            moved.account.id,
            here.id,
            held,
            out=True,
            memo=f"transfer to venue {here.id} card account {placed.account_id}",
        )
        in_memo = f"transfer from venue {source.id} card account {moved.account.id}"
        in_id = _book_move(
            tx,
            ctx,
            here,
            placed.account_id,
            source.id,
            held,
            out=False,
            memo=in_memo if out_id is None else f"{in_memo} entry {out_id}",
        )
        _close_source(tx, moved)
        details = {
            "number": kind.number,
            "source_venue_id": source.id,
            "source_card_account_id": moved.account.id,
            "source_entry_id": out_id,
            "destination_venue_id": here.id,
            "destination_card_account_id": placed.account_id,
            "destination_entry_id": in_id,
        }
        audit.record(tx, at_source, "account.transfer", f"card_account:{moved.account.id}", details)
        audit.record(tx, ctx, "account.transfer", f"card_account:{placed.account_id}", details)
        return TransferView(
            account=typed_account_view(tx, here, placed.account_id),
            merged=placed.merged,
            source_venue_id=source.id,
            source_card_account_id=moved.account.id,
            source_entry_id=out_id,
            destination_entry_id=in_id,
        )

    return run_idempotent(uow, ctx, "transfer_card_account", payload, handler, TransferView)
