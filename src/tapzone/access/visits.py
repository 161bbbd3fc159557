"""Visits: binding a medium to a visitor, the card accounts it carries, and returning it.

The tab belongs to the visit's card account, so a medium reused by the next visitor starts clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tapzone.access.deposits import refund_deposit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import (
    CurrencyMismatch,
    InvalidRequest,
    MediumInUse,
    MediumNotBound,
    NotFound,
    PrepaidValueLeft,
    UnpaidGoods,
)
from tapzone.media.lookup import find_medium, lookup_medium, usable_medium
from tapzone.media.model import MediumKind, MediumState, normalise_uid, refusal_for_state
from tapzone.money import Money, check_non_negative_amount, minor_in, money_payload
from tapzone.payments.flow import card_payable
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import (
    accounts_of_visit,
    card_balance,
    lock_card_accounts,
    open_tab_total,
    reserved_total,
)
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, TenderKind
from tapzone.pos.topup import book_topup, check_topup_tender
from tapzone.pos.views import CardAccountView, ReturnView, VisitView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import card_accounts, card_balances, customers, media, tabs, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


def _check_terms(credit_type: CreditType, credit_limit: Money | None, initial_load: Money | None) -> None:
    if credit_limit is not None:
        check_non_negative_amount(credit_limit.minor, "credit limit")
    if credit_limit is not None and credit_type is not CreditType.CREDIT:
        raise InvalidRequest("only credit card accounts have a credit limit")
    if credit_type is CreditType.CREDIT and credit_limit is None:
        raise InvalidRequest("a credit card account needs a credit limit")
    if initial_load is not None and credit_type is not CreditType.PREPAID:
        raise InvalidRequest("only prepaid card accounts can be loaded (seed 001: 'Ingen' cannot be loaded)")


def credit_limit_minor(venue: Venue, credit_limit: Money | None) -> int:
    if credit_limit is None:
        return 0
    if credit_limit.currency != venue.currency:
        raise CurrencyMismatch(f"credit limit is in {credit_limit.currency}, the venue uses {venue.currency}")
    return check_non_negative_amount(credit_limit.minor, "credit limit")


def open_card_account(
    tx: Tx,
    venue: Venue,
    *,
    visit_id: int,
    medium_id: int,
    credit_type: CreditType,
    limit_minor: int,
    is_active: bool,
) -> int:
    account_id: int = tx.conn.execute(
        card_accounts.insert()
        .values(
            venue_id=venue.id,
            visit_id=visit_id,
            medium_id=medium_id,
            credit_type=credit_type.value,
            credit_limit_minor=limit_minor,
            currency=venue.currency,
            is_active=is_active,
            opened_at=tx.now,
        )
        .returning(card_accounts.c.id)
    ).scalar_one()
    tx.conn.execute(
        card_balances.insert().values(card_account_id=account_id, unit=venue.currency, venue_id=venue.id, balance=0)
    )
    return account_id


@dataclass(frozen=True, slots=True)
class Binding:
    visit_id: int
    card_account_id: int
    medium_id: int
    medium_uid: str
    medium_kind: str


def bind_medium(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    *,
    uid: str,
    kind: MediumKind,
    credit_type: CreditType,
    limit_minor: int,
    customer_id: int | None,
    **visit_columns: object,
) -> Binding:
    """Bind one medium to a new visit with its first, active card account. Refuses a medium that is
    blocked, lost or still bound; `visit_columns` carry the paid-zone details of an entry sale."""
    if customer_id is not None and (
        tx.conn.execute(
            sa.select(customers.c.id).where(customers.c.id == customer_id, customers.c.venue_id == venue.id)
        ).first()
        is None
    ):
        raise NotFound(f"customer {customer_id} does not exist in this venue")
    medium = _medium_for_issue(tx, ctx, uid, kind)
    open_visit = tx.conn.execute(
        sa.select(visits.c.id).where(visits.c.medium_id == medium.id, visits.c.closed_at.is_(None))
    ).first()
    if open_visit is not None:
        raise MediumInUse(f"medium {medium.uid} is already bound to an open visit")
    visit_id: int = tx.conn.execute(
        visits.insert()
        .values(
            venue_id=venue.id,
            medium_id=medium.id,
            customer_id=customer_id,
            opened_at=tx.now,
            opened_by_device_id=ctx.device_id,
            **visit_columns,
        )
        .returning(visits.c.id)
    ).scalar_one()
    tx.conn.execute(media.update().where(media.c.id == medium.id).values(state=MediumState.ACTIVE.value))
    account_id = open_card_account(
        tx,
        venue,
        visit_id=visit_id,
        medium_id=medium.id,
        credit_type=credit_type,
        limit_minor=limit_minor,
        is_active=True,
    )
    return Binding(visit_id, account_id, medium.id, medium.uid, medium.kind)


def _issue_permissions(initial_load: Money | None) -> list[Permission]:
    """Issuing needs medium.issue; loading value with it also needs the top-up permission."""
    return [Permission.MEDIUM_ISSUE] + ([Permission.TOPUP] if initial_load is not None else [])


def _medium_for_issue(tx: Tx, ctx: RequestContext, uid: str, kind: MediumKind) -> sa.Row[Any]:
    """The registered medium, or a newly registered one (seed 001 "Registrering av kort/armband")."""
    row = lookup_medium(tx, ctx, uid)
    if row is None:
        tx.conn.execute(
            media.insert().values(
                venue_id=ctx.venue_id,
                uid=normalise_uid(uid),
                kind=kind.value,
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
    (locked,) = tx.lock_rows(media, [row.id])
    return locked


@card_payable("issue_medium")
def issue_medium(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    credit_type: CreditType,
    medium_kind: MediumKind = MediumKind.WRISTBAND,
    credit_limit: Money | None = None,
    initial_load: Money | None = None,
    tender: TenderKind = TenderKind.CASH,
    card_provider: str = DEFAULT_CARD_PROVIDER,
    customer_id: int | None = None,
) -> VisitView:
    """Bind a medium to a new visit with its first card account (seed 001 entry with credit or prepaid
    value). A medium already bound, blocked or lost is refused."""
    credit_type = CreditType(credit_type)
    medium_kind = MediumKind(medium_kind)
    normalise_uid(medium_uid)
    _check_terms(credit_type, credit_limit, initial_load)
    if initial_load is not None:
        tender = check_topup_tender(tender)
    payload = {
        "medium_uid": medium_uid,
        "credit_type": credit_type.value,
        "medium_kind": medium_kind.value,
        "credit_limit": money_payload(credit_limit),
        "initial_load": money_payload(initial_load),
        "tender": TenderKind(tender).value,
        "card_provider": card_provider,
        "customer_id": customer_id,
    }

    def handler(tx: Tx) -> VisitView:
        venue = authorise(tx, ctx, *_issue_permissions(initial_load))
        load_minor = 0
        if initial_load is not None:
            load_minor = minor_in(initial_load, venue.currency, "initial load")
        binding = bind_medium(
            tx,
            ctx,
            venue,
            uid=medium_uid,
            kind=medium_kind,
            credit_type=credit_type,
            limit_minor=credit_limit_minor(venue, credit_limit),
            customer_id=customer_id,
        )
        account_id = binding.card_account_id
        entry_id = receipt_id = None
        if load_minor:
            entry_id, receipt_id = book_topup(
                tx, ctx, venue, account_id, load_minor, tender, card_provider, binding.medium_uid
            )
        return VisitView(
            visit_id=binding.visit_id,
            medium_uid=binding.medium_uid,
            medium_kind=binding.medium_kind,
            card_account_id=account_id,
            credit_type=credit_type.value,
            currency=venue.currency,
            credit_limit_minor=credit_limit.minor if credit_limit else 0,
            balance_minor=load_minor,
            topup_entry_id=entry_id,
            receipt_id=receipt_id,
        )

    return run_idempotent(uow, ctx, "issue_medium", payload, handler, VisitView)


def _open_visit_id(tx: Tx, medium_id: int) -> int:
    visit_id = tx.conn.execute(
        sa.select(visits.c.id).where(visits.c.medium_id == medium_id, visits.c.closed_at.is_(None))
    ).scalar_one_or_none()
    if visit_id is None:
        raise MediumNotBound("this medium has no open visit")
    return int(visit_id)


@card_payable("add_card_account")
def add_card_account(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    credit_type: CreditType,
    credit_limit: Money | None = None,
    initial_load: Money | None = None,
    tender: TenderKind = TenderKind.CASH,
    card_provider: str = DEFAULT_CARD_PROVIDER,
    make_active: bool = False,
    entry: MediumEntry = MediumEntry.READER,
) -> CardAccountView:
    """Open one more card account on a bound medium; each keeps its own tab and limit (seed 001, seed 002)."""
    credit_type = CreditType(credit_type)
    _check_terms(credit_type, credit_limit, initial_load)
    if initial_load is not None:
        tender = check_topup_tender(tender)
    payload = {
        "medium_uid": medium_uid,
        "credit_type": credit_type.value,
        "credit_limit": money_payload(credit_limit),
        "initial_load": money_payload(initial_load),
        "tender": TenderKind(tender).value,
        "card_provider": card_provider,
        "make_active": make_active,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> CardAccountView:
        venue = authorise(tx, ctx, *_issue_permissions(initial_load))
        load_minor = 0
        if initial_load is not None:
            load_minor = minor_in(initial_load, venue.currency, "initial load")
        medium = usable_medium(tx, ctx, medium_uid, entry)
        visit_id = _open_visit_id(tx, medium.id)
        existing = accounts_of_visit(tx, visit_id)
        lock_card_accounts(tx, [account.id for account in existing])
        if make_active:
            tx.conn.execute(card_accounts.update().where(card_accounts.c.visit_id == visit_id).values(is_active=False))
        account_id = open_card_account(
            tx,
            venue,
            visit_id=visit_id,
            medium_id=medium.id,
            credit_type=credit_type,
            limit_minor=credit_limit_minor(venue, credit_limit),
            is_active=make_active,
        )
        receipt_id = None
        if load_minor:
            _, receipt_id = book_topup(tx, ctx, venue, account_id, load_minor, tender, card_provider, medium.uid)
        return CardAccountView(
            card_account_id=account_id,
            visit_id=visit_id,
            credit_type=credit_type.value,
            credit_limit_minor=credit_limit.minor if credit_limit else 0,
            is_active=make_active,
            balance_minor=load_minor,
            receipt_id=receipt_id,
        )

    return run_idempotent(uow, ctx, "add_card_account", payload, handler, CardAccountView)


def set_active_card_account(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    card_account_id: int,
    entry: MediumEntry = MediumEntry.READER,
) -> CardAccountView:
    """Choose which of a medium's card accounts pays unless another is named (seed 002)."""
    payload = {"medium_uid": medium_uid, "card_account_id": card_account_id, "entry": entry.value}

    def handler(tx: Tx) -> CardAccountView:
        venue = authorise(tx, ctx, Permission.MEDIUM_ISSUE)
        medium = usable_medium(tx, ctx, medium_uid, entry)
        visit_id = _open_visit_id(tx, medium.id)
        accounts = lock_card_accounts(tx, [account.id for account in accounts_of_visit(tx, visit_id)])
        chosen = next((a for a in accounts if a.id == card_account_id and not a.closed), None)
        if chosen is None:
            raise NotFound("this card account is not open on the medium")
        tx.conn.execute(
            card_accounts.update()
            .where(card_accounts.c.visit_id == visit_id)
            .values(is_active=card_accounts.c.id == card_account_id)
        )
        return CardAccountView(
            card_account_id=chosen.id,
            visit_id=visit_id,
            credit_type=chosen.credit_type.value,
            credit_limit_minor=chosen.credit_limit_minor,
            is_active=True,
            balance_minor=card_balance(tx, chosen.id, venue.currency),
        )

    return run_idempotent(uow, ctx, "set_active_card_account", payload, handler, CardAccountView)


def close_visit(tx: Tx, visit_id: int, medium_id: int) -> None:
    """Unbind: close the visit, its card accounts and empty tabs, and put the medium back into stock.
    The caller has checked that nothing is owed."""
    account_ids = list(
        tx.conn.execute(sa.select(card_accounts.c.id).where(card_accounts.c.visit_id == visit_id)).scalars()
    )
    tx.conn.execute(
        tabs.update()
        .where(tabs.c.card_account_id.in_(account_ids), tabs.c.state == "open")
        .values(state="closed", closed_at=tx.now)
    )
    tx.conn.execute(
        card_accounts.update()
        .where(card_accounts.c.id.in_(account_ids), card_accounts.c.closed_at.is_(None))
        .values(closed_at=tx.now, is_active=False)
    )
    tx.conn.execute(visits.update().where(visits.c.id == visit_id).values(closed_at=tx.now, inside=False))
    tx.conn.execute(media.update().where(media.c.id == medium_id).values(state=MediumState.RETURNED.value))


def return_medium(
    uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, entry: MediumEntry = MediumEntry.READER
) -> ReturnView:
    """Close the visit and put the medium back into stock.

    Refused while any card account of the visit has unpaid goods or prepaid value left (seed 001: the
    visitor may not leave before the debt is paid or the remaining value paid out). The medium is physically
    back, so a deposit held on it is refunded in cash.
    """
    payload = {"medium_uid": medium_uid, "entry": entry.value}

    def handler(tx: Tx) -> ReturnView:
        venue = authorise(tx, ctx, Permission.MEDIUM_RETURN)
        medium = usable_medium(tx, ctx, medium_uid, entry)
        (medium,) = tx.lock_rows(media, [medium.id])
        visit_id = tx.conn.execute(
            sa.select(visits.c.id).where(visits.c.medium_id == medium.id, visits.c.closed_at.is_(None))
        ).scalar_one_or_none()
        if visit_id is None:
            # Unbound at a validator exit, the visitor kept the wristband and now hands it in: only the
            # deposit is left to give back (DESIGN §7).
            if not medium.deposit_minor:
                raise MediumNotBound("this medium has no open visit and no deposit to refund")
            refunded = refund_deposit(tx, ctx, venue, medium.id)
            return ReturnView(
                visit_id=None, medium_uid=medium.uid, medium_state=medium.state, deposit_refunded_minor=refunded
            )
        tx.lock_rows(visits, [visit_id])  # visit before card accounts, the order gates lock in too
        accounts = lock_card_accounts(tx, [account.id for account in accounts_of_visit(tx, visit_id)])
        for account in accounts:
            if open_tab_total(tx, account.id) or reserved_total(tx, account.id, venue.currency):
                raise UnpaidGoods(f"card account {account.id} has unpaid goods on its tab")
            if card_balance(tx, account.id, venue.currency) > 0:
                raise PrepaidValueLeft(f"card account {account.id} still holds prepaid value")
        close_visit(tx, visit_id, medium.id)
        refunded = refund_deposit(tx, ctx, venue, medium.id)
        return ReturnView(
            visit_id=visit_id,
            medium_uid=medium.uid,
            medium_state=MediumState.RETURNED.value,
            deposit_refunded_minor=refunded,
        )

    return run_idempotent(uow, ctx, "return_medium", payload, handler, ReturnView)
