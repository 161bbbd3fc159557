"""Settling a tab before exit, and paying out leftover prepaid value (seed 001 "Vid utpassering").

Revenue and VAT arise here, at settlement, never when goods are saved or value is loaded (DESIGN §3).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InsufficientBalance, NothingToSettle
from tapzone.fiscal.profiles import book_advance_released
from tapzone.ledger import holds
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, cash
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import BoundCard, bound_card, medium_match
from tapzone.money import Money, check_positive_amount, minor_in, money_payload
from tapzone.payments.flow import card_gate, card_payable
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.card_store import card_balance, lock_card_accounts, reserved_total
from tapzone.pos.booking import credit_revenue, debit_tenders
from tapzone.pos.party import other_party_tabs
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, TenderLine
from tapzone.pos.tab_store import open_lines, open_tab_id
from tapzone.pos.tenders import Tender, TenderPlan, plan_tenders
from tapzone.pos.vat import split_by_rate
from tapzone.pos.views import RefundView, SettlementView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import bill_lines, bills, card_accounts, media, tab_lines, tabs, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


def _free_prepaid(tx: Tx, card: BoundCard, currency: str) -> int:
    """Prepaid value not reserved by any open tab line."""
    return card_balance(tx, card.account.id, currency) - reserved_total(tx, card.account.id, currency)


def _book_refund(tx: Tx, ctx: RequestContext, venue: Venue, card: BoundCard, amount_minor: int) -> tuple[int, int]:
    draft = EntryDraft(EntryCode.REFUND, memo="leftover prepaid value paid out in cash")
    draft.debit(card_money(card.account.id, venue.currency), amount_minor)
    draft.credit(cash(venue.currency), amount_minor)
    book_advance_released(draft, venue, amount_minor)
    entry_id = post_entry(tx, ctx, venue, draft)
    audit.record(
        tx,
        ctx,
        "prepaid.refund",
        f"card-account:{card.account.id}",
        {"amount_minor": amount_minor, "entry_id": entry_id},
    )
    receipt_id = receipting.issue(
        tx,
        ctx,
        venue,
        ReceiptKind.REFUND,
        lines=[receipting.value_line("Prepaid value paid out", amount_minor)],
        paid=receipting.Paid([TenderLine(kind="cash", amount_minor=amount_minor)]),
        entry_id=entry_id,
        medium_uid=card.medium_uid,
        balance_after_minor=card_balance(tx, card.account.id, venue.currency),
    )
    return entry_id, receipt_id


def _settle_tabs(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    card: BoundCard,
    open_tabs: list[tuple[int, list[sa.Row[Any]]]],
    own_line_ids: list[int],
    tenders: list[Tender],
) -> tuple[int, TenderPlan, int]:
    """One settlement entry (one receipt) for one or more tabs; prepaid value can only come from `card`,
    whose own lines are `own_line_ids`."""
    lines = [line for _, tab_lines_ in open_tabs for line in tab_lines_]
    due = sum(line.amount_minor for line in lines)
    prepaid_available = 0
    if card.account.credit_type is CreditType.PREPAID:
        # This tab's own holds are about to be captured, so the value they reserve is available to pay it
        # (lines without a hold, such as overstay charged at the gate, reserve nothing).
        prepaid_available = _free_prepaid(tx, card, venue.currency) + holds.reserved_for_lines(tx, own_line_ids)
    plan = card_gate(tx, ctx, venue, plan_tenders(due, tenders, prepaid_available, venue.currency))
    tab_ids = [tab_id for tab_id, _ in open_tabs]
    draft = EntryDraft(EntryCode.SETTLEMENT, memo="tab " + ", ".join(map(str, tab_ids)))
    debit_tenders(draft, venue, plan, card.account.id)
    credit_revenue(draft, venue, split_by_rate((line.amount_minor, line.vat_rate_bp) for line in lines))
    book_advance_released(draft, venue, plan.prepaid_minor)
    entry_id = post_entry(tx, ctx, venue, draft)
    line_ids = [line.id for line in lines]
    tx.conn.execute(tab_lines.update().where(tab_lines.c.id.in_(line_ids)).values(state="settled"))
    holds.resolve_for_lines(tx, line_ids, holds.HoldState.CAPTURED)
    tx.conn.execute(
        tabs.update()
        .where(tabs.c.id.in_(tab_ids))
        .values(state="settled", closed_at=tx.now, settlement_entry_id=entry_id)
    )
    tx.conn.execute(
        bills.update()
        .where(
            bills.c.tab_id.in_(tab_ids),
            bills.c.status == "unpaid",
            bills.c.id.in_(sa.select(bill_lines.c.bill_id).where(bill_lines.c.tab_line_id.in_(line_ids))),
        )
        .values(status="paid")
    )
    receipt_id = receipting.issue(
        tx,
        ctx,
        venue,
        ReceiptKind.SETTLEMENT,
        lines=receipting.lines_of(lines),
        paid=receipting.paid_by(plan, tx, ctx.payment_id),
        entry_id=entry_id,
        medium_uid=card.medium_uid,
        balance_after_minor=card_balance(tx, card.account.id, venue.currency),
        reference="tab " + ", ".join(map(str, tab_ids)),
    )
    return entry_id, plan, receipt_id


def _lock_every_card_first(tx: Tx, ctx: RequestContext, uids: list[str], include_party: bool) -> None:
    """Lock, in key order, the open card accounts of the media (and of their parties) a settlement of several
    tabs will touch, before it locks any one of them. Locking the own card first and the others after would
    let two tills that settle the same party from different members each hold what the other waits for
    (lock order, `store.uow`). Read unlocked, so a member joining meanwhile is locked later, out of order, as
    before; that rare cycle is retried."""
    open_visits = sa.select(visits.c.id, visits.c.party_id).join(media, media.c.id == visits.c.medium_id)
    chosen = open_visits.where(sa.or_(*(medium_match(ctx.venue_id, uid) for uid in uids)), visits.c.closed_at.is_(None))
    rows = tx.conn.execute(chosen).all()
    visit_ids = {row.id for row in rows}
    party_ids = {row.party_id for row in rows if row.party_id is not None}
    if include_party and party_ids:
        visit_ids |= set(
            tx.conn.execute(
                sa.select(visits.c.id).where(visits.c.party_id.in_(party_ids), visits.c.closed_at.is_(None))
            ).scalars()
        )
    account_ids = tx.conn.execute(
        sa.select(card_accounts.c.id).where(
            card_accounts.c.visit_id.in_(visit_ids), card_accounts.c.closed_at.is_(None)
        )
    ).scalars()
    lock_card_accounts(tx, list(account_ids))


def _party_tabs(tx: Tx, card: BoundCard) -> list[tuple[int, list[sa.Row[Any]]]]:
    """Open tabs of the other members of a shared-mode party, their card accounts locked in key order."""
    others = [other for other in other_party_tabs(tx, card.visit_id) if other.tab_id is not None]
    lock_card_accounts(tx, [other.card_account_id for other in others])
    found = []
    for other in others:
        assert other.tab_id is not None
        lines = open_lines(tx, other.tab_id)
        if lines:
            found.append((other.tab_id, lines))
    return found


def _tabs_of_media(
    tx: Tx, ctx: RequestContext, card: BoundCard, uids: list[str], already: set[int]
) -> list[tuple[int, list[sa.Row[Any]]]]:
    found = []
    for uid in uids:
        other = bound_card(tx, ctx, uid, MediumEntry.READER)
        if other.account.id == card.account.id:
            continue
        tab_id = open_tab_id(tx, other.account.id)
        if tab_id is None or tab_id in already:
            continue
        lines = open_lines(tx, tab_id)
        if lines:
            found.append((tab_id, lines))
            already.add(tab_id)
    return found


@card_payable("settle_tab")
def settle_tab(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    tenders: list[Tender],
    pay_out_leftover: bool = False,
    include_party: bool = False,
    other_media: list[str] | None = None,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> SettlementView:
    """Pay the tab with one or more tenders — cash (with change), card, the tab's own prepaid value — and
    optionally pay out what prepaid value is left in cash, so the visitor may exit (seed 001).

    `include_party` also settles the open tabs of the other media of a shared-mode party on the same receipt
    (seed 000 "pay this card or all"); with separate anti-passback there are none to include. `other_media`
    adds the tabs of further wristbands read in a row, e.g. two members' debts on one receipt (seed 001).
    """
    payload = {
        "medium_uid": medium_uid,
        "tenders": [tender.payload() for tender in tenders],
        "pay_out_leftover": pay_out_leftover,
        "include_party": include_party,
        "other_media": other_media or [],
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> SettlementView:
        venue = authorise(tx, ctx, Permission.TAB_SETTLE)
        if include_party or other_media:
            _lock_every_card_first(tx, ctx, [medium_uid, *(other_media or [])], include_party)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        tab_id = open_tab_id(tx, card.account.id)
        lines = open_lines(tx, tab_id) if tab_id is not None else []
        entry_id: int | None = None
        plan: TenderPlan | None = None
        receipt_ids: list[int] = []
        own = [(tab_id, lines)] if tab_id is not None and lines else []
        others = _party_tabs(tx, card) if include_party else []
        others += _tabs_of_media(tx, ctx, card, other_media or [], {tab for tab, _ in others})
        if own or others:
            own_line_ids = [line.id for line in lines] if own else []
            entry_id, plan, receipt_id = _settle_tabs(tx, ctx, venue, card, own + others, own_line_ids, tenders)
            receipt_ids.append(receipt_id)
        elif tenders or not pay_out_leftover:
            raise NothingToSettle("the tab has no unpaid lines")
        refund_entry_id: int | None = None
        leftover = _free_prepaid(tx, card, venue.currency)
        if pay_out_leftover and leftover > 0:
            authorise(tx, ctx, Permission.PREPAID_REFUND)
            refund_entry_id, refund_receipt_id = _book_refund(tx, ctx, venue, card, leftover)
            receipt_ids.append(refund_receipt_id)
        elif entry_id is None:
            raise NothingToSettle("nothing is due and no prepaid value is left")
        return SettlementView(
            tab_id=tab_id if own else None,
            party_tab_ids=[other_tab_id for other_tab_id, _ in others],
            settlement_entry_id=entry_id,
            total_minor=plan.due_minor if plan else 0,
            cash_minor=plan.cash_minor if plan else 0,
            change_minor=plan.change_minor if plan else 0,
            card_minor=sum(plan.card_by_provider.values()) if plan else 0,
            prepaid_minor=plan.prepaid_minor if plan else 0,
            refund_entry_id=refund_entry_id,
            refunded_minor=leftover if refund_entry_id else 0,
            balance_minor=card_balance(tx, card.account.id, venue.currency),
            receipt_ids=receipt_ids,
        )

    return run_idempotent(uow, ctx, "settle_tab", payload, handler, SettlementView)


def refund_prepaid(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    amount: Money | None = None,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> RefundView:
    """Pay out unused prepaid value in cash (all of it unless an amount is given). Value reserved by unpaid
    tab lines cannot be paid out. Audited."""
    if amount is not None:
        check_positive_amount(amount.minor)
    payload = {
        "medium_uid": medium_uid,
        "amount": money_payload(amount),
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> RefundView:
        venue = authorise(tx, ctx, Permission.PREPAID_REFUND)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        free = _free_prepaid(tx, card, venue.currency)
        wanted = free if amount is None else minor_in(amount, venue.currency)
        if wanted <= 0:
            raise NothingToSettle("no prepaid value is left to pay out")
        if wanted > free:
            raise InsufficientBalance(f"only {free} of prepaid value is free to pay out")
        entry_id, receipt_id = _book_refund(tx, ctx, venue, card, wanted)
        return RefundView(
            entry_id=entry_id, card_account_id=card.account.id, refunded_minor=wanted, receipt_id=receipt_id
        )

    return run_idempotent(uow, ctx, "refund_prepaid", payload, handler, RefundView)
